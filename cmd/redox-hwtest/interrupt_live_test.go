package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// childrenOf lists the processes whose parent is pid (from /proc).
func childrenOf(pid int) []int {
	var out []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so split after the last ')'.
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[1] == strconv.Itoa(pid) {
			out = append(out, p)
		}
	}
	return out
}

// SIGINT while stand-in VMs run: the run stops, its VMs are gone when it exits, the jobs
// that finished or were running keep their records, the jobs that never started are
// recorded as not run (record, JUnit skipped, table), run.json says interrupted, and the
// exit status is 4.
func TestLiveInterruptMidRun(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	fx := fixtures.Require(t)
	dir := t.TempDir()
	var b strings.Builder
	b.WriteString("settings: {silence: 6s, boot_timeout: 60s}\nimages:\n")
	for _, im := range []string{"img-a", "img-b", "img-c"} {
		fmt.Fprintf(&b, "  - {name: %s, arch: x86_64, firmware: bios, profile: standin, variant: standin, kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: console=ttyS0 panic=-1}\n", im, fx, fx)
	}
	b.WriteString("hosts:\n")
	for _, h := range []string{"vm-1", "vm-2"} {
		fmt.Fprintf(&b, "  - {name: %s, kind: qemu, arch: x86_64, firmware: bios, machine: pc, accel: tcg, memory: 512M, time_scale: 15}\n", h)
	}
	b.WriteString("suites:\n  - {name: boot}\n")
	mpath := filepath.Join(dir, "m.yaml")
	if err := os.WriteFile(mpath, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	run := startCLI(t, "run", "-matrix", mpath, "-out", runDir, "-j", "2")
	cmd, sc, stderr := run.cmd, run.lines, run.stderr
	var lines []string
	stages := 0
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), ": stage kernel") {
			stages++
		}
		if stages == 2 { // both VMs are booting
			break
		}
	}
	if stages < 2 {
		cmd.Wait()
		t.Fatalf("the run ended before two VMs booted:\n%s\n%s", strings.Join(lines, "\n"), stderr.String())
	}
	vms := childrenOf(cmd.Process.Pid)
	if len(vms) < 2 {
		t.Fatalf("%d child processes, want the 2 VMs: %v", len(vms), vms)
	}
	sent := time.Now()
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	rest := make(chan []string)
	go func() {
		var more []string
		for sc.Scan() {
			more = append(more, sc.Text())
		}
		rest <- more
	}()
	lines = append(lines, <-rest...)
	err := cmd.Wait()
	took := time.Since(sent)
	t.Logf("SIGINT to exit: %s (VMs %v)", took.Round(time.Millisecond), vms)
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	}
	if code != 4 {
		t.Errorf("exit status %d, want 4 (interrupted); stderr:\n%s", code, stderr.String())
	}
	for _, p := range vms {
		if err := syscall.Kill(p, 0); err == nil {
			t.Errorf("VM process %d still exists after the run exited", p)
		}
	}
	var info record.RunInfo
	data, err := os.ReadFile(filepath.Join(runDir, "run.json"))
	if err != nil || json.Unmarshal(data, &info) != nil || !info.Interrupted {
		t.Errorf("run.json not marked interrupted: %s (%v)", data, err)
	}
	recs, err := record.ReadRun(runDir)
	if err != nil {
		t.Fatal(err)
	}
	notRun := 0
	for _, r := range recs {
		if r.NotRun != "" {
			notRun++
		}
	}
	started := 0
	for _, l := range lines {
		if strings.HasSuffix(l, ": started") {
			started++
		}
	}
	if len(recs) != 6 || notRun != 6-started || notRun == 0 {
		t.Errorf("%d records (%d not run, %d started), want 6 with every job that never started not run", len(recs), notRun, started)
	}
	junit, _ := os.ReadFile(filepath.Join(runDir, "junit.xml"))
	if strings.Count(string(junit), `name="not-run"`) != notRun || !strings.Contains(string(junit), "<skipped") {
		t.Errorf("junit.xml does not list the not-run jobs as skipped:\n%s", junit)
	}
	table, _ := os.ReadFile(filepath.Join(runDir, "results.md"))
	if !strings.Contains(string(table), "not run") {
		t.Errorf("results.md does not show the not-run jobs:\n%s", table)
	}
}
