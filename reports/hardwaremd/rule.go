package hardwaremd

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/devices"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/rank"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// Rule maps check verdicts to a HARDWARE.md status. DefaultRule is the documented one:
//
//   - Only real machines get rows: a host needs Vendor and Model, and a kind that boots
//     real hardware (not qemu, cloud-hypervisor, or replay, which only plays back an old
//     transcript). One row per (host,
//     image), from all the jobs (suites) of that pair; a check run by several suites
//     counts with its worst verdict.
//   - No row when the login check (boot/login) is missing, INFRA or SKIP: the lab, not
//     Redox, decided the outcome, and a row would claim something nobody saw.
//   - Broken: login did not pass (FAIL, CRASH, HANG or XFAIL): "the boot loader or system
//     boot doesn't work". The Report names the stage reached and the culprit.
//   - Recommended: login passed, each required feature (display, sound, input, Ethernet)
//     has at least one check and they all PASS (or XPASS), and no check of the job failed
//     in any way (FAIL, CRASH, HANG, XFAIL or INFRA). This is upstream's "boots with video,
//     sound, PS/2 or USB input, Ethernet, terminal and Orbital working" as far as a serial
//     console can see it.
//   - Booting: login passed but not Recommended: some check failed, a required feature
//     was not tested (no check, or SKIP: the host lacks it), or a check hit a lab error.
//     The Report lists what did not work.
//
// Which check belongs to which feature is the table Features (check names, or a prefix
// ending in "/" for a whole group).
type Rule struct {
	Login    []string
	Features []Feature
	// Names are the human names of devices in the Report ("drivers/nvme" -> "NVMe").
	Names map[string]string
	// Said are upstream HARDWARE.md's own words for a failing feature, put before the
	// harness's detail so a row reads as a maintainer writes it ("No audio, HDA audio
	// driver hangs"; upstream: "No audio, HDA driver cannot find output pins").
	Said map[string]string
	// SaidFor are upstream's words for one check's verdict, replacing the harness's
	// ("NVMe driver livelocks" for drivers/nvme HANG).
	SaidFor map[string]string
}

// Feature is a group of checks with one meaning for the status.
type Feature struct {
	Name     string
	Required bool
	Checks   []string
}

// DefaultRule is the documented mapping.
var DefaultRule = Rule{
	Login: []string{"boot/login"},
	Features: []Feature{
		{Name: "display", Required: true, Checks: []string{"drivers/vesa", "drivers/bga", "drivers/ihdg", "drivers/ihdgd", "drivers/virtio-gpu", "drivers/ramfb", "boot/orbital", "boot/desktop", "display/"}},
		{Name: "sound", Required: true, Checks: []string{"drivers/hda", "drivers/ihda", "drivers/ihdad", "drivers/ac97", "drivers/sb16", "audio/"}},
		{Name: "input", Required: true, Checks: []string{"drivers/ps2", "drivers/xhci", "drivers/usb-hid", "drivers/usbhid", "input/"}},
		{Name: "Ethernet", Required: true, Checks: []string{"drivers/e1000", "drivers/rtl8168", "drivers/rtl8139", "drivers/ixgbe", "drivers/alx", "drivers/virtio-net", "network/"}},
	},
	Names: map[string]string{
		"nvme": "NVMe", "ahci": "AHCI", "ide": "IDE", "virtio-blk": "virtio-blk",
		"e1000": "e1000 Ethernet", "rtl8168": "RTL8168 Ethernet", "rtl8139": "RTL8139 Ethernet",
		"ixgbe": "ixgbe Ethernet", "alx": "alx Ethernet", "virtio-net": "virtio-net",
		"hda": "HDA audio", "ihda": "HDA audio", "ihdad": "HDA audio", "ac97": "AC'97 audio", "sb16": "SB16 audio",
		"ps2": "PS/2", "xhci": "xHCI USB", "usb-hid": "USB HID", "usbhid": "USB HID",
		"vesa": "VESA display", "bga": "BGA display", "ihdg": "Intel graphics", "ihdgd": "Intel graphics",
		"virtio-gpu": "virtio-gpu", "ramfb": "ramfb display",
		"network/dhcp": "DHCP", "network/ping": "ping", "boot/orbital": "Orbital", "boot/desktop": "Orbital",
	},
	// Phrases from ../shared/redox-hardware/HARDWARE.md's Report column: "No audio",
	// "cannot connect to the internet", "USB does not work", "NVMe driver livelocks".
	Said:    map[string]string{"sound": "No audio", "Ethernet": "cannot connect to the internet"},
	SaidFor: map[string]string{"drivers/nvme HANG": "NVMe driver livelocks", "drivers/xhci FAIL": "USB does not work", "drivers/xhci HANG": "USB does not work"},
}

