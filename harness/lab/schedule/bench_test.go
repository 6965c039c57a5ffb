package schedule

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/guest"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// BenchmarkMakeRunVMs is P4b: the VM jobs of the default matrix (hw.yaml, kind:qemu: 5
// image x host pairs, 14 jobs) run as `redox-hwtest run` runs them now (harness/lab/schedule:
// one boot per pair, hosts at once) against the way it ran them before (one job after the
// other, every suite booting on its own), both measured in the same iteration; the serial
// run's durations are the scheduler's "last run" (longest first), as for a second
// `make run`. Reported:
// boots per run of each (goal: the scheduler boots once per pair) and wall time ratio
// (goal <= 0.45 on a 2-core machine).
func BenchmarkMakeRunVMs(b *testing.B) {
	fixtures.Require(b)
	root, err := matrix.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	m, err := matrix.Load(filepath.Join(root, "hw.yaml"))
	if err != nil {
		b.Fatal(err)
	}
	// variant:standin: the "FX:" stand-in's pairs only, as before hw.yaml also booted the
	// stand-in speaking Redox (variant redox-standin), so the measure stays comparable.
	f, _ := matrix.ParseFilter("kind:qemu,variant:standin")
	jobs := m.Jobs(f)
	for b.Loop() {
		// Before: one job after the other, each with its own boot.
		serialStart := time.Now()
		serialFailed := 0
		last := map[string]time.Duration{} // the serial run is the "previous run" of the scheduled one
		for _, j := range jobs {
			run, err := job.Suite(j.Suite.Name)
			if err != nil {
				b.Fatal(err)
			}
			rec, err := run(context.Background(), m, j, job.Options{RunDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			serialFailed += failedChecks(rec)
			last[j.ID()] = rec.Finished.Sub(rec.Started)
		}
		serial := time.Since(serialStart)

		start := time.Now()
		res := Run(context.Background(), Config{Matrix: m, Options: job.Options{RunDir: b.TempDir()}}, Plan(jobs, last))
		sched := time.Since(start)
		boots := map[string]bool{}
		failed := 0
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			boots[r.Rec.Boot.ID] = true
			failed += failedChecks(r.Rec)
			for _, c := range r.Rec.Checks {
				if c.Verdict.Failed() {
					b.Logf("scheduled: %s %s %s: %s", r.Job.ID(), c.Name, c.Verdict, c.Message)
				}
			}
		}
		// The comparison only holds when both ways judged the same (a quick HANG is no
		// speed-up): the failed checks of each are reported.
		b.ReportMetric(float64(serialFailed), "failed_checks_serial")
		b.ReportMetric(float64(failed), "failed_checks_scheduled")
		b.ReportMetric(float64(len(jobs)), "boots_before")
		b.ReportMetric(float64(len(boots)), "boots_now")
		b.ReportMetric(serial.Seconds(), "serial_s")
		b.ReportMetric(sched.Seconds(), "scheduled_s")
		b.ReportMetric(sched.Seconds()/serial.Seconds(), "scheduled/serial")
	}
}

func failedChecks(r *record.Record) int {
	n := 0
	for _, c := range r.Checks {
		if c.Verdict.Failed() {
			n++
		}
	}
	return n
}
