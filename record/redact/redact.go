// Package redact is the process-wide set of secrets (lab passwords) and the code that
// replaces them wherever they show up: in strings, in streams (also split across reads), in
// the encodings a report may give them (JSON, XML, HTML, URL). It is a leaf under record/
// so the record writer can redact by construction: record.Write and the run.json writer
// pass every string through Global, whichever packages the program links. hosts/secrets
// loads passwords (from the environment or a file) and registers them here.
package redact

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"html"
	"html/template"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Mask is what a secret is replaced with (unless a secret occurs inside it; then one of
// the fallbacks that contains none is used, so a grep for the secret never finds the mask).
const Mask = "[REDACTED]"

var maskFallbacks = []string{Mask, "********", "<redacted>", "#"}

// Redactor replaces a set of secrets. It is safe for concurrent use; secrets added later
// apply to streams already running.
type Redactor struct {
	mu      sync.RWMutex
	secrets [][]byte // longest first
	mask    []byte
}

// New makes a Redactor for the given secrets (empty strings are ignored).
func New(secrets ...string) *Redactor {
	r := &Redactor{mask: []byte(Mask)}
	for _, s := range secrets {
		r.Add(s)
	}
	return r
}

// Add registers another secret, with every encoding the harness applies to text it writes
// (Go %q quoting, JSON, XML and HTML escapes), so a password quoted in an error message or
// escaped in a report is still found.
func (r *Redactor) Add(secret string) {
	if secret == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range Encodings(secret) {
		if !slices.ContainsFunc(r.secrets, func(s []byte) bool { return string(s) == v }) {
			r.secrets = append(r.secrets, []byte(v))
		}
	}
	slices.SortStableFunc(r.secrets, func(a, b []byte) int { return len(b) - len(a) })
	for _, m := range maskFallbacks {
		clean := true
		for _, s := range r.secrets {
			if strings.Contains(m, string(s)) {
				clean = false
				break
			}
		}
		if clean {
			r.mask = []byte(m)
			break
		}
	}
}

// Len is the number of secrets.
func (r *Redactor) Len() int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return len(r.secrets)
}

// Redact replaces every occurrence of every secret in s.
func (r *Redactor) Redact(s string) string {
	if r.Len() == 0 || s == "" {
		return s
	}
	out := r.RedactBytes([]byte(s))
	return string(out)
}

// RedactBytes replaces every occurrence in b (b is returned as is when nothing matched).
func (r *Redactor) RedactBytes(b []byte) []byte {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if len(r.secrets) == 0 {
		return b
	}
	out, _ := r.process(nil, b, true)
	if out == nil {
		return b
	}
	return out
}

// process redacts buf. Unless final, it stops at the first place from which the rest of
// buf could still grow into a secret (a proper prefix of one that runs to the end of buf;
// such an occurrence would start left of, or at, any later match, so it wins once complete)
// and returns that rest as held; the caller puts it in front of the next chunk. out is nil
// when buf had no secret and nothing is held (fast path). Caller holds r.mu (read).
func (r *Redactor) process(dst, buf []byte, final bool) (out, held []byte) {
	pos := 0 // start of the part not yet emitted
	changed := false
	for {
		at, n := r.nextMatch(buf, pos)
		if !final {
			if p := r.potential(buf, pos); p >= 0 && (at < 0 || p <= at) {
				dst = append(dst, buf[pos:p]...)
				return dst, buf[p:]
			}
		}
		if at < 0 {
			break
		}
		dst = append(dst, buf[pos:at]...)
		dst = append(dst, r.mask...)
		pos = at + n
		changed = true
	}
	if !changed {
		return nil, nil
	}
	return append(dst, buf[pos:]...), nil
}

