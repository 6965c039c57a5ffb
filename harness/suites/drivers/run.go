package drivers

import (
	"context"
	"fmt"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Report is the drivers suite's result for one job.
type Report struct {
	Checks []record.Check
	// Session is the shell the tries ran in (nil when none was needed or possible);
	// SessionErr says why there is none.
	Session    *session.Session
	SessionErr error
	Input      Input
}

// Run judges the given devices on a booted job: it reads the boot log, logs in when the
// boot reached the shell and some device has a try, tries each device, and applies the
// host's xfail entries. Call it before anything else types on the console.
func Run(ctx context.Context, b *job.Booted, devices []string) Report {
	in := Input{Profile: b.Profile, Host: b.Job.Host, Outcome: b.Outcome,
		Evidence: map[string]Evidence{}, Work: map[string]WorkResult{}}
	if b.Profile != nil {
		in.Table = Tables[b.Profile.Name]
	}
	lines := b.BootLog()
	var rep Report
	if in.Table != nil {
		for _, d := range devices {
			if s := in.Table.Specs[d]; s != nil {
				in.Evidence[d] = s.Gather(lines)
			}
		}
	}
	if b.Outcome.Verdict == record.Pass && in.Table != nil {
		var try []string
		for _, d := range devices {
			s := in.Table.Specs[d]
			if s != nil && s.Work != nil && !s.NoDriver && b.Job.Host.HasDevice(d) && (in.Evidence[d].Bound != "" || in.Evidence[d].Started != "") {
				try = append(try, d)
			}
		}
		if len(try) > 0 {
			// The tries read netcfg's routes and list ihdad's audiohw scheme; the
			// session also collects the driver logs (runner.go).
			rep.Session, rep.SessionErr = session.Open(ctx, b, Needs...)
			scale := 1.0
			if b.Machine != nil {
				scale = b.Machine.TimeScale()
			}
			for _, d := range try {
				if rep.SessionErr != nil {
					in.Work[d] = WorkResult{Err: rep.SessionErr}
					continue
				}
				wctx, cancel := context.WithTimeout(ctx, time.Duration(float64(3*time.Minute)*scale))
				w := in.Table.Specs[d].Work(wctx, rep.Session, in.Evidence[d])
				cancel()
				if ctx.Err() != nil && w.Err == nil && !w.OK {
					// A try cut short by the run's cancellation says nothing of the driver.
					w.Err = fmt.Errorf("interrupted (%w): %s", ctx.Err(), w.Message)
				}
				in.Work[d] = w
			}
		}
	}
	for _, d := range devices {
		rep.Checks = append(rep.Checks, in.Judge(d))
	}
	rep.Checks = b.ApplyXFail(rep.Checks)
	for i := range rep.Checks {
		if rep.Checks[i].Verdict.Failed() && rep.Checks[i].Excerpt == "" {
			rep.Checks[i].Excerpt = b.Excerpt(2048)
		}
	}
	rep.Input = in
	return rep
}
