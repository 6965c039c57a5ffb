package job

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// ScreenOnlyNote is what a boot judged from the screen alone cannot tell, in its record.
const ScreenOnlyNote = "no serial console: judged from the screen alone (OCR of its text at every change, needles); " +
	"a line that scrolls off between two looks is not read (its stage is SKIP when a later one is seen), " +
	"a crash is CRASH only when its text is readable on the screen (a black or frozen screen is a HANG at the last stage shown), " +
	"and a picture without text counts as progress only through a needle"

// BootChecks turns the outcome into the boot suite's checks: one per profile stage, login,
// and "no crash signature in the whole log" (a microkernel boot can reach login with a
// crashed daemon on the way, so the whole log is scanned, not only its end).
func (b *Booted) BootChecks() []record.Check {
	var checks []record.Check
	o := b.Outcome
	reached := map[string]int{}
	for _, s := range o.Analysis.Stages {
		reached[s.Name] = s.Line
	}
	failed := func(name string) record.Check {
		return record.Check{Name: name, Verdict: o.Verdict, Message: o.Reason,
			Stage: o.Analysis.LastStage, Component: o.Analysis.LastComponent, Excerpt: b.Excerpt(2048)}
	}
	if b.Profile == nil {
		return []record.Check{failed("boot/login")}
	}
	furthest := b.Profile.StageIndex(o.Analysis.LastStage)
	for i, st := range b.Profile.Stages {
		name := "boot/" + st.Name
		if st.Name == b.Profile.Login.Stage {
			continue // reported as boot/login below
		}
		switch _, ok := reached[st.Name]; {
		case ok:
			c := record.Check{Name: name, Verdict: record.Pass, Stage: st.Name}
			if at, ok := o.StageAt[st.Name]; ok {
				c.Message = fmt.Sprintf("reached after %s", at.Round(time.Millisecond))
				c.Duration = at
			}
			checks = append(checks, c)
		case i < furthest || (o.Verdict == record.Pass && (st.Optional || i > furthest)):
			// Not printed on this boot path (a direct kernel boot has no firmware lines),
			// or beyond the target of this boot.
			msg := "not printed on this boot path"
			if b.ScreenOnly && i < furthest {
				msg = "not seen on the screen (passed: a later stage was; text that scrolls off between two looks is never read)"
			}
			checks = append(checks, record.Check{Name: name, Verdict: record.Skip, Stage: st.Name, Message: msg})
		default:
			checks = append(checks, failed(name))
		}
	}
	login := failed("boot/login")
	if o.Analysis.ReachedLogin {
		login = record.Check{Name: "boot/login", Verdict: record.Pass, Stage: b.Profile.Login.Stage}
		if at, ok := o.StageAt[b.Profile.Login.Stage]; ok {
			login.Message = fmt.Sprintf("reached after %s", at.Round(time.Millisecond))
			login.Duration = at
		}
	}
	checks = append(checks, login)

	nc := record.Check{Name: "boot/no-crash", Verdict: record.Pass, Message: "no crash signature in the log"}
	var crashes []string
	for _, e := range o.Analysis.Events {
		if profile.IsCrash(e.Kind) {
			if len(crashes) == 0 {
				nc = record.Check{Name: "boot/no-crash", Verdict: record.Crash, Title: e.Title,
					Component: e.Component, Excerpt: b.Excerpt(2048)}
			}
			crashes = append(crashes, fmt.Sprintf("%s: %s (%s) x%d", e.Kind, e.Title, e.Component, e.Count))
		}
	}
	if len(crashes) > 0 {
		nc.Message = strings.Join(crashes, "; ")
	} else if o.Verdict == record.Infra {
		// The log was cut short by a lab fault (VMM killed, console lost): what it does not
		// hold cannot be called crash-free.
		why := "not judged, the log was cut short: "
		if len(o.Analysis.Stages) == 0 {
			why = "nothing to judge: "
		}
		nc = record.Check{Name: "boot/no-crash", Verdict: record.Infra, Message: why + o.Reason}
	}
	checks = append(checks, nc)
	for _, st := range b.screenSkipped {
		checks = append(checks, record.Check{Name: "boot/" + st, Verdict: record.Skip, Stage: st,
			Message: "shows only on the screen: " + b.ScreenNote})
	}
	return b.applyXFail(checks)
}

// applyXFail turns checks the host declares as known failures into XFAIL/XPASS.
func (b *Booted) applyXFail(checks []record.Check) []record.Check {
	for i := range checks {
		if x := b.Job.Host.XFailFor(checks[i].Name, b.Job.Image.Name); x != nil {
			checks[i].Verdict = checks[i].Verdict.ApplyXFail()
			checks[i].Reference = x.Reference
		}
	}
	return checks
}

