// Package inventory builds a boot's device inventory from its transcript: every function
// the OS enumerated (address, vendor:device, class), the driver that claimed it and how far
// that driver got (record.Device's states), so a report can say "the e1000 at 0000:00:05.0
// was spawned and never initialised" rather than only "drivers/e1000 FAIL". What a profile
// prints is a Table (redox.go); the analysis of the same boot (classify) supplies the
// crashes, driver errors and the stall.
//
// It also judges the failures that follow from what the machine lacks (Excuse): a network
// daemon that exits because the machine has no network adapter is not a crash of the image.
package inventory

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Table is how one profile's boot shows its devices. Patterns use named groups.
type Table struct {
	Profile string
	// Enumerated is the bus driver's line for one function: groups addr, vendor, device,
	// class ("cc.ss.pp", more fields ignored). The first line for an address counts.
	Enumerated []profile.Pattern
	// Firmware is the firmware naming a device it booted from, before the OS ran (group
	// desc, and path: a UEFI device path): a device the transcript shows no bus line for
	// (an excerpt) is still listed, with what the firmware said.
	Firmware []profile.Pattern
	// Spawned is a driver being started: group driver (or c). The function is the next one, in
	// enumeration order, that the driver claims (Claims) and no driver has yet.
	Spawned []profile.Pattern
	// Banner is a driver naming the function it drives: group node (the address in the
	// driver's spelling, see NodeKey), and group driver or group banner (looked up in
	// Banners).
	Banner  []profile.Pattern
	Banners map[string]string
	// Claims say which driver the image starts for which function.
	Claims []Claim
	// Initialised are lines a driver prints only after it talked to the device, by driver.
	Initialised map[string][]profile.Pattern
	// Absences are daemons that fail, by design, on a machine without their hardware
	// (Excuse).
	Absences []Absence
	// Driver is the driver a line comes from (group driver, or a name Banners maps to
	// one), for the Initialised lines.
	Driver []profile.Pattern
}

// Claim is one driver's match rule: a class (and optionally subclass and interface; -1
// is any) and optionally a vendor with device IDs.
type Claim struct {
	Driver                     string
	Class, Subclass, Interface int
	Vendor                     string   // four lower-case hex digits, "" any
	Devices                    []string // lower-case hex, empty any
}

func (c Claim) matches(d *record.Device) bool {
	cl, sub, ifc, ok := classParts(d.Class)
	if !ok || cl != c.Class || (c.Subclass >= 0 && sub != c.Subclass) || (c.Interface >= 0 && ifc != c.Interface) {
		return false
	}
	if c.Vendor != "" && d.VendorID != c.Vendor {
		return false
	}
	if len(c.Devices) > 0 {
		for _, id := range c.Devices {
			if id == d.DeviceID {
				return true
			}
		}
		return false
	}
	return true
}

func classParts(class string) (cl, sub, ifc int, ok bool) {
	f := strings.Split(class, ".")
	if len(f) < 3 {
		return 0, 0, 0, false
	}
	var v [3]int
	for i := range v {
		n, err := strconv.ParseUint(f[i], 16, 8)
		if err != nil {
			return 0, 0, 0, false
		}
		v[i] = int(n)
	}
	return v[0], v[1], v[2], true
}

// Tables by profile name.
var Tables = map[string]*Table{}

func register(t *Table) { Tables[t.Profile] = t }

// Builder reads a transcript line by line (Feed) and gives the inventory (Finish).
type Builder struct {
	t       *Table
	devs    []*dev
	byKey   map[string]*dev
	spawned map[string][]*dev // driver -> the functions it was started for, in order
	pending map[string]int    // driver -> spawns not yet matched to a function
	said    []string          // per Absence: the daemon's own line saying so
	// initLits are the literal prefilters of every Initialised pattern: a line holding
	// none of them is no driver's initialised line (nil: some pattern has none, no
	// prefilter). Keeps the inventory cheap beside the analyser.
	initLits []string
}

type dev struct {
	record.Device
	initLine int  // the line that showed it initialised
	firmware bool // named by the firmware only
}

// New starts an inventory for a profile; nil when the profile prints no device table.
func New(profileName string) *Builder {
	t := Tables[profileName]
	if t == nil {
		return nil
	}
	b := &Builder{t: t, byKey: map[string]*dev{}, spawned: map[string][]*dev{}, pending: map[string]int{}, said: make([]string, len(t.Absences))}
	for _, ps := range t.Initialised {
		for _, p := range ps {
			if p.Contains == "" {
				b.initLits = nil
				return b
			}
			b.initLits = append(b.initLits, p.Contains)
		}
	}
	return b
}

