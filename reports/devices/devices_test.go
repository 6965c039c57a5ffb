package devices

import (
	"bytes"
	"encoding/csv"
	"os"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/redox-hwtest/redox-hwtest/record"
)

const idsSample = `#	List of PCI ID's
#	Version: 2023.04.10
#	Date:    2023-04-10 03:15:02
8086  Intel Corporation
	100e  82540EM Gigabit Ethernet Controller
		8086 001e  PRO/1000 MT Desktop Adapter
	2668  82801FB/FBM/FR/FW/FRW (ICH6 Family) High Definition Audio Controller
1b36  Red Hat, Inc.
	000d  QEMU XHCI Host Controller
C 02  Network controller
	00  Ethernet controller
C 04  Multimedia controller
	03  Audio device
C 0c  Serial bus controller
	03  USB controller
		30  XHCI
`

func sampleIDs(t *testing.T) *IDs {
	t.Helper()
	db, err := ParseIDs([]byte(idsSample))
	if err != nil {
		t.Fatal(err)
	}
	return &IDs{PCI: db}
}

func TestParseIDs(t *testing.T) {
	ids := sampleIDs(t)
	v, d, s := ids.Names("pci", "8086", "100E", "8086:001e")
	if v != "Intel Corporation" || d != "82540EM Gigabit Ethernet Controller" || s != "PRO/1000 MT Desktop Adapter" {
		t.Errorf("names %q %q %q", v, d, s)
	}
	if n := ids.ClassName("pci", "0c.03.30"); n != "XHCI" {
		t.Errorf("class %q", n)
	}
	if n := ids.ClassName("pci", "02.00.00"); n != "Ethernet controller" {
		t.Errorf("class without prog-if %q", n)
	}
	if n := ids.TopClass("pci", "04.03.00"); n != "Multimedia controller" {
		t.Errorf("top class %q", n)
	}
	if got := ids.Describe(); got != "pci.ids 2023.04.10, usb.ids not installed (names missing)" {
		t.Errorf("Describe %q", got)
	}
	if v, d, _ := ids.Names("usb", "8086", "100e", ""); v != "" || d != "" {
		t.Errorf("usb names from the pci database: %q %q", v, d)
	}
}

// The databases Debian installs (packages pci.ids and usb.ids, fixtures/install-deps.sh)
// name the stand-in's devices as the acceptance wants them.
func TestDebianIDs(t *testing.T) {
	for _, p := range []string{PCIIDsPath, USBIDsPath} {
		if _, err := os.Stat(p); err != nil {
			if os.Getenv("REDOX_HWTEST_REQUIRE_SHARED") != "" {
				t.Fatalf("%s missing (make deps installs it)", p)
			}
			t.Skipf("%s missing (make deps installs it)", p)
		}
	}
	ids, err := LoadIDs()
	if err != nil {
		t.Fatal(err)
	}
	if _, d, _ := ids.Names("pci", "8086", "100e", ""); d != "82540EM Gigabit Ethernet Controller" {
		t.Errorf("8086:100e is %q", d)
	}
	// QEMU's usb-kbd: vendor 0627 (Adomax), product 0001.
	if v, _, _ := ids.Names("usb", "0627", "0001", ""); v == "" {
		t.Errorf("usb.ids does not name vendor 0627")
	}
	if ids.PCI.Version == "" || ids.USB.Version == "" {
		t.Errorf("versions: %q", ids.Describe())
	}
}

var (
	hostA = record.Host{Name: "a", Kind: "serial", Vendor: "Lenovo", Model: "X220"}
	hostB = record.Host{Name: "b", Kind: "serial", Vendor: "Dell", Model: "7010"}
	img1  = record.Image{Name: "desktop", Version: "0.9.0-1", Date: "2026-12-01", SHA256: "ab"}
	img2  = record.Image{Name: "desktop", Version: "0.9.0-2", Date: "2026-12-05", SHA256: "cd"}
)

func nic(state string, ev ...int) record.Device {
	return record.Device{Bus: "pci", Address: "0000:00:03.0", VendorID: "8086", DeviceID: "100e", Class: "02.00.00", Driver: "e1000d", State: state, Evidence: ev}
}

func boot(h record.Host, img record.Image, devs []record.Device, checks ...record.Check) []*record.Record {
	return []*record.Record{
		{Job: img.Name + "@" + h.Name + "/boot", Suite: "boot", Host: h, Image: img, Devices: devs},
		{Job: img.Name + "@" + h.Name + "/drivers", Suite: "drivers", Host: h, Image: img, Checks: checks},
	}
}

