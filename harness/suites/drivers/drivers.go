// Package drivers judges, per device a host lists, whether the image's driver for it came
// up: the device was enumerated on its bus (Redox's pcid table line; the stand-in's
// "FX: pci" line), its driver was spawned and initialised, it works (a profile-specific try
// from the shell: NVMe write and read back, e1000 traffic, HDA open), and nothing hung or
// crashed on the way. A boot that stalls while a driver starts is HANG naming that driver.
// Hosts without the device SKIP; matrix xfail entries turn failures into XFAIL (XPASS when
// they pass).
//
// What a driver prints is profile data, in a Table per profile (standin.go, redox.go).
package drivers

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Core are the drivers every drivers suite reports on (SKIP where the host lacks them).
var Core = []string{"hda", "nvme", "e1000"}

// Known are the devices this package has checks for, in report order.
var Known = []string{"hda", "nvme", "e1000", "xhci", "ahci", "virtio-blk", "virtio-net", "ps2", "ide", "ac97"}

// CheckName is the check for a device: "drivers/<device>".
func CheckName(device string) string { return "drivers/" + device }

// Devices are the devices the drivers suite reports on for a matrix: the core three, and
// every other known device some host of the matrix lists (so each job reports the same
// checks, and a host without one SKIPs it). Deterministic: Known's order.
func Devices(m *matrix.Matrix) []string {
	want := map[string]bool{}
	for _, d := range Core {
		want[d] = true
	}
	if m != nil {
		for _, h := range m.Hosts {
			for _, d := range h.Devices {
				want[d] = true
			}
		}
	}
	var out []string
	for _, d := range Known {
		if want[d] {
			out = append(out, d)
		}
	}
	return out
}

// Spec is how one device's driver shows itself in one profile's boot. Empty pattern lists
// mean "this profile does not print that"; the check then does without it.
type Spec struct {
	Device string
	// Components are the component names of the driver in the boot log (crash and hang
	// attribution); the profile's DriverComponents are added.
	Components []string
	// Enumerated: the bus found the device (named groups "addr", "ids" when known).
	Enumerated []profile.Pattern
	// Spawned: the driver was started.
	Spawned []profile.Pattern
	// Started: the driver's process ran and named its device, before it touched it (a
	// Redox driver's banner "E1000 pci-..."): proof of a start, not of an initialisation.
	Started []profile.Pattern
	// Bound: the driver initialised the device, a line it prints only after it talked to
	// the device (named group "node": what it made).
	Bound []profile.Pattern
	// Unbound: the device is there and no driver took it. Absent: the image says there is
	// no such device. Skipped: the driver was deliberately not started (boot switch).
	Unbound, Absent, Skipped []profile.Pattern
	// Errors are driver error lines (a failed modprobe, an HDA CORB timeout) that make the
	// check FAIL even when the driver came up.
	Errors []profile.Pattern
	// Work tries the device from the shell; nil means the profile has no try for it.
	Work func(ctx context.Context, r session.Runner, ev Evidence) WorkResult
	// NoDriver: the profile's image carries no driver for this device (the stand-in has
	// no xhci driver): the check SKIPs, saying whether the device was enumerated.
	NoDriver bool
}

// Table is a profile's driver specs and how it starts drivers.
type Table struct {
	Profile string
	Specs   map[string]*Spec
	// Order is the order the image starts its drivers in, when fixed (the stand-in loads
	// e1000, nvme, hda in turn): a stall after one finished and before the next printed
	// anything is blamed on the next.
	Order []string
}

// Tables by profile name.
var Tables = map[string]*Table{}

func register(t *Table) { Tables[t.Profile] = t }

// WorkResult is the outcome of trying a device.
type WorkResult struct {
	OK      bool
	Message string
	// Err is a failure to run the try at all (no shell): INFRA, not the driver's fault.
	Err error
}

// Evidence is what the boot log says about one device.
type Evidence struct {
	Device                               string
	Enumerated, Spawned, Started, Bound  string // the lines
	EnumLine, SpawnLine, BoundLine       int    // 1-based line numbers, 0 when not seen
	Addr, IDs, Node                      string
	Unbound, Absent, Skipped, ErrorTitle string
}

