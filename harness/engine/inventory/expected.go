package inventory

import (
	"fmt"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// KindExpected is an event the machine explains: a daemon that exited because the device
// it serves is not there. It is kept (with the reason in its title) and is not a crash.
const KindExpected = "expected"

// Machine is what is known of the machine a transcript comes from: the devices the
// matrix lists for it (Known false: nothing, as for `analyze` on a pasted log).
type Machine struct {
	Known   bool
	Devices []string
}

func (m Machine) hasAny(devs []string) bool {
	for _, d := range m.Devices {
		for _, w := range devs {
			if d == w {
				return true
			}
		}
	}
	return false
}

// Absence is a daemon that cannot run without a kind of device.
type Absence struct {
	// Components are the names the daemon's failure events carry.
	Components []string
	// TitleHas, when set, is what the event's title must say (orbital fails for other
	// reasons too).
	TitleHas []string
	// Classes are the PCI classes ("cc" or "cc.ss") of the functions it serves; Devices
	// the matrix device names of the same hardware.
	Classes []string
	Devices []string
	// Said are the daemon's own words that the hardware is absent (seen in the log).
	Said []profile.Pattern
	What string // "network adapter", for the note
}

// Excuse turns the failure events that follow from missing hardware into KindExpected:
// the machine has no such device (the matrix lists none, or, unknown machine, the
// enumerated PCI functions hold none and either a PCI table was printed or the daemon
// said so itself). A device of the kind that was enumerated, or that the machine lists,
// keeps the event a crash: the hardware is there and its daemon failed. devs is Finish's
// inventory. Nil-safe.
func (b *Builder) Excuse(events []classify.Event, devs []record.Device, m Machine) []classify.Event {
	if b == nil || len(b.t.Absences) == 0 || len(events) == 0 {
		return events
	}
	t := b.t
	out := append([]classify.Event(nil), events...)
	for i, e := range out {
		if !profile.IsCrash(e.Kind) {
			continue
		}
		for j, ab := range t.Absences {
			if !ab.applies(e) {
				continue
			}
			if why := ab.absent(devs, m, b.said[j]); why != "" {
				out[i].Kind = KindExpected
				out[i].Title = fmt.Sprintf("%s (expected: %s)", e.Title, why)
			}
			break
		}
	}
	return out
}

func (ab Absence) applies(e classify.Event) bool {
	c := baseName(e.Component)
	ok := false
	for _, n := range ab.Components {
		ok = ok || c == n
	}
	if !ok {
		return false
	}
	if len(ab.TitleHas) == 0 {
		return true
	}
	for _, s := range ab.TitleHas {
		if strings.Contains(e.Title, s) {
			return true
		}
	}
	return false
}

// absent says why the machine has no such device, or "" when it has one or nothing shows.
func (ab Absence) absent(devs []record.Device, m Machine, said string) string {
	pciTable := false
	for _, d := range devs {
		if d.VendorID == "" { // named by the firmware only
			continue
		}
		pciTable = true
		for _, c := range ab.Classes {
			if d.Class == c || strings.HasPrefix(d.Class, c+".") {
				return ""
			}
		}
	}
	if m.Known {
		if m.hasAny(ab.Devices) {
			return ""
		}
		return fmt.Sprintf("the machine has no %s (devices %v)", ab.What, m.Devices)
	}
	if pciTable {
		return fmt.Sprintf("no %s among the PCI functions the boot enumerated", ab.What)
	}
	if said != "" {
		return fmt.Sprintf("it said so: %q", said)
	}
	return ""
}
