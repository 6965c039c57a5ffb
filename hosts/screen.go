package hosts

import (
	"context"
	"errors"
	"image"
	"io"
	"sync"
)

// Screen is a machine's display and keyboard, an optional ability of a Machine (QEMU has it
// through QMP; a serial line, IPMI SOL or a replayed transcript do not). The harness uses it
// for evidence (captures of the framebuffer), for stages that only show on the screen, and to
// answer a boot menu that reads only the keyboard.
type Screen interface {
	// Screendump returns the framebuffer.
	Screendump(ctx context.Context) (image.Image, error)
	// SendKeys presses each chord in turn ("ret", "e", "shift-i", "ctrl-alt-delete": QEMU
	// qcodes joined by "-", pressed together and released).
	SendKeys(ctx context.Context, chords []string) error
	// HasDisplay reports whether there is a framebuffer to capture (a VM without a display
	// device still has a keyboard).
	HasDisplay() bool
}

// ScreenOf returns the Screen of m, or of the machine m wraps (Unwrap), or nil.
func ScreenOf(m Machine) Screen {
	s, _ := As[Screen](m)
	return s
}

// As finds a T on m, or on the machine m wraps (a wrapper that adds behaviour, such as the
// job's clean-up, exposes the machine inside with Unwrap), at most 8 wrappers deep: the
// one walk every caller that needs a host kind's own interface (a screen, a pause, the
// guest's exit code) uses.
func As[T any](m Machine) (T, bool) {
	for i := 0; m != nil && i < 8; i++ {
		if t, ok := m.(T); ok {
			return t, true
		}
		u, ok := m.(interface{ Unwrap() Machine })
		if !ok {
			break
		}
		m = u.Unwrap()
	}
	var zero T
	return zero, false
}

// ScreenOnly is the console stream of a machine with no serial console at all (a laptop, a
// VM started without a serial device): it carries no bytes, and the harness reads the boot
// off the machine's Screen instead (harness/engine/screen.TextStream). Reads block until Close or
// until the machine is gone (Gone, with the reason).
type ScreenOnly struct {
	once   sync.Once
	closed chan struct{}
	mu     sync.Mutex
	err    error
}

// NewScreenOnly returns an open ScreenOnly stream.
func NewScreenOnly() *ScreenOnly { return &ScreenOnly{closed: make(chan struct{})} }

// Read blocks until the stream ends.
func (s *ScreenOnly) Read(p []byte) (int, error) {
	<-s.closed
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	return 0, io.EOF
}

// Write has nowhere to go: input reaches such a machine as keys on its Screen.
func (s *ScreenOnly) Write(p []byte) (int, error) {
	return 0, errors.New("no serial console: input goes to the screen's keyboard")
}

// Close ends the stream (io.EOF to readers).
func (s *ScreenOnly) Close() error {
	s.once.Do(func() { close(s.closed) })
	return nil
}

// Gone ends the stream with err (the machine or its screen went away).
func (s *ScreenOnly) Gone(err error) {
	s.mu.Lock()
	if s.err == nil {
		s.err = err
	}
	s.mu.Unlock()
	s.Close()
}

// Done is closed when the stream has ended.
func (s *ScreenOnly) Done() <-chan struct{} { return s.closed }
