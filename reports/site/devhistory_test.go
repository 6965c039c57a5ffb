package site

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// devicePool is the synthetic lab's device IDs: a few drivers the drivers suite
// exercises (e1000d, nvmed, ihdad), bound ones (xhcid, ahcid) and many without a driver.
func devicePool(n int) []record.Device {
	kinds := []struct{ class, driver, check string }{
		{"02.00.00", "e1000d", "drivers/e1000"}, {"01.08.02", "nvmed", "drivers/nvme"}, {"04.03.00", "ihdad", "drivers/hda"},
		{"0c.03.30", "xhcid", "drivers/xhci"}, {"01.06.01", "ahcid", "drivers/ahci"}, {"03.00.00", "", ""}, {"06.04.00", "", ""}, {"0c.05.00", "", ""},
	}
	out := make([]record.Device, n)
	for i := range out {
		k := kinds[i%len(kinds)]
		out[i] = record.Device{Bus: "pci", VendorID: "8086", DeviceID: fmt.Sprintf("%04x", 0x1000+i), Class: k.class, Driver: k.driver}
		if i%9 == 4 {
			out[i].Subsystem = fmt.Sprintf("17aa:%04x", 0x2000+i)
		}
	}
	return out
}

// writeDeviceHistory writes nights runs of machines machines, each carrying perMachine
// devices out of a pool three times that size (so devices are shared between machines),
// with a boot record carrying the inventory and a drivers record with the checks. Some
// devices change grade over the year (machine 3's e1000 fails from night 200 on) and
// every 7th machine lacks a driver for its display controller.
func writeDeviceHistory(tb testing.TB, dir string, nights, machines, perMachine int) []string {
	tb.Helper()
	pool := devicePool(3 * perMachine)
	var dirs []string
	for n := 0; n < nights; n++ {
		day := fakerun.Base.Add(time.Duration(n) * 24 * time.Hour)
		img := record.Image{Name: "desktop-nightly", Arch: "x86_64", Variant: "desktop", Version: "0.9.0-" + fmt.Sprint(n),
			Date: day.Format("2006-01-02"), Firmware: "uefi", Profile: "redox", SHA256: fmt.Sprintf("%064x", n)}
		var recs []*record.Record
		for m := 0; m < machines; m++ {
			h := record.Host{Name: fmt.Sprintf("lab-%02d", m), Kind: "serial", Arch: "x86_64", Firmware: "uefi",
				Vendor: "Vendor", Model: fmt.Sprintf("Model %d", m)}
			if m%5 == 0 {
				h.Kind, h.Vendor, h.Model = "qemu", "", ""
			}
			boot := &record.Record{Job: img.Name + "@" + h.Name + "/boot", Suite: "boot", Host: h, Image: img,
				Started: day, Finished: day.Add(time.Minute), Format: record.FormatVersion,
				Checks: []record.Check{{Name: "boot/login", Verdict: record.Pass, Duration: 20 * time.Second}}}
			drv := &record.Record{Job: img.Name + "@" + h.Name + "/drivers", Suite: "drivers", Host: h, Image: img,
				Started: day, Finished: day.Add(time.Minute), Format: record.FormatVersion}
			checks := map[string]record.Verdict{}
			for k := 0; k < perMachine; k++ {
				d := pool[(m*7+k)%len(pool)]
				d.Address = fmt.Sprintf("0000:%02x:%02x.0", k/32, k%32)
				d.Evidence = []int{2, 3}
				switch {
				case d.Driver == "":
					d.State = record.DeviceNoDriver
				case d.Driver == "e1000d" && m == 3 && n >= 200:
					d.State, d.Note = record.DeviceStalled, "e1000d: link never came up"
					checks["drivers/e1000"] = record.Hang
				default:
					d.State = record.DeviceInit
				}
				if c := checkOf(d.Driver); c != "" {
					if _, ok := checks[c]; !ok {
						checks[c] = record.Pass
					}
				}
				boot.Devices = append(boot.Devices, d)
			}
			for _, c := range keys(checks) {
				drv.Checks = append(drv.Checks, record.Check{Name: c, Verdict: checks[c], Message: "synthetic", Duration: time.Second})
			}
			recs = append(recs, boot, drv)
		}
		d := filepath.Join(dir, fmt.Sprintf("night-%03d", n))
		if err := fakerun.WriteRun(d, fakerun.Info(n), recs); err != nil {
			tb.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

func checkOf(driver string) string {
	switch driver {
	case "e1000d":
		return "drivers/e1000"
	case "nvmed":
		return "drivers/nvme"
	case "ihdad":
		return "drivers/hda"
	case "xhcid":
		return "drivers/xhci"
	case "ahcid":
		return "drivers/ahci"
	}
	return ""
}

// TestWriteDeviceHistory writes BenchmarkSiteDevices' history for timing the command
// itself: SITE_DEVICE_HISTORY_OUT=DIR go test ./reports/site -run TestWriteDeviceHistory,
// then bin/redox-hwtest report site -o SITE DIR/night-*/.
func TestWriteDeviceHistory(t *testing.T) {
	dir := os.Getenv("SITE_DEVICE_HISTORY_OUT")
	if dir == "" {
		t.Skip("SITE_DEVICE_HISTORY_OUT not set: nothing to write")
	}
	writeDeviceHistory(t, dir, 365, 50, 40)
}
