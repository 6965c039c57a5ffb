package guest

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/boot"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

type fakeMachine struct{ exited chan struct{} }

func (f *fakeMachine) PowerOn(context.Context) (io.ReadWriteCloser, error) { return nil, nil }
func (f *fakeMachine) Exited() <-chan struct{}                             { return f.exited }
func (f *fakeMachine) ExitErr() error                                      { return errors.New("qemu exited: exit status 51") }
func (f *fakeMachine) PowerOff(context.Context) error                      { return nil }
func (f *fakeMachine) TimeScale() float64                                  { return 1 }
func (f *fakeMachine) Facts() map[string]string                            { return nil }

// A redoxer-style image tests itself at boot and exits QEMU: the boot never reaches login
// (the stage machine calls the VM's exit INFRA), the protocol is in the boot log, the rest
// arrives after the boot was judged, and the exit status decides guest/exit-status.
func TestSelfTestingImage(t *testing.T) {
	a, g := net.Pipe()
	con, err := console.Open(a, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	m := &fakeMachine{exited: make(chan struct{})}
	go func() {
		g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\r\nFUNC_TESTS_START\r\nFUNC_TEST:shell:PASS\r\n"))
		time.Sleep(200 * time.Millisecond)
		g.Write([]byte("FUNC_TEST:fs:FAIL:no /tmp\r\nFUNC_TESTS_COMPLETE\r\n"))
		time.Sleep(100 * time.Millisecond)
		close(m.exited)
		g.Close()
	}()
	// The boot was judged after the first lines.
	if _, err := con.Expect(context.Background(), 0, "FUNC_TEST:shell:PASS\n"); err != nil {
		t.Fatal(err)
	}
	b := &job.Booted{
		Job:     matrix.Job{Host: matrix.Host{Name: "h", Features: []string{"isa-debug-exit"}}, Image: matrix.Image{Name: "i"}, Suite: matrix.Suite{Name: "guest"}},
		Profile: profile.Redox, Console: con, Machine: m,
		Outcome: boot.Outcome{Verdict: record.Infra, Reason: "VM exited: qemu exited: exit status 51"},
	}
	rep := Run(context.Background(), b.Job, b, Options{Wait: 10 * time.Second, ExitCode: func() (int, bool) { return 53, true }})
	got := map[string]record.Verdict{}
	for _, c := range rep.Checks {
		got[c.Name] = c.Verdict
		t.Logf("%s %s %s", c.Name, c.Verdict, c.Message)
	}
	want := map[string]record.Verdict{"guest/func": record.Fail, "guest/func/shell": record.Pass, "guest/func/fs": record.Fail, "guest/exit-status": record.Fail}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want) || !strings.Contains(rep.Checks[0].Message, "1 passed, 1 failed") {
		t.Errorf("checks %v", got)
	}
}
