package boot

import (
	"context"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// pauseMachine is a machine whose guest the test pauses (as Cloud Hypervisor's vm.pause).
type pauseMachine struct {
	paused atomic.Bool
	exited chan struct{}
}

func (m *pauseMachine) PowerOn(context.Context) (io.ReadWriteCloser, error) { return nil, nil }
func (m *pauseMachine) Exited() <-chan struct{}                             { return m.exited }
func (m *pauseMachine) ExitErr() error                                      { return nil }
func (m *pauseMachine) PowerOff(context.Context) error                      { return nil }
func (m *pauseMachine) TimeScale() float64                                  { return 1 }
func (m *pauseMachine) Facts() map[string]string                            { return nil }
func (m *pauseMachine) Paused() bool                                        { return m.paused.Load() }

// wrapped hides the machine as the job's clean-up wrapper does, and unwraps to it.
type wrapped struct{ hosts.Machine }

func (w wrapped) Unwrap() hosts.Machine { return w.Machine }

// pipeGuest is the other end of a console: what the test writes is the serial output.
func pipeGuest(t *testing.T) (*console.Console, net.Conn) {
	t.Helper()
	a, b := net.Pipe()
	con, err := console.Open(a, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close(); con.Close() })
	return con, b
}

func say(t *testing.T, w net.Conn, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if _, err := io.WriteString(w, l+"\n"); err != nil {
			t.Error(err)
		}
	}
}

type result struct {
	out Outcome
	at  time.Time
}

func runAsync(con *console.Console, m hosts.Machine, cfg Config) <-chan result {
	ch := make(chan result, 1)
	go func() {
		out := Run(context.Background(), con, m, cfg)
		ch <- result{out, time.Now()}
	}()
	return ch
}

func TestPausedGuestIsNotAHang(t *testing.T) {
	const silence = 300 * time.Millisecond
	for _, tc := range []struct {
		name string
		wrap bool
	}{{"machine", false}, {"wrapped machine", true}} {
		t.Run(tc.name, func(t *testing.T) {
			con, w := pipeGuest(t)
			pm := &pauseMachine{exited: make(chan struct{})}
			var m hosts.Machine = pm
			if tc.wrap {
				m = wrapped{pm}
			}
			// The deadline is shorter than the pause too: it must move with it.
			done := runAsync(con, m, Config{Profile: profile.Standin, Silence: silence, Deadline: 1500 * time.Millisecond})
			say(t, w, "Linux version 6.1.0 (stand-in)", "FX: init started")
			pm.paused.Store(true)
			select {
			case r := <-done:
				t.Fatalf("decided while paused: %s (%s)", r.out.Verdict, r.out.Reason)
			case <-time.After(2 * time.Second): // > 6 silence windows and past the deadline
			}
			pm.paused.Store(false)
			resumed := time.Now()
			time.Sleep(silence / 2) // silent after the resume, but not for a whole window
			say(t, w, "FX: stage modules", "FX: boot complete")
			r := <-done
			if r.out.Verdict != record.Pass {
				t.Fatalf("verdict %s (%s), want PASS; decided %s after the resume", r.out.Verdict, r.out.Reason, r.at.Sub(resumed))
			}
		})
	}
}

func TestSilenceAfterResumeIsAHang(t *testing.T) {
	const silence = 300 * time.Millisecond
	con, w := pipeGuest(t)
	pm := &pauseMachine{exited: make(chan struct{})}
	done := runAsync(con, pm, Config{Profile: profile.Standin, Silence: silence, Deadline: time.Minute})
	say(t, w, "Linux version 6.1.0 (stand-in)")
	pm.paused.Store(true)
	time.Sleep(1 * time.Second)
	pm.paused.Store(false)
	resumed := time.Now()
	r := <-done
	if r.out.Verdict != record.Hang {
		t.Fatalf("verdict %s (%s), want HANG", r.out.Verdict, r.out.Reason)
	}
	// The window counts from the resume (the pause is not silence), give or take the
	// 250ms at which pauses are noticed.
	if d := r.at.Sub(resumed); d < silence-50*time.Millisecond || d > silence+time.Second {
		t.Errorf("HANG decided %s after the resume, want about %s", d, silence)
	}
}

func TestSilenceWithoutPauseIsStillAHang(t *testing.T) {
	const silence = 300 * time.Millisecond
	con, w := pipeGuest(t)
	start := time.Now()
	done := runAsync(con, &pauseMachine{exited: make(chan struct{})}, Config{Profile: profile.Standin, Silence: silence, Deadline: time.Minute})
	say(t, w, "Linux version 6.1.0 (stand-in)")
	r := <-done
	if r.out.Verdict != record.Hang || r.at.Sub(start) > silence+time.Second {
		t.Fatalf("verdict %s (%s) after %s, want HANG after about %s", r.out.Verdict, r.out.Reason, r.at.Sub(start), silence)
	}
}
