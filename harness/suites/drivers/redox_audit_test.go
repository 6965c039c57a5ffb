package drivers

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Today's pcid (base 9dd6901d drivers/pcid/src/main.rs:346 `info!("PCI {} {}",
// header.address(), full_device_id.display())`, pci_types 0.10.1 Display
// "{:04x}:{:02x}:{:02x}.{}" since base 7f0e870b 2026-02-07) and drivers' banners
// (driver_interface/mod.rs:123-144 name() "pci-{addr}" with ':' replaced by '-'), as the
// 2026-08 capture in ../shared/redox-logs-2 prints them.
const redoxLog2026 = `kernel::arch::x86_shared::start:INFO -- Redox OS starting...
2026-08-04T11-40-32.653Z [@pcid:250 INFO] PCI SG-BS:DV.F VEND:DEVI CL.SC.IN.RV
2026-08-04T11-40-32.686Z [@pcid:346 INFO] PCI 0000:00:02.0 1B36:0010 01.08.02.02 1 NVME
2026-08-04T11-40-32.699Z [@pcid:346 INFO] PCI 0000:00:03.0 1B36:000D 0C.03.30.01 12 XHCI
2026-08-04T11-40-32.707Z [@pcid:346 INFO] PCI 0000:00:04.0 8086:293E 04.03.00.03 4
2026-08-04T11-40-32.717Z [@pcid:346 INFO] PCI 0000:00:05.0 8086:100E 02.00.00.03 2
2026-08-04T11-40-32.741Z [@pcid:346 INFO] PCI 0000:00:1f.2 8086:2922 01.06.01.02 1 SATA AHCI
2026-08-04T11-40-32.817Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/scheme/initfs/lib/drivers/nvmed"
2026-08-04T11-40-32.898Z [@nvmed::nvme::identify:176 INFO]   - Model: QEMU NVMe Ctrl 11.0.3 Serial: NVME_SERIAL Firmware: 11.0.3
2026-08-04T11-40-32.911Z [@nvmed::nvme::identify:214 INFO] NSID: 1 Size: 327680 Capacity: 327680
2026-08-04T11-40-32.966Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/scheme/initfs/lib/drivers/ahcid"
2026-08-04T11-40-33.053Z [@ahcid:38 INFO] AHCI pci-0000-00-1f.2 on: 4=P6080 5=81064000 IRQ: 10
2026-08-04T11-40-33.100Z [@ahcid::ahci::hba:255 INFO] Serial: QM00001 Firmware: 2.5+ Model: QEMU HARDDISK 48-bit LBA Size: 64 MB
init: switchroot to /usr /etc
2026-08-04T11-40-33.725Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/usr/lib/drivers/xhcid"
2026-08-04T11-40-33.833Z [@xhcid:148 INFO] XHCI pci-0000-00-03.0 on: 0=0000000800000000 IRQ: 11
2026-08-04T11-40-33.887Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/usr/lib/drivers/ihdad"
2026-08-04T11-40-33.964Z [@ihdad:40 INFO] IHDA pci-0000-00-04.0 on: 0=81060000 IRQ: 10
2026-08-04T11-40-34.003Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/usr/lib/drivers/e1000d"
2026-08-04T11-40-34.095Z [@e1000d:34 INFO] E1000 pci-0000-00-05.0 on: 0=81040000 1=P6040 IRQ: 10
2026-08-04T11-40-34.100Z [@xhcid::xhci::device_enumerator:113 INFO] Device on port 5 was attached
redox login: `

// W1: every driver check is judged on the lspci-style addresses, and on the old form too.
func TestRedoxBothPCIAddressForms(t *testing.T) {
	for _, form := range []string{"new", "old"} {
		log := redoxLog2026
		if form == "old" {
			log = strings.ReplaceAll(log, "PCI 0000:00:", "PCI 00-00:")
		}
		in := input(t, profile.Redox, log, record.Pass, "nvme", "e1000", "hda", "xhci", "ahci")
		for _, d := range []string{"nvme", "e1000", "hda"} {
			in.Work[d] = WorkResult{OK: true, Message: "ok"}
		}
		for _, d := range []string{"nvme", "e1000", "hda", "xhci", "ahci"} {
			if c := in.Judge(d); c.Verdict != record.Pass {
				t.Errorf("%s form: %s: %+v", form, d, c)
			}
		}
		want := "0000:00:02.0"
		if form == "old" {
			want = "00-00:02.0"
		}
		if ev := in.Evidence["nvme"]; ev.Addr != want || ev.IDs != "1B36:0010" {
			t.Errorf("%s form: nvme evidence %+v", form, ev)
		}
	}
}

// W4: pcid-spawner logs the command after it set PCID_CLIENT_CHANNEL (drivers 20ffe4d
// pcid-spawner/src/main.rs:89-93 `log::error!("pcid-spawner: driver {command:?} failed
// with {status}")` after `command.env("PCID_CLIENT_CHANNEL", ...)`).
func TestRedoxSpawnerDriverFailedWithEnv(t *testing.T) {
	s := redoxTable.Specs["e1000"]
	ev := s.Gather([]string{`pcid-spawner: driver PCID_CLIENT_CHANNEL="3" "/usr/lib/drivers/e1000d" failed with exit status: 101`})
	if ev.ErrorTitle == "" {
		t.Fatal("the driver's failure line was not seen")
	}
}

// W3: ps2d is silent at INFO on a working keyboard (base 9dd6901d drivers/input/ps2d:
// only vm.rs:77,85 `info!("No vmmouse support")`, `info!("No vmmouse")`); an error line
// (controller.rs:291 `error!("keyboard failed to reset: {:02X}", b)`; drivers 20ffe4d
// controller.rs:298 `error!("ps2d: keyboard failed to reset: {:02X}", b)`) is a failure.
func TestRedoxPS2(t *testing.T) {
	in := input(t, profile.Redox, redoxLog2026, record.Pass, "ps2")
	if c := in.Judge("ps2"); c.Verdict != record.Pass {
		t.Errorf("silent ps2d: %+v", c)
	}
	for _, l := range []string{
		"2026-08-04T11-40-32.500Z [@ps2d::controller:291 ERROR] keyboard failed to reset: FE",
		"[@ps2d::controller:337 ERROR] ps2d: keyboard failed to reset",
		"ps2d: keyboard failed self test: FC",
	} {
		in := input(t, profile.Redox, strings.Replace(redoxLog2026, "init: switchroot", l+"\ninit: switchroot", 1), record.Pass, "ps2")
		if c := in.Judge("ps2"); c.Verdict != record.Fail {
			t.Errorf("%q: %+v", l, c)
		}
	}
	in = input(t, profile.Redox, strings.Replace(redoxLog2026, "init: switchroot", "2026-08-04T11-40-32.500Z [@ps2d::vm:77 INFO] No vmmouse support\ninit: switchroot", 1), record.Pass, "ps2")
	if c := in.Judge("ps2"); c.Verdict != record.Pass {
		t.Errorf("ps2d without vmmouse: %+v", c)
	}
}
