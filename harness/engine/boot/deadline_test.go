package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The lost deadline (issue 24): the timer fired a moment before deadlineAt, onDeadline
// returned, and nothing armed it again. Now a timer that fires early is armed for the rest.
func TestDeadlineTimerFiringEarlyIsArmedAgain(t *testing.T) {
	f := &follower{deadline: time.NewTimer(0), deadlineAt: time.Now().Add(50 * time.Millisecond)}
	<-f.deadline.C // fired before deadlineAt
	if o := f.onDeadline(); o != nil {
		t.Fatalf("decided before the deadline: %+v", o)
	}
	select {
	case <-f.deadline.C:
	case <-time.After(time.Minute): // a bound on the test, not a measurement
		t.Fatal("the deadline timer was not armed again after firing early")
	}
	if !f.pastDeadline() {
		t.Fatal("the re-armed timer fired before deadlineAt")
	}
}

// runBounded runs the follower in the background and fails the test (instead of hanging
// it) when the boot is not decided within a generous bound.
func runBounded(t *testing.T, cfg Config, flood func(i int) string) Outcome {
	t.Helper()
	g, con := guest(t)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\n" +
			"pcid-spawner: spawn \"/usr/lib/drivers/ihdad\"\n"))
		var b strings.Builder
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			b.Reset()
			for j := 0; j < 256; j++ {
				b.WriteString(flood(i*256 + j))
			}
			if _, err := g.Write([]byte(b.String())); err != nil {
				return
			}
		}
	}()
	done := make(chan Outcome, 1)
	go func() { done <- Run(context.Background(), con, nil, cfg) }()
	select {
	case o := <-done:
		t.Logf("%s: %s (%d lines)", o.Verdict, o.Reason, o.Lines)
		return o
	case <-time.After(5 * time.Minute): // a bound on the test: the bug this catches is "forever"
		t.Fatal("the boot was never decided: the deadline was lost")
	}
	return Outcome{}
}

// A guest printing different lines as fast as the console reads them keeps the loop busy
// on every turn; the deadline still ends the boot.
func TestFullSpeedFloodEndsAtTheDeadline(t *testing.T) {
	o := runBounded(t, Config{Profile: profile.Redox, Silence: time.Hour, Deadline: time.Second},
		func(i int) string { return fmt.Sprintf("flood line %d the quick brown fox\n", i) })
	if o.Verdict != record.Hang || !strings.Contains(o.Reason, "boot deadline 1s passed") {
		t.Fatalf("want HANG at the deadline, got %s: %s", o.Verdict, o.Reason)
	}
	if o.Lines < 1000 {
		t.Fatalf("only %d lines: the flood did not run", o.Lines)
	}
}

// A guest repeating the same lines is a livelock HANG naming the line and the component,
// long before the deadline.
func TestRepeatingGuestIsALivelock(t *testing.T) {
	for _, c := range []struct {
		name  string
		lines []string
	}{
		{"one line", []string{"2026-08-04T11-40-32.653Z looping on the same line"}},
		{"a cycle of three", []string{"step one", "step two", "step three"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			o := runBounded(t, Config{Profile: profile.Redox, Silence: time.Hour, Deadline: time.Hour, Livelock: 300 * time.Millisecond},
				func(i int) string { return c.lines[i%len(c.lines)] + "\n" })
			named := false
			for _, l := range c.lines {
				named = named || strings.Contains(o.Reason, l)
			}
			if o.Verdict != record.Hang || !strings.HasPrefix(o.Reason, "livelock: ") || !named ||
				!strings.Contains(o.Reason, "last component: ihdad") {
				t.Fatalf("want a livelock HANG naming the line and ihdad, got %s: %s", o.Verdict, o.Reason)
			}
		})
	}
}

// Lines that change (a progress count), and repeats shorter than the window, are no loop.
func TestLoopDetector(t *testing.T) {
	var d loopDetector
	t0 := time.Unix(0, 0)
	for i := 0; i < 1000; i++ {
		d.feed(fmt.Sprintf("live: %d/1000 MiB", i), t0.Add(time.Duration(i)*time.Second))
	}
	if s := d.livelock(t0.Add(2000*time.Second), time.Second); s != "" {
		t.Fatalf("progress lines read as a livelock: %s", s)
	}
	d = loopDetector{}
	for i := 0; i < 100; i++ {
		d.feed([]string{"a", "b", "a", "c"}[i%4], t0)
	}
	if lines, distinct := d.repeats(); distinct != 3 || lines != 96 {
		t.Fatalf("%d repeats of %d lines, want 96 of 3", lines, distinct)
	}
	if s := d.livelock(t0.Add(time.Millisecond), time.Second); s != "" {
		t.Fatalf("repeats shorter than the window read as a livelock: %s", s)
	}
	if s := d.livelock(t0.Add(2*time.Second), time.Second); !strings.Contains(s, `"a" x 48`) || !strings.Contains(s, "one of 3 lines repeating") {
		t.Fatalf("livelock message %q", s)
	}
	d.feed("something else", t0.Add(3*time.Second))
	if s := d.livelock(t0.Add(4*time.Second), time.Second); s != "" {
		t.Fatalf("a new line did not end the loop: %s", s)
	}
}

// SIGINT in the middle of the boot suite's longest wait (a silent guest, before the
// silence window): the boot is INFRA (cancelled), never HANG (issue 24).
func TestInterruptedBootIsNotAHang(t *testing.T) {
	g, con := guest(t)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\n"))
		if _, err := con.Expect(ctx, 0, "Redox OS starting"); err == nil {
			syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		}
	}()
	o := Run(ctx, con, nil, Config{Profile: profile.Redox, Silence: time.Hour, Deadline: time.Hour})
	if o.Verdict != record.Infra || !strings.Contains(o.Reason, "cancelled") {
		t.Fatalf("want INFRA (cancelled), got %s: %s", o.Verdict, o.Reason)
	}
}

// deadVMM is a VMM that exited with an error (embedding hosts.ExitState as host kinds do).
type deadVMM struct{ hosts.ExitState }

func (m *deadVMM) PowerOn(context.Context) (io.ReadWriteCloser, error) { return nil, nil }
func (m *deadVMM) PowerOff(context.Context) error                      { return nil }
func (m *deadVMM) TimeScale() float64                                  { return 1 }
func (m *deadVMM) Facts() map[string]string                            { return nil }

// A VMM that dies before the guest printed a byte is a start failure, named as such with
// the VMM's own message (issue 24).
func TestVMMDeadBeforeAnyOutputIsAStartFailure(t *testing.T) {
	g, con := guest(t)
	m := &deadVMM{}
	m.Exit(errors.New("qemu exited: exit status 1: qemu-system-x86_64: could not load PC BIOS 'x.fd'"))
	g.Close()
	o := Run(context.Background(), con, m, Config{Profile: profile.Redox, Silence: time.Hour, Deadline: time.Hour})
	if o.Verdict != record.Infra || !strings.Contains(o.Reason, "before the guest printed anything") || !strings.Contains(o.Reason, "could not load PC BIOS") {
		t.Fatalf("want INFRA naming a start failure and QEMU's message, got %s: %s", o.Verdict, o.Reason)
	}
}
