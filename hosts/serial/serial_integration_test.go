package serial_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/lock"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
	"github.com/redox-hwtest/redox-hwtest/hosts/internal/labproc"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

const labScale = labproc.Scale

func labMatrix(t *testing.T, l *lab, hostName, options string) (*matrix.Matrix, matrix.Job) {
	t.Helper()
	return labproc.StandinMatrix(t, l.fx, l.dir, hostName, "kind: power\n    options: "+options)
}

type bootResult struct {
	b       *job.Booted
	runDir  string
	onAt    time.Time
	closeAt time.Time
}

// bootLab runs one job and checks that the board (QEMU) is gone after Close.
func bootLab(t *testing.T, l *lab, m *matrix.Matrix, j matrix.Job, o job.Options) bootResult {
	t.Helper()
	r := bootResult{runDir: o.RunDir}
	if r.runDir == "" {
		r.runDir = t.TempDir()
		o.RunDir = r.runDir
	}
	if o.LockDir == "" {
		o.LockDir = t.TempDir()
	}
	on := o.OnPowerOn
	o.OnPowerOn = func(mach hosts.Machine) {
		r.onAt = time.Now()
		if on != nil {
			on(mach)
		}
	}
	r.b = job.Boot(context.Background(), m, j, o)
	if _, err := r.b.WriteRecord(r.runDir, r.b.BootChecks()); err != nil {
		t.Error(err)
	}
	r.b.Close()
	r.closeAt = time.Now()
	if pid := l.vmPID(); pid != 0 {
		t.Errorf("the board's QEMU (pid %d) still runs after Close", pid)
	}
	t.Logf("%s; power-on -> shell %v", r.b, r.b.Outcome.StageAt["shell"])
	return r
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The stand-in behind a socat pty pair reaches its shell through hosts/serial on the tty
// path, with power by command. The PDU "password" is printed by the power command and
// handed to the guest (which prints it), and must appear in no artifact.
func TestTTYPathBootsToShell(t *testing.T) {
	l := newLab(t)
	const pw = "pdu-pw-Xq83vL"
	t.Setenv("RHW_TEST_PDU_PASSWORD", pw)
	power := strings.Replace(l.powerYAML("fx.pdu=$RHW_PASSWORD"), "{on: \"", "{password_env: RHW_TEST_PDU_PASSWORD, on: \"echo pdu login with $RHW_PASSWORD; ", 1)
	m, j := labMatrix(t, l, "board-tty", fmt.Sprintf("{device: %s, baud: 115200, parity: none, flow: none, power: %s}}", l.labEnd, power))
	r := bootLab(t, l, m, j, job.Options{})
	b := r.b
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("want PASS, got %s: %s\n%s", b.Outcome.Verdict, b.Outcome.Reason, b.Excerpt(2000))
	}
	tr := readFile(t, filepath.Join(b.Dir, job.Transcript))
	for _, want := range []string{"Linux version", "FX: boot complete", "fx.pdu=[REDACTED]"} {
		if !strings.Contains(tr, want) {
			t.Errorf("transcript lacks %q", want)
		}
	}
	hl := readFile(t, filepath.Join(b.Dir, "host.log"))
	if !strings.Contains(hl, "pdu login with [REDACTED]") {
		t.Errorf("host.log: %s", hl)
	}
	if f := b.Machine.Facts(); !strings.HasPrefix(f["console"], "tty ") || f["power"] != "command (with status)" {
		t.Errorf("facts %v", f)
	}
	labproc.NoSecretIn(t, r.runDir, pw)
}

func ser2netOptions(l *lab, s *ser2net, extra string) string {
	return fmt.Sprintf("{address: \"127.0.0.1:%d\", %s reconnect: {min: 100ms, max: 500ms, give_up: 30s}, power: %s}}", s.raw, extra, l.powerYAML(""))
}

