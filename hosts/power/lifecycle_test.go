package power

import (
	"context"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// lifecycleWith is a real-machine lifecycle whose power is shell commands over a state file
// (a relay script; a test sets the status command) and whose console is an in-memory pipe.
func lifecycleWith(t *testing.T) (*Lifecycle, string) {
	t.Helper()
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	pc, err := NewCommand(Options{On: "echo on > " + state, Off: "echo off > " + state,
		MinOff: matrix.Duration{Duration: time.Millisecond}, Settle: matrix.Duration{Duration: time.Second}}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	l := NewLifecycle(matrix.Host{Name: "board"}, matrix.Image{Name: "img"}, hosts.Env{Dir: dir})
	l.Power, l.Boot, l.Watch = pc, BootOptions{Boot: BootPreinstalled}, 50*time.Millisecond
	l.Console = func(context.Context) (io.ReadWriteCloser, error) {
		a, b := net.Pipe()
		t.Cleanup(func() { b.Close() })
		return a, nil
	}
	return l, state
}

// The one power-watch policy: a machine that goes off by itself ends the boot (not a lab
// failure: the console decides why)...
func TestWatchEndsTheBootWhenThePowerGoesOff(t *testing.T) {
	l, state := lifecycleWith(t)
	l.Power.(*Command).o.Status = "cat " + state
	if _, err := l.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer l.PowerOff(context.Background())
	os.WriteFile(state, []byte("off\n"), 0o644) // the board's own shutdown
	<-l.Exited()
	if err := l.ExitErr(); err == nil || hosts.IsInfra(err) || !strings.Contains(err.Error(), "went off by itself") {
		t.Fatalf("ExitErr = %v", err)
	}
}

// ...and a power controller that stops answering is INFRA after a few polls in a row.
func TestWatchGivesUpOnAFailingStatusAsInfra(t *testing.T) {
	l, state := lifecycleWith(t)
	flag := filepath.Join(filepath.Dir(state), "broken")
	l.Power.(*Command).o.Status = "test ! -e " + flag + " && cat " + state
	if _, err := l.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer l.PowerOff(context.Background())
	os.WriteFile(flag, nil, 0o644) // the PDU stops answering
	<-l.Exited()
	if err := l.ExitErr(); !hosts.IsInfra(err) || !strings.Contains(err.Error(), "3 times in a row") {
		t.Fatalf("ExitErr = %v", err)
	}
}

// A failed power-off is returned (every time PowerOff is called), never dropped.
func TestPowerOffErrorIsReturned(t *testing.T) {
	l, _ := lifecycleWith(t)
	if _, err := l.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	l.Power.(*Command).o.Off = "echo 'relay: no answer' >&2; exit 1"
	for range 2 {
		if err := l.PowerOff(context.Background()); err == nil || !strings.Contains(err.Error(), "relay: no answer") {
			t.Fatalf("PowerOff = %v", err)
		}
	}
}
