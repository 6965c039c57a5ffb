package guest_test

import (
	"context"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/guest"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// A QEMU that exits 1 before the guest ran (its UEFI firmware file is missing) is a lab
// fault: INFRA naming QEMU's own message, never the guest's isa-debug-exit status
// (1 is odd, so it once read as "the guest exited through isa-debug-exit": FAIL).
func TestLiveVMMStartFailureIsInfra(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "missing-OVMF_CODE.fd")
	m, j := standin.Job(t, standin.Spec{Image: standin.X86UEFI, Suite: "guest", Features: []string{"redoxer-exit"},
		Options: map[string]any{"firmware_code": missing}})
	run, err := job.Suite("guest") // the registered own-boot runner
	if err != nil {
		t.Fatal(err)
	}
	rec, err := run(context.Background(), m, j, job.Options{RunDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, c := range rec.Checks {
		t.Logf("%-20s %-5s %s", c.Name, c.Verdict, c.Message)
		if c.Verdict == record.Fail || c.Verdict == record.Hang || c.Verdict == record.Crash {
			t.Errorf("%s is %s: a VMM that never started is judged against the image", c.Name, c.Verdict)
		}
		if c.Name == guest.CheckExitStatus {
			found = true
			if c.Verdict != record.Infra || !strings.Contains(c.Message, "missing-OVMF_CODE.fd") {
				t.Errorf("exit-status %s %q: want INFRA with QEMU's message naming the file", c.Verdict, c.Message)
			}
		}
	}
	if !found {
		t.Error("no guest/exit-status check")
	}
}

// SIGINT while guest/exit-status waits for a self-testing image's exit (the stand-in
// reaches its shell and never exits): the wait ends at once, and the check is not a HANG.
func TestLiveInterruptedExitWaitIsNotHang(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	m, j := standin.Job(t, standin.Spec{Image: standin.X86BIOS, Suite: "guest", Features: []string{"redoxer-exit"}})
	var mach hosts.Machine
	b := standin.Boot(t, m, j, job.Options{OnPowerOn: func(mm hosts.Machine) { mach = mm }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The run's SIGINT handler cancels its context (cmd/redox-hwtest run): the same here,
	// from a real SIGINT to this process, once the wait has begun.
	sig := make(chan struct{})
	stopSig := notifyInterrupt(sig)
	defer stopSig()
	go func() {
		<-sig
		cancel()
	}()
	go func() {
		time.Sleep(2 * time.Second) // well inside the wait (Options.Wait, 60s scaled)
		syscall.Kill(syscall.Getpid(), syscall.SIGINT)
	}()
	rep := guest.Run(ctx, j, b, guest.Options{ExitCode: mach.(exitCoder).ExitCode})
	for _, c := range rep.Checks {
		t.Logf("%-20s %-5s %s", c.Name, c.Verdict, c.Message)
		if c.Name == guest.CheckExitStatus && (c.Verdict != record.Infra || !strings.Contains(c.Message, "interrupted")) {
			t.Errorf("exit-status after SIGINT: %s %q, want INFRA (interrupted)", c.Verdict, c.Message)
		}
	}
}
