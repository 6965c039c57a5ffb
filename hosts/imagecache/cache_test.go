package imagecache_test

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache/imagecachetest"
	"github.com/redox-hwtest/redox-hwtest/internal/syncbuf"
)

// Names as redox mk/ci.mk writes them: redox_$(config)_$(IMG_TAG)_harddrive.img, then zstd.
const (
	older  = "redox_desktop_2026-11-20_41_harddrive.img.zst"
	newer  = "redox_desktop_2026-11-21_7_harddrive.img.zst"
	server = "redox_server_2026-11-22_8_harddrive.img.zst"
)

// diskLike is a stand-in for a disk image: random sectors between runs of zeros, so it
// compresses like one.
func diskLike(seed uint64, size int) []byte {
	r := rand.New(rand.NewPCG(seed, seed))
	b := make([]byte, size)
	for off := 0; off < size; off += 64 << 10 {
		if r.IntN(2) == 0 {
			end := min(off+(32<<10), size)
			for i := off; i < end; i += 8 {
				v := r.Uint64()
				for k := 0; k < 8 && i+k < end; k++ {
					b[i+k] = byte(v >> (8 * k))
				}
			}
		}
	}
	return b
}

// heldImage publishes a stand-in image whose download the server holds until release: how a
// test has one run in the middle of a download while another asks for the same image.
func heldImage(t *testing.T, seed uint64) (srv *imagecachetest.Server, raw []byte, arrived <-chan struct{}, release func()) {
	srv = imagecachetest.New()
	t.Cleanup(srv.Close)
	raw = diskLike(seed, 2<<20)
	srv.PublishZstd(newer, raw)
	arrived, release = srv.Hold(newer)
	t.Cleanup(release)
	return srv, raw, arrived, release
}

func newCache(t *testing.T, dir string) (*imagecache.Cache, *syncbuf.Buffer) {
	log := &syncbuf.Buffer{}
	return &imagecache.Cache{Dir: dir, Log: log, Backoff: 10 * time.Millisecond, Retries: 3}, log
}

func sameFile(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s: %d bytes, not the published image (%d bytes)", path, len(got), len(want))
	}
}

func TestNewestDailyIsResolvedDownloadedAndVerified(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	rawOld, rawNew := diskLike(1, 1<<20), diskLike(2, 3<<20)
	srv.PublishZstd(older, rawOld)
	digest := srv.PublishZstd(newer, rawNew)
	srv.PublishZstd(server, diskLike(3, 1<<20))

	c, log := newCache(t, t.TempDir())
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.DirURL(), Newest: "redox_desktop_*_harddrive.img.zst"})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Release()
	if im.File != newer || im.SHA256 != digest || im.Version != "2026-11-21_7" || im.Date != "2026-11-21" || !im.Downloaded {
		t.Fatalf("resolved %+v; want %s, %s, version 2026-11-21_7, date 2026-11-21", im, newer, digest)
	}
	if im.URL != srv.FileURL(newer) || filepath.Base(im.Path) != strings.TrimSuffix(newer, ".zst") {
		t.Fatalf("url %s path %s", im.URL, im.Path)
	}
	sameFile(t, im.Path, rawNew)
	if n := srv.Requests(older); n != 0 {
		t.Errorf("the older daily was requested %d times", n)
	}
	if !strings.Contains(log.String(), "verified sha256 "+digest) {
		t.Errorf("log does not say what was verified:\n%s", log)
	}

	// The second fetch is the cache's.
	again, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.DirURL(), Newest: "redox_desktop_*_harddrive.img.zst"})
	if err != nil {
		t.Fatal(err)
	}
	defer again.Release()
	if again.Downloaded || again.Path != im.Path || srv.Requests(newer) != 1 {
		t.Fatalf("second fetch downloaded again (%d requests, downloaded %v)", srv.Requests(newer), again.Downloaded)
	}
}