// The same behind ser2net, raw TCP.
func TestSer2netTCPBootsToShell(t *testing.T) {
	l := newLab(t)
	s := startSer2net(t, l)
	m, j := labMatrix(t, l, "board-net", ser2netOptions(l, s, ""))
	r := bootLab(t, l, m, j, job.Options{})
	if r.b.Outcome.Verdict != record.Pass {
		t.Fatalf("want PASS, got %s: %s\n%s", r.b.Outcome.Verdict, r.b.Outcome.Reason, r.b.Excerpt(2000))
	}
	if f := r.b.Machine.Facts(); f["console"] != fmt.Sprintf("raw 127.0.0.1:%d", s.raw) {
		t.Errorf("facts %v", f)
	}
}

// The same over ser2net's telnet port with RFC 2217: the server confirms the line settings.
func TestSer2netRFC2217BootsToShell(t *testing.T) {
	l := newLab(t)
	s := startSer2net(t, l)
	opts := fmt.Sprintf("{address: 127.0.0.1, port: %d, protocol: rfc2217, baud: 115200, data_bits: 8, parity: none, stop_bits: 1, power: %s}}", s.telnet, l.powerYAML(""))
	m, j := labMatrix(t, l, "board-rfc2217", opts)
	r := bootLab(t, l, m, j, job.Options{})
	if r.b.Outcome.Verdict != record.Pass {
		t.Fatalf("want PASS, got %s: %s\n%s", r.b.Outcome.Verdict, r.b.Outcome.Reason, r.b.Excerpt(2000))
	}
	hl := readFile(t, filepath.Join(r.b.Dir, "host.log"))
	if !strings.Contains(hl, "rfc2217: server set baud 115200") {
		t.Errorf("the server did not confirm the baud rate; host.log:\n%s", hl)
	}
}

// Killing and restarting ser2net mid-boot: the console reconnects, the gap is marked in the
// transcript (a visible line and a note in the times file) and the boot still passes,
// because the gap came before the stages that decide it.
func TestSer2netRestartMidBootReconnectsAndMarksTheGap(t *testing.T) {
	l := newLab(t)
	s := startSer2net(t, l)
	m, j := labMatrix(t, l, "board-gap", ser2netOptions(l, s, ""))
	var once sync.Once
	restarted := make(chan time.Duration, 1)
	r := bootLab(t, l, m, j, job.Options{OnProgress: func(stage, _ string) {
		if stage != "kernel" {
			return
		}
		once.Do(func() {
			go func() {
				t0 := time.Now()
				s.p.KillGroup()
				time.Sleep(1500 * time.Millisecond)
				s.start()
				restarted <- time.Since(t0)
			}()
		})
	}})
	down := <-restarted
	b := r.b
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("want PASS, got %s: %s\n%s", b.Outcome.Verdict, b.Outcome.Reason, b.Excerpt(3000))
	}
	tr := readFile(t, filepath.Join(b.Dir, job.Transcript))
	if !strings.Contains(tr, "### redox-hwtest: console lost at") || !strings.Contains(tr, "### redox-hwtest: console back after") {
		t.Fatalf("no gap markers in the transcript:\n%s", tr)
	}
	times := readFile(t, filepath.Join(b.Dir, job.Transcript+".times"))
	if !strings.Contains(times, "console back after") {
		t.Errorf("no gap note in the times file:\n%s", times)
	}
	for _, line := range transcriptLines(t, filepath.Join(b.Dir, job.Transcript)) {
		if strings.Contains(line, "### redox-hwtest") {
			t.Logf("ser2net down %v; %s", down.Round(time.Millisecond), strings.TrimSpace(line))
		}
	}
	if !strings.Contains(tr, "FX: boot complete") {
		t.Error("shell not reached after the reconnection")
	}
}

