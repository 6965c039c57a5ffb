package vmproc

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A VMM that dies by itself: the exit state names the status and its last stderr lines,
// and a wait for a socket it never made ends at once with that reason.
func TestExitStateNamesStatusAndStderr(t *testing.T) {
	var p Process
	if err := p.Start("fakevmm", []string{"/bin/sh", "-c", "echo 'could not open disk' >&2; exit 3"}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	_, err := p.DialUnix(context.Background(), filepath.Join(t.TempDir(), "never.sock"), time.Hour)
	if err == nil || err.Error() != "fakevmm exited: exit status 3: could not open disk" {
		t.Fatalf("DialUnix = %v", err)
	}
	if code, ok := p.ExitCode(); !ok || code != 3 {
		t.Fatalf("ExitCode = %d, %v", code, ok)
	}
	if err := p.Stop(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
}

// A VMM killed from outside: the reason is the signal; Stop of a running one reaps it.
func TestKilledAndStopped(t *testing.T) {
	var p Process
	if err := p.Start("fakevmm", []string{"/bin/sleep", "100"}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(-p.PGID(), syscall.SIGKILL)
	<-p.Exited()
	if err := p.ExitErr(); err == nil || !strings.Contains(err.Error(), "signal: killed") {
		t.Fatalf("ExitErr = %v", err)
	}
	if _, ok := p.ExitCode(); ok {
		t.Fatal("a killed process has no exit code")
	}

	var q Process
	if err := q.Start("fakevmm", []string{"/bin/sleep", "100"}, nil, nil, nil); err != nil {
		t.Fatal(err)
	}
	asked := false
	if err := q.Stop(context.Background(), func(context.Context) { asked = true; syscall.Kill(q.PGID(), syscall.SIGTERM) }); err != nil {
		t.Fatal(err)
	}
	if !asked {
		t.Fatal("the polite request was not made")
	}
	if err := syscall.Kill(-q.PGID(), 0); !errors.Is(err, syscall.ESRCH) {
		t.Fatalf("process group still there: %v", err)
	}
	var never Process
	if err := never.Stop(context.Background(), nil); err != nil || never.ExitErr() != nil {
		t.Fatal("a process never started stops without error and has no exit")
	}
}

// A VMM flooding its stderr fills the host log only up to LogLimit, then one line says so.
func TestHostLogCapped(t *testing.T) {
	var log bytes.Buffer
	h := &headWriter{w: &log, left: 100}
	for i := 0; i < 50; i++ {
		if n, err := h.Write([]byte("0123456789")); n != 10 || err != nil {
			t.Fatal(n, err)
		}
	}
	if !strings.HasPrefix(log.String(), strings.Repeat("0123456789", 10)+"\n[redox-hwtest: the VMM's output past") || log.Len() > 200 {
		t.Fatalf("log %q", log.String())
	}
}
