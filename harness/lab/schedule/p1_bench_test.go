package schedule

import (
	"context"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// BenchmarkBootToShellScheduled is P1 with the scheduler in the way: boot-to-shell of the
// x86_64 stand-in as `redox-hwtest run` now does it (harness/lab/schedule: plan, dispatch, the
// shared-boot unit, job.Boot) against the same QEMU command read by a bare reader (dial
// the serial socket, read until the marker), interleaved in one run. Reported besides the
// ratio: where the harness's extra time goes before the guest runs (power-on: plan, QEMU
// start, console attached) and after (shell seen by the bare reader's marker vs by the
// harness's stage machine).
func BenchmarkBootToShellScheduled(b *testing.B) {
	m := standinMatrix(b, []string{"standin"}, []string{"vm"}, "boot")
	j := m.Jobs(matrix.Filter{})[0]
	var harness, bare, harnessAttach, bareAttach time.Duration
	for b.Loop() {
		h, ha := bootScheduled(b, m)
		r, ra := standin.BareBoot(b, j)
		harness, bare, harnessAttach, bareAttach = harness+h, bare+r, harnessAttach+ha, bareAttach+ra
	}
	n := float64(b.N)
	b.ReportMetric(harness.Seconds()/n, "harness-s/boot")
	b.ReportMetric(bare.Seconds()/n, "bare-s/boot")
	b.ReportMetric(harnessAttach.Seconds()/n, "harness-attach-s")
	b.ReportMetric(bareAttach.Seconds()/n, "bare-attach-s")
	b.ReportMetric(float64(harness)/float64(bare), "ratio")
}

// bootScheduled runs the boot job through Run and returns the time from Run's start to
// the harness seeing the shell stage, and to the console being attached.
func bootScheduled(b *testing.B, m *matrix.Matrix) (toShell, toAttach time.Duration) {
	var shellAt, attachAt time.Time
	start := time.Now()
	opts := job.Options{RunDir: b.TempDir(), OnPowerOn: func(hosts.Machine) { attachAt = time.Now() }}
	res := Run(context.Background(), Config{Matrix: m, Options: opts, Events: func(e Event) {
		if e.Kind == Progress && e.Stage == "shell" && shellAt.IsZero() {
			shellAt = time.Now()
		}
	}}, Plan(m.Jobs(matrix.Filter{}), nil))
	if len(res) != 1 || res[0].Err != nil || shellAt.IsZero() {
		b.Fatalf("scheduled boot did not reach the shell: %+v", res)
	}
	return shellAt.Sub(start), attachAt.Sub(start)
}
