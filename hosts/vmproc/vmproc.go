// Package vmproc is the one lifecycle of a VMM process (Process): its job directory and
// scratch files, the start in its own process group, the waits for the sockets and APIs it
// brings up (giving up when it dies), the stop ladder of signals that always reaps it, and
// its exit state with the tail of its stderr for the INFRA message. QEMU and Cloud
// Hypervisor embed it, so both treat a dead VMM the same way and report its exit alike.
package vmproc

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"
)

// StopGroup waits for the process group's leader to exit (closing exited), first on its own
// (after a polite request the caller already made), then after SIGTERM, then after SIGKILL,
// and finally kills whatever else is left in the group: nothing a VMM started survives it.
// It only ever signals -pgid, the group the harness made for this VMM.
func StopGroup(pgid int, exited <-chan struct{}) {
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{0, 2 * time.Second}, {syscall.SIGTERM, 3 * time.Second}, {syscall.SIGKILL, 10 * time.Second}} {
		if step.sig != 0 {
			syscall.Kill(-pgid, step.sig)
		}
		select {
		case <-exited:
		case <-time.After(step.wait):
			continue
		}
		break
	}
	syscall.Kill(-pgid, syscall.SIGKILL)
}

// Tail keeps the last Max bytes written to it (a VMM's stderr).
type Tail struct {
	Max int
	mu  sync.Mutex
	buf []byte
}

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.Max {
		t.buf = t.buf[len(t.buf)-t.Max:]
	}
	return len(p), nil
}

func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(bytes.ToValidUTF8(t.buf, []byte("?")))
}

// LastLines joins the last n lines of s on one line, for an error message.
func LastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// LogLimit caps what a VMM's stdout and stderr put in the job's host log: a VMM that
// floods its stderr must not fill the disk (the last lines stay in Tail for the exit
// reason).
const LogLimit = 16 << 20

// headWriter passes the first left bytes to w, then writes one line saying the rest was
// dropped and discards it. It never fails the VMM's pipe: a write error is dropped too.
type headWriter struct {
	mu   sync.Mutex
	w    io.Writer
	left int64
	cut  bool
}

func (h *headWriter) Write(p []byte) (int, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case int64(len(p)) <= h.left:
		h.w.Write(p)
		h.left -= int64(len(p))
	case !h.cut:
		h.w.Write(p[:h.left])
		h.left, h.cut = 0, true
		fmt.Fprintf(h.w, "\n[redox-hwtest: the VMM's output past %d bytes is dropped from this log]\n", LogLimit)
	}
	return len(p), nil
}
