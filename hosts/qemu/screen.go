package qemu

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/redox-hwtest/redox-hwtest/hosts"
)

// Screendump asks QEMU for the framebuffer of the VM's display as a PNG (QMP `screendump`
// with "format": "png", QEMU 7.1 and later). QEMU writes the file itself, into the job's
// private directory, and it is read back and removed. A VM without a display device (no
// `vga` or `ramfb` in the host's devices) has nothing to dump: QEMU answers with an error.
func (q *QMP) Screendump(ctx context.Context, dir string) ([]byte, error) {
	f := filepath.Join(dir, fmt.Sprintf("screen-%d.png", screenSeq.Add(1)))
	defer os.Remove(f)
	if _, err := q.Execute(ctx, "screendump", map[string]any{"filename": f, "format": "png"}); err != nil {
		return nil, err
	}
	return os.ReadFile(f)
}

var screenSeq atomic.Int64

// SendKeys presses each chord in turn through QMP `send-key` (QEMU holds the keys of one
// chord down together for its default 100 ms, then releases them), as a PS/2 or USB keyboard
// would: the path to a boot menu that reads only the keyboard (BIOS INT 16h).
func (q *QMP) SendKeys(ctx context.Context, chords []string) error {
	for _, c := range chords {
		var keys []map[string]string
		for _, k := range strings.Split(c, "-") {
			if k == "" {
				return fmt.Errorf("send-key: empty key in chord %q", c)
			}
			keys = append(keys, map[string]string{"type": "qcode", "data": k})
		}
		if _, err := q.Execute(ctx, "send-key", map[string]any{"keys": keys}); err != nil {
			return fmt.Errorf("chord %q: %w", c, err)
		}
	}
	return nil
}

// Screendump implements hosts.Screen.
func (m *Machine) Screendump(ctx context.Context) ([]byte, error) {
	if m.qmp == nil {
		return nil, errors.New("qemu: not powered on")
	}
	return m.qmp.Screendump(ctx, m.env.Dir)
}

// SendKeys implements hosts.Screen.
func (m *Machine) SendKeys(ctx context.Context, chords []string) error {
	if m.qmp == nil {
		return errors.New("qemu: not powered on")
	}
	return m.qmp.SendKeys(ctx, chords)
}

// HasDisplay reports whether the VM has a display device to capture.
func (m *Machine) HasDisplay() bool {
	for _, d := range m.host.Devices {
		if d == "vga" || d == "ramfb" {
			return true
		}
	}
	return false
}

// Machine has a screen and a keyboard.
var _ hosts.Screen = (*Machine)(nil)