// Encodings is a secret as it appears after each encoding the harness applies to text:
// itself, Go's %q and %+q quoting (without the quotes), a JSON string (with and without
// HTML escaping), XML character data and HTML (html/template and html.EscapeString).
func Encodings(secret string) []string {
	out := []string{secret}
	add := func(v string) {
		if v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	add(strings.Trim(strconv.Quote(secret), `"`))
	add(strings.Trim(strconv.QuoteToASCII(secret), `"`))
	for _, escHTML := range []bool{true, false} {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(escHTML)
		if enc.Encode(secret) == nil {
			add(strings.Trim(strings.TrimSpace(b.String()), `"`))
		}
	}
	var x bytes.Buffer
	if xml.EscapeText(&x, []byte(secret)) == nil {
		add(x.String())
	}
	add(template.HTMLEscapeString(secret))
	add(html.EscapeString(secret))
	return out
}

// maxIgnored bounds the bytes of ignorable sequences inside one occurrence of a secret
// (so a held-back tail stays small), maxSeq one escape sequence.
const (
	maxIgnored = 256
	maxSeq     = 64
)

// ignorable is the length of what the console's normaliser removes at buf[i] (an ANSI
// escape sequence, a CR, a NUL): 0 when buf[i] is text, -1 when buf ends inside what may
// be one (more input decides). A secret printed with a colour change in the middle
// ("hunter2-\x1b[1mS3cr3t") is one secret to the reader of the normalised text, so it is
// one to the redactor too.
func ignorable(buf []byte, i int) int {
	switch buf[i] {
	case '\r', 0:
		return 1
	case 0x1b:
	default:
		return 0
	}
	if i+1 >= len(buf) {
		return -1
	}
	switch buf[i+1] {
	case '[': // CSI: parameters and intermediates 0x20-0x3f, a final byte 0x40-0x7e
		for j := i + 2; j < len(buf) && j-i <= maxSeq; j++ {
			switch c := buf[j]; {
			case c >= 0x40 && c <= 0x7e:
				return j - i + 1
			case c < 0x20 || c > 0x7e:
				return j - i // a broken sequence ends before the byte that broke it
			}
		}
	case ']': // OSC: up to BEL or ESC \
		for j := i + 2; j < len(buf) && j-i <= maxSeq; j++ {
			switch buf[j] {
			case 0x07:
				return j - i + 1
			case '\n':
				return j - i
			case 0x1b:
				if j+1 < len(buf) {
					return j - i + 2
				}
				return -1
			}
		}
	default:
		return 2
	}
	if len(buf)-i <= maxSeq {
		return -1
	}
	return 0
}

// matchAt matches secret s at buf[i:], passing over ignorable sequences between its bytes.
// It returns the end of the occurrence, or -1; partial reports that buf ended while the
// match was still possible.
func matchAt(buf []byte, i int, s []byte) (end int, partial bool) {
	j, ignored := i, 0
	for k := 0; k < len(s); {
		if j == len(buf) {
			return -1, true
		}
		if buf[j] == s[k] {
			j, k = j+1, k+1
			continue
		}
		if k == 0 {
			return -1, false
		}
		n := ignorable(buf, j)
		if n < 0 {
			return -1, true
		}
		if n == 0 || ignored+n > maxIgnored {
			return -1, false
		}
		j, ignored = j+n, ignored+n
	}
	return j, false
}

// nextMatch finds the leftmost occurrence of any secret at or after from; on a tie the
// longest secret wins. It returns -1 when there is none; n is the occurrence's length in
// buf (escape sequences inside it included).
func (r *Redactor) nextMatch(buf []byte, from int) (at, n int) {
	at = -1
	for _, s := range r.secrets {
		for i := from; i < len(buf) && (at < 0 || i <= at); i++ {
			k := bytes.IndexByte(buf[i:], s[0])
			if k < 0 {
				break
			}
			i += k
			if at >= 0 && i > at {
				break
			}
			if end, _ := matchAt(buf, i, s); end >= 0 {
				if at < 0 || i < at || end-i > n {
					at, n = i, end-i
				}
				break
			}
		}
	}
	return at, n
}

// potential is the first p >= from such that buf[p:] may be the start of a secret that
// more input completes, or -1.
func (r *Redactor) potential(buf []byte, from int) int {
	longest := len(r.secrets[0])
	for p := max(from, len(buf)-longest-maxIgnored); p < len(buf); p++ {
		for _, s := range r.secrets {
			if buf[p] != s[0] {
				continue
			}
			if _, partial := matchAt(buf, p, s); partial {
				return p
			}
		}
	}
	return -1
}

// Filter is a streaming redactor for one byte stream: a secret split across two calls is
// still replaced, because a tail that could be the start of a secret is held back until the
// next call decides it. Flush returns what is still held at the end of the stream.
type Filter struct {
	r    *Redactor
	mu   sync.Mutex
	held []byte
}

// NewFilter starts a streaming filter.
func (r *Redactor) NewFilter() *Filter { return &Filter{r: r} }

// NewFilter starts a streaming filter on the process-wide Redactor.
func NewFilter() *Filter { return global.NewFilter() }

// Filter redacts the next chunk; it has the signature of console.Options.Filter. The
// returned slice is valid until the next call.
func (f *Filter) Filter(chunk []byte) []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.step(chunk, false)
}

// Flush returns the bytes still held back (call once, at the end of the stream).
func (f *Filter) Flush() []byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.step(nil, true)
}

// Pending reports whether bytes are held back.
func (f *Filter) Pending() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.held) > 0
}

func (f *Filter) step(chunk []byte, final bool) []byte {
	f.r.mu.RLock()
	defer f.r.mu.RUnlock()
	if len(f.r.secrets) == 0 {
		if len(f.held) == 0 {
			return chunk
		}
		out := append(f.held, chunk...)
		f.held = nil
		return out
	}
	buf := chunk
	if len(f.held) > 0 {
		buf = append(append([]byte(nil), f.held...), chunk...)
	}
	out, held := f.r.process(nil, buf, final)
	if out == nil && held == nil {
		out = buf
	}
	f.held = append([]byte(nil), held...)
	return out
}

