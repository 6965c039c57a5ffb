package site

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/devices"
)

// inventory gives a synthetic boot record the device table a Redox boot of its host would
// print (record.Device, filled by the Redox profile on real boots). Evidence lines point
// into fakerun's four-line transcripts; the OptiPlex's HDA note carries hostile console
// text.
func inventory(r *record.Record) {
	if r.Suite != "boot" {
		return
	}
	dev := func(addr, vd, class, driver, state string, note string) record.Device {
		v, d, _ := strings.Cut(vd, ":")
		return record.Device{Bus: "pci", Address: addr, VendorID: v, DeviceID: d, Class: class, Driver: driver, State: state, Evidence: []int{2, 3}, Note: note}
	}
	e1000 := dev("0000:00:03.0", "8086:100e", "02.00.00", "e1000d", record.DeviceInit, "")
	rtl := dev("0000:00:05.0", "10ec:8168", "02.00.00", "", record.DeviceNoDriver, "")
	switch r.Host.Name {
	case fakerun.QEMU.Name:
		kbd := record.Device{Bus: "usb", Address: "1.1", VendorID: "0627", DeviceID: "0001", Class: "03.01.01", Driver: "usbhidd", State: record.DeviceInit, Evidence: []int{3}}
		r.Devices = []record.Device{e1000, dev("0000:00:04.0", "1b36:0010", "01.08.02", "nvmed", record.DeviceInit, ""),
			dev("0000:00:1b.0", "8086:2668", "04.03.00", "ihdad", record.DeviceInit, ""),
			dev("0000:00:06.0", "1b36:000d", "0c.03.30", "xhcid", record.DeviceSpawned, ""), kbd}
	case fakerun.ThinkPad.Name:
		r.Devices = []record.Device{e1000, rtl, dev("0000:00:1b.0", "8086:1c20", "04.03.00", "ihdad", record.DeviceInit, ""),
			dev("0000:00:1f.2", "8086:1c03", "01.06.01", "ahcid", record.DeviceInit, "")}
	case fakerun.OptiPlex.Name:
		r.Devices = []record.Device{e1000, rtl, dev("0000:00:1b.0", "8086:2668", "04.03.00", "ihdad", record.DeviceExited, "ihdad panicked: "+fakerun.Nasty),
			dev("0000:01:00.0", "144d:a808", "01.08.02", "nvmed", record.DeviceStalled, "")}
	case fakerun.Aspire.Name:
		r.Devices = []record.Device{dev("0000:00:05.0", "10ec:8168", "02.00.00", "", record.DeviceEnumerated, "")}
	}
}

const sampleIDs = `#	Version: 2023.04.10
8086  Intel Corporation
	100e  82540EM Gigabit Ethernet Controller
	2668  82801FB/FBM/FR/FW/FRW (ICH6 Family) High Definition Audio Controller
10ec  Realtek Semiconductor Co., Ltd.
	8168  RTL8111/8168/8411 PCI Express Gigabit Ethernet Controller
C 02  Network controller
	00  Ethernet controller
C 04  Multimedia controller
	03  Audio device
`

// TestDevicesView: the Devices view, device pages, machine pages' device lists, the
// front page's marks linking there, and the exports, from the synthetic history.
func TestDevicesView(t *testing.T) {
	db, err := devices.ParseIDs([]byte(sampleIDs))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "site")
	if err := Build(out, nights(t, 3), Options{IDs: &devices.IDs{PCI: db}}); err != nil {
		t.Fatal(err)
	}
	checkLinks(t, out) // includes every #L<n> evidence anchor and device row anchor
	read := func(rel string) string {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(out, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	list := read("devices.html")
	for _, want := range []string{"82540EM Gigabit Ethernet Controller", "pci.ids 2023.04.10", "usb.ids not installed",
		"works on 3 machines", `id="pci-10ec-8168"`, "works on one machine, fails on another", `href="devices.json"`} {
		if !strings.Contains(list, want) {
			t.Errorf("devices.html lacks %q", want)
		}
	}
	// The device that works on one machine and fails on another comes first; the
	// driver-work table ranks the RTL8168 (no driver on two tested machines) first.
	if i, j := strings.Index(list, `id="pci-8086-2668"`), strings.Index(list, `id="pci-8086-100e"`); i < 0 || j < 0 || i > j {
		t.Errorf("the split device is not first (%d, %d)", i, j)
	}
	work := list[strings.Index(list, `id="driver-work"`):]
	if !strings.Contains(work, "2 of 3") || strings.Index(work, "RTL8111") > strings.Index(work, "144d:a808") {
		t.Errorf("driver work ranking:\n%s", work)
	}
	dev := read("devices/pci-8086-2668.html")
	for _, want := range []string{"works on 1 machine, fails on 1", "ihdad", "drivers/hda", "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;",
		"#L2", `class="excerpt"`} {
		if !strings.Contains(dev, want) {
			t.Errorf("device page lacks %q", want)
		}
	}
	// The QEMU machine lists its PCI and USB devices; its xHCI controller is a
	// malfunction by its failing (known) check although a keyboard on it answered.
	if m := read("machines/qemu-q35.html"); !strings.Contains(m, `id="found"`) || !strings.Contains(m, "usb 1.1") || !strings.Contains(m, "drivers/xhci XFAIL") {
		t.Errorf("machine page's device list:\n%s", m[strings.Index(m, `id="found"`):])
	}
	if idx := read("index.html"); !strings.Contains(idx, `href="devices/pci-8086-100e.html"`) {
		t.Errorf("front page marks do not link the Devices view")
	}
	x, err := devices.ReadExport(strings.NewReader(read("devices.json")))
	if err != nil || len(x.Devices) != 9 || x.IDs != "pci.ids 2023.04.10, usb.ids not installed (names missing)" {
		t.Fatalf("devices.json: %v, %d devices, ids %q", err, len(x.Devices), x.IDs)
	}
	for _, d := range x.Devices {
		if d.Page == "" || !strings.HasPrefix(d.Page, "devices/") {
			t.Errorf("%s: page %q", d.Key, d.Page)
		}
		for _, o := range d.OnMachines {
			if o.Evidence.Transcript == "" || len(o.Evidence.Lines) == 0 {
				t.Errorf("%s on %s: no evidence %+v", d.Key, o.Machine, o.Evidence)
			}
		}
	}
	rows, err := csv.NewReader(strings.NewReader(read("devices.csv"))).ReadAll()
	if err != nil || len(rows) < 10 {
		t.Fatalf("devices.csv: %v (%d rows)", err, len(rows))
	}
}

// A row of the Devices list shows at most maxRowMarks machines and links the rest.
func TestDeviceRowBounded(t *testing.T) {
	db := devices.NewDB()
	d := record.Device{Bus: "pci", Address: "0000:00:03.0", VendorID: "8086", DeviceID: "100e", Class: "02.00.00", State: record.DeviceNoDriver}
	for m := 0; m < maxRowMarks+5; m++ {
		h := record.Host{Name: "m" + string(rune('a'+m))}
		db.Add("n1", fakerun.Base, h, fakerun.UEFI, devices.Grade([]*record.Record{{Host: h, Devices: []record.Device{d}}}))
	}
	v := (&builder{}).devView(db.Entries(nil)[0], "")
	if len(v.Marks) != maxRowMarks || v.MoreMarks != 5 || v.Machines != maxRowMarks+5 {
		t.Errorf("%d marks, %d more, %d machines", len(v.Marks), v.MoreMarks, v.Machines)
	}
}