// Real reports whether results on a host of kind describe a real machine (not a VM, not a
// replayed transcript: matrix.MachineKind); only those become HARDWARE.md rows.
func Real(kind string) bool { return matrix.MachineKind(kind) }

// Note explains a host/image pair that got no row.
type Note struct {
	Host, Image, Reason string
}

func (n Note) String() string { return fmt.Sprintf("%s / %s: %s", n.Host, n.Image, n.Reason) }

// Entries turns records into HARDWARE.md rows with the rule. Rows of one machine that
// differ only in firmware are joined ("BIOS, UEFI"), then rows that differ only in
// variant ("desktop, demo").
func (rule Rule) Entries(recs []*record.Record) ([]Entry, []Note) {
	type key struct{ host, image string }
	groups := map[key][]*record.Record{}
	var keys []key
	for _, r := range recs {
		k := key{r.Host.Name, r.Image.Name}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].host != keys[j].host {
			return keys[i].host < keys[j].host
		}
		return keys[i].image < keys[j].image
	})
	var entries []Entry
	var notes []Note
	for _, k := range keys {
		e, reason := rule.entry(groups[k])
		if reason != "" {
			notes = append(notes, Note{Host: k.host, Image: k.image, Reason: reason})
			continue
		}
		entries = append(entries, e)
	}
	entries = joinOn(entries, func(r *Row) *string { return &r.Firmware }, []string{"BIOS", "UEFI", "U-Boot"})
	entries = joinOn(entries, func(r *Row) *string { return &r.Variant }, Variants)
	return entries, notes
}

// entry builds the row of one (host, image) pair, or says why there is none.
func (rule Rule) entry(recs []*record.Record) (Entry, string) {
	h, img := recs[0].Host, recs[0].Image
	if strings.TrimSpace(h.Vendor) == "" || strings.TrimSpace(h.Model) == "" {
		return Entry{}, "no vendor/model (not a real machine): no row"
	}
	if !Real(h.Kind) {
		return Entry{}, fmt.Sprintf("host kind %s is not real hardware: no row", h.Kind)
	}
	checks := map[string]record.Check{}
	for _, r := range recs {
		for _, c := range r.Checks {
			if old, ok := checks[c.Name]; !ok || rank.Of(c.Verdict) > rank.Of(old.Verdict) {
				checks[c.Name] = c
			}
		}
	}
	var login record.Check
	found := false
	for _, n := range rule.Login {
		if c, ok := checks[n]; ok && (!found || rank.Of(c.Verdict) > rank.Of(login.Verdict)) {
			login, found = c, true
		}
	}
	switch {
	case !found:
		return Entry{}, fmt.Sprintf("no %s check: no row", strings.Join(rule.Login, "/"))
	case login.Verdict == record.Infra:
		return Entry{}, "login check was INFRA (lab error): no row"
	case login.Verdict == record.Skip:
		return Entry{}, "login check was skipped: no row"
	}
	row := Row{
		Vendor:   Cell(h.Vendor),
		Model:    Cell(h.Model),
		Version:  version(img),
		Date:     imageDate(img),
		Variant:  Cell(variant(img.Variant)),
		Arch:     Cell(arch(img.Arch)),
		Firmware: Cell(firmware(img, h)),
	}
	from := h.Name + " / " + img.Name
	capture, screenOnly := screenEvidence(recs)
	if !rank.Passed(login.Verdict) {
		report := brokenReport(login)
		if screenOnly {
			report = screenBrokenReport(login, report)
		}
		row.Report = Cell(report)
		return Entry{Status: Broken, Row: row, From: from, Capture: capture}, ""
	}
	status, report := rule.bootingReport(checks, login, deviceIssues(recs))
	if d, ok := checks["boot/desktop"]; ok && rank.Passed(d.Verdict) {
		// Orbital's login screen was read on the screen: upstream's own words for it.
		report = "Boots to Orbital" + strings.TrimPrefix(report, "Boots to login")
	}
	row.Report = Cell(report)
	if capture == "" {
		capture = desktopCapture(recs)
	}
	return Entry{Status: status, Row: row, From: from, Capture: capture}, ""
}

// screenOnlyNote starts the screen note of a record judged from the screen alone
// (harness/engine/job.ScreenOnlyNote; reports read records, not the harness).
const screenOnlyNote = "no serial console:"

