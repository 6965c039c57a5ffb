package imagecache

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
)

// maxWindow bounds the zstd decoder's memory: 128 MiB covers `zstd --long` (window 2^27);
// plain `zstd` as ci.mk runs it uses far less. Memory does not grow with the image.
const maxWindow = 1 << 27

func (c *Cache) client() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return defaultClient
}

var defaultClient = &http.Client{Transport: &http.Transport{
	Proxy:                 http.ProxyFromEnvironment,
	DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
	TLSHandshakeTimeout:   30 * time.Second,
	ResponseHeaderTimeout: 60 * time.Second,
	DisableCompression:    true, // the bytes hashed must be the file's, not a transfer encoding's
}}

func (c *Cache) retries() int {
	switch {
	case c.Retries < 0:
		return 0
	case c.Retries > 0:
		return c.Retries
	}
	return 5
}

// wait sleeps the backoff of attempt (1-based), or returns ctx's error.
func (c *Cache) wait(ctx context.Context, attempt int) error {
	d := c.Backoff
	if d <= 0 {
		d = time.Second
	}
	for i := 1; i < attempt && d < 30*time.Second; i++ {
		d *= 2
	}
	d = min(d, 30*time.Second)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// retry runs do until it succeeds, says the error is final (again false), or the retries
// are spent.
func (c *Cache) retry(ctx context.Context, what string, do func(context.Context) (again bool, err error)) error {
	for attempt := 0; ; attempt++ {
		again, err := do(ctx)
		if err == nil {
			return nil
		}
		if !again || ctx.Err() != nil || attempt >= c.retries() || noSuchHost(err) {
			if attempt > 0 {
				return fmt.Errorf("%w (after %d attempts)", err, attempt+1)
			}
			return err
		}
		c.logf("%s: %v; retrying\n", what, err)
		if werr := c.wait(ctx, attempt+1); werr != nil {
			return err
		}
	}
}

// download streams im.URL through the hash and the decompressor into final. The compressed
// bytes are kept in <digest>.part as they arrive, so a cut transfer resumes with a Range
// request (in this run after a backoff, or in the next run), re-reading the kept bytes into
// the hash and decompressor first.
func (c *Cache) download(ctx context.Context, im *Image, final string) (int64, error) {
	part := filepath.Join(c.Dir, im.SHA256+".part")
	tmp := filepath.Join(c.Dir, im.SHA256+".out")
	pf, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return 0, err
	}
	defer pf.Close()
	have, err := pf.Seek(0, io.SeekEnd)
	if err != nil {
		return 0, err
	}
	if _, err := pf.Seek(0, io.SeekStart); err != nil {
		return 0, err
	}
	if have > 0 {
		c.logf("%s: resuming after %s already downloaded\n", im.File, mib(have))
	}
	h := sha256.New()
	src := &resumer{c: c, ctx: ctx, url: im.URL, part: pf, have: have, hash: h, total: -1,
		prog: newProgress(c.Log, c.TTY, im.File)}
	out, err := os.Create(tmp)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp) // gone once renamed; removed on any failure
	n, derr := decompress(im.File, bufio.NewReaderSize(src, 1<<20), out)
	if derr == nil || src.failed == nil {
		// Hash what the decompressor did not need (trailing bytes), or the rest of a file
		// that would not decompress, to tell a corrupt download from a bad file.
		if _, err := io.Copy(io.Discard, src); err != nil && derr == nil {
			derr = err
		}
	}
	src.prog.finish(src.off)
	cerr := out.Close()
	if src.failed != nil {
		// The network failed past the retries: keep the part for the next attempt.
		return 0, fmt.Errorf("download %s: %w", im.URL, src.failed)
	}
	got := hex.EncodeToString(h.Sum(nil))
	if got != im.SHA256 {
		os.Remove(part)
		return 0, &MismatchError{URL: im.URL, Want: im.SHA256, Got: got}
	}
	if derr != nil {
		os.Remove(part)
		return 0, &BadInputError{fmt.Sprintf("%s: its sha256 matches but it does not decompress: %v", im.URL, derr)}
	}
	if cerr != nil {
		return 0, cerr
	}
	if err := os.MkdirAll(filepath.Dir(final), 0o755); err != nil {
		return 0, err
	}
	if err := os.Rename(tmp, final); err != nil {
		return 0, err
	}
	os.Remove(part)
	if im.Date == "" && !src.modified.IsZero() {
		// ci.mk's names carry a git tag, not a date: the server's date of the file is the
		// image's. Kept beside it for later runs that find it in the cache.
		im.Date = src.modified.UTC().Format("2006-01-02")
		os.WriteFile(filepath.Join(filepath.Dir(final), dateFile), []byte(im.Date+"\n"), 0o644)
	}
	c.logf("%s: verified sha256 %s, %s -> %s\n", im.File, im.SHA256, mib(src.off), final)
	return n, nil
}

