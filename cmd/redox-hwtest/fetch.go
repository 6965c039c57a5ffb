package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	register("fetch", "download the matrix's url images into the cache and print where they are", fetchMain)
}

// fetchMain fetches what `run` would fetch for the same filter, without booting: to fill the
// cache ahead of a run, or to hand a lab script the verified image. It prints one line per
// image (name, exact URL, digest, version, path). Exit 0, 2 on bad input (a digest mismatch),
// 3 when the network did not deliver an image.
func fetchMain(args []string) int {
	fs := flag.NewFlagSet("fetch", flag.ContinueOnError)
	matrixPath := fs.String("matrix", "hw.yaml", "matrix file")
	filter := fs.String("filter", "", "job label filter, e.g. image:desktop")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	m, err := matrix.Load(*matrixPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	f, err := matrix.ParseFilter(*filter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-filter:", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return fetchImages(ctx, m, m.Jobs(f), true)
}