// ScreenJudged reports whether r's boot was judged from the screen alone (the Report of a
// failed boot then uses upstream's words for what the screen showed).
func ScreenJudged(r *record.Record) bool { return strings.HasPrefix(r.ScreenNote, screenOnlyNote) }

// screenEvidence returns the last screen of the pair's boot (relative to the run
// directory) and whether the boot was judged from the screen alone.
func screenEvidence(recs []*record.Record) (capture string, screenOnly bool) {
	for _, r := range recs {
		if ScreenJudged(r) {
			screenOnly = true
			if f := r.LastScreen(); f != "" && capture == "" {
				capture = path.Join(record.JobsDir, record.JobDirName(r.Job), f)
			}
		}
	}
	return capture, screenOnly
}

// desktopCapture is the capture taken when the desktop stage was reached, if any.
func desktopCapture(recs []*record.Record) string {
	for _, r := range recs {
		for _, c := range r.Screens {
			if c.Why == "stage desktop" {
				return path.Join(record.JobsDir, record.JobDirName(r.Job), c.File)
			}
		}
	}
	return ""
}

// screenBrokenReport words a failed boot judged from the screen as upstream's HARDWARE.md
// words screen facts: the mode menu shown and nothing after it, kernel lines shown and
// then nothing.
func screenBrokenReport(login record.Check, report string) string {
	if login.Verdict != record.Hang {
		return report
	}
	switch login.Stage {
	case "bootloader":
		return "Gets to resolution selection"
	case "kernel":
		return "Some kernel messages displayed, then locks up"
	}
	return report
}

func (rule Rule) feature(check string) int {
	for i, f := range rule.Features {
		for _, c := range f.Checks {
			if c == check || (strings.HasSuffix(c, "/") && strings.HasPrefix(check, c)) {
				return i
			}
		}
	}
	return -1
}

// name is the human name of a check's device in a Report.
func (rule Rule) name(check string) string {
	if n, ok := rule.Names[check]; ok {
		return n
	}
	base := check[strings.LastIndex(check, "/")+1:]
	if n, ok := rule.Names[base]; ok {
		return n
	}
	return base
}

func (rule Rule) bootingReport(checks map[string]record.Check, login record.Check, devs []deviceIssue) (Status, string) {
	var names []string
	for n := range checks {
		names = append(names, n)
	}
	// Report order: product failures, then known failures, then lab errors; within each,
	// features in rule order, then the other checks, by name.
	sort.Slice(names, func(i, j int) bool {
		gi, gj := issueGroup(checks[names[i]].Verdict), issueGroup(checks[names[j]].Verdict)
		if gi != gj {
			return gi < gj
		}
		fi, fj := rule.feature(names[i]), rule.feature(names[j])
		if fi < 0 {
			fi = len(rule.Features)
		}
		if fj < 0 {
			fj = len(rule.Features)
		}
		if fi != fj {
			return fi < fj
		}
		return names[i] < names[j]
	})
	tested := make([]bool, len(rule.Features))
	failedAny := false
	var issues []string
	said := map[string]bool{} // upstream lead phrases already in the Report
	for _, n := range names {
		c := checks[n]
		if slices.Contains(rule.Login, n) {
			continue
		}
		f := rule.feature(n)
		if rank.Passed(c.Verdict) {
			if f >= 0 {
				tested[f] = true
			}
			continue
		}
		if c.Verdict == record.Skip {
			continue
		}
		failedAny = true
		is := rule.issue(n, c)
		if f >= 0 && c.Verdict != record.Infra {
			if lead := rule.Said[rule.Features[f].Name]; lead != "" && !said[lead] {
				said[lead] = true
				is = lead + ", " + is
			}
		}
		issues = append(issues, is)
	}
	// What the device inventory adds: a device with no driver, or upstream's own
	// diagnosis of a driver, where no check already said it.
	covered := make([]bool, len(rule.Features))
	for _, d := range devs {
		if said[d.phrase] || slices.Contains(issues, d.phrase) {
			continue
		}
		for i, f := range rule.Features {
			if f.Name == d.feature && !tested[i] && !featureFailed(rule, i, checks) {
				covered[i] = true
				failedAny = true
				said[d.phrase] = true
				issues = append(issues, d.phrase)
			}
		}
	}
	var untested []string
	for i, f := range rule.Features {
		if f.Required && !tested[i] && !covered[i] && !featureFailed(rule, i, checks) {
			untested = append(untested, f.Name)
		}
	}
	parts := []string{"Boots to login"}
	if !failedAny && len(untested) == 0 {
		var fs []string
		for _, f := range rule.Features {
			if f.Required {
				fs = append(fs, f.Name)
			}
		}
		return Recommended, parts[0] + ", " + joinAnd(fs) + " work"
	}
	parts = append(parts, issues...)
	if len(untested) > 0 {
		parts = append(parts, joinAnd(untested)+" not tested")
	}
	return Booting, strings.Join(parts, ", ")
}