// decompress copies r to w, decompressing by the file name's suffix.
func decompress(file string, r io.Reader, w io.Writer) (int64, error) {
	switch {
	case strings.HasSuffix(file, ".zst"):
		d, err := zstd.NewReader(r, zstd.WithDecoderMaxWindow(maxWindow))
		if err != nil {
			return 0, err
		}
		defer d.Close()
		return d.WriteTo(w)
	case strings.HasSuffix(file, ".gz"):
		d, err := gzip.NewReader(r)
		if err != nil {
			return 0, err
		}
		defer d.Close()
		return io.Copy(w, d)
	}
	return io.Copy(w, r)
}

// resumer reads the compressed file: first the bytes kept from an earlier attempt, then the
// network from where they end, reconnecting with a Range request when a transfer breaks.
// Every byte goes through the hash; network bytes are also appended to the part file.
type resumer struct {
	c     *Cache
	ctx   context.Context
	url   string
	part  *os.File
	have  int64 // bytes in the part file before this attempt
	off   int64 // bytes delivered so far
	total int64 // file size once known, else -1
	hash  hash.Hash
	prog  *progress

	body     io.ReadCloser
	cancel   context.CancelFunc
	stall    *time.Timer
	modified time.Time // the server's Last-Modified, if it says
	fails    int       // consecutive failures without progress
	failed   error     // set when the retries are spent: the download cannot finish
}

func (r *resumer) Read(p []byte) (int, error) {
	if r.failed != nil {
		return 0, r.failed
	}
	if r.off < r.have {
		n, err := r.part.Read(p[:min(int64(len(p)), r.have-r.off)])
		r.hash.Write(p[:n])
		r.off += int64(n)
		if err == io.EOF {
			err = nil
		}
		return n, err
	}
	for {
		if r.body == nil {
			if r.total >= 0 && r.off >= r.total {
				return 0, io.EOF
			}
			if err := r.open(); err != nil {
				return 0, err
			}
			if r.body == nil {
				continue
			}
		}
		r.stall.Reset(r.c.stall())
		n, err := r.body.Read(p)
		if n > 0 {
			if _, werr := r.part.Write(p[:n]); werr != nil {
				r.failed = werr
				r.closeBody()
				return 0, werr
			}
			r.hash.Write(p[:n])
			r.off += int64(n)
			r.fails = 0
			r.prog.update(r.off, r.total)
		}
		if err == nil {
			return n, nil
		}
		r.closeBody()
		if err == io.EOF && (r.total < 0 || r.off == r.total) {
			if r.total < 0 {
				r.total = r.off
			}
			return n, nil // the next Read says EOF
		}
		if err == io.EOF {
			err = fmt.Errorf("connection closed at byte %d of %d", r.off, r.total)
		}
		if ferr := r.fail(err); ferr != nil {
			return n, ferr
		}
		if n > 0 {
			return n, nil
		}
	}
}

