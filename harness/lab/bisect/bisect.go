package bisect

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/screen"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Method is how a device is left out of a boot.
type Method string

// Methods.
const (
	// Skip: the init units that start the device's driver are skipped at the boot loader.
	Skip Method = "skip"
	// Device: the VM is started without the device.
	Device Method = "device"
)

// Options for one bisection.
type Options struct {
	Matrix *matrix.Matrix
	Job    matrix.Job
	// RunDir receives one run directory per boot (bisect/<n>-<what was left out>/).
	RunDir string
	// BootArgs are passed to every boot (tests use them to make the stand-in stall).
	BootArgs string
	// Candidates are the devices that may be left out (default: the host's devices that
	// the profile has driver checks for).
	Candidates []string
	// Method forces one method for every candidate ("" chooses per device: skip when an
	// init unit starts its driver and the boot loader's editor is reachable, else device
	// on a VM).
	Method Method
	// Log, when set, receives one line per boot.
	Log func(string)
	// NoAttribution ignores which driver the first hang is attributed to and halves the
	// candidates from the start.
	NoAttribution bool
}

// Attempt is one boot of the bisection.
type Attempt struct {
	Skip    []string // devices left out, by either method
	Names   []string // init units skipped, as the boot loader was told
	Removed []string // devices the VM was started without
	// Unconfirmed are skipped names for which the guest never said it skipped them (the
	// attempt is then INFRA).
	Unconfirmed   []string
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
	var left []string
	if len(a.Names) > 0 {
		left = append(left, "skip "+strings.Join(a.Names, ","))
	}
	if len(a.Removed) > 0 {
		left = append(left, "without "+strings.Join(a.Removed, ","))
	}
	if len(left) == 0 {
		left = []string{"nothing left out"}
	}
	s := fmt.Sprintf("%s: %s (%s) in %s", strings.Join(left, ", "), a.Verdict, a.Reason, a.Took.Round(time.Second))
	if a.Stalled != "" {
		s += "; stall attributed to " + a.Stalled
	}
	return s
}

// Result is what a bisection found.
type Result struct {
	Attempts []Attempt
	// Plan says, per device of the host, the method that can leave it out or why none can.
	Plan []string
	// Reproduced: the first boot, with nothing left out, hung.
	Reproduced bool
	// Culprit is the device whose absence lets the boot reach login, Method how it was
	// left out and Names its init units when skipped. Empty when none was found.
	Culprit string
	Method  Method
	Names   []string
	// Summary says it in one line: what was found, or why the bisection stopped.
	Summary string
}

// plan picks each candidate's method; the others get a reason in the plan.
func plan(o Options, prof *profile.Profile, ed *Editor, cands []string) (map[string]Method, []string) {
	h := o.Job.Host
	vm := isVM(h)
	reachable, why := ed.Reachable(h, o.Job.Image)
	bootDisk := bootDiskDevice(o.Job)
	methods := map[string]Method{}
	var lines []string
	for _, d := range cands {
		units := ed.Units(d)
		canSkip := len(units) > 0 && reachable
		canRemove := vm && d != bootDisk && d != "ps2"
		var m Method
		switch {
		case o.Method == Skip && canSkip, o.Method == "" && canSkip:
			m = Skip
		case o.Method == Device && canRemove, o.Method == "" && canRemove:
			m = Device
		}
		if m != "" {
			methods[d] = m
			if m == Skip {
				lines = append(lines, fmt.Sprintf("%s: skip (%s at the boot loader)", d, strings.Join(units, ",")))
			} else {
				lines = append(lines, fmt.Sprintf("%s: device (the VM is started without it)", d))
			}
			continue
		}
		var no []string
		switch {
		case len(units) == 0:
			no = append(no, fmt.Sprintf("no init unit starts its driver (%s: a PCI driver started by pcid-spawner, which no boot option skips)", strings.Join(prof.DriverComponents[d], ",")))
		case !reachable:
			no = append(no, "its init units cannot be skipped: "+why)
		case o.Method == Device:
			no = append(no, "method device was asked for")
		}
		switch {
		case !vm:
			no = append(no, "device bisection needs a VM and "+h.Name+" is real hardware ("+h.Kind+")")
		case d == bootDisk:
			no = append(no, "it carries the boot disk")
		case d == "ps2":
			no = append(no, "the PS/2 controller is part of the machine")
		case o.Method == Skip:
			no = append(no, "method skip was asked for")
		}
		lines = append(lines, fmt.Sprintf("%s: cannot be left out: %s", d, strings.Join(no, "; ")))
	}
	return methods, lines
}

