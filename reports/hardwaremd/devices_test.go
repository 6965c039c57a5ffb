package hardwaremd

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/record"
)

// The Report cell in upstream's own words (../shared/redox-hardware/HARDWARE.md) from
// the checks and from the boot's device inventory.
func TestReportUpstreamWording(t *testing.T) {
	host := record.Host{Name: "m", Kind: "serial", Vendor: "V", Model: "M"}
	img := record.Image{Name: "i", Arch: "x86_64", Variant: "desktop", Version: "0.9.0", Date: "2026-01-02", Firmware: "uefi"}
	pass := func(names ...string) []record.Check {
		cs := []record.Check{{Name: "boot/login", Verdict: record.Pass}}
		for _, n := range names {
			cs = append(cs, record.Check{Name: n, Verdict: record.Pass})
		}
		return cs
	}
	nic := record.Device{Bus: "pci", Address: "00-00:03.0", VendorID: "10ec", DeviceID: "8168", Class: "02.00.00", State: record.DeviceNoDriver, Evidence: []int{40}}
	codec := record.Device{Bus: "pci", Address: "00-00:1b.0", VendorID: "8086", DeviceID: "293e", Class: "04.03.00", Driver: "ihdad",
		State: record.DeviceExited, Evidence: []int{41, 90}, Note: "ihdad: IHDA: No output pins?!"}
	for _, tc := range []struct {
		name   string
		checks []record.Check
		devs   []record.Device
		report string
	}{
		// The stand-in run whose HDA never initialises: the drivers suite's check hangs.
		{"hda never initialises", append(pass("drivers/vesa", "drivers/ps2", "drivers/e1000"),
			record.Check{Name: "drivers/hda", Verdict: record.Hang, Component: "ihdad"}), nil,
			"Boots to login, No audio, HDA audio driver hangs"},
		{"no Ethernet driver", pass("drivers/vesa", "drivers/ps2", "drivers/hda"), []record.Device{nic},
			"Boots to login, No Ethernet driver"},
		{"a working NIC beside one without a driver", pass("drivers/vesa", "drivers/ps2", "drivers/hda", "drivers/e1000"), []record.Device{nic},
			"Boots to login, display, sound, input and Ethernet work"},
		{"no output pins", pass("drivers/vesa", "drivers/ps2", "drivers/e1000"), []record.Device{codec},
			"Boots to login, No audio, HDA driver cannot find output pins"},
		{"nvme hang", append(pass("drivers/vesa", "drivers/ps2", "drivers/e1000", "drivers/hda"),
			record.Check{Name: "drivers/nvme", Verdict: record.Hang}), nil,
			"Boots to login, NVMe driver livelocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			es, notes := DefaultRule.Entries([]*record.Record{{Job: "j", Image: img, Host: host, Checks: tc.checks, Devices: tc.devs}})
			if len(es) != 1 {
				t.Fatalf("entries %v notes %v", es, notes)
			}
			if es[0].Row.Report != tc.report {
				t.Errorf("Report %q, want %q", es[0].Row.Report, tc.report)
			}
		})
	}
}
