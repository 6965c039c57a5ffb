package guest

import (
	"context"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	// Last among the suites sharing a boot: a self-testing image may end the VM
	// (isa-debug-exit).
	job.RegisterSuite("guest", job.SuiteDef{Order: 30, Checks: CheckNames, Judge: judge})
}

// judge is the guest suite on a booted guest (its own boot, or one shared with the other
// suites of the image x host, harness/lab/schedule); the exit device is found on the booted
// machine (hosts.As), the same way on both.
func judge(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *job.Booted, o job.Options) (job.Judged, error) {
	var opts Options
	if ec, ok := hosts.As[exitCoder](b.Machine); ok {
		opts.ExitCode = ec.ExitCode
	}
	return job.Judged{Checks: Run(ctx, j, b, opts).Checks}, nil
}

// CheckNames are the checks the suite writes: one per command of the suite, guest/func (the
// FUNC_TEST protocol; each test a sub-check), and guest/exit-status on a host with the
// redoxer exit device.
func CheckNames(_ *matrix.Matrix, j matrix.Job) []string {
	var names []string
	for _, c := range j.Suite.Commands {
		names = append(names, CommandCheck(c.Name))
	}
	names = append(names, CheckFunc)
	if HasExitDevice(j.Host) {
		names = append(names, CheckExitStatus)
	}
	return names
}

// exitCoder is a machine that reports the guest's exit status (QEMU's isa-debug-exit).
type exitCoder interface{ ExitCode() (int, bool) }