// Run bisects a boot hang. The first boot leaves nothing out and must hang (else there is
// nothing to find). Then the driver the hang is attributed to is left out alone; if that
// does not let the boot through, the remaining candidates are halved until one device is
// left whose absence lets it through, which a last boot confirms.
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
	if o.Method != "" && o.Method != Skip && o.Method != Device {
		return res, fmt.Errorf("bisect: unknown method %q (skip or device)", o.Method)
	}
	table := drivers.Tables[prof.Name]
	all := o.Candidates
	if all == nil && table != nil {
		for _, d := range drivers.Known {
			if s := table.Specs[d]; s != nil && !s.NoDriver && o.Job.Host.HasDevice(d) {
				all = append(all, d)
			}
		}
	}
	methods, lines := plan(o, prof, ed, all)
	res.Plan = lines
	var cands []string
	for _, d := range all {
		if methods[d] != "" {
			cands = append(cands, d)
		}
	}
	if o.Log != nil {
		for _, l := range lines {
			o.Log("bisect plan: " + l)
		}
	}
	if len(cands) == 0 {
		res.Summary = fmt.Sprintf("no device of %s can be left out: %s", o.Job.Host.Name, strings.Join(lines, "; "))
		return res, nil
	}
	n := 0
	boot := func(skip []string) Attempt {
		n++
		a := Attempt{Skip: skip}
		var skipDevs []string
		for _, d := range skip {
			if methods[d] == Skip {
				skipDevs = append(skipDevs, d)
			} else {
				a.Removed = append(a.Removed, d)
			}
		}
		a.Names = ed.Names(skipDevs)
		tag := "nothing"
		if len(skip) > 0 {
			tag = strings.Join(append(slices.Clone(a.Names), a.Removed...), "+")
		}
		dir := filepath.Join(o.RunDir, "bisect", fmt.Sprintf("%02d-without-%s", n, tag))
		j := o.Job
		j.Host.Devices = slices.DeleteFunc(slices.Clone(j.Host.Devices), func(d string) bool { return slices.Contains(a.Removed, d) })
		start := time.Now()
		scale := 1.0
		jo := job.Options{RunDir: dir, BootArgs: o.BootArgs,
			OnPowerOn: func(m hosts.Machine) { scale = m.TimeScale() }}
		if len(a.Names) > 0 {
			// Only a boot that skips something goes through the editor; the others get
			// through the loader's menu by the profile's own response.
			jo.BeforeBootScreen = func(ctx context.Context, con *console.Console, scr *screen.Recorder) error {
				if scr != nil && ed.onScreen(j.Host) {
					// A BIOS loader draws on VGA and reads the keyboard: the serial
					// line cannot reach its editor.
					return ed.TypeKeys(ctx, con, scr, a.Names, scale)
				}
				return ed.Type(ctx, con, a.Names, scale)
			}
		}
		b := job.Boot(ctx, o.Matrix, j, jo)
		a.Verdict, a.Reason, a.LastComponent = b.Outcome.Verdict, b.Outcome.Reason, b.Outcome.Analysis.LastComponent
		lines := b.BootLog()
		if table != nil && a.Verdict == record.Hang {
			in := drivers.Input{Profile: prof, Table: table, Host: j.Host, Outcome: b.Outcome, Evidence: map[string]drivers.Evidence{}}
			for _, d := range drivers.Known {
				if s := table.Specs[d]; s != nil {
					in.Evidence[d] = s.Gather(lines)
				}
			}
			a.Stalled, _ = in.Stall()
		}
		if len(a.Names) > 0 && a.Verdict != record.Infra {
			a.Verdict, a.Reason, a.Unconfirmed = judgeSkip(ed, a.Names, strings.Join(lines, "\n"), a.Verdict, a.Reason)
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
	describe := func(d string) string {
		if methods[d] == Skip {
			return "skipped at the boot loader as " + strings.Join(ed.Names([]string{d}), ",")
		}
		return "the VM started without the device"
	}
	search(&res, cands, o.NoAttribution, boot, describe)
	if res.Culprit != "" {
		res.Method = methods[res.Culprit]
		if res.Method == Skip {
			res.Names = ed.Names([]string{res.Culprit})
		}
	}
	return res, nil
}

// judgeSkip applies the rule that a skip counts only when the guest confirmed it. A boot
// that reached login without confirming every skip is INFRA (the hang did not come back,
// and not because of the skip). A boot that hung with skips unconfirmed is a result only
// when the guest shows it received them (Editor.Delivered): init then never got to those
// units, so they are not the culprit; otherwise the editor may have lost them, and the
// boot is INFRA.
func judgeSkip(ed *Editor, names []string, log string, v record.Verdict, reason string) (record.Verdict, string, []string) {
	_, no := ed.Confirmed(names, log)
	if len(no) == 0 {
		return v, reason, nil
	}
	if v == record.Hang && ed.Delivered != nil && strings.Contains(log, ed.Delivered(names)) {
		return v, fmt.Sprintf("%s (the guest got the skip but hung before reaching %s)", reason, strings.Join(no, ",")), no
	}
	return record.Infra, fmt.Sprintf("the skip of %s did not take (the guest never printed %q): %s %s",
		strings.Join(no, ","), ed.Confirm(no[0])[0], v, reason), no
}

// search is the bisection proper over a boot function (unit-tested with a fake one). A
// boot that is INFRA (a lab fault, or a skip the guest did not confirm) stops it.
func search(res *Result, cands []string, noAttribution bool, boot func([]string) Attempt, describe func(string) string) {
	first := boot(nil)
	if first.Reached() {
		res.Summary = "the boot reached login with nothing left out: no hang to bisect"
		return
	}
	if first.Verdict != record.Hang {
		res.Summary = fmt.Sprintf("the boot did not hang but ended %s (%s): nothing to bisect", first.Verdict, first.Reason)
		return
	}
	res.Reproduced = true
	var infra *Attempt
	try := func(skip []string) bool {
		a := boot(skip)
		if a.Verdict == record.Infra && infra == nil {
			infra = &a
		}
		return a.Reached()
	}
	stopped := func() bool {
		if infra == nil {
			return false
		}
		res.Summary = fmt.Sprintf("stopped after %d boots: boot %d was INFRA: %s", len(res.Attempts), len(res.Attempts), infra.Reason)
		return true
	}
	found := func(d string) {
		res.Culprit = d
		res.Summary = fmt.Sprintf("the boot hangs with %s and reaches login without it (%s); %d boots",
			d, describe(d), len(res.Attempts))
	}
	rest := slices.Clone(cands)
	suspect := first.Stalled
	if noAttribution {
		suspect = ""
	}
	if suspect != "" && slices.Contains(cands, suspect) {
		if try([]string{suspect}) {
			found(suspect)
			return
		}
		if stopped() {
			return
		}
		rest = slices.DeleteFunc(rest, func(d string) bool { return d == suspect })
	}
	if len(rest) == 0 {
		res.Summary = "no candidate's absence lets the boot through"
		return
	}
	if !try(rest) {
		if !stopped() {
			res.Summary = fmt.Sprintf("the boot still hangs with all of %v left out: not a driver start", rest)
		}
		return
	}
	for len(rest) > 1 {
		half := rest[:len(rest)/2]
		if try(half) {
			rest = half
		} else {
			if stopped() {
				return
			}
			rest = rest[len(rest)/2:]
		}
	}
	// One left, whose absence was part of a boot that got through; confirm it alone
	// unless the last boot did just that.
	last := res.Attempts[len(res.Attempts)-1]
	if !(len(last.Skip) == 1 && last.Skip[0] == rest[0] && last.Reached()) && !try(rest) {
		if !stopped() {
			res.Summary = fmt.Sprintf("no single device explains the hang: leaving %s out alone does not help", rest[0])
		}
		return
	}
	found(rest[0])
}

// isVM reports whether the harness starts the machine itself (matrix.Host.Virtual), so it can start it without
// a device.
func isVM(h matrix.Host) bool { return h.Virtual() }

// bootDiskDevice is the matrix device that carries a qemu VM's boot disk ("" when none
// of them does), as hosts/qemu puts it: option disk_bus, else nvme when the host lists
// nvme.
func bootDiskDevice(j matrix.Job) string {
	if j.Image.Path == "" || j.Host.Kind != "qemu" {
		return ""
	}
	bus, _ := j.Host.Options["disk_bus"].(string)
	if bus == "" && j.Host.HasDevice("nvme") {
		bus = "nvme"
	}
	if bus == "nvme" || bus == "ahci" {
		return bus
	}
	return ""
}