func (e Evidence) String() string {
	var p []string
	if e.Enumerated != "" {
		s := "enumerated"
		if e.Addr != "" {
			s += " at " + e.Addr
		}
		if e.IDs != "" {
			s += " (" + e.IDs + ")"
		}
		p = append(p, s)
	}
	if e.Bound != "" {
		s := "driver bound"
		if e.Node != "" {
			s += ": " + e.Node
		}
		p = append(p, s)
	} else if e.Started != "" {
		s := "driver started"
		if e.Node != "" {
			s += " for " + e.Node
		}
		p = append(p, s+" (no line yet that it initialised the device)")
	} else if e.Spawned != "" {
		p = append(p, "driver spawned")
	}
	if len(p) == 0 {
		return "no trace in the boot log"
	}
	return strings.Join(p, "; ")
}

// Gather reads the boot log for one device.
func (s *Spec) Gather(lines []string) Evidence {
	ev := Evidence{Device: s.Device}
	first := func(ps []profile.Pattern, line string) (map[string]string, bool) {
		for _, p := range ps {
			if g, ok := p.Match(line); ok {
				return g, true
			}
		}
		return nil, false
	}
	for i, l := range lines {
		n := i + 1
		if g, ok := first(s.Enumerated, l); ok && ev.Enumerated == "" {
			ev.Enumerated, ev.EnumLine, ev.Addr, ev.IDs = l, n, g["addr"], g["ids"]
		}
		if _, ok := first(s.Spawned, l); ok {
			ev.Spawned, ev.SpawnLine = l, n // the last spawn counts
		}
		if g, ok := first(s.Started, l); ok && ev.Started == "" {
			ev.Started = l
			if ev.Node == "" && g["node"] != "" {
				ev.Node = strings.TrimSpace(g["node"])
			}
		}
		if g, ok := first(s.Bound, l); ok {
			if ev.Bound == "" || (ev.Node == "" && g["node"] != "") {
				ev.Bound, ev.BoundLine = l, n
				if g["node"] != "" {
					ev.Node = strings.TrimSpace(g["node"])
				}
			}
		}
		if _, ok := first(s.Unbound, l); ok {
			ev.Unbound = l
		}
		if _, ok := first(s.Absent, l); ok {
			ev.Absent = l
		}
		if _, ok := first(s.Skipped, l); ok {
			ev.Skipped = l
		}
		if _, ok := first(s.Errors, l); ok && ev.ErrorTitle == "" {
			ev.ErrorTitle = strings.TrimSpace(l)
		}
	}
	return ev
}

// components returns the names the driver goes by in the boot log.
func (s *Spec) components(p *profile.Profile) []string {
	c := append([]string{}, s.Components...)
	if p != nil {
		c = append(c, p.DriverComponents[s.Device]...)
	}
	return c
}

// DeviceOf maps a component name from the boot log to the device of a table, or "".
func (t *Table) DeviceOf(p *profile.Profile, component string) string {
	if component == "" {
		return ""
	}
	for _, d := range Known {
		if s := t.Specs[d]; s != nil && s.is(p, component) {
			return d
		}
	}
	return ""
}

// is reports whether a component name from the boot log is this driver. Names are
// compared without a directory and trailing punctuation ("NAME /usr/lib/drivers/nvmed,"
// is nvmed).
func (s *Spec) is(p *profile.Profile, component string) bool {
	c := baseComponent(component)
	return c != "" && slices.Contains(s.components(p), c)
}

func baseComponent(component string) string {
	c := strings.TrimRight(component, ",;:.")
	if i := strings.LastIndexByte(c, '/'); i >= 0 {
		c = c[i+1:]
	}
	return c
}

// Pat is a pattern whose literal prefilter is the regexp's longest literal prefix run.
func pat(contains, expr string) profile.Pattern { return profile.Re(contains, expr) }

var reSpace = regexp.MustCompile(`\s+`)

func oneLine(s string, n int) string {
	s = strings.TrimSpace(reSpace.ReplaceAllString(s, " "))
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

func errorf(format string, a ...any) WorkResult {
	return WorkResult{Message: fmt.Sprintf(format, a...)}
}
