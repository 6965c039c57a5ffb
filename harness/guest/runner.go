package guest

import (
	"context"

	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func init() {
	job.RegisterSuite("guest", job.SuiteDef{Run: RunJob, Checks: CheckNames})
	// Last among the suites sharing a boot: a self-testing image may end the VM
	// (isa-debug-exit).
	job.RegisterShared("guest", job.SharedSuite{Order: 30, Judge: judge})
}

// judge is the guest suite in a boot shared with the other suites of the image x host
// (harness/schedule).
func judge(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *job.Booted, o job.Options) (job.Judged, error) {
	var opts Options
	if ec, ok := hosts.As[exitCoder](b.Machine); ok {
		opts.ExitCode = ec.ExitCode
	}
	return job.Judged{Checks: Run(ctx, b, opts).Checks}, nil
}

// CheckNames are the checks RunJob writes: one per command of the suite, guest/func (the
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

// RunJob is the guest suite's job, shared by suites/guest and `redox-hwtest run`: boot, run
// the matrix's command list, read the image's own test results, write the record.
func RunJob(ctx context.Context, m *matrix.Matrix, j matrix.Job, o job.Options) (*record.Record, error) {
	var mach hosts.Machine
	onPowerOn := o.OnPowerOn
	o.OnPowerOn = func(mm hosts.Machine) {
		mach = mm
		if onPowerOn != nil {
			onPowerOn(mm)
		}
	}
	b := job.Boot(ctx, m, j, o)
	defer b.Close()
	var opts Options
	if ec, ok := hosts.As[exitCoder](mach); ok {
		opts.ExitCode = ec.ExitCode
	}
	rep := Run(ctx, b, opts)
	b.Close() // the record lists the complete transcript
	return b.WriteRecord(o.RunDir, rep.Checks)
}
