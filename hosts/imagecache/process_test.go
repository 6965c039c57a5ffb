package imagecache_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
	"github.com/redox-hwtest/redox-hwtest/internal/syncbuf"
)

// helperFetch is one "run" in its own process (this test binary started again): it fetches
// url into dir, logging to stderr, and prints "downloaded=<bool> path=<path>".
func helperFetch(url, dir string) int {
	// No header timeout: the test's server holds the response until the other run waits.
	c := &imagecache.Cache{Dir: dir, Log: os.Stderr, Client: &http.Client{}}
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: url})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Printf("downloaded=%v path=%s\n", im.Downloaded, im.Path)
	return 0
}

// Two runs in two processes want the same image at once: one downloads, the other waits for
// it (flock) and uses the same file.
func TestTwoProcessesFetchingAtOnceDownloadOnce(t *testing.T) {
	srv, raw, arrived, release := heldImage(t, 10)
	dir := t.TempDir()
	start := func() (*exec.Cmd, *bytes.Buffer, *syncbuf.Buffer) {
		cmd := exec.Command(os.Args[0], "-test.run", "^$")
		cmd.Env = append(os.Environ(), "RHW_IMAGECACHE_HELPER_URL="+srv.FileURL(newer), "RHW_IMAGECACHE_HELPER_DIR="+dir)
		out, errs := &bytes.Buffer{}, &syncbuf.Buffer{}
		cmd.Stdout, cmd.Stderr = out, errs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, out, errs
	}
	a, aout, aerr := start()
	select {
	case <-arrived:
	case <-time.After(5 * time.Minute):
		t.Fatalf("process A never asked for the image:\n%s", aerr)
	}
	b, bout, berr := start()
	deadline := time.Now().Add(5 * time.Minute)
	for !strings.Contains(berr.String(), "another run is downloading it; waiting") {
		if time.Now().After(deadline) {
			t.Fatalf("process B does not wait for A:\n%s", berr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	release()
	if err := a.Wait(); err != nil {
		t.Fatalf("A: %v\n%s", err, aerr)
	}
	if err := b.Wait(); err != nil {
		t.Fatalf("B: %v\n%s", err, berr)
	}
	if n := srv.Requests(newer); n != 1 {
		t.Fatalf("%d downloads; want 1", n)
	}
	ao, bo := strings.TrimSpace(aout.String()), strings.TrimSpace(bout.String())
	if !strings.HasPrefix(ao, "downloaded=true path=") || !strings.HasPrefix(bo, "downloaded=false path=") || ao[len("downloaded=true "):] != bo[len("downloaded=false "):] {
		t.Fatalf("A: %q B: %q", ao, bo)
	}
	sameFile(t, strings.TrimPrefix(bo, "downloaded=false path="), raw)
}