// Writer redacts everything written to w. Close flushes what is held back (it does not
// close w).
type Writer struct {
	w io.Writer
	f *Filter
}

// NewWriter wraps w with the process-wide Redactor.
func NewWriter(w io.Writer) *Writer { return &Writer{w: w, f: NewFilter()} }

// NewWriter wraps w with r.
func (r *Redactor) NewWriter(w io.Writer) *Writer { return &Writer{w: w, f: r.NewFilter()} }

// Write implements io.Writer (it reports len(p) on success, whatever the redacted length).
func (w *Writer) Write(p []byte) (int, error) {
	out := w.f.Filter(p)
	if len(out) > 0 {
		if _, err := w.w.Write(out); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// Close writes what is held back.
func (w *Writer) Close() error {
	if out := w.f.Flush(); len(out) > 0 {
		_, err := w.w.Write(out)
		return err
	}
	return nil
}

// DefaultRelease is how long Stream holds a possible secret prefix when no more bytes
// arrive before it gives the bytes to the reader anyway (a prompt must not wait forever
// because it ends like the start of a password).
const DefaultRelease = 150 * time.Millisecond

// Stream wraps a console stream so its reader never sees a secret: reads are redacted with
// a streaming Filter; a held-back tail is released after release (DefaultRelease if 0)
// without further input, and at the end of the stream. Writes pass through unchanged.
// The cost is one goroutine that reads the inner stream.
func (r *Redactor) Stream(rw io.ReadWriteCloser, release time.Duration) io.ReadWriteCloser {
	if release <= 0 {
		release = DefaultRelease
	}
	s := &stream{rw: rw, f: r.NewFilter(), release: release, data: make(chan []byte), done: make(chan struct{})}
	go s.pump()
	return s
}

// Stream wraps rw with the process-wide Redactor (see Redactor.Stream).
func Stream(rw io.ReadWriteCloser) io.ReadWriteCloser { return global.Stream(rw, 0) }

type stream struct {
	rw      io.ReadWriteCloser
	f       *Filter
	release time.Duration

	data    chan []byte // raw chunks from the pump
	done    chan struct{}
	err     error // set before data is closed
	pending []byte
	ended   bool
	held    atomic.Bool  // the filter holds back bytes that may begin a secret
	inPump  atomic.Int32 // chunks read from rw that Read has not taken yet
	rmu     sync.Mutex
	once    sync.Once
}

func (s *stream) pump() {
	defer close(s.data)
	for {
		buf := make([]byte, 32<<10)
		n, err := s.rw.Read(buf)
		if n > 0 {
			s.inPump.Add(1)
			select {
			case s.data <- buf[:n]:
			case <-s.done:
				return
			}
		}
		if err != nil {
			s.err = err
			return
		}
	}
}

func (s *stream) Read(p []byte) (int, error) {
	s.rmu.Lock()
	defer s.rmu.Unlock()
	for len(s.pending) == 0 {
		if s.ended {
			return 0, s.err
		}
		var timer <-chan time.Time
		if s.f.Pending() {
			timer = time.After(s.release)
		}
		select {
		case chunk, ok := <-s.data:
			if !ok {
				s.ended = true
				if s.err == nil {
					s.err = io.EOF
				}
				s.pending = append(s.pending, s.f.Flush()...)
				continue
			}
			s.pending = append(s.pending, s.f.Filter(chunk)...)
			s.inPump.Add(-1)
		case <-timer:
			s.pending = append(s.pending, s.f.Flush()...)
		}
	}
	s.held.Store(s.f.Pending())
	n := copy(p, s.pending)
	s.pending = s.pending[n:]
	return n, nil
}

// Buffered reports whether bytes the wrapped stream delivered have not been read through
// this one yet: a chunk waiting in the pump, or bytes the filter holds back until it knows
// they begin no secret. A silence watchdog asks it (with the wrapped stream's own kernel
// buffer, through Unwrap) before calling the machine silent.
func (s *stream) Buffered() bool { return s.inPump.Load() > 0 || s.held.Load() }

func (s *stream) Write(p []byte) (int, error) { return s.rw.Write(p) }

func (s *stream) Close() error {
	var err error
	s.once.Do(func() {
		close(s.done)
		err = s.rw.Close()
	})
	return err
}

// Unwrap returns the wrapped stream.
func (s *stream) Unwrap() io.ReadWriteCloser { return s.rw }

// Register adds a secret to the process-wide Redactor.
func Register(secret string) { global.Add(secret) }

// Redact replaces every registered secret in s.
func Redact(s string) string { return global.Redact(s) }

// Active reports whether any secret has been registered.
func Active() bool { return global.Len() > 0 }

// Global is the process-wide Redactor.
func Global() *Redactor { return global }

var global = New()