func TestNewestOrdersVersionsAsNumbers(t *testing.T) {
	sums := map[string]string{
		"redox_desktop_2026-11-20_500_harddrive.img.zst": "", "redox_desktop_2026-11-21_41_harddrive.img.zst": "",
		"redox_desktop_2026-11-21_412_harddrive.img.zst": "", "redox_desktop_2026-11-21_412_livedisk.iso.zst": "",
		"redox_server_2026-12-01_1_harddrive.img.zst": "",
	}
	if got := imagecache.Newest(sums, "redox_desktop_*_harddrive.img.zst"); got != "redox_desktop_2026-11-21_412_harddrive.img.zst" {
		t.Errorf("newest = %s", got)
	}
	tags := map[string]string{"redox_desktop_0.9.0-45-gabc_harddrive.img.zst": "", "redox_desktop_0.9.0-123-gdef_harddrive.img.zst": ""}
	if got := imagecache.Newest(tags, "redox_desktop_*_harddrive.img.zst"); got != "redox_desktop_0.9.0-123-gdef_harddrive.img.zst" {
		t.Errorf("newest git describe tag = %s", got)
	}
	if v := imagecache.VersionOf("redox_desktop_0.9.0-123-gdef_harddrive.img.zst"); v != "0.9.0-123-gdef" {
		t.Errorf("VersionOf = %q", v)
	}
}

func TestParseSumsReadsSha256sumBinaryAndTextForms(t *testing.T) {
	d := strings.Repeat("ab", 32)
	sums := imagecache.ParseSums([]byte(d + " *a.img.zst\n" + strings.ToUpper(d) + "  b.iso.zst\r\nnot a line\n"))
	if sums["a.img.zst"] != d || sums["b.iso.zst"] != d || len(sums) != 2 {
		t.Fatalf("%v", sums)
	}
}

func TestDigestMismatchDeletesTheFileAndNamesBothDigests(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	real := srv.PublishZstd(newer, diskLike(2, 1<<20))
	wrong := strings.Repeat("0", 64)
	srv.ListSum(newer, wrong)

	dir := t.TempDir()
	c, _ := newCache(t, dir)
	_, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(newer)})
	var mm *imagecache.MismatchError
	if !errors.As(err, &mm) || !imagecache.IsBadInput(err) {
		t.Fatalf("want a mismatch (bad input), got %v", err)
	}
	if !strings.Contains(err.Error(), wrong) || !strings.Contains(err.Error(), real) {
		t.Fatalf("error does not name both digests: %v", err)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range left {
		if !strings.HasSuffix(f, ".lock") && !strings.HasSuffix(f, ".dl") {
			t.Errorf("left behind after a mismatch: %s", f)
		}
	}
	// The matrix's sha256 wins over the listing.
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(newer), SHA256: real})
	if err != nil {
		t.Fatal(err)
	}
	im.Release()
}

func TestCutDownloadIsResumedWithRange(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	raw := diskLike(4, 4<<20)
	srv.PublishZstd(newer, raw)
	compressed := imagecachetest.Zstd(raw)
	cut := int64(len(compressed) / 3)

	// In one run: the connection is closed after a third; the retry asks for the rest.
	srv.CutAfter(newer, cut)
	c, log := newCache(t, t.TempDir())
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(newer)})
	if err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	defer im.Release()
	sameFile(t, im.Path, raw)
	if r := srv.Ranges(newer); len(r) != 2 || r[0] != "" || r[1] != "bytes="+itoa(cut)+"-" {
		t.Fatalf("requests' Range headers %q; want none, then bytes=%d-", r, cut)
	}

	// Across runs: no retries left, so the first run fails (a network error, not bad input)
	// and keeps the part; the next run asks only for the rest.
	srv2 := imagecachetest.New()
	defer srv2.Close()
	srv2.PublishZstd(newer, raw)
	srv2.CutAfter(newer, cut)
	dir := t.TempDir()
	failing := &imagecache.Cache{Dir: dir, Retries: -1}
	_, err = failing.Fetch(context.Background(), imagecache.Source{URL: srv2.FileURL(newer)})
	if err == nil || imagecache.IsBadInput(err) {
		t.Fatalf("want a network error, got %v", err)
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "*.part"))
	if len(parts) != 1 {
		t.Fatalf("no partial download kept: %v", parts)
	}
	next := &imagecache.Cache{Dir: dir, Backoff: time.Millisecond}
	before := len(srv2.Ranges(newer))
	im2, err := next.Fetch(context.Background(), imagecache.Source{URL: srv2.FileURL(newer)})
	if err != nil {
		t.Fatal(err)
	}
	defer im2.Release()
	sameFile(t, im2.Path, raw)
	if r := srv2.Ranges(newer)[before:]; len(r) != 1 || r[0] != "bytes="+itoa(cut)+"-" {
		t.Fatalf("the next run asked %q; want only bytes=%d-", r, cut)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestServerIgnoringRangeStillResumes(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	srv.NoRange = true
	raw := diskLike(5, 2<<20)
	srv.PublishZstd(newer, raw)
	srv.CutAfter(newer, 100_000)
	c, _ := newCache(t, t.TempDir())
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(newer)})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Release()
	sameFile(t, im.Path, raw)
}

