package drivers

import (
	"fmt"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/boot"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Input is what the verdicts are computed from: a pure function of it, so every rule is
// unit-tested without a machine.
type Input struct {
	Profile *profile.Profile
	Table   *Table
	Host    matrix.Host
	Outcome boot.Outcome
	// Evidence per device, from the boot log (Gather).
	Evidence map[string]Evidence
	// Work per device that was tried.
	Work map[string]WorkResult
}

// Stall names the device whose driver start the boot hung in, and why the harness thinks
// so; "" when the boot did not hang in the drivers stage or nothing points at one driver.
//
// In order: the component that printed last is an unfinished driver (Redox: the driver
// pcid-spawner started, or its own log line); the driver spawned last never came up; the
// image starts drivers in a fixed order and the stall came after one finished and before
// the next printed anything (the stand-in: "fx.hang=nvme" stops right after e1000 is up).
func (in Input) Stall() (device, why string) {
	if in.Outcome.Verdict != record.Hang || in.Table == nil || in.Outcome.Analysis.LastStage != "drivers" {
		return "", ""
	}
	candidate := func(d string) bool {
		s := in.Table.Specs[d]
		ev := in.Evidence[d]
		return s != nil && !s.NoDriver && in.Host.HasDevice(d) && ev.Bound == "" && ev.Skipped == ""
	}
	if c := in.Outcome.Analysis.LastComponent; c != "" {
		if d := in.Table.DeviceOf(in.Profile, c); d != "" && candidate(d) {
			return d, fmt.Sprintf("the last output came from %s, which never finished starting", c)
		}
	}
	last, lastLine := "", 0
	for _, d := range Known {
		if ev := in.Evidence[d]; candidate(d) && ev.SpawnLine > lastLine {
			last, lastLine = d, ev.SpawnLine
		}
	}
	if last != "" {
		return last, fmt.Sprintf("its driver was started (boot log line %d) and never came up", lastLine)
	}
	prev := ""
	for _, d := range in.Table.Order {
		if !in.Host.HasDevice(d) {
			continue
		}
		if ev := in.Evidence[d]; ev.Bound != "" || ev.Skipped != "" {
			prev = d
			continue
		}
		if !candidate(d) {
			return "", ""
		}
		if prev == "" {
			return d, "it is the first driver this image starts, and none came up"
		}
		return d, fmt.Sprintf("this image starts its drivers in the order %v; %s came up, then the console fell silent before %s did", in.Table.Order, prev, d)
	}
	return "", ""
}

// Judge is the check of one device.
func (in Input) Judge(d string) record.Check {
	c := record.Check{Name: CheckName(d), Stage: "drivers"}
	o := in.Outcome
	if !in.Host.HasDevice(d) {
		c.Verdict, c.Message = record.Skip, fmt.Sprintf("host %s has no %s", in.Host.Name, d)
		return c
	}
	if in.Table == nil {
		c.Verdict, c.Message = record.Skip, fmt.Sprintf("no driver checks for profile %s", profName(in.Profile))
		return c
	}
	spec := in.Table.Specs[d]
	if spec == nil {
		c.Verdict, c.Message = record.Skip, fmt.Sprintf("no %s check for profile %s", d, profName(in.Profile))
		return c
	}
	comps := spec.components(in.Profile)
	if len(comps) > 0 {
		c.Component = comps[0]
	}
	ev := in.Evidence[d]
	// A crash of this driver anywhere in the log decides, whatever came after.
	for _, e := range o.Analysis.Events {
		if profile.IsCrash(e.Kind) && spec.is(in.Profile, e.Component) {
			c.Verdict, c.Title, c.Component = record.Crash, e.Title, baseComponent(e.Component)
			c.Message = fmt.Sprintf("%s: %s (boot log line %d); %s", e.Kind, e.Title, e.Line, ev)
			return c
		}
	}
	if spec.NoDriver {
		c.Verdict = record.Skip
		c.Message = fmt.Sprintf("the %s image carries no %s driver; %s", profName(in.Profile), d, ev)
		if ev.Enumerated != "" {
			c.Message += ": " + oneLine(ev.Enumerated, 120)
		}
		return c
	}
	switch o.Verdict {
	case record.Pass:
	case record.Hang:
		stalled, why := in.Stall()
		c.Verdict = record.Hang
		if stalled == d {
			c.Message = fmt.Sprintf("the boot stalled while %s started: %s (%s); %s", d, why, o.Reason, ev)
			return c
		}
		if stalled != "" {
			if sc := in.Table.Specs[stalled].components(in.Profile); len(sc) > 0 {
				c.Component = sc[0]
			}
			c.Title = "boot hung starting " + stalled
			c.Message = fmt.Sprintf("not judged: the boot hung while %s started (%s); %s", stalled, o.Reason, ev)
			return c
		}
		c.Component = o.Analysis.LastComponent
		c.Message = fmt.Sprintf("not judged: %s; %s", o.Reason, ev)
		return c
	case record.Crash:
		c.Verdict, c.Component = record.Crash, o.Analysis.LastComponent
		for _, e := range o.Analysis.Events {
			if profile.IsCrash(e.Kind) {
				c.Title, c.Component = e.Title, e.Component
				break
			}
		}
		c.Message = fmt.Sprintf("not judged: the boot crashed: %s; %s", o.Reason, ev)
		return c
	default:
		c.Verdict, c.Message = record.Infra, fmt.Sprintf("not judged: %s", o.Reason)
		return c
	}
	if ev.Skipped != "" && ev.Bound == "" {
		c.Verdict, c.Message = record.Skip, "driver deliberately not started on this boot: "+oneLine(ev.Skipped, 120)
		return c
	}
	fail := func(format string, a ...any) record.Check {
		c.Verdict, c.Message = record.Fail, fmt.Sprintf(format, a...)
		return c
	}
	switch {
	case ev.Enumerated == "" && ev.Absent != "":
		return fail("the host lists %s but the image found no such device: %s", d, oneLine(ev.Absent, 120))
	case len(spec.Enumerated) > 0 && ev.Enumerated == "":
		return fail("not enumerated: no bus line for a %s device in the boot log", d)
	case ev.Bound == "" && ev.Unbound != "":
		return fail("enumerated, but no driver took it: %s", oneLine(ev.Unbound, 120))
	case len(spec.Bound) > 0 && ev.Bound == "" && ev.Started != "" && spec.Work == nil:
		return fail("the driver started (%s) but printed no line after it talked to the device", oneLine(ev.Started, 100))
	case len(spec.Bound) > 0 && ev.Bound == "" && ev.Started != "" && ev.ErrorTitle != "":
		// Started, then the driver's own error line (ac97d's "VRA not supported"): no
		// try can make that a pass.
		c.Title = ev.ErrorTitle
		return fail("driver error: %s; %s", oneLine(ev.ErrorTitle, 160), ev)
	case len(spec.Bound) > 0 && ev.Bound == "" && ev.Started != "":
		// Started, and the line that proves initialisation is below the default log
		// level: the try from the shell decides (it talks to the device).
	case len(spec.Bound) > 0 && ev.Bound == "" && ev.Spawned != "":
		return fail("the driver was started but never came up (%s)", oneLine(ev.Spawned, 100))
	case len(spec.Bound) > 0 && ev.Bound == "":
		return fail("the driver never came up; %s", ev)
	case ev.ErrorTitle != "":
		c.Title = ev.ErrorTitle
		return fail("driver error: %s; %s", oneLine(ev.ErrorTitle, 160), ev)
	}
	for _, e := range o.Analysis.Events {
		if e.Kind == profile.KindDriverError && spec.is(in.Profile, e.Component) {
			c.Title = e.Title
			return fail("driver error: %s (boot log line %d); %s", e.Title, e.Line, ev)
		}
	}
	if spec.Work == nil {
		c.Verdict, c.Message = record.Pass, fmt.Sprintf("%s; not tried from the shell (no try for this profile)", ev)
		return c
	}
	w, ok := in.Work[d]
	switch {
	case !ok:
		c.Verdict, c.Message = record.Infra, fmt.Sprintf("%s; not tried: no shell session", ev)
	case w.Err != nil:
		c.Verdict, c.Message = record.Infra, fmt.Sprintf("%s; could not be tried: %v", ev, w.Err)
	case !w.OK:
		c.Verdict, c.Message = record.Fail, fmt.Sprintf("%s; does not work: %s", ev, w.Message)
	default:
		c.Verdict, c.Message = record.Pass, fmt.Sprintf("%s; works: %s", ev, w.Message)
	}
	return c
}

func profName(p *profile.Profile) string {
	if p == nil {
		return "(none)"
	}
	return p.Name
}
