package schedule

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// labTranscript is a real Redox boot (../shared/redox-logs: QEMU x86_64, graphical image,
// reaches the shell): every simulated lab machine plays it through a real socket.
const labTranscript = "redoxos-nix-qemu-x86_64-graphical-boot.log"

// labMatrix is the simulated lab of issue 13: 20 machines (replay hosts, each playing the
// real transcript with a uniform line delay, since the public log has no timestamps: 95
// lines x lineDelay is the boot's length) and, when standins > 0, that many QEMU hosts
// booting the x86_64 BIOS stand-in. Suites: boot.
func labMatrix(t testing.TB, lineDelay time.Duration, standins int) *matrix.Matrix {
	t.Helper()
	logs := fixtures.SharedDir(t, "redox-logs")
	var b strings.Builder
	b.WriteString("settings: {silence: 6s, boot_timeout: 300s}\nimages:\n")
	fmt.Fprintf(&b, "  - {name: redox-recorded, arch: x86_64, variant: recorded, profile: redox, transcript: %s}\n", filepath.Join(logs, labTranscript))
	if standins > 0 {
		fx := fixtures.Require(t)
		fmt.Fprintf(&b, "  - {name: standin, arch: x86_64, firmware: bios, profile: standin, variant: standin, kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: console=ttyS0 panic=-1}\n", fx, fx)
	}
	b.WriteString("hosts:\n")
	for i := 1; i <= 20; i++ {
		fmt.Fprintf(&b, "  - {name: lab-%02d, kind: replay, arch: x86_64, time_scale: 1, options: {line_delay: %s}}\n", i, lineDelay)
	}
	for i := 1; i <= standins; i++ {
		fmt.Fprintf(&b, "  - {name: vm-%d, kind: qemu, arch: x86_64, firmware: bios, machine: pc, accel: tcg, memory: 512M, time_scale: 15}\n", i)
	}
	b.WriteString("suites:\n  - {name: boot}\n")
	m, err := matrix.Parse("lab.yaml", []byte(b.String()), t.TempDir())
	if err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	return m
}

// runLab runs the lab's jobs and returns the makespan, the longest single job, and the
// most jobs that ran at once.
func runLab(t testing.TB, m *matrix.Matrix, dir string) (makespan, longest time.Duration, peak int, recs []*record.Record) {
	jobs := m.Jobs(matrix.Filter{})
	var mu sync.Mutex
	now := 0
	start := time.Now()
	res := Run(context.Background(), Config{Matrix: m, Options: job.Options{RunDir: dir},
		Events: func(e Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case Started:
				now++
				peak = max(peak, now)
			case Finished:
				now--
			}
		}}, Plan(jobs, nil))
	makespan = time.Since(start)
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("%s: %v", r.Job.ID(), r.Err)
		}
		recs = append(recs, r.Rec)
		longest = max(longest, r.Rec.Finished.Sub(r.Rec.Started))
	}
	if len(recs) != len(jobs) {
		t.Fatalf("%d records for %d jobs", len(recs), len(jobs))
	}
	return makespan, longest, peak, recs
}

// The simulated lab, compressed (each machine's boot ~2 s): every machine works at once and
// each gets the verdicts of the transcript (login reached). No time is asserted.
func TestSimulatedLabEveryHostAtOnce(t *testing.T) {
	m := labMatrix(t, 20*time.Millisecond, 0)
	makespan, longest, peak, recs := runLab(t, m, t.TempDir())
	t.Logf("20 machines: makespan %s, longest job %s, %d at once", makespan.Round(time.Millisecond), longest.Round(time.Millisecond), peak)
	if peak != 20 {
		t.Errorf("at most %d machines worked at once, want all 20", peak)
	}
	for _, r := range recs {
		for _, c := range r.Checks {
			if c.Name == "boot/login" && c.Verdict != record.Pass {
				t.Errorf("%s: boot/login %s: %s", r.Job, c.Verdict, c.Message)
			}
		}
	}
}

// BenchmarkLab20 is P4a: the makespan of the simulated 20-machine lab (each machine plays a
// real Redox boot at lab scale, ~60 s: 95 lines x 630 ms) plus two QEMU stand-ins, against
// the longest single job of the same run. Goal: makespan / longest <= 1.15 (one job after
// the other it would be ~22). Run with -benchtime 1x: one iteration is a minute.
func BenchmarkLab20(b *testing.B) {
	m := labMatrix(b, 630*time.Millisecond, 2)
	for b.Loop() {
		makespan, longest, peak, _ := runLab(b, m, b.TempDir())
		b.ReportMetric(makespan.Seconds(), "makespan_s")
		b.ReportMetric(longest.Seconds(), "longest_s")
		b.ReportMetric(makespan.Seconds()/longest.Seconds(), "makespan/longest")
		b.ReportMetric(float64(peak), "peak_jobs")
	}
}
