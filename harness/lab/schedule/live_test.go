package schedule

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/network"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// standinMatrix is a matrix of the x86_64 BIOS stand-in (the fastest boot) on the given
// QEMU hosts, as several images (the same kernel under different names), with suites.
func standinMatrix(t testing.TB, images []string, hosts []string, suites ...string) *matrix.Matrix {
	t.Helper()
	fx := fixtures.Require(t)
	var b strings.Builder
	b.WriteString("settings: {silence: 6s, boot_timeout: 60s}\nimages:\n")
	for _, im := range images {
		fmt.Fprintf(&b, "  - {name: %s, arch: x86_64, firmware: bios, profile: standin, variant: standin, kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: %s}\n", im, fx, fx, standin.KernelCmdline)
	}
	b.WriteString("hosts:\n")
	for _, h := range hosts {
		// time_scale 15 (as harness/internal/standin) and a 6 s silence window: two TCG guests
		// at once on a shared two-core machine can take over 30 s to print their first line.
		fmt.Fprintf(&b, "  - {name: %s, kind: qemu, arch: x86_64, firmware: bios, machine: pc, accel: tcg, memory: 512M, time_scale: 15, devices: [e1000]}\n", h)
	}
	b.WriteString("suites:\n")
	for _, s := range suites {
		fmt.Fprintf(&b, "  - {name: %s}\n", s)
	}
	m, err := matrix.Parse("schedule-test.yaml", []byte(b.String()), t.TempDir())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return m
}

func overlap(a, b *record.Record) bool {
	return a.Started.Before(b.Finished) && b.Started.Before(a.Finished)
}

// Two stand-in hosts run at once (their records overlap in time), one host never runs two
// jobs at once, and every image x host pair boots once for all its suites.
func TestLiveConcurrentHostsOneJobPerHost(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	m := standinMatrix(t, []string{"img-a", "img-b"}, []string{"vm-1", "vm-2"}, "boot", "drivers")
	jobs := m.Jobs(matrix.Filter{})
	if len(jobs) != 8 {
		t.Fatalf("%d jobs, want 8", len(jobs))
	}
	units := Plan(jobs, nil)
	if len(units) != 4 {
		t.Fatalf("%d units, want 4 (one per image x host)", len(units))
	}
	var mu sync.Mutex
	running := map[string]int{}
	var violations []string
	dir := t.TempDir()
	res := Run(context.Background(), Config{Matrix: m, VMs: 2, Options: job.Options{RunDir: dir},
		Events: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case Started:
				if e.Job.Suite.Name == "boot" { // first suite of a unit: the unit takes the host
					running[e.Job.Host.Name]++
					if running[e.Job.Host.Name] > 1 {
						violations = append(violations, e.Job.ID()+" started while its host was busy")
					}
				}
			case Finished:
				if e.Job.Suite.Name == "drivers" {
					running[e.Job.Host.Name]--
				}
			}
		}}, units)
	if len(violations) > 0 {
		t.Fatal(violations)
	}
	recs := map[string]*record.Record{}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Job.ID(), r.Err)
		}
		recs[r.Job.ID()] = r.Rec
		t.Logf("%s: %s .. %s boot %+v", r.Job.ID(), r.Rec.Started.Format("15:04:05.000"), r.Rec.Finished.Format("15:04:05.000"), *r.Rec.Boot)
	}
	boots := map[string]bool{}
	for id, r := range recs {
		for _, c := range r.Checks {
			if c.Verdict.Failed() {
				t.Errorf("%s: %s %s: %s", id, c.Name, c.Verdict, c.Message)
			}
		}
		boots[r.Boot.ID] = true
	}
	if len(boots) != 4 {
		t.Errorf("%d boots, want 4 (one per image x host): %v", len(boots), boots)
	}
	// Same host: the units follow each other.
	for _, h := range []string{"vm-1", "vm-2"} {
		a, b := unitSpan(recs, "img-a@"+h), unitSpan(recs, "img-b@"+h)
		if overlap(a, b) {
			t.Errorf("host %s ran two units at once: %v..%v and %v..%v", h, a.Started, a.Finished, b.Started, b.Finished)
		}
	}
	// Different hosts: at the same time.
	concurrent := false
	for _, im := range []string{"img-a", "img-b"} {
		for _, im2 := range []string{"img-a", "img-b"} {
			if overlap(unitSpan(recs, im+"@vm-1"), unitSpan(recs, im2+"@vm-2")) {
				concurrent = true
			}
		}
	}
	if !concurrent {
		t.Error("no two hosts ever ran at the same time")
	}
}