// NodeKey is an address in a form both spellings share: pcid's "0000:00:02.0" (or the
// older "00-00:02.0") and a driver's "pci-0000-00-02.0" all become "0000-00-02.0" /
// "00-00-02.0".
func NodeKey(addr string) string {
	return strings.ToLower(strings.ReplaceAll(strings.TrimPrefix(addr, "pci-"), ":", "-"))
}

func match(ps []profile.Pattern, line string) (map[string]string, bool) {
	for _, p := range ps {
		if g, ok := p.Match(line); ok {
			return g, true
		}
	}
	return nil, false
}

// Feed reads one line (n is its 1-based line number). Nil-safe.
func (b *Builder) Feed(n int, line string) {
	if b == nil {
		return
	}
	t := b.t
	for i, ab := range t.Absences {
		if b.said[i] != "" {
			continue
		}
		if _, ok := match(ab.Said, line); ok {
			b.said[i] = strings.TrimSpace(line)
		}
	}
	if g, ok := match(t.Enumerated, line); ok {
		b.enumerated(n, g)
		return
	}
	if g, ok := match(t.Spawned, line); ok {
		if drv := g["driver"] + g["c"]; drv != "" {
			b.spawn(n, drv)
		}
		return
	}
	if g, ok := match(t.Banner, line); ok {
		drv := g["driver"]
		if drv == "" {
			drv = t.Banners[g["banner"]]
		}
		if d := b.byKey[NodeKey(g["node"])]; d != nil && drv != "" {
			b.claim(d, drv, n)
			if d.State == record.DeviceSpawned && d.Evidence[len(d.Evidence)-1] != n {
				d.Evidence = append(d.Evidence, n)
			}
		}
		return
	}
	if g, ok := match(t.Firmware, line); ok && len(b.devs) == 0 {
		b.firmware(n, g)
		return
	}
	if len(t.Initialised) > 0 && b.mayInit(line) {
		g, ok := match(t.Driver, line)
		if !ok {
			return
		}
		drv := g["driver"]
		if a := t.Banners[drv]; a != "" {
			drv = a
		}
		ps := t.Initialised[drv]
		if _, ok := match(ps, line); !ok {
			return
		}
		for _, d := range b.spawned[drv] {
			if d.initLine == 0 && d.State == record.DeviceSpawned {
				d.initLine, d.State = n, record.DeviceInit
				d.Evidence = append(d.Evidence, n)
				return
			}
		}
	}
}

func (b *Builder) mayInit(line string) bool {
	if b.initLits == nil {
		return true
	}
	// Only a line some driver pattern can attribute (their prefilters) is looked at.
	drv := false
	for _, p := range b.t.Driver {
		drv = drv || p.Contains == "" || strings.Contains(line, p.Contains)
	}
	if !drv {
		return false
	}
	for _, l := range b.initLits {
		if strings.Contains(line, l) {
			return true
		}
	}
	return false
}

func (b *Builder) enumerated(n int, g map[string]string) {
	key := NodeKey(g["addr"])
	if b.byKey[key] != nil {
		return
	}
	d := &dev{Device: record.Device{Bus: "pci", Address: g["addr"], VendorID: strings.ToLower(g["vendor"]),
		DeviceID: strings.ToLower(g["device"]), Class: strings.ToLower(g["class"]), State: record.DeviceEnumerated,
		Evidence: []int{n}}}
	// A firmware-only entry for the same device gives way to the bus line.
	for i, f := range b.devs {
		if f.firmware {
			b.devs = append(b.devs[:i], b.devs[i+1:]...)
			break
		}
	}
	b.devs = append(b.devs, d)
	b.byKey[key] = d
	// A driver started before its function was listed (out of order): claim it now.
	for drv, k := range b.pending {
		if k > 0 && b.claims(drv, d) {
			b.pending[drv]--
			b.claim(d, drv, n)
		}
	}
}

var rePciNode = regexp.MustCompile(`^PciRoot\(0x([0-9A-Fa-f]+)\)/Pci\(0x([0-9A-Fa-f]+),0x([0-7])\)`)

