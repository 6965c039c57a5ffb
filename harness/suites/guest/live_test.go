package guest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/guest"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

type exitCoder interface{ ExitCode() (int, bool) }

// Commands from the matrix compared with expected files; the FUNC_TEST protocol printed by
// a command in the guest; and a redoxer exit through isa-debug-exit at QEMU's default port
// 0x501: the stand-in's fx-exit writes what redoxerd writes (base
// drivers/redoxerd/src/sys.rs at 9dd6901d: on success 0x2000 to port 0x604, then 0x19 to
// 0x501; on failure 0x1a to 0x501) through /dev/port.
func TestLiveCommandsProtocolAndExitStatus(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	for _, tc := range []struct {
		name   string
		status int
		v      record.Verdict
	}{{"success", 51, record.Pass}, {"failure", 53, record.Fail}} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.WriteFile(filepath.Join(dir, "uname.out"), []byte("Linux\n"), 0o644)
			os.WriteFile(filepath.Join(dir, "wrong.out"), []byte("Redox\n"), 0o644)
			m, j := standin.Job(t, standin.Spec{Image: standin.X86BIOS, Suite: "guest", Features: []string{"redoxer-exit"},
				Commands: []matrix.GuestCommand{
					{Name: "uname", Run: "uname -s", Expect: filepath.Join(dir, "uname.out")},
					{Name: "uname-wrong", Run: "uname -s", Expect: filepath.Join(dir, "wrong.out")},
					{Name: "func-tests", Run: `printf 'FUNC_TESTS_START\nFUNC_TEST:arith:PASS\nFUNC_TEST:fs-write:FAIL:exit=1: disk full\nFUNC_TEST:net:SKIP\nFUNC_TESTS_COMPLETE\n'`},
					{Name: "exit", Run: "fx-exit " + tc.name},
					{Name: "after-exit", Run: "true"},
				}})
			var mach hosts.Machine
			b := standin.Boot(t, m, j, job.Options{OnPowerOn: func(mm hosts.Machine) { mach = mm }})
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			rep := guest.Run(ctx, j, b, guest.Options{ExitCode: mach.(exitCoder).ExitCode})
			cs := map[string]record.Check{}
			for _, c := range rep.Checks {
				cs[c.Name] = c
				t.Logf("%-22s %-5s %s", c.Name, c.Verdict, c.Message)
			}
			for name, v := range map[string]record.Verdict{
				"guest/uname": record.Pass, "guest/uname-wrong": record.Fail, "guest/func-tests": record.Pass,
				"guest/exit": record.Pass, "guest/after-exit": record.Skip,
				"guest/func": record.Fail, "guest/func/arith": record.Pass, "guest/func/fs-write": record.Fail, "guest/func/net": record.Skip,
				"guest/exit-status": tc.v,
			} {
				if c, ok := cs[name]; !ok || c.Verdict != v {
					t.Errorf("%s = %s, want %s", name, c.Verdict, v)
				}
			}
			if c := cs["guest/func/fs-write"]; !strings.Contains(c.Message, "exit=1: disk full") {
				t.Errorf("fs-write reason: %s", c.Message)
			}
			if !rep.Exited || rep.ExitCode != tc.status {
				t.Errorf("exit status %d (exited %v), want %d", rep.ExitCode, rep.Exited, tc.status)
			}
		})
	}
}

// The aarch64 redoxer exit: QEMU gets -semihosting-config enable=on,target=native,userspace=on
// (redox mk/qemu.mk at 81bc5bf, redoxer src/exec.rs at ad2c079) and the stand-in's fx-exit
// makes the semihosting SYS_EXIT call redoxerd makes through qemu_exit::AArch64 (a static
// binary from fixtures/semihost-exit.S, running in user space as redoxerd does): QEMU
// exits with the status itself, 51.
func TestLiveExitStatusAArch64Semihosting(t *testing.T) {
	m, j := standin.Job(t, standin.Spec{Image: standin.A64UEFI, Suite: "guest", Features: []string{"redoxer-exit"},
		Commands: []matrix.GuestCommand{{Name: "exit", Run: "fx-exit success"}}})
	var mach hosts.Machine
	b := standin.Boot(t, m, j, job.Options{OnPowerOn: func(mm hosts.Machine) { mach = mm }})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rep := guest.Run(ctx, j, b, guest.Options{ExitCode: mach.(exitCoder).ExitCode})
	for _, c := range rep.Checks {
		t.Logf("%-22s %-5s %s", c.Name, c.Verdict, c.Message)
		if c.Name == guest.CheckExitStatus && (c.Verdict != record.Pass || !strings.Contains(c.Message, "semihosting")) {
			t.Errorf("%s = %s (%s), want PASS through semihosting", c.Name, c.Verdict, c.Message)
		}
	}
	if !rep.Exited || rep.ExitCode != 51 {
		t.Errorf("exit status %d (exited %v), want 51", rep.ExitCode, rep.Exited)
	}
}
