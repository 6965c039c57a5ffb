// Package imagecache fetches the images a matrix names by url: the way Redox publishes them
// (redox mk/ci.mk, target ci-img: `zstd --rm *` then `sha256sum -b * > SHA256SUM`, so a
// folder holds redox_<config>_<tag>_harddrive.img.zst files and one SHA256SUM listing the
// digest of each compressed file). It downloads over HTTP(S) with resume of a partial file
// and bounded retries, decompresses .zst and .gz while streaming, checks the SHA-256 of the
// compressed bytes against the matrix's sha256 or the SHA256SUM beside the URL, and keeps
// the decompressed image in a cache directory keyed by that digest.
//
// The cache is shared by concurrent runs (on one machine, through flock): one downloads,
// the others wait for it and then use its file. It is bounded in size; least recently used
// images are evicted, never one a run is using. Real machines get the same file: the run
// points the image's path at the cached file, which QEMU, $RHW_IMAGE provisioning and the
// PXE server all read.
//
// It sits in hosts/ (under the harness, above matrix) so the run command, the job runner and
// any host kind can use it.
package imagecache

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// DefaultMaxBytes bounds a cache whose size the matrix does not give.
const DefaultMaxBytes = 20 << 30

// Cache is a directory of verified, decompressed images.
type Cache struct {
	// Dir holds <digest>/<file>, <digest>.lock (in use), <digest>.dl (download) and
	// <digest>.part (the compressed bytes of an unfinished download, resumed next time).
	Dir string
	// MaxBytes bounds the completed images; <= 0 means DefaultMaxBytes.
	MaxBytes int64
	// Client does the HTTP requests; nil means one with connection and header timeouts
	// (no overall timeout: images are large; a stalled body is caught by Stall).
	Client *http.Client
	// Log receives progress and notes; nil discards them.
	Log io.Writer
	// TTY redraws one progress line in place (bytes, rate, ETA); otherwise progress is a
	// plain line every few seconds (CI logs).
	TTY bool
	// Retries is how many times a failed request or a broken transfer is retried (0 means
	// 5, negative none); Backoff is the first wait, doubled each time up to 30s (default 1s).
	Retries int
	Backoff time.Duration
	// Stall ends a transfer that delivered nothing for this long (it is then retried);
	// default 60s.
	Stall time.Duration

	mu   sync.Mutex
	sums map[string]sumsResult // SHA256SUM listings read, by URL
}

// Source says what to fetch.
type Source struct {
	// URL is the file, or with Newest the directory (ending in "/").
	URL string
	// SHA256 is the expected digest of the file at URL (hex); empty means look it up in the
	// SHA256SUM beside it.
	SHA256 string
	// Newest is a file name pattern (path.Match): the newest matching name listed in the
	// directory's SHA256SUM is fetched.
	Newest string
}

// Image is a fetched image, held in the cache until Release.
type Image struct {
	// Path is the decompressed, verified image in the cache.
	Path string
	// URL is the exact file fetched; File is its name.
	URL, File string
	// SHA256 is the digest of the file as published (the compressed bytes).
	SHA256 string
	// Version is what the file name says beyond the pattern's fixed parts (the `*` of
	// Newest, or the tag of a redox_<config>_<tag>_<kind> name); Date is an ISO date
	// (YYYY-MM-DD) found in the name, if any.
	Version, Date string
	// Size is the decompressed size; Downloaded is false when the cache already had it.
	Size       int64
	Downloaded bool

	lock *os.File
}

// Release lets eviction remove the image (the file stays until then).
func (im *Image) Release() {
	if im != nil && im.lock != nil {
		im.lock.Close()
		im.lock = nil
	}
}

// BadInputError is an error in what the matrix asks for (a digest that does not match, a
// file not listed in SHA256SUM, a pattern that matches nothing): the run stops with bad
// input, unlike a network failure, which makes the image's jobs INFRA.
type BadInputError struct{ Msg string }

func (e *BadInputError) Error() string { return e.Msg }

// MismatchError is a download whose digest is not the expected one. The file is deleted.
type MismatchError struct {
	URL, Want, Got string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("%s: sha256 mismatch: expected %s, downloaded file has %s (file deleted)", e.URL, e.Want, e.Got)
}

// IsBadInput reports whether err is the matrix's fault (BadInputError, MismatchError).
func IsBadInput(err error) bool {
	var b *BadInputError
	var m *MismatchError
	return errors.As(err, &b) || errors.As(err, &m)
}