// featureFailed reports whether a feature has a check that did not pass (then the
// failure is already in the Report and "not tested" would be wrong).
func featureFailed(rule Rule, f int, checks map[string]record.Check) bool {
	for n, c := range checks {
		if rule.feature(n) == f && !rank.Passed(c.Verdict) && c.Verdict != record.Skip {
			return true
		}
	}
	return false
}

func (rule Rule) issue(check string, c record.Check) string {
	if p, ok := rule.SaidFor[check+" "+string(c.Verdict)]; ok {
		return p
	}
	subject := rule.name(check)
	if strings.HasPrefix(check, "drivers/") {
		subject += " driver"
	}
	switch c.Verdict {
	case record.Crash:
		s := subject + " crashes"
		if c.Title != "" {
			s += " (" + text.OneLine(c.Title, 80) + ")"
		}
		return s
	case record.Hang:
		return subject + " hangs"
	case record.Fail:
		return subject + " fails"
	case record.XFail:
		return subject + " fails (known issue)"
	case record.Infra:
		return subject + " not tested (lab error)"
	}
	return subject + " " + strings.ToLower(string(c.Verdict))
}

var stagePhrase = map[string]string{
	"":           "power-on",
	"start":      "power-on",
	"firmware":   "the firmware",
	"bootloader": "the bootloader",
	"kernel":     "kernel start",
	"init":       "init",
	"drivers":    "driver start",
	"network":    "network start",
}

func brokenReport(c record.Check) string {
	stage, ok := stagePhrase[c.Stage]
	if !ok {
		stage = "stage " + c.Stage
	}
	var s string
	switch c.Verdict {
	case record.Hang:
		s = "Hangs after " + stage
		if c.Component != "" {
			s += " (last output from " + c.Component + ")"
		}
	case record.Crash:
		s = "Crashes after " + stage
		if c.Title != "" {
			s += ": " + text.OneLine(c.Title, 100)
		} else if c.Component != "" {
			s += " in " + c.Component
		}
	case record.XFail:
		s = "Does not reach login (known issue)"
	default:
		s = "Does not reach login"
		if c.Message != "" {
			s += ": " + text.OneLine(c.Message, 100)
		}
	}
	return s
}

