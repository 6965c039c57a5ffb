// Package devices turns the per-boot device inventory of the job records
// (record.Record.Devices) into a compatibility database: every device (PCI or USB
// vendor:device, and subsystem where the OS printed it) with a graded status per machine,
// backed by the transcript lines and checks that decided it, named from Debian's pci.ids
// and usb.ids, across runs and images. The support page's Devices view, devices.json,
// devices.csv and `analyze --known` read it. docs/devices.md documents the grades and the
// export's schema.
package devices

import (
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/rank"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// Grades, worst last. A device in one boot has exactly one. "works" needs a suite that
// exercised the device (a driver bound is only "detected"): a hardware list that scores
// detected as works is the mistake this avoids.
const (
	Listed      = "listed"      // enumerated; the boot ended before drivers were started
	NoDriver    = "no-driver"   // the boot went past driver start and nothing claimed it
	Detected    = "detected"    // a driver was spawned for it (and announced the function)
	Works       = "works"       // a suite exercised it and it passed
	Malfunction = "malfunction" // the driver printed error lines for it, or its check failed
	Failed      = "failed"      // the driver crashed or exited, or the boot stalled on it
)

// Grades lists every grade in the order pages show them.
var Grades = []string{Works, Detected, Malfunction, Failed, NoDriver, Listed}

// Failing reports whether a grade is a failure of the driver.
func Failing(g string) bool { return g == Malfunction || g == Failed }

// baseGrade maps the inventory's state (record.Device*) to a grade before any check is
// consulted.
func baseGrade(state string) string {
	switch state {
	case record.DeviceNoDriver:
		return NoDriver
	case record.DeviceSpawned, record.DeviceInit:
		return Detected
	case record.DeviceError:
		return Malfunction
	case record.DeviceExited, record.DeviceStalled:
		return Failed
	}
	return Listed
}

// Seen is one device in one boot with its grade and the evidence that decided it.
type Seen struct {
	record.Device
	Grade string
	// Why says in words what decided the grade.
	Why string
	// Rec is the record whose transcript the device's Evidence lines are in.
	Rec *record.Record
	// Check is the check that decided the grade ("drivers/e1000"), "" when the inventory
	// alone did; CheckRec is the record holding it.
	Check    string
	CheckRec *record.Record
}

// Key is how a device is known across machines: "pci:8086:100e", with the subsystem
// where the OS printed it ("pci:8086:2668:1af4:1100": the same chip on two boards can
// behave differently, as HDA codecs do).
//
// A device whose IDs the OS did not print (Redox's xhcid names a USB interface only by
// its class, docs/devices.md) is known by its class: "usb:class:03.01.01".
func Key(d record.Device) string {
	if d.VendorID == "" && d.DeviceID == "" {
		return strings.ToLower(d.Bus + ":class:" + d.Class)
	}
	k := strings.ToLower(d.Bus + ":" + d.VendorID + ":" + d.DeviceID)
	if d.Subsystem != "" {
		k += ":" + strings.ToLower(d.Subsystem)
	}
	return k
}

// Slug is a key as a file or anchor name: "pci-8086-100e".
func Slug(key string) string {
	var b strings.Builder
	for _, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

// ExerciseCheck names the check that exercises a driver's device and whether that
// check's pass means the device worked (the drivers suite's Work step: NVMe write + read
// back, e1000 DHCP lease + ping, HDA audiohw + a PCM write; harness/suites/drivers' Redox
// table). A check without a Work step only proves the driver bound: detected.
func ExerciseCheck(driver string) (check string, works bool) {
	exerciseOnce.Do(func() {
		exercise = map[string]exercised{}
		t := drivers.Tables["redox"]
		if t == nil {
			return
		}
		for _, name := range slices.Sorted(maps.Keys(t.Specs)) {
			s := t.Specs[name]
			for _, c := range s.Components {
				if _, dup := exercise[c]; !dup {
					exercise[c] = exercised{drivers.CheckName(s.Device), s.Work != nil}
				}
			}
		}
	})
	e := exercise[driver[strings.LastIndex(driver, "/")+1:]]
	return e.check, e.works
}

type exercised struct {
	check string
	works bool
}

var (
	exerciseOnce sync.Once
	exercise     map[string]exercised // driver -> its check
)

// Grade grades the devices of one boot from the records of its suites (one run, host and
// image): the inventory of the records (the first record listing a device gives its
// line numbers), then the checks that exercised each device. A working USB device marks
// its xHCI controller working.
func Grade(recs []*record.Record) []Seen {
	checks := map[string]record.Check{}
	from := map[string]*record.Record{}
	for _, r := range recs {
		for _, c := range r.Checks {
			if old, ok := checks[c.Name]; !ok || rank.Of(c.Verdict) > rank.Of(old.Verdict) {
				checks[c.Name], from[c.Name] = c, r
			}
		}
	}
	var out []Seen
	at := map[string]int{} // bus+address -> index in out
	for _, r := range recs {
		for _, d := range r.Devices {
			k := d.Bus + "\x00" + d.Address
			if i, ok := at[k]; ok {
				// The same boot seen by a later suite: keep the further state.
				if stateOrder(d.State) > stateOrder(out[i].State) {
					out[i].Device, out[i].Rec = d, r
				}
				continue
			}
			at[k] = len(out)
			out = append(out, Seen{Device: d, Rec: r})
		}
	}
	for i := range out {
		s := &out[i]
		s.Grade = baseGrade(s.State)
		s.Why = inventoryWhy(s.Device)
		check, works := ExerciseCheck(s.Driver)
		c, ok := checks[check]
		if check == "" || !ok || s.Grade == NoDriver || s.Grade == Listed {
			continue
		}
		switch {
		case rank.Passed(c.Verdict) && works && s.Grade != Failed:
			why := check + " passed: " + text.OneLine(c.Message, 160)
			if s.Grade == Malfunction {
				why += " (the driver also printed errors: " + s.Why + ")"
			}
			s.Grade, s.Why = Works, why
		case c.Verdict == record.Hang || c.Verdict == record.Crash:
			s.Grade, s.Why = Failed, check+" "+string(c.Verdict)+": "+text.OneLine(c.Message, 160)
		case (c.Verdict == record.Fail || c.Verdict == record.XFail) && s.Grade == Detected:
			s.Grade, s.Why = Malfunction, check+" "+string(c.Verdict)+": "+text.OneLine(c.Message, 160)
		default:
			continue
		}
		s.Check, s.CheckRec = check, from[check]
	}
	// A working device proves its controller: a USB device that works, or whose driver
	// initialised it (descriptors and reports went through the controller both ways),
	// marks the xHCI controller (the PCI function xhcid drives) working.
	for _, s := range out {
		if s.Bus != "usb" || (s.Grade != Works && s.State != record.DeviceInit) {
			continue
		}
		for i := range out {
			c := &out[i]
			if c.Bus == "pci" && strings.HasSuffix(c.Driver, "xhcid") && c.Grade == Detected {
				c.Grade, c.Why = Works, "USB device "+s.ID()+" on it answered its driver ("+s.Why+")"
				c.Check, c.CheckRec = s.Check, s.CheckRec
				c.Evidence = append(append([]int(nil), c.Evidence...), s.Evidence...)
			}
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Bus != out[b].Bus {
			return out[a].Bus < out[b].Bus
		}
		return out[a].Address < out[b].Address
	})
	return out
}

func stateOrder(s string) int {
	for i, st := range []string{record.DeviceEnumerated, record.DeviceNoDriver, record.DeviceSpawned, record.DeviceInit,
		record.DeviceError, record.DeviceExited, record.DeviceStalled} {
		if s == st {
			return i
		}
	}
	return -1
}

// inventoryWhy says what the inventory showed.
func inventoryWhy(d record.Device) string {
	var s string
	switch d.State {
	case record.DeviceNoDriver:
		s = "no driver claimed it"
	case record.DeviceSpawned:
		s = "driver " + d.Driver + " was started for it"
	case record.DeviceInit:
		s = "driver " + d.Driver + " initialised it (not exercised by a suite)"
	case record.DeviceError:
		s = "driver " + d.Driver + " printed errors"
	case record.DeviceExited:
		s = "driver " + d.Driver + " crashed or exited"
	case record.DeviceStalled:
		s = "the boot stalled with " + d.Driver + " printing last"
	default:
		s = "listed; the boot ended before drivers were started"
	}
	if d.Note != "" {
		s += ": " + text.OneLine(d.Note, 160)
	}
	return s
}