func (c *Cache) stall() time.Duration {
	if c.Stall > 0 {
		return c.Stall
	}
	return 60 * time.Second
}

// noSuchHost is a name the DNS says does not exist: a definite answer, not retried.
func noSuchHost(err error) bool {
	var d *net.DNSError
	return errors.As(err, &d) && d.IsNotFound
}

// fail counts a failure; past the retries it is final.
func (r *resumer) fail(err error) error {
	if r.ctx.Err() != nil {
		r.failed = r.ctx.Err()
		return r.failed
	}
	if noSuchHost(err) {
		r.failed = err
		return err
	}
	r.fails++
	if r.fails > r.c.retries() {
		r.failed = fmt.Errorf("%w (after %d attempts)", err, r.fails)
		return r.failed
	}
	r.c.logf("%s: %v; retrying from byte %d\n", r.url, err, r.off)
	if werr := r.c.wait(r.ctx, r.fails); werr != nil {
		r.failed = werr
		return werr
	}
	return nil
}

func (r *resumer) closeBody() {
	if r.body != nil {
		r.body.Close()
		r.body = nil
	}
	if r.cancel != nil {
		r.stall.Stop()
		r.cancel()
		r.cancel = nil
	}
}

// open starts a transfer at r.off. It leaves r.body nil after a retriable failure that was
// waited out, and returns an error only when the download cannot go on.
func (r *resumer) open() error {
	ctx, cancel := context.WithCancel(r.ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.url, nil)
	if err != nil {
		cancel()
		r.failed = err
		return err
	}
	if r.off > 0 {
		req.Header.Set("Range", fmt.Sprintf("bytes=%d-", r.off))
	}
	resp, err := r.c.client().Do(req)
	if err != nil {
		cancel()
		return r.fail(err)
	}
	switch {
	case resp.StatusCode == http.StatusPartialContent && r.off > 0:
		start, total, ok := contentRange(resp.Header.Get("Content-Range"))
		if !ok || start != r.off {
			resp.Body.Close()
			cancel()
			r.failed = fmt.Errorf("%s: asked for bytes from %d, server sent range %q", r.url, r.off, resp.Header.Get("Content-Range"))
			return r.failed
		}
		r.total = total
	case resp.StatusCode == http.StatusOK:
		r.total = resp.ContentLength
		if r.off > 0 {
			// The server ignores Range: skip what we already have.
			if _, err := io.CopyN(io.Discard, resp.Body, r.off); err != nil {
				resp.Body.Close()
				cancel()
				return r.fail(err)
			}
		}
	case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable && r.off > 0:
		// The kept part is already the whole file (or more: the hash will tell).
		resp.Body.Close()
		cancel()
		r.total = r.off
		return nil
	default:
		resp.Body.Close()
		cancel()
		err := fmt.Errorf("%s: HTTP %s", r.url, resp.Status)
		if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
			return r.fail(err)
		}
		r.failed = err
		return err
	}
	if t, err := http.ParseTime(resp.Header.Get("Last-Modified")); err == nil {
		r.modified = t
	}
	r.body, r.cancel = resp.Body, cancel
	// A transfer that delivers nothing for Stall is cut (its request cancelled), then retried.
	r.stall = time.AfterFunc(r.c.stall(), cancel)
	return nil
}

// contentRange parses "bytes START-END/TOTAL".
func contentRange(s string) (start, total int64, ok bool) {
	s, ok = strings.CutPrefix(s, "bytes ")
	if !ok {
		return 0, 0, false
	}
	rng, tot, ok := strings.Cut(s, "/")
	if !ok {
		return 0, 0, false
	}
	a, _, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseInt(a, 10, 64)
	total, err2 := strconv.ParseInt(tot, 10, 64)
	if tot == "*" {
		total, err2 = -1, nil
	}
	return start, total, errors.Join(err1, err2) == nil
}