func (b *Builder) firmware(n int, g map[string]string) {
	for _, d := range b.devs {
		if d.Note != "" && strings.Contains(d.Note, g["desc"]) {
			return
		}
	}
	d := &dev{firmware: true, Device: record.Device{Bus: "pci", State: record.DeviceEnumerated, Evidence: []int{n},
		Note: fmt.Sprintf("named only by the firmware's boot entry %q; the transcript has no bus line for it", g["desc"])}}
	if m := rePciNode.FindStringSubmatch(g["path"]); m != nil && m[1] == "0" {
		dv, _ := strconv.ParseUint(m[2], 16, 8)
		d.Address = fmt.Sprintf("0000:00:%02x.%s", dv, m[3])
	}
	b.devs = append(b.devs, d)
}

func (b *Builder) claims(drv string, d *dev) bool {
	for _, c := range b.t.Claims {
		if c.Driver == drv && c.matches(&d.Device) {
			return true
		}
	}
	return false
}

func (b *Builder) spawn(n int, drv string) {
	for _, d := range b.devs {
		if d.Driver == "" && !d.firmware && b.claims(drv, d) {
			b.claim(d, drv, n)
			return
		}
	}
	b.pending[drv]++
}

// claim makes drv the driver of d (a banner corrects a claim by order).
func (b *Builder) claim(d *dev, drv string, n int) {
	if d.Driver == drv {
		return
	}
	if d.Driver != "" {
		// Another driver's claim by order was wrong: move it to its next candidate.
		old := d.Driver
		b.spawned[old] = remove(b.spawned[old], d)
	}
	d.Driver = drv
	if d.State == record.DeviceEnumerated {
		d.State = record.DeviceSpawned
		d.Evidence = append(d.Evidence, n)
	}
	b.spawned[drv] = append(b.spawned[drv], d)
}

func remove(ds []*dev, d *dev) []*dev {
	out := ds[:0]
	for _, x := range ds {
		if x != d {
			out = append(out, x)
		}
	}
	return out
}

// Finish gives the inventory, with the analysis of the same boot: a crash or exit of a
// driver makes its functions "exited", a driver error "error", a hang whose last output
// came from a driver makes the function it was started for last "stalled". Functions no
// driver claimed are "no-driver" once the boot went past the driver stage (it reached
// login), else they stay "enumerated". Nil-safe (nil: no inventory).
func (b *Builder) Finish(a classify.Analysis) []record.Device {
	if b == nil || len(b.devs) == 0 {
		return nil
	}
	for _, e := range a.Events {
		drv := baseName(e.Component)
		ds := b.spawned[drv]
		if len(ds) == 0 {
			continue
		}
		switch {
		case e.Kind == profile.KindHang:
			d := ds[len(ds)-1]
			if d.State == record.DeviceSpawned || d.State == record.DeviceError {
				d.State = record.DeviceStalled
				d.Evidence = append(d.Evidence, e.Line)
				d.Note = fmt.Sprintf("%s printed last before the boot stalled: %s", drv, e.Title)
			}
		case profile.IsCrash(e.Kind):
			for _, d := range ds {
				if d.State != record.DeviceExited {
					d.State = record.DeviceExited
					d.Evidence = append(d.Evidence, e.Line)
					d.Note = fmt.Sprintf("%s: %s", e.Kind, e.Title)
				}
			}
		case e.Kind == profile.KindDriverError:
			for _, d := range ds {
				if d.State == record.DeviceSpawned || d.State == record.DeviceInit {
					d.State = record.DeviceError
					d.Evidence = append(d.Evidence, e.Line)
					d.Note = e.Title
				}
			}
		}
	}
	out := make([]record.Device, 0, len(b.devs))
	for _, d := range b.devs {
		if d.Driver == "" && d.State == record.DeviceEnumerated && !d.firmware && a.ReachedLogin {
			d.State = record.DeviceNoDriver
		}
		out = append(out, d.Device)
	}
	return out
}

func baseName(c string) string {
	c = strings.TrimRight(c, ",;:.")
	if i := strings.LastIndexByte(c, '/'); i >= 0 {
		c = c[i+1:]
	}
	return c
}

// FromLines is the inventory of a whole boot log (lines[0] is line 1), and the boot's
// events with those the machine explains marked expected (Excuse).
func FromLines(profileName string, lines []string, a classify.Analysis, m Machine) ([]record.Device, []classify.Event) {
	b := New(profileName)
	if b == nil {
		return nil, a.Events
	}
	for i, l := range lines {
		b.Feed(i+1, l)
	}
	devs := b.Finish(a)
	return devs, b.Excuse(a.Events, devs, m)
}
