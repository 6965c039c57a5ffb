package main

import (
	"encoding/json"
	"fmt"
	"io"
	"runtime/debug"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/devices"
)

// knownDevice is one device of the analysed log with what is known about it elsewhere
// (analyze --known; docs/analyze.md, "What is known elsewhere").
type knownDevice struct {
	Key       string `json:"key"` // "pci:8086:100e[:ssss:ssss]"
	Bus       string `json:"bus"`
	Address   string `json:"address,omitempty"`
	VendorID  string `json:"vendor_id"`
	DeviceID  string `json:"device_id"`
	Subsystem string `json:"subsystem,omitempty"`
	Name      string `json:"name,omitempty"`   // from pci.ids / usb.ids
	State     string `json:"state"`            // in this log (record.Device* states)
	Driver    string `json:"driver,omitempty"` // in this log
	// Known says what other machines showed ("works on 3 tested machines, last
	// 2026-12-05"), "" when no tested machine carried the device.
	Known string `json:"known"`
	// Elsewhere are the export's entries the device matched (several when the log printed
	// no subsystem and machines carry the chip on boards with different ones).
	Elsewhere []devices.ExportDevice `json:"elsewhere,omitempty"`
}

// knownAbout looks every device of the log up in what --known gave (a devices.json, a
// run directory or a directory of runs).
func knownAbout(devs []record.Device, known string) ([]knownDevice, string, error) {
	ids, err := devices.LoadIDs()
	if err != nil {
		return nil, "", err
	}
	x, err := devices.LoadKnown(known, ids)
	if err != nil {
		return nil, "", err
	}
	var out []knownDevice
	for _, d := range devs {
		k := knownDevice{Key: devices.Key(d), Bus: d.Bus, Address: d.Address, VendorID: d.VendorID, DeviceID: d.DeviceID,
			Subsystem: d.Subsystem, State: d.State, Driver: d.Driver}
		switch v, n, _ := ids.Names(d.Bus, d.VendorID, d.DeviceID, d.Subsystem); {
		case n != "":
			k.Name = strings.TrimSpace(v + " " + n)
		case v != "":
			k.Name = v + ", device unknown to the ID database"
		}
		k.Elsewhere = x.Lookup(d)
		var parts []string
		for _, e := range k.Elsewhere {
			if s := e.Known(); s != "" {
				if len(k.Elsewhere) > 1 && e.Subsystem != "" {
					s = "subsystem " + e.Subsystem + ": " + s
				}
				parts = append(parts, s)
			}
		}
		k.Known = strings.Join(parts, " | ")
		out = append(out, k)
	}
	return out, ids.Describe(), nil
}

// withKnown is the JSON analysis with a "known" array added beside its fields.
func withKnown(a any, ks []knownDevice) (any, error) {
	data, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if ks == nil {
		ks = []knownDevice{}
	}
	raw, err := json.Marshal(ks)
	if err != nil {
		return nil, err
	}
	m["known"] = raw
	return m, nil
}

// printKnown is the text form: one line per device of the log.
func printKnown(w io.Writer, from, idsVersion string, ks []knownDevice) {
	fmt.Fprintf(w, "\ndevices of this log, and what is known elsewhere (%s; names from %s):\n", from, idsVersion)
	if len(ks) == 0 {
		fmt.Fprintln(w, "  (the log shows no device table)")
	}
	for _, k := range ks {
		name := k.Name
		if name == "" {
			name = "unknown device"
		}
		driver := k.Driver
		if driver == "" {
			driver = "-"
		}
		known := k.Known
		if known == "" {
			known = "not seen on a tested machine"
		}
		id := k.VendorID + ":" + k.DeviceID
		if k.Subsystem != "" {
			id += " (" + k.Subsystem + ")"
		}
		fmt.Fprintf(w, "  %-3s %-24s %s\n      here: %s, driver %s; elsewhere: %s\n", k.Bus, id, name, k.State, driver, known)
	}
}

// deviceAnalyser is this build's analyser for `report --rejudge`: the inventory `analyze`
// prints (analyseLog with the image's profile). Its version is the build's VCS revision.
func deviceAnalyser() devices.Analyser {
	return devices.Analyser{
		Version: "redox-hwtest analyze " + buildRevision(),
		Inventory: func(r io.Reader, name string) ([]record.Device, error) {
			p, err := profile.Get(name)
			if err != nil {
				return nil, err
			}
			_, devs, _, err := analyseLog(r, p)
			return devs, err
		},
	}
}

// buildRevision names this build: the VCS revision Go stamped into it ("+dirty" when
// the tree had changes), or "(development build)".
func buildRevision() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(development build)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return "(development build)"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return rev + dirty
}
