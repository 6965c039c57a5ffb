package power

import (
	"bytes"
	"context"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache/imagecachetest"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// A real machine gets the same file a virtual one boots: an image downloaded by url
// (zstd, from a loopback server publishing like Redox's build server) is flashed
// decompressed and verified through $RHW_IMAGE, and served the same way over PXE.
func TestRealMachinesGetTheDownloadedImage(t *testing.T) {
	raw := make([]byte, 1<<20)
	r := rand.New(rand.NewPCG(3, 3))
	for i := range raw[:len(raw)/2] {
		raw[i] = byte(r.Uint32())
	}
	srv := imagecachetest.New()
	defer srv.Close()
	const name = "redox_desktop_2026-12-04_2_harddrive.img.zst"
	srv.PublishZstd(name, raw)

	dir := t.TempDir()
	img := matrix.Image{Name: "desktop", URL: srv.DirURL(), Newest: "redox_desktop_*_harddrive.img.zst"}
	c := &imagecache.Cache{Dir: filepath.Join(dir, "cache")}
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: img.URL, Newest: img.Newest})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Release()
	imagecache.Apply(&img, im)

	flashed := filepath.Join(dir, "flashed")
	run, _ := NewCommand(Options{On: "true", Off: "true"}, nil)
	h := matrix.Host{Name: "board"}
	p, err := Prepare(context.Background(), BootOptions{Boot: BootCommand, Flash: `cp "$RHW_IMAGE" ` + flashed}, h, img, hosts.Env{Dir: dir}, run)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if got, _ := os.ReadFile(flashed); !bytes.Equal(got, raw) {
		t.Fatalf("$RHW_IMAGE flashed %d bytes, not the decompressed image (%d)", len(got), len(raw))
	}

	p, err = Prepare(context.Background(), BootOptions{Boot: BootPXE}, h, img, hosts.Env{Dir: dir}, run)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var diskURL string
	for _, l := range strings.Split(p.PXE.Script(), "\n") {
		if rest, ok := strings.CutPrefix(l, "sanboot --no-describe "); ok {
			diskURL = rest
		}
	}
	if !strings.HasPrefix(diskURL, "http://127.0.0.1:") {
		t.Fatalf("no sanboot URL in the iPXE script:\n%s", p.PXE.Script())
	}
	resp, err := http.Get(diskURL)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(got, raw) {
		t.Fatalf("PXE served %d bytes from %s, not the decompressed image", len(got), diskURL)
	}
}
