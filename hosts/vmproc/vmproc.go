// Package vmproc holds what every VMM host kind does with its process: wait for a socket
// the VMM creates (giving up when the VMM dies), stop its process group with a ladder of
// signals, and keep the tail of its stderr for the INFRA message. QEMU and Cloud Hypervisor
// share it, so both treat a dead VMM the same way.
package vmproc

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"time"
)

// DialUnix connects to a unix socket the VMM creates, retrying until timeout; it gives up at
// once when exited closes (the VMM died), returning exitErr().
func DialUnix(ctx context.Context, path string, timeout time.Duration, exited <-chan struct{}, exitErr func() error) (net.Conn, error) {
	deadline, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		var d net.Dialer
		conn, err := d.DialContext(deadline, "unix", path)
		if err == nil {
			return conn, nil
		}
		select {
		case <-exited:
			return nil, exitErr()
		case <-deadline.Done():
			return nil, fmt.Errorf("%s: %w (last error: %v)", path, deadline.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

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