func TestGrade(t *testing.T) {
	hda := record.Device{Bus: "pci", Address: "0000:00:1b.0", VendorID: "8086", DeviceID: "2668", Class: "04.03.00", Driver: "ihdad", State: record.DeviceInit}
	xhci := record.Device{Bus: "pci", Address: "0000:00:04.0", VendorID: "1b36", DeviceID: "000d", Class: "0c.03.30", Driver: "xhcid", State: record.DeviceSpawned}
	none := record.Device{Bus: "pci", Address: "0000:00:05.0", VendorID: "10ec", DeviceID: "8168", Class: "02.00.00", State: record.DeviceNoDriver}
	recs := boot(hostA, img1, []record.Device{nic(record.DeviceInit, 10, 20), hda, xhci, none},
		record.Check{Name: "drivers/e1000", Verdict: record.Pass, Message: "lease 10.0.2.15, ping ok"},
		record.Check{Name: "drivers/hda", Verdict: record.Hang, Message: "no output for 30s while ihdad starts"},
		record.Check{Name: "drivers/xhci", Verdict: record.Pass})
	got := map[string]Seen{}
	for _, s := range Grade(recs) {
		got[s.ID()] = s
	}
	for id, want := range map[string]string{"8086:100e": Works, "8086:2668": Failed, "1b36:000d": Detected, "10ec:8168": NoDriver} {
		if got[id].Grade != want {
			t.Errorf("%s: %s (%s), want %s", id, got[id].Grade, got[id].Why, want)
		}
	}
	if s := got["8086:100e"]; s.Check != "drivers/e1000" || s.CheckRec != recs[1] || s.Rec != recs[0] || len(s.Evidence) != 2 {
		t.Errorf("e1000 evidence: %+v", s)
	}
	// xhci's check has no work step: a bound driver is detected, never works.
	if s := got["1b36:000d"]; s.Check != "" {
		t.Errorf("xhci decided by %s", s.Check)
	}
}

func TestGradeControllerFromUSBDevice(t *testing.T) {
	xhci := record.Device{Bus: "pci", Address: "0000:00:04.0", VendorID: "1b36", DeviceID: "000d", Class: "0c.03.30", Driver: "xhcid", State: record.DeviceInit}
	kbd := record.Device{Bus: "usb", Address: "1.1", VendorID: "0627", DeviceID: "0001", Class: "03.01.01", Driver: "usbhidd", State: record.DeviceInit}
	kbd.Evidence = []int{77}
	seen := Grade(boot(hostA, img1, []record.Device{xhci, kbd}))
	if seen[0].Bus != "pci" || seen[0].Grade != Works || len(seen[0].Evidence) != 1 || seen[0].Evidence[0] != 77 {
		t.Errorf("controller: %+v", seen[0])
	}
	if seen[1].Grade != Detected {
		t.Errorf("keyboard: %s (no suite exercised it)", seen[1].Grade)
	}
	// A USB device whose driver was only spawned proves nothing about the controller.
	kbd.State = record.DeviceSpawned
	if seen := Grade(boot(hostA, img1, []record.Device{xhci, kbd})); seen[0].Grade != Detected {
		t.Errorf("controller from a spawned driver: %s", seen[0].Grade)
	}
}