// Cell makes text safe for a HARDWARE.md cell: one line, pipes and backslashes escaped,
// angle brackets as entities.
func Cell(s string) string {
	s = text.OneLine(s, 300)
	return strings.NewReplacer(`\`, `\\`, `|`, `\|`, `<`, `&lt;`, `>`, `&gt;`).Replace(s)
}

func version(img record.Image) string {
	if versionRe.MatchString(img.Version) {
		return img.Version
	}
	// A daily image named by redox mk/ci.mk carries `git describe --tags` (0.9.0-123-gabc):
	// upstream's rows for dailies give the release they follow and the image's date
	// (HARDWARE.md: "0.9.0 | 2026-05-02").
	if m := describeRe.FindStringSubmatch(img.Version); m != nil {
		return m[1]
	}
	return "Unknown"
}

var describeRe = regexp.MustCompile(`^(\d+\.\d+(?:\.\d+)?)-\d+-g[0-9a-f]+$`)

var anyDate = regexp.MustCompile(`\d{4}-\d{2}-\d{2}`)

// imageDate is Image.Date, else a version that is a date, else a date in the image
// name, else "Unknown".
func imageDate(img record.Image) string {
	for _, s := range []string{img.Date, img.Version} {
		if IsISODate(s) {
			return s
		}
	}
	for _, m := range anyDate.FindAllString(img.Name, -1) {
		if IsISODate(m) {
			return m
		}
	}
	return "Unknown"
}

func variant(v string) string {
	if v = strings.ToLower(strings.TrimSpace(v)); v == "" {
		return "Unknown"
	}
	return v
}

func arch(a string) string {
	switch strings.ToLower(a) {
	case "x86_64", "x86-64", "amd64":
		return "x86-64"
	case "aarch64", "arm64":
		return "ARM64"
	case "i686", "i586", "i386":
		return strings.ToLower(a)
	case "":
		return "Unknown"
	}
	if strings.HasPrefix(strings.ToLower(a), "riscv64") {
		return "RISC-V"
	}
	return a
}

// firmware is the motherboard firmware: the host's when it is not a PC firmware choice
// (U-Boot, coreboot), else the image's (BIOS or UEFI: which way the PC booted), else the
// host's.
func firmware(img record.Image, h record.Host) string {
	hf, imf := strings.ToLower(h.Firmware), strings.ToLower(img.Firmware)
	switch {
	case hf != "" && hf != "bios" && hf != "uefi":
		return firmwareName(hf)
	case imf != "":
		return firmwareName(imf)
	case hf != "":
		return firmwareName(hf)
	}
	return "Unknown"
}

func firmwareName(f string) string {
	switch f {
	case "bios":
		return "BIOS"
	case "uefi":
		return "UEFI"
	case "u-boot", "uboot":
		return "U-Boot"
	case "coreboot":
		return "coreboot"
	}
	return f
}

// joinOn merges entries equal in every field but one list field into one entry whose
// field lists all their values (in vocabulary order, then alphabetically).
func joinOn(es []Entry, field func(*Row) *string, order []string) []Entry {
	type group struct {
		e    Entry
		vals []string
	}
	var groups []*group
	idx := map[string]*group{}
	for _, e := range es {
		r := e.Row
		v := *field(&r)
		*field(&r) = ""
		k := fmt.Sprint(e.Status, "\x00", r.Markdown())
		g := idx[k]
		if g == nil {
			g = &group{e: e}
			idx[k] = g
			groups = append(groups, g)
		} else {
			g.e.From += "; " + e.From
		}
		for _, x := range splitList(v) {
			if !slices.Contains(g.vals, x) {
				g.vals = append(g.vals, x)
			}
		}
	}
	pos := func(v string) int {
		if i := slices.Index(order, v); i >= 0 {
			return i
		}
		return len(order)
	}
	out := make([]Entry, 0, len(groups))
	for _, g := range groups {
		sort.SliceStable(g.vals, func(i, j int) bool {
			if pos(g.vals[i]) != pos(g.vals[j]) {
				return pos(g.vals[i]) < pos(g.vals[j])
			}
			return g.vals[i] < g.vals[j]
		})
		*field(&g.e.Row) = strings.Join(g.vals, ", ")
		out = append(out, g.e)
	}
	return out
}

func joinAnd(xs []string) string {
	switch len(xs) {
	case 0:
		return ""
	case 1:
		return xs[0]
	}
	return strings.Join(xs[:len(xs)-1], ", ") + " and " + xs[len(xs)-1]
}

func issueGroup(v record.Verdict) int {
	switch {
	case v.CountsAgainstRedox():
		return 0
	case v == record.XFail:
		return 1
	case v == record.Infra:
		return 2
	}
	return 3
}

// deviceIssue is what the device inventory says about a feature, in upstream's words.
type deviceIssue struct{ feature, phrase string }

// deviceIssues reads the boot's device inventory (reports/devices grades it) for what
// upstream's rows say in words (../shared/redox-hardware/HARDWARE.md): an Ethernet
// controller no driver claimed is "No Ethernet driver", an audio device no driver claimed
// "No audio", ihdad's panic on a codec without output pins "No audio, HDA driver cannot
// find output pins", a failing USB controller "USB does not work".
func deviceIssues(recs []*record.Record) []deviceIssue {
	var out []deviceIssue
	for _, s := range devices.Grade(recs) {
		var is deviceIssue
		switch {
		case strings.HasPrefix(s.Class, "02.00") && s.Grade == devices.NoDriver:
			is = deviceIssue{"Ethernet", "No Ethernet driver"}
		case (strings.HasPrefix(s.Class, "04.03") || strings.HasPrefix(s.Class, "04.01")) && s.Grade == devices.NoDriver:
			is = deviceIssue{"sound", "No audio"}
		case devices.Failing(s.Grade) && strings.Contains(strings.ToLower(s.Note+" "+s.Why), "no output pins"):
			is = deviceIssue{"sound", "No audio, HDA driver cannot find output pins"}
		case strings.HasPrefix(s.Class, "0c.03") && devices.Failing(s.Grade):
			is = deviceIssue{"input", "USB does not work"}
		default:
			continue
		}
		if !slices.Contains(out, is) {
			out = append(out, is)
		}
	}
	return out
}
