package imagecache

import (
	"fmt"
	"io"
	"time"
)

// progress shows a download: on a terminal one line redrawn in place (bytes, rate, ETA) at
// most 5 times a second; otherwise (CI logs) a plain line every 5 seconds.
type progress struct {
	w      io.Writer
	tty    bool
	name   string
	start  time.Time
	last   time.Time
	offset int64 // bytes that were there before this transfer (resumed), for the rate
	begun  bool
}

func newProgress(w io.Writer, tty bool, name string) *progress {
	return &progress{w: w, tty: tty, name: name, start: time.Now()}
}

func (p *progress) update(done, total int64) {
	if p.w == nil {
		return
	}
	now := time.Now()
	if !p.begun {
		p.begun, p.offset, p.start, p.last = true, done, now, now
		if !p.tty {
			fmt.Fprintf(p.w, "%s: downloading %s\n", p.name, sizeOf(total))
		}
		return
	}
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	line := p.line(done, total, now)
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[2K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

func (p *progress) line(done, total int64, now time.Time) string {
	el := now.Sub(p.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(done-p.offset) / el
	}
	s := fmt.Sprintf("%s: %s", p.name, mib(done))
	if total > 0 {
		s += fmt.Sprintf(" of %s (%d%%)", mib(total), done*100/total)
	}
	s += fmt.Sprintf(", %.1f MiB/s", rate/(1<<20))
	if total > 0 && rate > 0 {
		s += fmt.Sprintf(", ETA %s", time.Duration(float64(total-done)/rate*float64(time.Second)).Round(time.Second))
	}
	return s
}

func (p *progress) finish(done int64) {
	if p.w == nil || !p.begun {
		return
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[2K")
	}
	fmt.Fprintf(p.w, "%s: %s in %s\n", p.name, mib(done-p.offset), time.Since(p.start).Round(time.Millisecond))
}

func sizeOf(total int64) string {
	if total < 0 {
		return "(size unknown)"
	}
	return mib(total)
}