var reDigest = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Fetch resolves src, then returns the cached image, downloading it first when the cache
// does not have it (or waiting for another run that is downloading it). Release the image
// when the run no longer needs it.
func (c *Cache) Fetch(ctx context.Context, src Source) (*Image, error) {
	if c.Dir == "" {
		return nil, errors.New("imagecache: no cache directory")
	}
	if err := os.MkdirAll(c.Dir, 0o755); err != nil {
		return nil, err
	}
	im, err := c.resolve(ctx, src)
	if err != nil {
		return nil, err
	}
	key := im.SHA256
	out := decompressedName(im.File)
	final := filepath.Join(c.Dir, key, out)

	// In use: a shared lock on <digest>.lock for as long as the run holds the image;
	// eviction takes it exclusively without waiting, so it never removes an image in use.
	im.lock, err = lockFile(ctx, filepath.Join(c.Dir, key+".lock"), unix.LOCK_SH, nil)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			im.Release()
		}
	}()
	if st, err := os.Stat(final); err == nil {
		c.hit(im, final, st.Size())
		ok = true
		return im, nil
	}
	// One downloader per digest: the others wait here, then find the file.
	dl, err := lockFile(ctx, filepath.Join(c.Dir, key+".dl"), unix.LOCK_EX, func() {
		c.logf("%s: another run is downloading it; waiting\n", im.File)
	})
	if err != nil {
		return nil, err
	}
	defer dl.Close()
	if st, err := os.Stat(final); err == nil {
		c.hit(im, final, st.Size())
		ok = true
		return im, nil
	}
	size, err := c.download(ctx, im, final)
	if err != nil {
		return nil, err
	}
	im.Path, im.Size, im.Downloaded, ok = final, size, true, true
	c.evict(key)
	return im, nil
}

// dateFile holds an image's date from its server (Last-Modified) beside the image.
const dateFile = "date"

// hit fills im from a cached image and marks it used (for LRU).
func (c *Cache) hit(im *Image, final string, size int64) {
	touch(final)
	im.Path, im.Size = final, size
	if im.Date == "" {
		if b, err := os.ReadFile(filepath.Join(filepath.Dir(final), dateFile)); err == nil {
			im.Date = strings.TrimSpace(string(b))
		}
	}
}

// decompressedName is the file name without .zst or .gz.
func decompressedName(file string) string {
	for _, ext := range []string{".zst", ".gz"} {
		if s, ok := strings.CutSuffix(file, ext); ok && s != "" {
			return s
		}
	}
	return file
}

func touch(p string) {
	now := time.Now()
	os.Chtimes(p, now, now)
}

// lockFile opens p and takes an flock of the given kind, polling so ctx can end the wait;
// onWait is called once if the lock is busy.
func lockFile(ctx context.Context, p string, how int, onWait func()) (*os.File, error) {
	f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for waited := false; ; waited = true {
		err := unix.Flock(int(f.Fd()), how|unix.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", p, err)
		}
		if !waited && onWait != nil {
			onWait()
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

type entry struct {
	key   string
	size  int64
	mtime time.Time
	part  bool // an unfinished download (<digest>.part), kept for resuming
}

// entries lists the images in the cache and the unfinished downloads, least recently used
// (or touched) first.
func (c *Cache) entries() []entry {
	des, _ := os.ReadDir(c.Dir)
	var es []entry
	for _, de := range des {
		if key, ok := strings.CutSuffix(de.Name(), ".part"); ok && de.Type().IsRegular() && reDigest.MatchString(key) {
			if info, err := de.Info(); err == nil {
				es = append(es, entry{key: key, size: info.Size(), mtime: info.ModTime(), part: true})
			}
			continue
		}
		if !de.IsDir() || !reDigest.MatchString(de.Name()) {
			continue
		}
		e := entry{key: de.Name()}
		files, _ := os.ReadDir(filepath.Join(c.Dir, de.Name()))
		for _, f := range files {
			if info, err := f.Info(); err == nil {
				e.size += info.Size()
				if info.ModTime().After(e.mtime) {
					e.mtime = info.ModTime()
				}
			}
		}
		es = append(es, e)
	}
	sort.Slice(es, func(i, j int) bool { return es[i].mtime.Before(es[j].mtime) })
	return es
}

// evict removes least recently used images (and unfinished downloads nobody is resuming)
// until the cache fits MaxBytes; keep (just fetched) and images other runs hold stay.
func (c *Cache) evict(keep string) {
	limit := c.MaxBytes
	if limit <= 0 {
		limit = DefaultMaxBytes
	}
	es := c.entries()
	var total int64
	for _, e := range es {
		total += e.size
	}
	for _, e := range es {
		if total <= limit {
			return
		}
		if e.key == keep {
			continue
		}
		// An image is in use under its .lock, a download under its .dl.
		lockName, victim, what := e.key+".lock", filepath.Join(c.Dir, e.key), "least recently used"
		if e.part {
			lockName, victim, what = e.key+".dl", filepath.Join(c.Dir, e.key+".part"), "unfinished download"
		}
		f, err := os.OpenFile(filepath.Join(c.Dir, lockName), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			continue
		}
		if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
			f.Close() // in use by a run
			continue
		}
		if err := os.RemoveAll(victim); err == nil {
			total -= e.size
			c.logf("image cache: evicted %s (%s, %s) to stay under %s\n", e.key[:12], mib(e.size), what, mib(limit))
		}
		f.Close()
	}
}

func (c *Cache) logf(format string, args ...any) {
	if c.Log != nil {
		fmt.Fprintf(c.Log, format, args...)
	}
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }
