package qemu

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/redox-hwtest/redox-hwtest/hosts"
)

// Screendump asks QEMU for the framebuffer of the VM's display (QMP `screendump`). QEMU
// writes the file itself, into the job's private directory, and it is read back and removed.
// It is asked for in its default format, PPM (uncompressed RGB): QEMU writes it in the main
// loop, where the guest's I/O waits, so the cheapest format for QEMU is the one to ask for;
// the harness compresses what it keeps. A VM without a display device (no `vga` or `ramfb`
// in the host's devices) has nothing to dump: QEMU answers with an error.
func (q *QMP) Screendump(ctx context.Context, dir string) (image.Image, error) {
	f := filepath.Join(dir, fmt.Sprintf("screen-%d.ppm", screenSeq.Add(1)))
	defer os.Remove(f)
	if _, err := q.Execute(ctx, "screendump", map[string]any{"filename": f}); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(f)
	if err != nil {
		return nil, err
	}
	return DecodePPM(data)
}

// DecodePPM decodes a binary PPM (P6, maxval 255), the format of QEMU's screendump.
func DecodePPM(data []byte) (*image.RGBA, error) {
	var fields []int
	i := 2
	if len(data) < 2 || string(data[:2]) != "P6" {
		return nil, errors.New("ppm: not a P6 file")
	}
	for len(fields) < 3 {
		for i < len(data) && (data[i] == ' ' || data[i] == '\n' || data[i] == '\r' || data[i] == '\t') {
			i++
		}
		if i < len(data) && data[i] == '#' {
			for i < len(data) && data[i] != '\n' {
				i++
			}
			continue
		}
		j := i
		for j < len(data) && data[j] >= '0' && data[j] <= '9' {
			j++
		}
		if j == i {
			return nil, errors.New("ppm: bad header")
		}
		n, err := strconv.Atoi(string(data[i:j]))
		if err != nil {
			return nil, fmt.Errorf("ppm: %w", err)
		}
		fields = append(fields, n)
		i = j
	}
	w, h, maxval := fields[0], fields[1], fields[2]
	i++ // the single white-space byte after maxval
	if maxval != 255 || w <= 0 || h <= 0 || w > 1<<14 || h > 1<<14 || len(data)-i < w*h*3 {
		return nil, fmt.Errorf("ppm: unsupported %dx%d maxval %d (%d bytes of pixels)", w, h, maxval, len(data)-i)
	}
	im := image.NewRGBA(image.Rect(0, 0, w, h))
	px := data[i:]
	for k, o := 0, 0; k < w*h; k++ {
		im.Pix[o], im.Pix[o+1], im.Pix[o+2], im.Pix[o+3] = px[3*k], px[3*k+1], px[3*k+2], 255
		o += 4
	}
	return im, nil
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
func (m *Machine) Screendump(ctx context.Context) (image.Image, error) {
	if m.vnc != nil {
		im, err := m.vnc.Screendump(ctx)
		return im, vncErr(err)
	}
	if m.qmp == nil {
		return nil, errors.New("qemu: not powered on")
	}
	return m.qmp.Screendump(ctx, m.env.Dir)
}

// SendKeys implements hosts.Screen.
func (m *Machine) SendKeys(ctx context.Context, chords []string) error {
	if m.vnc != nil {
		return vncErr(m.vnc.SendKeys(ctx, chords))
	}
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
