package matrix

import (
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
)

// ImageOverride is one `run -image NAME=LOCATION[@sha256:HEX]`: the file or URL a merge
// request's pipeline built, booted as the matrix's image NAME so its jobs (and so the
// gate's comparison with a nightly baseline) keep their IDs.
type ImageOverride struct {
	Name     string
	Location string // a path (relative to the working directory) or an http(s) URL
	SHA256   string // 64 hex digits; required for a URL
}

// ParseImageOverride reads NAME=LOCATION[@sha256:HEX].
func ParseImageOverride(s string) (ImageOverride, error) {
	name, loc, ok := strings.Cut(s, "=")
	if !ok || name == "" || loc == "" {
		return ImageOverride{}, fmt.Errorf("-image %q: want NAME=PATH|URL[@sha256:HEX]", s)
	}
	o := ImageOverride{Name: name, Location: loc}
	if i := strings.LastIndex(loc, "@sha256:"); i >= 0 {
		o.Location, o.SHA256 = loc[:i], loc[i+len("@sha256:"):]
		if !reSHA256.MatchString(o.SHA256) {
			return ImageOverride{}, fmt.Errorf("-image %s: the digest must be 64 hex digits, got %q", name, clip(o.SHA256))
		}
		o.SHA256 = strings.ToLower(o.SHA256)
	}
	if o.IsURL() {
		u, err := url.Parse(o.Location)
		if err != nil || u.Host == "" {
			return ImageOverride{}, fmt.Errorf("-image %s: %q is not an http(s) URL", name, o.Location)
		}
		if o.SHA256 == "" {
			return ImageOverride{}, fmt.Errorf("-image %s: a URL needs its digest (%s@sha256:HEX)", name, o.Location)
		}
	}
	return o, nil
}

// IsURL says whether the location is downloaded rather than a local file.
func (o ImageOverride) IsURL() bool {
	return strings.HasPrefix(o.Location, "http://") || strings.HasPrefix(o.Location, "https://")
}

// Override points image o.Name at o's file or URL (a disk image: a kernel, transcript or
// newest: pattern it had is dropped). cwd resolves a relative path. The image must exist.
func (m *Matrix) Override(o ImageOverride, cwd string) error {
	for i := range m.Images {
		img := &m.Images[i]
		if img.Name != o.Name {
			continue
		}
		if img.Transcript != "" {
			return fmt.Errorf("-image %s: a recorded transcript cannot be replaced by a disk image", o.Name)
		}
		img.Path, img.URL, img.Newest, img.Kernel, img.Initrd, img.Cmdline = "", "", "", "", "", ""
		img.SHA256 = o.SHA256
		if o.IsURL() {
			img.URL = o.Location
		} else if filepath.IsAbs(o.Location) {
			img.Path = o.Location
		} else {
			img.Path = filepath.Join(cwd, o.Location)
		}
		return nil
	}
	return fmt.Errorf("-image %s: the matrix has no image of that name", o.Name)
}