func TestTwoRunsFetchingAtOnceDownloadOnce(t *testing.T) {
	srv, raw, arrived, release := heldImage(t, 6)
	dir := t.TempDir()
	// Two caches on one directory: two runs (each its own open files, so flock treats them
	// as two processes would be treated).
	a, _ := newCache(t, dir)
	b, blog := newCache(t, dir)
	// No header timeout: the server holds A's response until B is seen waiting.
	a.Client, b.Client = &http.Client{}, &http.Client{}
	type res struct {
		im  *imagecache.Image
		err error
	}
	ra, rb := make(chan res, 1), make(chan res, 1)
	go func() {
		im, err := a.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(newer)})
		ra <- res{im, err}
	}()
	<-arrived // run A is downloading (held by the server)
	go func() {
		im, err := b.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(newer)})
		rb <- res{im, err}
	}()
	for !strings.Contains(blog.String(), "another run is downloading it; waiting") {
		select {
		case r := <-rb:
			t.Fatalf("run B finished while A held the download: %+v", r)
		case <-time.After(20 * time.Millisecond):
		}
	}
	release()
	x, y := <-ra, <-rb
	if x.err != nil || y.err != nil {
		t.Fatal(x.err, y.err)
	}
	defer x.im.Release()
	defer y.im.Release()
	if n := srv.Requests(newer); n != 1 {
		t.Fatalf("%d downloads; want 1", n)
	}
	if !x.im.Downloaded || y.im.Downloaded || x.im.Path != y.im.Path {
		t.Fatalf("A downloaded %v, B downloaded %v, paths %s %s", x.im.Downloaded, y.im.Downloaded, x.im.Path, y.im.Path)
	}
	sameFile(t, y.im.Path, raw)
}

