package imagecache

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"regexp"
	"strings"
)

// SumsFile is the digest list beside published images: redox mk/ci.mk (ci-img) writes it
// with `sha256sum -b * > SHA256SUM` after `zstd --rm *`, so its digests are of the
// compressed files.
const SumsFile = "SHA256SUM"

func (c *Cache) resolve(ctx context.Context, src Source) (*Image, error) {
	u, err := url.Parse(src.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, &BadInputError{fmt.Sprintf("image url %q is not an http(s) URL", src.URL)}
	}
	if src.Newest != "" {
		sumsURL := u.ResolveReference(&url.URL{Path: SumsFile}).String()
		sums, err := c.readSums(ctx, sumsURL)
		if err != nil {
			return nil, err
		}
		name := Newest(sums, src.Newest)
		if name == "" {
			return nil, &BadInputError{fmt.Sprintf("no file matching %q is listed in %s (%d files listed)", src.Newest, sumsURL, len(sums))}
		}
		ver := starPart(src.Newest, name)
		if ver == "" {
			ver = VersionOf(name)
		}
		return &Image{URL: u.ResolveReference(&url.URL{Path: name}).String(), File: name, SHA256: sums[name],
			Version: ver, Date: DateIn(name)}, nil
	}
	file := path.Base(u.Path)
	if file == "/" || file == "." || file == ".." {
		return nil, &BadInputError{fmt.Sprintf("image url %q names a directory; give the file, or newest: with a pattern", src.URL)}
	}
	want := strings.ToLower(src.SHA256)
	if want == "" {
		sumsURL := u.ResolveReference(&url.URL{Path: SumsFile}).String()
		sums, err := c.readSums(ctx, sumsURL)
		if err != nil {
			return nil, fmt.Errorf("%s: no sha256 in the matrix, and the SHA256SUM beside it could not be read: %w", src.URL, err)
		}
		d, ok := sums[file]
		if !ok {
			return nil, &BadInputError{fmt.Sprintf("%s is not listed in %s; give sha256: in the matrix", file, sumsURL)}
		}
		want = d
	}
	return &Image{URL: src.URL, File: file, SHA256: want, Version: VersionOf(file), Date: DateIn(file)}, nil
}

// ParseSums reads a sha256sum listing: "<64 hex> *<name>" (binary mode, as ci.mk writes it)
// or "<64 hex>  <name>". Lines that are not of that form are ignored.
func ParseSums(data []byte) map[string]string {
	sums := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if len(line) < 66 || line[64] != ' ' {
			continue
		}
		d := strings.ToLower(line[:64])
		if !reDigest.MatchString(d) {
			continue
		}
		// Column 66 is the mode: '*' binary, ' ' text; the name is the rest, exactly.
		if line[65] != '*' && line[65] != ' ' {
			continue
		}
		name := line[66:]
		if name != "" && name != "." && name != ".." && !strings.Contains(name, "/") {
			sums[name] = d
		}
	}
	return sums
}

// readSums reads a SHA256SUM once per Cache (images of one folder share it, and one run
// resolves every image against the same listing), success or failure.
func (c *Cache) readSums(ctx context.Context, u string) (map[string]string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if r, ok := c.sums[u]; ok {
		return r.sums, r.err
	}
	sums, err := c.fetchSums(ctx, u)
	if ctx.Err() == nil {
		if c.sums == nil {
			c.sums = map[string]sumsResult{}
		}
		c.sums[u] = sumsResult{sums, err}
	}
	return sums, err
}

type sumsResult struct {
	sums map[string]string
	err  error
}

func (c *Cache) fetchSums(ctx context.Context, u string) (map[string]string, error) {
	var data []byte
	err := c.retry(ctx, u, func(ctx context.Context) (bool, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if err != nil {
			return false, err
		}
		resp, err := c.client().Do(req)
		if err != nil {
			return true, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return resp.StatusCode >= 500, fmt.Errorf("%s: HTTP %s", u, resp.Status)
		}
		data, err = io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		return true, err
	})
	if err != nil {
		return nil, err
	}
	return ParseSums(data), nil
}

// Newest is the newest name in sums matching pattern: names are compared as versions
// (runs of digits as numbers), so redox_desktop_2026-11-21_412 is newer than
// redox_desktop_2026-11-20_500 and 0.9.0-123-g... newer than 0.9.0-45-g... "" when none
// matches.
func Newest(sums map[string]string, pattern string) string {
	best := ""
	for name := range sums {
		if ok, _ := path.Match(pattern, name); !ok {
			continue
		}
		if best == "" || compareNatural(name, best) > 0 {
			best = name
		}
	}
	return best
}

// compareNatural compares strings with digit runs as numbers.
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		da, db := digitRun(a), digitRun(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) - len(nb)
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	return len(a) - len(b)
}

func digitRun(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// starPart is what the single "*" of pattern matched in name ("" if the pattern is not of
// that simple form).
func starPart(pattern, name string) string {
	if strings.Count(pattern, "*") != 1 || strings.ContainsAny(pattern, "?[\\") {
		return ""
	}
	pre, suf, _ := strings.Cut(pattern, "*")
	if len(name) < len(pre)+len(suf) {
		return ""
	}
	return name[len(pre) : len(name)-len(suf)]
}

// reCIName is redox mk/ci.mk's image name: redox_$(config)$(IMG_SEPARATOR)$(IMG_TAG)_harddrive.img
// or _livedisk.iso (IMG_TAG is `git describe --tags`).
var reCIName = regexp.MustCompile(`^redox_[a-z0-9-]+_(.+)_(?:harddrive\.img|livedisk\.iso)(?:\.zst|\.gz)?$`)

// VersionOf is the tag part of a ci.mk image name, else "".
func VersionOf(file string) string {
	if m := reCIName.FindStringSubmatch(file); m != nil {
		return m[1]
	}
	return ""
}

var reDate = regexp.MustCompile(`(?:^|[^0-9])(\d{4})-?(\d{2})-?(\d{2})(?:[^0-9]|$)`)

// DateIn is the first date in a name (2026-11-21 or 20261121) as YYYY-MM-DD, else "".
func DateIn(name string) string {
	for _, m := range reDate.FindAllStringSubmatch(name, -1) {
		if m[2] >= "01" && m[2] <= "12" && m[3] >= "01" && m[3] <= "31" && m[1] >= "1970" {
			return m[1] + "-" + m[2] + "-" + m[3]
		}
	}
	return ""
}
