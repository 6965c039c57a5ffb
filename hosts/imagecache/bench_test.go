package imagecache_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
	"github.com/redox-hwtest/redox-hwtest/internal/heappeak"
)

// benchImageMB is the image size of BenchmarkImageFetch (the goal is stated for 512 MiB;
// BENCH_IMAGE_MB changes it, e.g. to show the heap does not grow with the image).
func benchImageMB() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_IMAGE_MB")); err == nil && v > 0 {
		return v
	}
	return 512
}

var bench struct {
	once   sync.Once
	dir    string // holds the published .zst
	name   string
	digest string
	err    error
}

func TestMain(m *testing.M) {
	if u := os.Getenv("RHW_IMAGECACHE_HELPER_URL"); u != "" {
		os.Exit(helperFetch(u, os.Getenv("RHW_IMAGECACHE_HELPER_DIR")))
	}
	code := m.Run()
	if bench.dir != "" {
		os.RemoveAll(bench.dir)
	}
	os.Exit(code)
}

// diskStream is an endless disk-like stream (random 32 KiB sectors among zeros), so the
// image is written and compressed without ever being in memory.
type diskStream struct {
	r   *rand.Rand
	off int
}

func (d *diskStream) Read(p []byte) (int, error) {
	for i := range p {
		if (d.off>>15)&1 == 0 && d.off%(64<<10) < 32<<10 && (d.off>>16)%3 != 0 {
			if d.off%8 == 0 {
				v := d.r.Uint64()
				for k := 0; k < 8 && i+k < len(p); k++ {
					p[i+k] = byte(v >> (8 * k))
				}
			}
		} else {
			p[i] = 0
		}
		d.off++
	}
	return len(p), nil
}

// publishBenchImage writes a zstd-compressed disk-like image of size MiB into a directory
// (streaming) and returns its digest.
func publishBenchImage(mb int) error {
	dir, err := os.MkdirTemp("", "rhw-imagebench-")
	if err != nil {
		return err
	}
	bench.dir, bench.name = dir, "redox_bench_2026-12-05_1_harddrive.img.zst"
	f, err := os.Create(filepath.Join(dir, bench.name))
	if err != nil {
		return err
	}
	defer f.Close()
	h := sha256.New()
	enc, err := zstd.NewWriter(io.MultiWriter(f, h), zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return err
	}
	if _, err := io.CopyN(enc, &diskStream{r: rand.New(rand.NewPCG(9, 9))}, int64(mb)<<20); err != nil {
		return err
	}
	if err := enc.Close(); err != nil {
		return err
	}
	bench.digest = hex.EncodeToString(h.Sum(nil))
	return nil
}

// BenchmarkImageFetch downloads, decompresses and verifies an image from a loopback HTTP
// server through the cache, and, side by side in the same op (alternating which goes
// first), `curl -s URL | zstd -d | sha256sum` on the same file. It reports both
// throughputs (of the decompressed image), their ratio, and the peak heap of the fetch.
func BenchmarkImageFetch(b *testing.B) {
	if _, err := exec.LookPath("curl"); err != nil {
		b.Skip("curl is not installed (fixtures/install-deps.sh installs it)")
	}
	if _, err := exec.LookPath("zstd"); err != nil {
		b.Skip("zstd is not installed (fixtures/install-deps.sh installs it)")
	}
	mb := benchImageMB()
	bench.once.Do(func() { bench.err = publishBenchImage(mb) })
	if bench.err != nil {
		b.Fatal(bench.err)
	}
	srv := httptest.NewServer(http.FileServer(http.Dir(bench.dir)))
	defer srv.Close()
	url := srv.URL + "/" + bench.name
	size := int64(mb) << 20
	b.SetBytes(size)

	var ours, base time.Duration
	var peak uint64
	fetch := func() {
		cacheDir := b.TempDir()
		runtime.GC()
		var before runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		p := heappeak.During(func() {
			c := &imagecache.Cache{Dir: cacheDir}
			im, err := c.Fetch(context.Background(), imagecache.Source{URL: url, SHA256: bench.digest})
			if err != nil {
				b.Fatal(err)
			}
			if im.Size != size {
				b.Fatalf("fetched %d bytes, want %d", im.Size, size)
			}
			im.Release()
		})
		ours += time.Since(start)
		if p > before.HeapInuse {
			peak = max(peak, p-before.HeapInuse)
		}
		os.RemoveAll(cacheDir)
	}
	baseline := func() {
		start := time.Now()
		out, err := exec.Command("sh", "-c", `curl -sfS "$1" | zstd -d -c | sha256sum`, "sh", url).Output()
		if err != nil || len(strings.Fields(string(out))) == 0 {
			b.Fatalf("baseline: %v %s", err, out)
		}
		base += time.Since(start)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			fetch()
			baseline()
		} else {
			baseline()
			fetch()
		}
	}
	b.StopTimer()
	n := float64(b.N)
	mbs := func(d time.Duration) float64 { return float64(size) / 1e6 / (d.Seconds() / n) }
	b.ReportMetric(mbs(ours), "fetch-MB/s")
	b.ReportMetric(mbs(base), "curl-zstd-sha256sum-MB/s")
	b.ReportMetric(base.Seconds()/ours.Seconds(), "ratio")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.ReportMetric(float64(mb), "image-MiB")
}