func TestLeastRecentlyUsedImageIsEvictedButNotOneInUse(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	size := 1 << 20
	srv.PublishZstd(older, diskLike(1, size))
	srv.PublishZstd(newer, diskLike(2, size))
	srv.PublishZstd(server, diskLike(3, size))
	dir := t.TempDir()
	c, log := newCache(t, dir)
	c.MaxBytes = int64(2*size + size/2) // room for two
	fetch := func(name string) *imagecache.Image {
		t.Helper()
		im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(name)})
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	// A download cut for good leaves its part (kept for resuming); it is the oldest entry.
	const cutName = "redox_demo_2026-11-19_3_harddrive.img.zst"
	srv.PublishZstd(cutName, diskLike(4, size))
	srv.CutAfter(cutName, 200_000)
	gaveUp := &imagecache.Cache{Dir: dir, Retries: -1}
	if _, err := gaveUp.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(cutName)}); err == nil {
		t.Fatal("the cut download succeeded")
	}
	parts, _ := filepath.Glob(filepath.Join(dir, "*.part"))
	if len(parts) != 1 {
		t.Fatalf("parts %v", parts)
	}
	time.Sleep(20 * time.Millisecond)
	a := fetch(older)
	a.Release()
	time.Sleep(20 * time.Millisecond) // distinct modification times
	b := fetch(newer)
	b.Release()
	time.Sleep(20 * time.Millisecond)
	// Use the older one again: now the newer one is the least recently used.
	a = fetch(older)
	time.Sleep(20 * time.Millisecond)
	cc := fetch(server)
	defer cc.Release()
	if _, err := os.Stat(b.Path); !os.IsNotExist(err) {
		t.Fatalf("least recently used %s was not evicted (%v)\n%s", b.File, err, log)
	}
	if _, err := os.Stat(parts[0]); !os.IsNotExist(err) {
		t.Fatalf("the stale unfinished download was not evicted first (%v)\n%s", err, log)
	}
	if _, err := os.Stat(a.Path); err != nil {
		t.Fatalf("recently used image evicted: %v", err)
	}
	// Over the bound with every other image in use: nothing in use goes.
	c.MaxBytes = 1
	b = fetch(newer)
	defer b.Release()
	for _, im := range []*imagecache.Image{a, cc, b} {
		if _, err := os.Stat(im.Path); err != nil {
			t.Fatalf("image in use %s evicted", im.File)
		}
	}
	a.Release()
}

func TestGzipAndExplicitDigest(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	raw := diskLike(7, 1<<20)
	var gz bytes.Buffer
	w := kgzip.NewWriter(&gz)
	w.Write(raw)
	w.Close()
	name := "standin_2026-12-01.img.gz"
	digest := srv.Publish(name, gz.Bytes())
	c, _ := newCache(t, t.TempDir())
	im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.FileURL(name), SHA256: digest})
	if err != nil {
		t.Fatal(err)
	}
	defer im.Release()
	sameFile(t, im.Path, raw)
	if im.Date != "2026-12-01" || filepath.Base(im.Path) != "standin_2026-12-01.img" {
		t.Fatalf("%+v", im)
	}
}

func TestUnreachableServerIsANetworkErrorNotBadInput(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, _ := newCache(t, t.TempDir())
	c.Retries = 1
	_, err = c.Fetch(context.Background(), imagecache.Source{URL: "http://" + addr + "/img/x86_64/", Newest: "redox_*"})
	if err == nil || imagecache.IsBadInput(err) || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("want a connection error, got %v", err)
	}
}

func TestNotListedAndNoMatchAreBadInput(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	srv.PublishZstd(newer, diskLike(1, 1000))
	c, _ := newCache(t, t.TempDir())
	_, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.DirURL(), Newest: "redox_demo_*_harddrive.img.zst"})
	if !imagecache.IsBadInput(err) || !strings.Contains(err.Error(), "no file matching") {
		t.Fatalf("got %v", err)
	}
	_, err = c.Fetch(context.Background(), imagecache.Source{URL: srv.DirURL() + "SHA256SUM.sig"})
	if err == nil {
		t.Fatal("a file not listed was fetched")
	}
}

// redox mk/ci.mk names carry `git describe --tags`, no date: the version is the tag and the
// date is the server's Last-Modified, remembered for later cache hits.
func TestGitDescribeNameTakesItsDateFromTheServer(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	srv.Modified = time.Date(2026, 12, 4, 3, 0, 0, 0, time.UTC)
	const name = "redox_desktop_0.9.0-123-g1a2b3c4_harddrive.img.zst"
	srv.PublishZstd(name, diskLike(8, 1<<20))
	c, _ := newCache(t, t.TempDir())
	for round := range 2 {
		im, err := c.Fetch(context.Background(), imagecache.Source{URL: srv.DirURL(), Newest: "redox_desktop_*_harddrive.img.zst"})
		if err != nil {
			t.Fatal(err)
		}
		if im.Version != "0.9.0-123-g1a2b3c4" || im.Date != "2026-12-04" || im.Downloaded != (round == 0) {
			t.Fatalf("round %d: %+v", round, im)
		}
		im.Release()
	}
}
