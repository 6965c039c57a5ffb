package imagecache

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// On a terminal the line is redrawn in place with bytes, rate and ETA; in CI the same facts
// come as plain lines.
func TestProgressLines(t *testing.T) {
	for _, tty := range []bool{true, false} {
		var b bytes.Buffer
		p := newProgress(&b, tty, "redox.img.zst")
		p.update(0, 100<<20)
		p.start = p.start.Add(-10 * time.Second) // as if 10 s had passed
		p.last = p.last.Add(-10 * time.Second)
		p.update(50<<20, 100<<20)
		p.finish(100 << 20)
		out := b.String()
		if !strings.Contains(out, "redox.img.zst: 50.0 MiB of 100.0 MiB (50%), ") || !strings.Contains(out, " MiB/s, ETA ") {
			t.Errorf("tty=%v: no progress line with bytes, rate and ETA:\n%q", tty, out)
		}
		if l := p.line(50<<20, 100<<20, p.start.Add(10*time.Second)); l != "redox.img.zst: 50.0 MiB of 100.0 MiB (50%), 5.0 MiB/s, ETA 10s" {
			t.Errorf("line %q", l)
		}
		if tty != strings.Contains(out, "\r\x1b[2K") {
			t.Errorf("tty=%v: redraw codes present = %v:\n%q", tty, !tty, out)
		}
		if !strings.Contains(out, "redox.img.zst: 100.0 MiB in ") {
			t.Errorf("tty=%v: no closing line:\n%q", tty, out)
		}
	}
}
