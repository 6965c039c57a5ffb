package main

import (
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/internal/testfiles"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Bad files named by a matrix are bad input (exit 2, file:line:col), at once: a FIFO as a
// replay transcript's .times (its open once blocked the harness for good, deaf to
// SIGTERM), /dev/zero as a command's expected output (once an out-of-memory death), a
// sparse 2 GiB transcript (once INFRA), and a memory size no VMM accepts (once read as the
// guest's exit status: FAIL). Issue 24.
func TestBadNamedFilesAndSizesExit2(t *testing.T) {
	dir := t.TempDir()
	log := testfiles.Write(t, filepath.Join(dir, "boot.log"), "redox login: \n")
	testfiles.FIFO(t, log+".times")
	big := testfiles.Sparse(t, filepath.Join(dir, "big.log"), 2<<30)
	kernel := testfiles.Write(t, filepath.Join(dir, "vmlinuz"), "not booted")
	replay := func(path string) string {
		return "images:\n  - {name: i, arch: x86_64, profile: redox, transcript: " + path + "}\nhosts:\n  - {name: r, kind: replay, arch: x86_64}\nsuites:\n  - {name: boot}\n"
	}
	vm := func(memory, expect string) string {
		return "images:\n  - {name: i, arch: x86_64, kernel: " + kernel + "}\nhosts:\n  - {name: q, kind: qemu, arch: x86_64, memory: " + memory + "}\n" +
			"suites:\n  - name: guest\n    commands:\n      - {name: c, run: 'true', expect: " + expect + "}\n"
	}
	for _, c := range []struct{ name, y, want string }{
		{"times fifo", replay(log), "boot.log.times is a FIFO, not a regular file"},
		{"2 GiB transcript", replay(big), "is larger than the 1024 MiB limit for a replayed transcript"},
		{"expect /dev/zero", vm("512M", "/dev/zero"), "m.yaml:8:40: expect in command \"c\" of suite \"guest\": /dev/zero is a character device"},
		{"impossible memory", vm("99999999999999999999T", kernel), "m.yaml:4:49: memory in host \"q\" is \"99999999999999999999T\", over what a VMM accepts (below 2^64 bytes)"},
	} {
		t.Run(c.name, func(t *testing.T) {
			mpath := testfiles.Write(t, filepath.Join(dir, "m.yaml"), c.y)
			start := time.Now()
			_, stderr, code := cli(t, "run", "-matrix", mpath, "-out", filepath.Join(t.TempDir(), "run"))
			t.Logf("exit %d in %s: %s", code, time.Since(start).Round(time.Millisecond), strings.TrimSpace(stderr))
			if code != 2 || !strings.Contains(stderr, c.want) || !strings.Contains(stderr, "m.yaml:") {
				t.Errorf("exit %d, stderr %q; want exit 2 and %q", code, stderr, c.want)
			}
		})
	}
}

// A QEMU that exits 1 before booting (its UEFI firmware file is missing), on a host with
// the redoxer exit device: INFRA naming QEMU's message everywhere, exit 3, no FAIL.
func TestLiveMissingFirmwareIsInfraExit3(t *testing.T) {
	fx := fixtures.Require(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing-OVMF_CODE.fd")
	y := fmt.Sprintf(`settings: {silence: 6s, boot_timeout: 60s}
images:
  - {name: uefi, arch: x86_64, firmware: uefi, profile: standin, variant: standin, path: %s/disk-uefi-x86_64.img}
hosts:
  - {name: vm, kind: qemu, arch: x86_64, firmware: uefi, machine: q35, accel: tcg, memory: 512M, time_scale: 15,
     features: [redoxer-exit], options: {firmware_code: %s}}
suites:
  - {name: boot}
  - {name: guest}
`, fx, missing)
	mpath := testfiles.Write(t, filepath.Join(dir, "m.yaml"), y)
	runDir := filepath.Join(dir, "run")
	_, stderr, code := cli(t, "run", "-matrix", mpath, "-out", runDir)
	if code != 3 {
		t.Errorf("exit %d, want 3 (INFRA only); stderr %s", code, stderr)
	}
	recs, err := record.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	infra := 0
	for _, r := range recs {
		for _, c := range r.Checks {
			t.Logf("%-20s %-5s %s", c.Name, c.Verdict, c.Message)
			switch c.Verdict {
			case record.Fail, record.Hang, record.Crash:
				t.Errorf("%s is %s: a VMM that never started is judged against the image", c.Name, c.Verdict)
			case record.Infra:
				infra++
				if !strings.Contains(c.Message, "missing-OVMF_CODE.fd") && !strings.Contains(c.Message, "not run") {
					t.Errorf("%s INFRA without QEMU's message: %s", c.Name, c.Message)
				}
			}
		}
	}
	if infra == 0 {
		t.Error("no INFRA check")
	}
}

// SIGTERM while a job waits on a stalled console: the run ends with 4, promptly (the
// figure is logged; the bound is only the test's hang detector).
func TestSIGTERMDuringAStalledReplay(t *testing.T) {
	dir := t.TempDir()
	log := testfiles.Write(t, filepath.Join(dir, "boot.log"), "kernel::arch::x86_shared::start:INFO -- Redox OS starting...\nline two\nline three\nline four\nredox login: \n")
	y := "settings: {silence: 10m, boot_timeout: 20m}\nimages:\n  - {name: i, arch: x86_64, profile: redox, transcript: " + log + "}\n" +
		"hosts:\n  - {name: r, kind: replay, arch: x86_64, options: {stall_after_line: 2}}\nsuites:\n  - {name: boot}\n"
	mpath := testfiles.Write(t, filepath.Join(dir, "m.yaml"), y)
	run := startCLI(t, "run", "-matrix", mpath, "-out", filepath.Join(dir, "run"))
	cmd, out, sc, stderr := run.cmd, run.out, run.lines, run.stderr
	for sc.Scan() {
		if strings.Contains(sc.Text(), "kernel") { // the job is following the boot
			break
		}
	}
	sent := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	go io.Copy(io.Discard, out)
	var err error
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(2 * time.Minute): // the test's hang detector, not a measurement
		cmd.Process.Kill()
		t.Fatalf("still running 2 minutes after SIGTERM; stderr %s", stderr.String())
	}
	t.Logf("SIGTERM to exit: %s", time.Since(sent).Round(time.Millisecond))
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 4 {
		t.Errorf("exit %v, want 4; stderr %s", err, stderr.String())
	}
}

// The run's own counts are range-checked like the matrix's.
func TestRunCountsInRange(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-gate-reruns", "1000000"}, "-gate-reruns: want 0 to 10, got 1000000"},
		{[]string{"run", "-gate-reruns", "-1"}, "-gate-reruns: want 0 to 10, got -1"},
		{[]string{"run", "-j", "-3"}, "-j: want 0 (automatic) to 4096, got -3"},
	} {
		_, stderr, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, stderr %q", c.args, code, stderr)
		}
	}
}