// unitSpan is the time span of a pair's unit (its boot and drivers records).
func unitSpan(recs map[string]*record.Record, pair string) *record.Record {
	b, d := recs[pair+"/boot"], recs[pair+"/drivers"]
	if b == nil || d == nil {
		return &record.Record{}
	}
	return &record.Record{Started: b.Started, Finished: d.Finished}
}

// crashSuite is a test-only suite that crashes the guest for real: it types Linux's sysrq
// crash trigger into the stand-in's shell (the stand-in's own fx.crash does the same at
// boot), so the kernel panics and QEMU (-no-reboot) stops.
const crashSuite = "test-crash"

func init() {
	job.RegisterSuite(crashSuite, job.SuiteDef{Order: 15,
		Checks: func(*matrix.Matrix, matrix.Job) []string { return []string{crashSuite + "/trigger"} },
		Judge: func(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *job.Booted, o job.Options) (job.Judged, error) {
			s, err := session.Open(ctx, b)
			if err != nil {
				return job.Judged{Checks: []record.Check{{Name: crashSuite + "/shell", Verdict: record.Infra, Message: err.Error()}}}, nil
			}
			_, _, err = s.Run(ctx, "echo c > /proc/sysrq-trigger")
			return job.Judged{Checks: []record.Check{{Name: crashSuite + "/trigger", Verdict: record.Pass,
				Message: fmt.Sprintf("typed the crash trigger; the command did not answer: %v", err)}}}, nil
		}})
}

// A suite that crashes the guest makes the next suite boot afresh, with the reason recorded.
func TestLiveCrashedGuestGetsFreshBoot(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	m := standinMatrix(t, []string{"img"}, []string{"vm"}, "boot", "network")
	jobs := m.Jobs(matrix.Filter{})
	crash := jobs[0]
	crash.Suite = matrix.Suite{Name: crashSuite}
	jobs = append(jobs, crash)
	units := Plan(jobs, nil)
	if len(units) != 1 || len(units[0].Jobs) != 3 || units[0].Jobs[1].Suite.Name != crashSuite {
		t.Fatalf("plan: %+v", units)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	res := Run(ctx, Config{Matrix: m, VMs: 1, Options: job.Options{RunDir: t.TempDir()}}, units)
	recs := map[string]*record.Record{}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Job.ID(), r.Err)
		}
		recs[r.Job.Suite.Name] = r.Rec
		t.Logf("%s: boot %+v checks %+v", r.Job.ID(), *r.Rec.Boot, r.Rec.Checks)
	}
	b, c, n := recs["boot"], recs[crashSuite], recs["network"]
	if b.Boot.ID != c.Boot.ID {
		t.Errorf("the crash suite did not share the first boot: %s vs %s", b.Boot.ID, c.Boot.ID)
	}
	if n.Boot.ID == c.Boot.ID || !strings.HasSuffix(n.Boot.ID, "#2") {
		t.Errorf("network ran in boot %s, want a second boot", n.Boot.ID)
	}
	if !strings.Contains(n.Boot.Fresh, "guest unusable after "+crashSuite) {
		t.Errorf("fresh-boot reason %q does not name the crash suite", n.Boot.Fresh)
	}
	for _, ch := range n.Checks {
		if ch.Verdict != record.Pass {
			t.Errorf("network on the fresh boot: %+v", ch)
		}
	}
	if _, err := os.Stat(n.Boot.Dir); err == nil {
		t.Log("boot dir is relative to the run's jobs directory")
	}
}
