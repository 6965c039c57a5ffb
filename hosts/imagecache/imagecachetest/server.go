// Package imagecachetest is a real loopback HTTP server that publishes images the way
// Redox's build server does (redox mk/ci.mk, ci-img: zstd-compressed files and a SHA256SUM
// written by `sha256sum -b *`), for the tests of imagecache and of the run command. Its
// faults are real ones: a transfer cut by closing the connection mid-body, a listing whose
// digest is wrong, a server that ignores Range.
package imagecachetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
)

// Dir is the folder the server publishes in, as on the build server (img/<arch>/).
const Dir = "/img/x86_64/"

// Server publishes files under Dir, with Dir+"SHA256SUM".
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	files   map[string][]byte
	sums    map[string]string // digests listed instead of the real ones
	gets    map[string]int
	ranges  map[string][]string
	cut     map[string]int64
	holds   map[string]chan struct{}
	arrived map[string]chan struct{}
	NoRange bool // serve the whole file whatever Range says
	// Modified is every file's Last-Modified (zero: none), set before requests come.
	Modified time.Time
}

// New starts a server on 127.0.0.1; it stops with the test (Close).
func New() *Server {
	s := &Server{files: map[string][]byte{}, sums: map[string]string{}, gets: map[string]int{},
		ranges: map[string][]string{}, cut: map[string]int64{}, holds: map[string]chan struct{}{},
		arrived: map[string]chan struct{}{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// DirURL is the URL of the published folder (ends in "/").
func (s *Server) DirURL() string { return s.URL + Dir }

// FileURL is the URL of a published file.
func (s *Server) FileURL(name string) string { return s.URL + Dir + name }

// Publish puts data under name and lists its digest in SHA256SUM; it returns the digest.
func (s *Server) Publish(name string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = data
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

// PublishZstd compresses raw with zstd and publishes it; it returns the compressed bytes'
// digest (what SHA256SUM lists, as upstream).
func (s *Server) PublishZstd(name string, raw []byte) string {
	return s.Publish(name, Zstd(raw))
}

// Zstd compresses data (fastest level: the tests care about the format, not the ratio).
func Zstd(data []byte) []byte {
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		panic(err)
	}
	defer enc.Close()
	return enc.EncodeAll(data, nil)
}

// ListSum makes SHA256SUM list digest for name instead of its real digest.
func (s *Server) ListSum(name, digest string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sums[name] = digest
}

// CutAfter makes the next request for name end after n body bytes by closing the
// connection.
func (s *Server) CutAfter(name string, n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cut[name] = n
}

// Hold makes requests for name wait until release is called; arrived is closed when the
// first such request comes in.
func (s *Server) Hold(name string) (arrived <-chan struct{}, release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, a := make(chan struct{}), make(chan struct{})
	s.holds[name], s.arrived[name] = h, a
	var once sync.Once
	return a, func() { once.Do(func() { close(h) }) }
}

// Requests is how many GET requests came for name.
func (s *Server) Requests(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.gets[name]
}

// Ranges are the Range headers of the requests for name ("" for none).
func (s *Server) Ranges(name string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ranges[name])
}

func (s *Server) sumsFile() []byte {
	var b bytes.Buffer
	names := make([]string, 0, len(s.files))
	for n := range s.files {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		d, ok := s.sums[n]
		if !ok {
			sum := sha256.Sum256(s.files[n])
			d = hex.EncodeToString(sum[:])
		}
		fmt.Fprintf(&b, "%s *%s\n", d, n) // sha256sum -b
	}
	return b.Bytes()
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutPrefix(r.URL.Path, Dir)
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	s.mu.Lock()
	var data []byte
	if name == "SHA256SUM" {
		data = s.sumsFile()
	} else if d, ok := s.files[name]; ok {
		data = d
	} else {
		s.mu.Unlock()
		http.NotFound(w, r)
		return
	}
	s.gets[name]++
	s.ranges[name] = append(s.ranges[name], r.Header.Get("Range"))
	cut, hasCut := s.cut[name]
	delete(s.cut, name)
	hold, arrived := s.holds[name], s.arrived[name]
	if arrived != nil {
		close(arrived)
		delete(s.arrived, name)
	}
	noRange := s.NoRange
	s.mu.Unlock()
	if hold != nil {
		<-hold
	}
	if noRange {
		r.Header.Del("Range")
	}
	if hasCut {
		w = &cutWriter{ResponseWriter: w, left: cut}
	}
	http.ServeContent(w, r, name, s.Modified, bytes.NewReader(data))
}

// cutWriter sends left bytes of the body, then closes the connection under the client.
type cutWriter struct {
	http.ResponseWriter
	left int64
	done bool
}

func (c *cutWriter) Write(p []byte) (int, error) {
	if c.done {
		return 0, http.ErrHijacked
	}
	if int64(len(p)) <= c.left {
		c.left -= int64(len(p))
		return c.ResponseWriter.Write(p)
	}
	n, _ := c.ResponseWriter.Write(p[:c.left])
	c.ResponseWriter.(http.Flusher).Flush()
	c.done = true
	if conn, _, err := c.ResponseWriter.(http.Hijacker).Hijack(); err == nil {
		conn.Close()
	}
	return n, http.ErrHijacked
}
