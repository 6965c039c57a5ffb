package inventory

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// build runs the analyser and the inventory over a log, as `analyze` does.
func build(t *testing.T, log string, m Machine) ([]record.Device, []classify.Event) {
	t.Helper()
	lines := strings.Split(console.NormalizeString(log), "\n")
	an := classify.New(profile.Redox)
	for i, l := range lines {
		an.Feed(classify.Line{N: i + 1, Text: l})
	}
	return FromLines("redox", lines, an.Finish(), m)
}

func find(devs []record.Device, addr string) *record.Device {
	for i := range devs {
		if devs[i].Address == addr {
			return &devs[i]
		}
	}
	return nil
}

// The raw 2026-08 capture of a current (rebranded) Redox on QEMU q35: pcid's lines (base
// 9dd6901d drivers/pcid/src/main.rs:346), pcid-spawner's (drivers/pcid-spawner/src/main.rs:88)
// and the drivers' banners and identify lines, byte for byte.
func TestInventoryOfTheCurrentCapture(t *testing.T) {
	dir := fixtures.SharedDir(t, "redox-logs-2")
	raw, err := os.ReadFile(filepath.Join(dir, "flashos-x86_64-qemu-nvme-ahci-rebranded-login-2026.log"))
	if err != nil {
		fixtures.MissingShared(t, "%v", err)
	}
	_, body, _ := transcript.SplitHeader(raw)
	devs, _ := build(t, string(body), Machine{})
	want := []struct{ addr, id, class, driver, state string }{
		{"0000:00:00.0", "8086:29c0", "06.00.00", "", record.DeviceEnumerated},
		{"0000:00:01.0", "1234:1111", "03.00.00", "", record.DeviceEnumerated},
		{"0000:00:02.0", "1b36:0010", "01.08.02", "nvmed", record.DeviceInit},
		{"0000:00:03.0", "1b36:000d", "0c.03.30", "xhcid", record.DeviceInit},
		{"0000:00:04.0", "8086:293e", "04.03.00", "ihdad", record.DeviceSpawned},
		{"0000:00:05.0", "8086:100e", "02.00.00", "e1000d", record.DeviceSpawned},
		{"0000:00:1f.0", "8086:2918", "06.01.00", "", record.DeviceEnumerated},
		// The empty SATAPI port's ERROR lines (ahci/hba.rs:451-456, ahci/mod.rs:67).
		{"0000:00:1f.2", "8086:2922", "01.06.01", "ahcid", record.DeviceError},
		{"0000:00:1f.3", "8086:2930", "0c.05.00", "", record.DeviceEnumerated},
	}
	if len(devs) != len(want) {
		t.Fatalf("%d devices: %+v", len(devs), devs)
	}
	for i, w := range want {
		d := devs[i]
		if d.Address != w.addr || d.ID() != w.id || d.Class != w.class || d.Driver != w.driver || d.State != w.state || d.Bus != "pci" {
			t.Errorf("device %d: %+v, want %+v", i, d, w)
		}
		if len(d.Evidence) == 0 {
			t.Errorf("device %d has no evidence lines", i)
		}
	}
}

const redoxBoot = `2026-08-04T11-40-32.686Z [@pcid:346 INFO] PCI 0000:00:02.0 1B36:0010 01.08.02.02 1 NVME
2026-08-04T11-40-32.707Z [@pcid:346 INFO] PCI 0000:00:04.0 8086:293E 04.03.00.03 4
2026-08-04T11-40-32.717Z [@pcid:346 INFO] PCI 0000:00:05.0 8086:100E 02.00.00.03 2
2026-08-04T11-40-32.817Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/scheme/initfs/lib/drivers/nvmed"
2026-08-04T11-40-32.911Z [@nvmed::nvme::identify:214 INFO] NSID: 1 Size: 327680 Capacity: 327680
init: switchroot to /usr /etc
2026-08-04T11-40-33.887Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/usr/lib/drivers/ihdad"
2026-08-04T11-40-33.964Z [@ihdad:40 INFO] IHDA pci-0000-00-04.0 on: 0=81060000 IRQ: 10
2026-08-04T11-40-34.003Z [@pcid_spawner:88 INFO] pcid-spawner: spawn "/usr/lib/drivers/e1000d"
`