func TestDBStandingSinceAndExport(t *testing.T) {
	db := NewDB()
	day := func(d int) time.Time { return time.Date(2026, 12, d, 3, 0, 0, 0, time.UTC) }
	pass := record.Check{Name: "drivers/e1000", Verdict: record.Pass, Message: "lease and ping"}
	hang := record.Check{Name: "drivers/e1000", Verdict: record.Hang, Message: "e1000d stalled"}
	// Night 1: works on both. Night 5 (new image): fails on b.
	db.Add("n1", day(1), hostA, img1, Grade(boot(hostA, img1, []record.Device{nic(record.DeviceInit, 3)}, pass)))
	db.Add("n1", day(1), hostB, img1, Grade(boot(hostB, img1, []record.Device{nic(record.DeviceInit, 3)}, pass)))
	db.Add("n5", day(5), hostA, img2, Grade(boot(hostA, img2, []record.Device{nic(record.DeviceInit, 3)}, pass)))
	db.Add("n5", day(5), hostB, img2, Grade(boot(hostB, img2, []record.Device{nic(record.DeviceStalled, 3, 9)}, hang)))
	es := db.Entries(sampleIDs(t))
	if len(es) != 1 {
		t.Fatalf("%d entries", len(es))
	}
	e := es[0]
	if e.Title() != "Intel Corporation 82540EM Gigabit Ethernet Controller" || e.ClassName != "Ethernet controller" || e.TopClass != "Network controller" {
		t.Errorf("names: %q %q %q", e.Title(), e.ClassName, e.TopClass)
	}
	if got := e.Standing(); got != "works on 1 machine, fails on 1" || !e.Split() {
		t.Errorf("standing %q split %v", got, e.Split())
	}
	on, ok := e.Changed()
	if !ok || on.Machine != "b" || on.From != Works || on.SinceImage.Version != "0.9.0-2" || !on.Since.Equal(day(5)) {
		t.Errorf("changed: %+v", on)
	}
	if w := DriverWork(es); len(w) != 1 || w[0].NeedsWork() != 1 {
		t.Errorf("driver work: %v", w)
	}
	// A host bridge without a driver is no driver work.
	bridge := NewDB()
	bridge.Add("n1", day(1), hostA, img1, Grade(boot(hostA, img1, []record.Device{{Bus: "pci", Address: "0000:00:00.0", VendorID: "8086", DeviceID: "1237", Class: "06.00.00", State: record.DeviceNoDriver}})))
	if w := DriverWork(bridge.Entries(nil)); len(w) != 0 {
		t.Errorf("a bridge in the driver work: %v", w[0].Key)
	}
	pages := func(r *record.Record) string { return "runs/x/" + r.Job + ".html" }
	x := ToExport(es, sampleIDs(t), pages, func(e *Entry) string { return "devices/" + Slug(e.Key) + ".html" })
	var buf bytes.Buffer
	if err := WriteJSON(&buf, x); err != nil {
		t.Fatal(err)
	}
	back, err := ReadExport(&buf)
	if err != nil {
		t.Fatal(err)
	}
	d := back.Devices[0]
	if d.Key != "pci:8086:100e" || d.Page != "devices/pci-8086-100e.html" || len(d.OnMachines) != 2 {
		t.Fatalf("export: %+v", d)
	}
	b := d.OnMachines[1]
	if b.Grade != Failed || b.From != Works || b.Since != "2026-12-05" || b.Image.SHA256 != "cd" ||
		b.Evidence.Check != "drivers/e1000" || b.Evidence.CheckPage != "runs/x/desktop@b/drivers.html" ||
		b.Evidence.Transcript != "runs/x/desktop@b/boot.html" || len(b.Evidence.Lines) != 2 {
		t.Errorf("machine b: %+v", b)
	}
	if got := d.Known(); got != "works on 1 tested machine, last 2026-12-05; fails on 1 tested machine, last 2026-12-05" {
		t.Errorf("known %q", got)
	}
	if got := back.Lookup(record.Device{Bus: "pci", VendorID: "8086", DeviceID: "100E", Subsystem: "8086:001e"}); len(got) != 1 {
		t.Errorf("lookup without the subsystem the export lacks: %v", got)
	}
	buf.Reset()
	if err := WriteCSV(&buf, x); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil || len(rows) != 3 || strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") || rows[2][10] != Failed {
		t.Errorf("csv %v %v", rows, err)
	}
}

func TestCSVSafe(t *testing.T) {
	if got := csvSafe("=HYPERLINK(\"x\")"); got[0] != '\'' {
		t.Errorf("formula kept: %q", got)
	}
}

// A USB interface Redox names only by its class (xhcid prints no vendor/product IDs at
// its default level) is known by its class.
func TestKeyWithoutIDs(t *testing.T) {
	d := record.Device{Bus: "usb", Address: "port 1 iface 0", Class: "03.01.01", Driver: "usbhidd", State: record.DeviceSpawned}
	if k := Key(d); k != "usb:class:03.01.01" {
		t.Errorf("key %q", k)
	}
	db := NewDB()
	db.Add("n1", time.Now(), hostA, img1, Grade(boot(hostA, img1, []record.Device{d})))
	e := db.Entries(&IDs{})[0]
	if e.Title() != "usb device of class 03.01.01 (no IDs printed)" {
		t.Errorf("title %q", e.Title())
	}
}

func TestInterner(t *testing.T) {
	var in Interner
	a := []record.Device{{Bus: string([]byte("pci")), VendorID: string([]byte("8086")), State: record.DeviceInit}}
	b := []record.Device{{Bus: string([]byte("pci")), VendorID: string([]byte("8086")), State: record.DeviceInit}}
	in.Devices(a)
	in.Devices(b)
	if unsafe.StringData(a[0].Bus) != unsafe.StringData(b[0].Bus) || unsafe.StringData(a[0].VendorID) != unsafe.StringData(b[0].VendorID) {
		t.Error("equal strings not shared")
	}
	if b[0].Bus != "pci" || b[0].VendorID != "8086" || b[0].State != record.DeviceInit {
		t.Errorf("values changed: %+v", b[0])
	}
}