// Record builds the job's results record with the given checks.
func (b *Booted) Record(checks []record.Check) *record.Record { return b.recordOf(b.Job, checks) }

// RecordWithoutBoot is the record of a job that booted nothing: a suite that needs no
// machine (abi), or a job that never started (the scheduler's not-run record).
func RecordWithoutBoot(j matrix.Job, started time.Time, checks []record.Check) *record.Record {
	return (&Booted{Job: j, Started: started}).recordOf(j, checks)
}

// recordOf builds the record of job j (this boot's job, or another suite's job sharing the
// boot) without changing b.
func (b *Booted) recordOf(j matrix.Job, checks []record.Check) *record.Record {
	r := &record.Record{
		Job:   j.ID(),
		Suite: j.Suite.Name,
		Image: record.Image{Name: j.Image.Name, Arch: j.Image.Arch, Variant: j.Image.Variant,
			Version: j.Image.Version, Firmware: j.Firmware(), Profile: j.Image.Profile,
			SHA256: j.Image.SHA256, URL: j.Image.URL},
		Host: record.Host{Name: j.Host.Name, Kind: j.Host.Kind, Arch: j.Host.Arch, Firmware: j.Host.Firmware,
			Machine: j.Host.Machine, CPU: j.Host.CPU, Memory: j.Host.Memory, SMP: j.Host.SMP,
			Devices: j.Host.Devices, Vendor: j.Host.Vendor, Model: j.Host.Model},
		Started:       b.Started,
		Finished:      time.Now(),
		Decided:       b.Outcome.Decided,
		Checks:        b.withTeardown(checks),
		LastComponent: b.Outcome.Analysis.LastComponent,
		Devices:       b.Devices,
		Attempts:      1,
		Artifacts:     map[string]string{},
	}
	if j.Image.URL != "" && j.Image.Newest == "" {
		// A fetched newest image has its exact file in URL; one that was not fetched still
		// names only its folder, and no file.
		r.Image.File = path.Base(j.Image.URL)
		r.Image.Date = j.Image.Date
	}
	if b.Machine != nil {
		r.Host.Accel = b.Machine.Facts()["accel"]
	}
	for _, s := range b.Outcome.Analysis.Stages {
		r.Stages = append(r.Stages, record.Stage{Name: s.Name, Line: s.Line, At: b.Outcome.StageAt[s.Name]})
	}
	for _, e := range b.Outcome.Analysis.Events {
		r.Events = append(r.Events, record.Event{Kind: e.Kind, Component: e.Component, Title: e.Title, Line: e.Line, Count: e.Count})
	}
	if b.Screen != nil {
		for _, c := range b.Screen.Captures() {
			r.Screens = append(r.Screens, record.ScreenCapture{File: c.File, Why: c.Why, At: c.At, Same: c.Same})
			if !c.Same {
				r.Artifacts["screen:"+strings.TrimSuffix(filepath.Base(c.File), ".png")] = c.File
			}
		}
		r.ScreenNote = b.Screen.Problem()
		if b.ScreenOnly {
			r.ScreenNote = strings.TrimSuffix(ScreenOnlyNote+"; "+r.ScreenNote, "; ")
		}
	} else {
		r.ScreenNote = b.ScreenNote
	}
	for name, file := range map[string]string{"transcript": Transcript, "transcript-times": transcript.TimesPath(Transcript), "host-log": "host.log"} {
		if _, err := os.Stat(filepath.Join(b.Dir, file)); err == nil && b.Dir != "" {
			r.Artifacts[name] = file
		}
	}
	return r
}

// TeardownCheck names the check that reports a failure on the way out of a job.
const TeardownCheck = "job/teardown"

// withTeardown adds the INFRA check job/teardown when something failed on the way out
// (Booted.Close): the other checks stand as judged, the job is a lab failure with the
// reason.
func (b *Booted) withTeardown(checks []record.Check) []record.Check {
	if len(b.Teardown) == 0 {
		return checks
	}
	return append(append([]record.Check(nil), checks...), record.Check{Name: TeardownCheck, Verdict: record.Infra,
		Message: "on the way out: " + strings.Join(b.Teardown, "; ")})
}

// WriteRecord writes the record into the run directory.
func (b *Booted) WriteRecord(runDir string, checks []record.Check) (*record.Record, error) {
	r := b.Record(checks)
	_, err := record.Write(runDir, r)
	return r, err
}