// The states a driver goes through: the old address form, a driver that exits, one that
// logs an error, and the one printing last when the boot stalls.
func TestInventoryStates(t *testing.T) {
	old := strings.ReplaceAll(strings.ReplaceAll(redoxBoot, "PCI 0000:00:", "PCI 00-00:"), "pci-0000-", "pci-00-")
	devs, _ := build(t, old+"redox login: ", Machine{})
	if d := find(devs, "00-00:04.0"); d == nil || d.Driver != "ihdad" || d.State != record.DeviceSpawned {
		t.Errorf("old form, ihdad: %+v", devs)
	}
	// e1000d dies: init's report (base 9dd6901d init/src/service.rs:108 `eprintln!("init:
	// {command:?} failed with {exit_status}")`); ihdad logs an error (ihdad
	// hda/cmdbuff.rs `log::error!("timeout on CORB command")`).
	log := redoxBoot + "2026-08-04T11-40-34.100Z [@ihdad::hda::cmdbuff:233 ERROR] timeout on CORB command\n" +
		"init: env -i \"/usr/lib/drivers/e1000d\" failed with exit status: 101\nredox login: "
	devs, _ = build(t, log, Machine{})
	if d := find(devs, "0000:00:05.0"); d == nil || d.State != record.DeviceExited || d.Driver != "e1000d" {
		t.Errorf("e1000d exited: %+v", d)
	}
	if d := find(devs, "0000:00:04.0"); d == nil || d.State != record.DeviceError || !strings.Contains(d.Note, "CORB") {
		t.Errorf("ihdad error: %+v", d)
	}
	if d := find(devs, "0000:00:02.0"); d == nil || d.State != record.DeviceInit {
		t.Errorf("nvmed initialised: %+v", d)
	}
	// The console falls silent after e1000d's banner: it is the stalled one.
	devs, _ = build(t, redoxBoot+"2026-08-04T11-40-34.095Z [@e1000d:34 INFO] E1000 pci-0000-00-05.0 on: 0=81040000 1=P6040 IRQ: 10\n", Machine{})
	if d := find(devs, "0000:00:05.0"); d == nil || d.State != record.DeviceStalled {
		t.Errorf("stalled e1000d: %+v", devs)
	}
	// No driver claimed the function and the boot reached login.
	devs, _ = build(t, "2026-08-04T11-40-32.726Z [@pcid:346 INFO] PCI 0000:00:1f.0 8086:2918 06.01.00.02 6\nredox login: ", Machine{})
	if len(devs) != 1 || devs[0].State != record.DeviceNoDriver {
		t.Errorf("no driver: %+v", devs)
	}
}

