package bisect

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/console"
	"github.com/redox-hwtest/redox-hwtest/harness/drivers"
	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/screen"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Options for one bisection.
type Options struct {
	Matrix *matrix.Matrix
	Job    matrix.Job
	// RunDir receives one run directory per boot (bisect/<n>-skip-<names>/).
	RunDir string
	// BootArgs are passed to every boot (tests use them to make the stand-in stall).
	BootArgs string
	// Candidates are the devices that may be skipped (default: the host's devices that
	// the profile has driver checks for).
	Candidates []string
	// Log, when set, receives one line per boot.
	Log func(string)
	// NoAttribution ignores which driver the first hang is attributed to and halves the
	// candidates from the start.
	NoAttribution bool
}

// Attempt is one boot of the bisection.
type Attempt struct {
	Skip          []string // devices skipped
	Names         []string // as the boot loader was told
	Verdict       record.Verdict
	Reason        string
	LastComponent string
	Stalled       string // the drivers suite's attribution of a hang, if any
	Dir           string
	Took          time.Duration
}

// Reached reports whether the boot reached login (or the shell).
func (a Attempt) Reached() bool { return a.Verdict == record.Pass }

func (a Attempt) String() string {
	skip := "nothing"
	if len(a.Names) > 0 {
		skip = strings.Join(a.Names, ",")
	}
	s := fmt.Sprintf("skip %s: %s (%s) in %s", skip, a.Verdict, a.Reason, a.Took.Round(time.Second))
	if a.Stalled != "" {
		s += "; stall attributed to " + a.Stalled
	}
	return s
}

// Result is what a bisection found.
type Result struct {
	Attempts []Attempt
	// Reproduced: the first boot, with nothing skipped, hung.
	Reproduced bool
	// Culprit is the device whose absence lets the boot reach login; Names are its names
	// at the boot loader (nvmed, or the stand-in's nvme group). Empty when none was found.
	Culprit string
	Names   []string
	// Summary says it in one line.
	Summary string
}

// Run bisects a boot hang. The first boot skips nothing and must hang (else there is
// nothing to find). Then the driver the hang is attributed to is skipped alone; if that
// does not let the boot through, the remaining candidates are halved until one device is
// left whose absence lets it through, which a last boot confirms. Each boot goes through
// the boot loader's editor, so the first boot is typed the same way as the others.
func Run(ctx context.Context, o Options) (Result, error) {
	var res Result
	prof, err := profile.Get(o.Job.Image.Profile)
	if err != nil {
		return res, err
	}
	ed := Editors[prof.Name]
	if ed == nil {
		return res, fmt.Errorf("bisect: no boot editor for profile %s", prof.Name)
	}
	table := drivers.Tables[prof.Name]
	cands := o.Candidates
	if cands == nil && table != nil {
		for _, d := range drivers.Known {
			if s := table.Specs[d]; s != nil && !s.NoDriver && o.Job.Host.HasDevice(d) {
				cands = append(cands, d)
			}
		}
	}
	n := 0
	boot := func(skip []string) Attempt {
		n++
		names := ed.Names(prof, skip)
		tag := "nothing"
		if len(names) > 0 {
			tag = strings.Join(names, ",")
		}
		dir := filepath.Join(o.RunDir, "bisect", fmt.Sprintf("%02d-skip-%s", n, strings.ReplaceAll(tag, ",", "+")))
		a := Attempt{Skip: skip, Names: names, Dir: dir}
		start := time.Now()
		scale := 1.0
		b := job.Boot(ctx, o.Matrix, o.Job, job.Options{RunDir: dir, BootArgs: o.BootArgs,
			OnPowerOn: func(m hosts.Machine) { scale = m.TimeScale() },
			BeforeBootScreen: func(ctx context.Context, con *console.Console, scr *screen.Recorder) error {
				if scr != nil && ed.ScreenMenu != "" && o.Job.Firmware() == "bios" {
					// A BIOS loader draws on VGA and reads the keyboard: the serial
					// line cannot reach its editor.
					return ed.TypeKeys(ctx, con, scr, names, scale)
				}
				return ed.Type(ctx, con, names, scale)
			}})
		a.Verdict, a.Reason, a.LastComponent = b.Outcome.Verdict, b.Outcome.Reason, b.Outcome.Analysis.LastComponent
		if table != nil && a.Verdict == record.Hang {
			in := drivers.Input{Profile: prof, Table: table, Host: o.Job.Host, Outcome: b.Outcome, Evidence: map[string]drivers.Evidence{}}
			lines := b.BootLog()
			for _, d := range drivers.Known {
				if s := table.Specs[d]; s != nil {
					in.Evidence[d] = s.Gather(lines)
				}
			}
			a.Stalled, _ = in.Stall()
		}
		b.Close()
		a.Dir = b.Dir
		a.Took = time.Since(start)
		res.Attempts = append(res.Attempts, a)
		if o.Log != nil {
			o.Log(fmt.Sprintf("bisect boot %d: %s", n, a))
		}
		return a
	}

	search(&res, cands, o.NoAttribution, boot, func(d []string) []string { return ed.Names(prof, d) })
	return res, nil
}

// search is the bisection proper over a boot function (unit-tested with a fake one).
func search(res *Result, cands []string, noAttribution bool, boot func([]string) Attempt, names func([]string) []string) {
	first := boot(nil)
	if first.Reached() {
		res.Summary = "the boot reached login with nothing skipped: no hang to bisect"
		return
	}
	if first.Verdict != record.Hang {
		res.Summary = fmt.Sprintf("the boot did not hang but ended %s (%s): nothing to bisect", first.Verdict, first.Reason)
		return
	}
	res.Reproduced = true
	found := func(d string) {
		res.Culprit, res.Names = d, names([]string{d})
		res.Summary = fmt.Sprintf("the boot hangs with %s and reaches login without it (skipped as %s); %d boots",
			d, strings.Join(res.Names, ","), len(res.Attempts))
	}
	rest := slices.Clone(cands)
	suspect := first.Stalled
	if noAttribution {
		suspect = ""
	}
	if suspect != "" && slices.Contains(cands, suspect) {
		if boot([]string{suspect}).Reached() {
			found(suspect)
			return
		}
		rest = slices.DeleteFunc(rest, func(d string) bool { return d == suspect })
	}
	if len(rest) == 0 {
		res.Summary = "no candidate's absence lets the boot through"
		return
	}
	if !boot(rest).Reached() {
		res.Summary = fmt.Sprintf("the boot still hangs with all of %v skipped: not a driver start", rest)
		return
	}
	for len(rest) > 1 {
		half := rest[:len(rest)/2]
		if boot(half).Reached() {
			rest = half
		} else {
			rest = rest[len(rest)/2:]
		}
	}
	// One left, whose absence was part of a boot that got through; confirm it alone
	// unless the last boot did just that.
	last := res.Attempts[len(res.Attempts)-1]
	if !(len(last.Skip) == 1 && last.Skip[0] == rest[0] && last.Reached()) && !boot(rest).Reached() {
		res.Summary = fmt.Sprintf("no single device explains the hang: skipping %s alone does not help", rest[0])
		return
	}
	found(rest[0])
}
