package imagecache

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// DefaultDir is the cache directory when the matrix names none: $REDOX_HWTEST_IMAGE_CACHE,
// else <user cache dir>/redox-hwtest/images.
func DefaultDir() string {
	if d := os.Getenv("REDOX_HWTEST_IMAGE_CACHE"); d != "" {
		return d
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return filepath.Join(base, "redox-hwtest", "images")
}

// ForMatrix is the cache the matrix's settings describe (image_cache, image_cache_size).
func ForMatrix(m *matrix.Matrix) *Cache {
	c := &Cache{Dir: m.Settings.ImageCache, MaxBytes: ParseSize(m.Settings.ImageCacheSize)}
	if c.Dir == "" {
		c.Dir = DefaultDir()
	}
	// How persistent to be with a flaky or absent server is the lab's choice, not the
	// matrix's: $REDOX_HWTEST_FETCH_RETRIES (default 5, backoff 1s doubling to 30s).
	if n, err := strconv.Atoi(os.Getenv("REDOX_HWTEST_FETCH_RETRIES")); err == nil {
		c.Retries = n
		if n == 0 {
			c.Retries = -1
		}
	}
	return c
}

// ParseSize reads a size as the matrix writes it ("20G"; suffix K, M, G or T, none means
// MiB); 0 when empty or malformed (the matrix validated it).
func ParseSize(s string) int64 {
	if s == "" {
		return 0
	}
	mult := int64(1 << 20)
	switch strings.ToUpper(s[len(s)-1:]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	case "T":
		mult = 1 << 40
	}
	if strings.ContainsAny(strings.ToUpper(s[len(s)-1:]), "KMGT") {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0
	}
	return n * mult
}

// Prepared is the outcome of fetching a run's url images.
type Prepared struct {
	// Images by image name, for those fetched; Errs for those that could not be.
	Images map[string]*Image
	Errs   map[string]error
}

// Prepare fetches every url image of jobs once, in job order, and points each job's image
// at the cached file: Path is the decompressed image (what QEMU boots, $RHW_IMAGE flashes
// and PXE serves), URL the exact file fetched, SHA256 its published digest, and Version
// the one read from its name when the matrix gives none. A job whose image failed keeps
// no path; Err says why (bad input: IsBadInput).
func Prepare(ctx context.Context, c *Cache, jobs []matrix.Job) *Prepared {
	p := &Prepared{Images: map[string]*Image{}, Errs: map[string]error{}}
	for i := range jobs {
		img := &jobs[i].Image
		if img.URL == "" || img.Path != "" {
			continue
		}
		name := img.Name
		if _, done := p.Images[name]; !done && p.Errs[name] == nil {
			im, err := FetchOnce(ctx, c, *img)
			if err != nil {
				p.Errs[name] = err
			} else {
				p.Images[name] = im
			}
		}
		if im := p.Images[name]; im != nil {
			Apply(img, im)
		}
	}
	return p
}

// Apply points a matrix image at a fetched image.
func Apply(img *matrix.Image, im *Image) {
	img.Path, img.URL, img.SHA256, img.Newest, img.Date = im.Path, im.URL, im.SHA256, "", im.Date
	if img.Version == "" {
		img.Version = im.Version
	}
}

// Err is why the image could not be fetched, or nil.
func (p *Prepared) Err(image string) error { return p.Errs[image] }

// fetched remembers each url image this process fetched (or failed to), so every job of
// a run boots the same file even if a newer daily is published meanwhile, and the run
// command and the job runner (which fetches for the Ginkgo suites) share one outcome.
var fetched = struct {
	sync.Mutex
	m map[string]*once
}{m: map[string]*once{}}

type once struct {
	sync.Mutex
	done bool
	im   *Image
	err  error
}

// FetchOnce fetches img (a matrix image with url) through c the first time this process
// asks for it, and gives the same outcome after that. The image stays held (not evictable)
// until the process ends.
func FetchOnce(ctx context.Context, c *Cache, img matrix.Image) (*Image, error) {
	key := strings.Join([]string{c.Dir, img.URL, img.SHA256, img.Newest}, "\x00")
	fetched.Lock()
	o := fetched.m[key]
	if o == nil {
		o = &once{}
		fetched.m[key] = o
	}
	fetched.Unlock()
	o.Lock()
	defer o.Unlock()
	if !o.done {
		o.im, o.err = c.Fetch(ctx, Source{URL: img.URL, SHA256: img.SHA256, Newest: img.Newest})
		// A cancelled fetch is not an outcome: a later caller tries again.
		o.done = ctx.Err() == nil
	}
	return o.im, o.err
}
