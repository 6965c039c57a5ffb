package hosts

import (
	"context"
	"image"
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