// A gap after the last stage seen hides whatever came next: the silence that follows is
// INFRA, not a HANG of the image.
func TestGapThatHidesTheDecidingStageIsInfra(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	l := newLab(t)
	s := startSer2net(t, l)
	m, j := labMatrix(t, l, "board-hidden", ser2netOptions(l, s, ""))
	var once sync.Once
	r := bootLab(t, l, m, j, job.Options{BootArgs: "fx.hang=nvme", OnProgress: func(stage, _ string) {
		if stage != "drivers" {
			return
		}
		once.Do(func() {
			go func() {
				s.p.KillGroup()
				time.Sleep(time.Second)
				s.start()
			}()
		})
	}})
	o := r.b.Outcome
	if o.Verdict != record.Infra || !strings.Contains(o.Reason, "console lost") || !strings.Contains(o.Reason, "no output for") {
		t.Fatalf("want INFRA naming the gap, got %s: %s", o.Verdict, o.Reason)
	}
	for _, c := range r.b.BootChecks() {
		if c.Verdict.CountsAgainstRedox() {
			t.Errorf("check %s blamed on the image: %s %s", c.Name, c.Verdict, c.Message)
		}
	}
}

// Two runs against the same host: the second waits for the host lock, then runs.
func TestTwoRunsOnOneHostTakeTurns(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	l := newLab(t)
	m, j := labMatrix(t, l, "board-shared", fmt.Sprintf("{device: %s, power: %s}}", l.labEnd, l.powerYAML("")))
	lockDir := t.TempDir()
	var wg sync.WaitGroup
	res := make([]bootResult, 2)
	for i := range res {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == 1 {
				time.Sleep(500 * time.Millisecond) // let the first take the lock
			}
			res[i] = bootLab(t, l, m, j, job.Options{LockDir: lockDir, RunDir: t.TempDir()})
		}()
	}
	wg.Wait()
	for i, r := range res {
		if r.b.Outcome.Verdict != record.Pass {
			t.Errorf("run %d: %s: %s", i, r.b.Outcome.Verdict, r.b.Outcome.Reason)
		}
	}
	if !res[1].onAt.After(res[0].closeAt) {
		t.Fatalf("second run powered on at %v, before the first finished at %v", res[1].onAt, res[0].closeAt)
	}
	hl := readFile(t, filepath.Join(res[1].b.Dir, "host.log"))
	if !strings.Contains(hl, "lock: waiting up to") || !strings.Contains(hl, "job standin@board-shared/boot") {
		t.Errorf("second run's host.log does not name the holder:\n%s", hl)
	}
	t.Logf("second run waited %v for the lock", res[1].onAt.Sub(res[0].onAt).Round(time.Millisecond))
}

// A host that stays busy past the lock wait is INFRA naming the holder; the machine is
// never touched.
func TestBusyHostIsInfraNamingTheHolder(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "img"), nil, 0o644)
	m, err := matrix.Parse("busy.yaml", []byte(`
images: [{name: standin, arch: x86_64, profile: standin, path: img}]
hosts: [{name: board-busy, kind: power, arch: x86_64, options: {device: /nonexistent/tty, power: {on: "touch `+dir+`/powered", off: "true"}}}]
`), dir)
	if err != nil {
		t.Fatal(err)
	}
	lockDir := t.TempDir()
	// The board's console is what is locked (whatever the host is called).
	held, err := lock.Acquire(context.Background(), "tty:/nonexistent/tty", lock.Options{Dir: lockDir, Job: "nightly@board-busy/boot"})
	if err != nil {
		t.Fatal(err)
	}
	defer held.Release()
	b := job.Boot(context.Background(), m, m.Jobs(matrix.Filter{})[0], job.Options{RunDir: t.TempDir(), LockDir: lockDir, LockWait: 700 * time.Millisecond})
	b.Close()
	o := b.Outcome
	if o.Verdict != record.Infra || !strings.Contains(o.Reason, "host board-busy: tty:/nonexistent/tty is locked by pid") || !strings.Contains(o.Reason, "job nightly@board-busy/boot") {
		t.Fatalf("%s: %s", o.Verdict, o.Reason)
	}
	if _, err := os.Stat(filepath.Join(dir, "powered")); err == nil {
		t.Fatal("the machine was powered on without its lock")
	}
}
