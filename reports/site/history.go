package site

import (
	"fmt"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/hardwaremd"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/rank"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// machine is one host over the whole history.
type machine struct {
	name string
	slug string
	host record.Host // as the newest run describes it
	runs []*hostRun  // oldest first; only runs that tested the machine
}

// hostRun is one machine in one run: its records grouped by image.
type hostRun struct {
	run    *run
	images []*imageRun // by image name
	best   *imageRun   // the image with the best status: the machine's headline
}

// imageRun is one (machine, image) pair of one run: the unit HARDWARE.md gives a row.
type imageRun struct {
	image  record.Image
	recs   []*record.Record
	checks map[string]record.Check   // worst verdict per check over the pair's jobs
	from   map[string]*record.Record // the record holding that check
	status status
}

// status is a HARDWARE.md status class; Untested when the rule gives no row (login not
// checked, INFRA or skipped), with the rule's reason.
type status struct {
	Name   string // Recommended, Booting, Broken, Untested
	Class  string // recommended, booting, broken, untested (a fixed set)
	Report string // the HARDWARE.md Report text, or why untested
	order  int
}

var untested = status{Name: "Untested", Class: "untested", order: 3}

// statusOf applies the HARDWARE.md rule (hardwaremd.DefaultRule, what `report
// hardware-md` uses) to the jobs of one (machine, image) pair. The rule gives rows to real
// machines only; a virtual machine is judged by the same rule as if it were one (its
// records are copied with a placeholder vendor/model and kind), so a VM's class means
// what a laptop's does.
func statusOf(recs []*record.Record) status {
	cp := make([]*record.Record, len(recs))
	for i, r := range recs {
		c := *r
		if !hardwaremd.Real(c.Host.Kind) {
			c.Host.Kind = "virtual-" + c.Host.Kind
		}
		if strings.TrimSpace(c.Host.Vendor) == "" {
			c.Host.Vendor = "-"
		}
		if strings.TrimSpace(c.Host.Model) == "" {
			c.Host.Model = "-"
		}
		cp[i] = &c
	}
	es, notes := hardwaremd.DefaultRule.Entries(cp)
	if len(es) == 0 {
		s := untested
		if len(notes) > 0 {
			s.Report = strings.TrimSuffix(notes[0].Reason, ": no row")
		}
		return s
	}
	e := es[0]
	s := status{Name: e.Status.String(), Class: strings.ToLower(e.Status.String()), order: int(e.Status), Report: unMarkdown(e.Row.Report)}
	return s
}

var unCell = strings.NewReplacer(`\|`, `|`, `\\`, `\`, `&lt;`, `<`, `&gt;`, `>`)

// unMarkdown undoes hardwaremd.Cell's escaping (html/template escapes again for HTML).
func unMarkdown(s string) string { return unCell.Replace(s) }

// statusKey is everything of a pair's records that the HARDWARE.md rule reads for the
// class and the Report text (the checks; the host's kind and identity), so a year of
// nightlies with the same outcome costs one rule evaluation per distinct outcome.
func statusKey(recs []*record.Record) string {
	var sb strings.Builder
	h := recs[0].Host
	sb.WriteString(h.Kind + "\x00" + h.Vendor + "\x00" + h.Model + "\x01")
	for _, r := range recs {
		for _, c := range r.Checks {
			for _, f := range []string{c.Name, string(c.Verdict), c.Stage, c.Component, c.Title, c.Message, c.Reference} {
				sb.WriteString(f)
				sb.WriteByte(0)
			}
			sb.WriteByte(1)
		}
		sb.WriteByte(2)
	}
	return sb.String()
}

// machines groups every record of every run by host, in one pass.
func (b *builder) machines() []*machine {
	byName := map[string]*machine{}
	statuses := map[string]status{}
	for _, r := range b.runs {
		perHost := map[string]map[string]*imageRun{}
		for _, rec := range r.Records {
			m := byName[rec.Host.Name]
			if m == nil {
				m = &machine{name: rec.Host.Name, slug: slug(rec.Host.Name)}
				byName[rec.Host.Name] = m
			}
			m.host = rec.Host
			imgs := perHost[rec.Host.Name]
			if imgs == nil {
				imgs = map[string]*imageRun{}
				perHost[rec.Host.Name] = imgs
			}
			ir := imgs[rec.Image.Name]
			if ir == nil {
				ir = &imageRun{image: rec.Image, checks: map[string]record.Check{}, from: map[string]*record.Record{}}
				imgs[rec.Image.Name] = ir
			}
			ir.recs = append(ir.recs, rec)
			for _, c := range rec.Checks {
				if old, ok := ir.checks[c.Name]; !ok || rank.Of(c.Verdict) > rank.Of(old.Verdict) {
					ir.checks[c.Name], ir.from[c.Name] = c, rec
				}
			}
		}
		for name, imgs := range perHost {
			hr := &hostRun{run: r}
			for _, in := range keys(imgs) {
				ir := imgs[in]
				k := statusKey(ir.recs)
				st, ok := statuses[k]
				if !ok {
					st = statusOf(ir.recs)
					statuses[k] = st
				}
				ir.status = st
				hr.images = append(hr.images, ir)
				if hr.best == nil || ir.status.order < hr.best.status.order {
					hr.best = ir
				}
			}
			byName[name].runs = append(byName[name].runs, hr)
		}
	}
	out := make([]*machine, 0, len(byName))
	for _, m := range byName {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return machineLess(out[i], out[j]) })
	return out
}

// machineLess orders real machines by vendor and model (as HARDWARE.md does), then
// virtual machines by name.
func machineLess(a, b *machine) bool {
	ra, rb := isReal(a.host), isReal(b.host)
	if ra != rb {
		return ra
	}
	ka := strings.ToLower(a.host.Vendor + "\x00" + a.host.Model + "\x00" + a.name)
	kb := strings.ToLower(b.host.Vendor + "\x00" + b.host.Model + "\x00" + b.name)
	if !ra {
		ka, kb = a.name, b.name
	}
	return ka < kb
}

func isReal(h record.Host) bool {
	return h.Vendor != "" && h.Model != "" && hardwaremd.Real(h.Kind)
}

// label is how a reader recognises the machine: vendor and model for real hardware, the
// configuration for a virtual machine.
func label(h record.Host) string {
	if isReal(h) {
		return strings.TrimSpace(h.Vendor + " " + h.Model)
	}
	var parts []string
	k := h.Kind
	switch k {
	case "qemu":
		k = "QEMU"
	case "cloud-hypervisor":
		k = "Cloud Hypervisor"
	}
	parts = append(parts, strings.TrimSpace(k+" "+h.Machine))
	for _, s := range []string{h.Arch, strings.ToUpper(h.Firmware), h.CPU, h.Memory, h.Accel} {
		if s != "" {
			parts = append(parts, s)
		}
	}
	if h.SMP > 0 {
		parts = append(parts, fmt.Sprintf("%d CPUs", h.SMP))
	}
	return strings.Join(parts, " · ")
}

// imageVersion names an image for a reader: version and build date.
func imageVersion(img record.Image) string {
	var f []string
	for _, s := range []string{img.Version, img.Date} {
		if s != "" {
			f = append(f, s)
		}
	}
	if len(f) == 0 {
		return img.Name
	}
	return strings.Join(f, " · ")
}

// imageFacts names the exact image tested, for the machine page: version, date, the file
// downloaded (a daily's name) and the start of its digest (the whole digest is in the job's
// result.json).
func imageFacts(img record.Image) string {
	var f []string
	for _, s := range []string{img.Version, img.Date, img.Variant, img.Arch, img.Firmware, img.File} {
		if s != "" {
			f = append(f, s)
		}
	}
	if len(img.SHA256) > 12 {
		f = append(f, "sha256 "+img.SHA256[:12])
	}
	return strings.Join(f, " · ")
}

// sinceLabel is what "since ..." names: the image's build date, else its version, else
// the day of the run.
func sinceLabel(hr *hostRun, img record.Image) string {
	switch {
	case img.Date != "":
		return img.Date
	case img.Version != "":
		return img.Version
	}
	return fmtDay(hr.run.Info.Started)
}

// ---- device marks ----

// mark is one device's state on a machine in one run.
type mark struct {
	Device, Name, State, Symbol, Title, Href string
}

// Device states (fixed set, used as CSS classes).
const (
	works    = "works"
	fails    = "fails"
	hangs    = "hangs"
	absent   = "absent"
	notTried = "untested"
)

var symbols = map[string]string{works: "✓", fails: "✗", hangs: "…", absent: "–", notTried: "?"}

// deviceNames are the short names on the marks (HARDWARE.md's longer ones are in
// hardwaremd.DefaultRule.Names).
var deviceNames = map[string]string{
	"nvme": "NVMe", "ahci": "AHCI", "ide": "IDE", "e1000": "e1000", "rtl8168": "RTL8168", "rtl8139": "RTL8139",
	"ixgbe": "ixgbe", "hda": "HDA", "ihda": "HDA", "ac97": "AC'97", "sb16": "SB16", "ps2": "PS/2",
	"xhci": "xHCI", "usb-hid": "USB HID", "usbhid": "USB HID", "vesa": "VESA", "bga": "BGA",
	"ihdg": "Intel GPU", "ihdgd": "Intel GPU", "virtio-gpu": "virtio-gpu", "virtio-blk": "virtio-blk",
	"virtio-net": "virtio-net", "usb": "USB",
}

func deviceName(d string) string {
	if n, ok := deviceNames[d]; ok {
		return n
	}
	return text.OneLine(d, 40)
}

func stateOf(v record.Verdict) string {
	switch v {
	case record.Pass, record.XPass:
		return works
	case record.Hang:
		return hangs
	case record.Fail, record.Crash, record.XFail:
		return fails
	case record.Skip:
		return absent
	}
	return notTried
}

// devices lists the devices of a pair: the host's declared ones and every drivers/ check.
func (ir *imageRun) devices(h record.Host) []string {
	set := map[string]bool{}
	for _, d := range h.Devices {
		set[d] = true
	}
	for n := range ir.checks {
		if d, ok := strings.CutPrefix(n, "drivers/"); ok {
			set[d] = true
		}
	}
	return keys(set)
}

// marks gives one mark per device; root is the link prefix to the site root.
func (b *builder) marks(ir *imageRun, h record.Host, root string) []mark {
	var out []mark
	for _, d := range ir.devices(h) {
		m := mark{Device: d, Name: deviceName(d), State: notTried}
		if c, ok := ir.checks["drivers/"+d]; ok {
			m.State = stateOf(c.Verdict)
			m.Title = text.OneLine(string(c.Verdict)+": "+c.Message, 200)
			if p := b.jobs[ir.from["drivers/"+d]].page(); p != "" {
				m.Href = root + p
			}
		} else {
			m.Title = "no check ran"
		}
		m.Symbol = symbols[m.State]
		out = append(out, m)
	}
	return out
}

// ---- failures and since when ----

// failing reports whether a verdict is a failure a reader cares about: against Redox, or
// a declared known failure.
func failing(v record.Verdict) bool { return v.CountsAgainstRedox() || v == record.XFail }

// issue is one failing check of a pair, with the image since which it fails.
type issue struct {
	check string
	c     record.Check
	rec   *record.Record
	since string
	first *hostRun // the oldest run of the unbroken failing streak
}

// issues lists the failing checks of m.runs[i]'s pair ir, login first, then devices, then
// the rest; the per-stage boot checks are left out (the login check says where it stopped).
func (m *machine) issues(i int, ir *imageRun) []issue {
	var out []issue
	for _, n := range keys(ir.checks) {
		c := ir.checks[n]
		if !failing(c.Verdict) {
			continue
		}
		if strings.HasPrefix(n, "boot/") && n != "boot/login" && n != "boot/no-crash" {
			continue
		}
		is := issue{check: n, c: c, rec: ir.from[n], first: m.runs[i]}
		firstImg := ir.image
		var passed *imageRun // the newest run before the streak where the check did not fail
		for j := i - 1; j >= 0 && passed == nil; j-- {
			var prev *imageRun
			for _, x := range m.runs[j].images {
				if x.image.Name == ir.image.Name {
					prev = x
				}
			}
			if prev == nil {
				continue // not tested that night: the streak goes on
			}
			if pc, ok := prev.checks[n]; ok && failing(pc.Verdict) {
				is.first, firstImg = m.runs[j], prev.image
				continue
			}
			passed = prev
		}
		is.since = sinceLabel(is.first, firstImg)
		if passed != nil && passed.image.Version == firstImg.Version && passed.image.Date == firstImg.Date {
			// The same image passed before: the change is not the image's (the machine,
			// the lab, or a flaky check), so name the run instead.
			is.since = "the run of " + fmtDay(is.first.run.Info.Started) + " (same image as before)"
		}
		out = append(out, is)
	}
	order := func(n string) int {
		switch {
		case n == "boot/login":
			return 0
		case strings.HasPrefix(n, "drivers/"):
			return 1
		}
		return 2
	}
	sort.SliceStable(out, func(a, c int) bool { return order(out[a].check) < order(out[c].check) })
	return out
}

// subject is what a failing check is about, for a reader: "HDA", "login", "network/dhcp".
func subject(check string) string {
	if d, ok := strings.CutPrefix(check, "drivers/"); ok {
		return deviceName(d)
	}
	switch check {
	case "boot/login":
		return "boot"
	case "boot/no-crash":
		return "a daemon"
	}
	if n, ok := hardwaremd.DefaultRule.Names[check]; ok {
		return n // "network/dhcp" -> "DHCP", as HARDWARE.md's Report says it
	}
	return text.OneLine(check, 60)
}

// phrase says what happened: "hangs while ihdad starts", "crashes in ihdad (title)".
// A driver check's hang names the driver that was starting; a boot hang names the stage
// reached and the component that printed last (the harness's own wording).
func phrase(check string, c record.Check) string {
	comp := text.OneLine(c.Component, 40)
	switch c.Verdict {
	case record.Hang:
		s := "hangs"
		if c.Stage != "" {
			s += " after stage " + text.OneLine(c.Stage, 30)
		}
		switch {
		case comp != "" && strings.HasPrefix(check, "drivers/"):
			s = "hangs while " + comp + " starts"
		case comp != "":
			s += " (last output from " + comp + ")"
		}
		return s
	case record.Crash:
		s := "crashes"
		if comp != "" {
			s += " in " + comp
		}
		if c.Title != "" {
			s += " (" + text.OneLine(c.Title, 80) + ")"
		}
		return s
	case record.XFail:
		return "fails (known issue)"
	}
	s := "fails"
	if c.Message != "" {
		s += ": " + text.OneLine(c.Message, 80)
	}
	return s
}

// summary is the front page's one line: "HDA: hangs while ihdad starts, since 2026-11-30".
func summary(is []issue) string {
	const max = 3
	var parts []string
	for k, i := range is {
		if k == max {
			parts = append(parts, fmt.Sprintf("and %d more", len(is)-max))
			break
		}
		parts = append(parts, fmt.Sprintf("%s: %s, since %s", subject(i.check), phrase(i.check, i.c), i.since))
	}
	return strings.Join(parts, "; ")
}