// netstack and audiod exit before readiness on a machine without a NIC or HDA (base
// 9dd6901d netstack/src/main.rs:190-196, audiod/src/main.rs:55,94), and init says so
// (init/src/service.rs:65 `eprintln!("init: {command:?} exited without notifying
// readiness")`): expected there, a crash where the hardware is.
func TestExpectedWithoutTheHardware(t *testing.T) {
	const tail = `2026-08-04T11-40-35.000Z [smolnetd@smolnetd:194 ERROR] smoltcpd: no network adapter found
init: env -i INIT_NOTIFY="3" LD_LIBRARY_PATH="/usr/lib" PATH="/usr/bin" RUST_BACKTRACE="1" "netstack" exited without notifying readiness
audiod: No such device
init: env -i LD_LIBRARY_PATH="/usr/lib" PATH="/usr/bin" RUST_BACKTRACE="1" "audiod" exited without notifying readiness
2026-08-04T11-40-36.000Z [orbital@orbital:78 ERROR] error during daemon execution, exiting with status=1: could not open display, caused by: No such device (os error 19)
redox login: `
	kinds := func(evs []classify.Event) map[string]string {
		m := map[string]string{}
		for _, e := range evs {
			m[e.Component] = e.Kind
		}
		return m
	}
	noHW := "2026-08-04T11-40-32.686Z [@pcid:346 INFO] PCI 0000:00:02.0 1B36:0010 01.08.02.02 1 NVME\n"
	_, evs := build(t, noHW+tail, Machine{})
	if k := kinds(evs); k["netstack"] != KindExpected || k["audiod"] != KindExpected || k["orbital"] != KindExpected {
		t.Errorf("no NIC, HDA or display in the PCI table: %+v", evs)
	}
	for _, e := range evs {
		if profile.IsCrash(e.Kind) {
			t.Errorf("still a crash: %+v", e)
		}
		if e.Kind == KindExpected && !strings.Contains(e.Title, "expected: ") {
			t.Errorf("no reason given: %+v", e)
		}
	}
	// The NIC and HDA were enumerated (and a display): their daemons failing is a crash.
	_, evs = build(t, redoxBoot+"2026-08-04T11-40-32.676Z [@pcid:346 INFO] PCI 0000:00:01.0 1234:1111 03.00.00.02 3\n"+tail, Machine{})
	if k := kinds(evs); k["netstack"] != profile.KindExit || k["audiod"] != profile.KindExit || k["orbital"] != profile.KindExit {
		t.Errorf("with the hardware enumerated: %+v", evs)
	}
	// Known machine: its device list decides.
	_, evs = build(t, tail, Machine{Known: true, Devices: []string{"nvme", "e1000"}})
	if k := kinds(evs); k["netstack"] != profile.KindExit || k["audiod"] != KindExpected || k["orbital"] != KindExpected {
		t.Errorf("machine with e1000, no hda, no display: %+v", evs)
	}
	// Nothing known, no PCI table, and the daemon did not say why: kept a crash.
	_, evs = build(t, strings.Replace(strings.Replace(tail, "audiod: No such device\n", "", 1), "[smolnetd@smolnetd:194 ERROR] smoltcpd: no network adapter found", "x", 1), Machine{})
	if k := kinds(evs); k["netstack"] != profile.KindExit || k["audiod"] != profile.KindExit {
		t.Errorf("nothing known: %+v", evs)
	}
}

// BenchmarkAnalyzeWithInventory: what `redox-hwtest analyze` does per byte (the analysis
// and the device inventory over one read of the transcript) against the analysis alone
// (classify's BenchmarkAnalyze), both on the same corpus in the same iteration, so the
// ratio holds on a loaded machine: MB/s of each and "x-analyze-time", the time with the
// inventory over the time without, in CPU time of the process (getrusage), which other
// processes on a shared machine do not inflate as they do wall time.
func BenchmarkAnalyzeWithInventory(b *testing.B) {
	root, err := matrix.ModuleRoot()
	if err != nil {
		b.Fatal(err)
	}
	data := fixtures.TranscriptCorpus(b, 64<<20, filepath.Join(root, "..", "shared", "redox-logs"),
		filepath.Join(root, "..", "shared", "redox-logs-2"), filepath.Join(root, "fixtures", "transcripts"))
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	var alone, with time.Duration
	for i := 0; i < b.N; i++ {
		runtime.GC()
		t0 := cpuTime()
		if _, _, err := classify.Analyze(bytes.NewReader(data), profile.Redox); err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		t1 := cpuTime()
		an, inv := classify.New(profile.Redox), New("redox")
		if _, err := classify.FeedReaderFunc(bytes.NewReader(data), func(l classify.Line) {
			an.Feed(l)
			inv.Feed(l.N, l.Text)
		}); err != nil {
			b.Fatal(err)
		}
		a := an.Finish()
		inv.Excuse(a.Events, inv.Finish(a), Machine{})
		alone, with = alone+t1-t0, with+cpuTime()-t1
	}
	mb := float64(len(data)) * float64(b.N) / 1e6
	b.ReportMetric(mb/alone.Seconds(), "analyze-MB/s")
	b.ReportMetric(mb/with.Seconds(), "with-inventory-MB/s")
	b.ReportMetric(with.Seconds()/alone.Seconds(), "x-analyze-time")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
