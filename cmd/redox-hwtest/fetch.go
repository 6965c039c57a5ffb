package main

import (
	"context"
	"fmt"
	"maps"
	"os"
	"slices"

	"golang.org/x/term"

	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
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
	m, f, ok := newMatrixCommand("fetch", true).load(args)
	if !ok {
		return 2
	}
	ctx, stop := interruptible()
	defer stop()
	return fetchImages(ctx, m, m.Jobs(f), true)
}

// fetchImages downloads (or finds in the cache) every url image of the jobs before the first
// boot, and points the jobs at the cached files. A digest mismatch or an image that is not
// published is bad input (2); an image the network did not deliver leaves its jobs to be
// INFRA with the reason (job.Boot gets the same outcome from imagecache.FetchOnce); with
// strict (the fetch command) that is status 3.
func fetchImages(ctx context.Context, m *matrix.Matrix, jobs []matrix.Job, strict bool) int {
	c := imagecache.ForMatrix(m)
	c.Log, c.TTY = os.Stdout, term.IsTerminal(int(os.Stdout.Fd())) && os.Getenv("TERM") != "dumb"
	p := imagecache.Prepare(ctx, c, jobs)
	names := slices.Sorted(maps.Keys(p.Errs))
	status := 0
	for _, name := range names {
		err := p.Errs[name]
		if imagecache.IsBadInput(err) {
			fmt.Fprintf(os.Stderr, "image %s: %v\n", name, err)
			status = 2
		} else if strict {
			fmt.Fprintf(os.Stderr, "image %s could not be fetched: %v\n", name, err)
			if status == 0 {
				status = 3
			}
		} else {
			fmt.Fprintf(os.Stderr, "image %s could not be fetched, its jobs are INFRA: %v\n", name, err)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(p.Images)) {
		im := p.Images[name]
		fmt.Printf("image %s: %s (sha256 %s, version %q) -> %s\n", name, im.URL, im.SHA256, im.Version, im.Path)
	}
	return status
}
