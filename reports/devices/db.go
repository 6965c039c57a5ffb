package devices

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"
)

// DB gathers devices over boots, oldest run first (Add), keeping per device and machine
// the newest boot and when its grade last changed: a year of nightlies costs memory per
// device and machine, not per boot.
type DB struct {
	entries map[string]*Entry
}

// NewDB returns an empty database.
func NewDB() *DB { return &DB{entries: map[string]*Entry{}} }

// Entry is one device ID over every machine that carries it.
type Entry struct {
	Key, Bus, VendorID, DeviceID, Subsystem string
	Class                                   string // "cc.ss.pp" as last printed
	// Names from the ID databases (Name filled by Names; "" when unknown).
	Vendor, Name, SubName, ClassName, TopClass string
	// Machines carrying it, by name.
	Machines map[string]*On
}

// On is one device on one machine: its newest boot, and since when its grade is what it is.
type On struct {
	Machine string
	Host    record.Host
	Seen    Seen // the newest boot's grade and evidence
	Image   record.Image
	Run     string
	Date    time.Time // the newest boot's run start
	// Since is the first run of the current grade's unbroken streak, SinceImage its image;
	// From is the grade before it ("" when the device always had this grade here).
	Since      time.Time
	SinceImage record.Image
	SinceRun   string
	From       string
	// Boots counts the boots that showed the device on this machine.
	Boots int
}

// Add feeds the graded devices of one boot (Grade's result for one run, host and image).
// Calls must come in run order, oldest first.
func (db *DB) Add(run string, started time.Time, host record.Host, img record.Image, seen []Seen) {
	for _, s := range seen {
		k := Key(s.Device)
		e := db.entries[k]
		if e == nil {
			e = &Entry{Key: k, Bus: s.Bus, VendorID: strings.ToLower(s.VendorID), DeviceID: strings.ToLower(s.DeviceID),
				Subsystem: strings.ToLower(s.Subsystem), Machines: map[string]*On{}}
			db.entries[k] = e
		}
		if s.Class != "" {
			e.Class = s.Class
		}
		on := e.Machines[host.Name]
		if on == nil {
			on = &On{Machine: host.Name, Since: started, SinceImage: img, SinceRun: run}
			e.Machines[host.Name] = on
		} else if on.Seen.Grade != s.Grade && on.Run != run {
			on.From, on.Since, on.SinceImage, on.SinceRun = on.Seen.Grade, started, img, run
		}
		on.Host, on.Seen, on.Image, on.Run, on.Date = host, s, img, run, started
		on.Boots++
	}
}

// Entries returns every device, named from ids (nil names nothing), in the order the
// support page shows them: devices that work on one machine and fail on another first,
// then those failing somewhere, then by key.
func (db *DB) Entries(ids *IDs) []*Entry {
	out := make([]*Entry, 0, len(db.entries))
	for _, e := range db.entries {
		e.Vendor, e.Name, e.SubName = ids.Names(e.Bus, e.VendorID, e.DeviceID, e.Subsystem)
		e.ClassName, e.TopClass = ids.ClassName(e.Bus, e.Class), ids.TopClass(e.Bus, e.Class)
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if sa, sb := a.Split(), b.Split(); sa != sb {
			return sa
		}
		ca, cb := a.Counts(), b.Counts()
		fa, fb := ca[Malfunction]+ca[Failed], cb[Malfunction]+cb[Failed]
		if fa != fb {
			return fa > fb
		}
		return a.Key < b.Key
	})
	return out
}

// Counts is how many machines show each grade (in their newest boot).
func (e *Entry) Counts() map[string]int {
	c := map[string]int{}
	for _, on := range e.Machines {
		c[on.Seen.Grade]++
	}
	return c
}

// Split reports whether the device works on one machine and fails on another: the
// first thing the Devices view shows.
func (e *Entry) Split() bool {
	c := e.Counts()
	return c[Works] > 0 && c[Malfunction]+c[Failed] > 0
}

// Sorted lists the machines by name.
func (e *Entry) Sorted() []*On {
	out := make([]*On, 0, len(e.Machines))
	for _, on := range e.Machines {
		out = append(out, on)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Machine < out[j].Machine })
	return out
}

// Drivers lists the drivers that claimed the device on any machine.
func (e *Entry) Drivers() []string {
	set := map[string]bool{}
	for _, on := range e.Machines {
		if on.Seen.Driver != "" {
			set[on.Seen.Driver] = true
		}
	}
	out := make([]string, 0, len(set))
	for d := range set {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

// Title is the device as a reader knows it: "Intel Corporation 82540EM Gigabit Ethernet
// Controller", or the bare ID when the databases do not name it.
func (e *Entry) Title() string {
	n := e.Name
	switch {
	case n == "" && e.VendorID == "" && e.DeviceID == "":
		n = e.Bus + " device of class " + e.Class + " (no IDs printed)"
		if e.ClassName != "" {
			n = e.ClassName + " (" + e.Bus + ", no IDs printed)"
		}
	case n == "":
		n = "unknown device " + e.VendorID + ":" + e.DeviceID
	}
	if e.Vendor != "" {
		n = e.Vendor + " " + n
	}
	if e.SubName != "" {
		n += " (" + e.SubName + ")"
	}
	return n
}

// Changed is the newest grade change on any machine (zero when none changed), with the
// machine it happened on.
func (e *Entry) Changed() (*On, bool) {
	var last *On
	for _, on := range e.Sorted() {
		if on.From != "" && (last == nil || on.Since.After(last.Since)) {
			last = on
		}
	}
	return last, last != nil
}

// standingWords are the groups of Standing, in its order.
var standingWords = []struct {
	grades []string
	words  string
}{
	{[]string{Works}, "works"},
	{[]string{Malfunction, Failed}, "fails"},
	{[]string{Detected}, "driver bound but not exercised"},
	{[]string{NoDriver}, "no driver"},
	{[]string{Listed}, "not reached"},
}

// Standing says where the device stands: "works on 4 machines, fails on 1, no driver
// on 2".
func Standing(c map[string]int) string {
	var parts []string
	for _, w := range standingWords {
		n := 0
		for _, g := range w.grades {
			n += c[g]
		}
		if n == 0 {
			continue
		}
		unit := "machines"
		if n == 1 {
			unit = "machine"
		}
		if len(parts) == 0 {
			parts = append(parts, fmt.Sprintf("%s on %d %s", w.words, n, unit))
		} else {
			parts = append(parts, fmt.Sprintf("%s on %d", w.words, n))
		}
	}
	return strings.Join(parts, ", ")
}

// Standing is the entry's standing over its machines.
func (e *Entry) Standing() string { return Standing(e.Counts()) }

// DriverWork lists the devices with no driver or a failing one on some machine, ranked
// by how many tested machines carry them that way: the driver-work list for Redox
// developers. Bridges (PCI class 06: host, ISA, PCI-to-PCI) are left out: pcid walks them
// itself and no driver is expected for them.
func DriverWork(es []*Entry) []*Entry {
	var out []*Entry
	for _, e := range es {
		if e.Bus == "pci" && strings.HasPrefix(e.Class, "06.") {
			continue
		}
		if needsWork(e) > 0 {
			out = append(out, e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := needsWork(out[i]), needsWork(out[j])
		if a != b {
			return a > b
		}
		return out[i].Key < out[j].Key
	})
	return out
}

func needsWork(e *Entry) int {
	c := e.Counts()
	return c[NoDriver] + c[Malfunction] + c[Failed]
}

// NeedsWork is how many machines carry the device with no driver or a failing one.
func (e *Entry) NeedsWork() int { return needsWork(e) }
