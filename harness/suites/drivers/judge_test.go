package drivers

import (
	"context"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/boot"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// input analyses a hand-written boot log with the profile, as a live boot would.
func input(t *testing.T, p *profile.Profile, log string, v record.Verdict, devices ...string) Input {
	t.Helper()
	an := classify.New(p)
	lines := strings.Split(strings.TrimSpace(log), "\n")
	for i, l := range lines {
		an.Feed(classify.Line{N: i + 1, Text: l})
	}
	in := Input{Profile: p, Table: Tables[p.Name], Host: matrix.Host{Name: "h", Devices: devices},
		Outcome:  boot.Outcome{Verdict: v, Reason: "test", Analysis: an.Snapshot()},
		Evidence: map[string]Evidence{}, Work: map[string]WorkResult{}}
	for _, d := range Known {
		if s := in.Table.Specs[d]; s != nil {
			in.Evidence[d] = s.Gather(lines)
		}
	}
	return in
}

const redoxLog = `kernel::arch::x86_shared::start:INFO -- Redox OS starting...
[src/initnsmgr.rs:169 WARN] Scheme "file" not found in namespace
2026-03-17T23-54-16.348Z [@pcid:332 INFO] PCI 00-00:02.0 8086:100E 02.00.00.03 11
2026-03-17T23-54-16.349Z [@pcid:332 INFO] PCI 00-00:04.0 1B36:0010 01.08.02.02 11
2026-03-17T23-54-16.350Z [@pcid:332 INFO] PCI 00-00:1B.0 8086:293E 04.03.00.03 10
pcid-spawner: spawn "/usr/lib/drivers/e1000d"
2026-03-17T23-54-16.400Z [@e1000d:33 INFO] E1000 pci-00-00-02.0 on: 52:54:00:12:34:56
pcid-spawner: spawn "/usr/lib/drivers/nvmed"
`

// Redox: pcid enumerated all three, e1000d came up, nvmed was spawned and the console
// fell silent: the hang is nvme's (the driver spawned last), hda was never reached.
func TestRedoxStallInSpawnedDriver(t *testing.T) {
	in := input(t, profile.Redox, redoxLog, record.Hang, "nvme", "e1000", "hda")
	in.Outcome.Analysis.LastStage = "drivers"
	if ev := in.Evidence["hda"]; ev.Addr != "00-00:1B.0" || ev.IDs != "8086:293E" {
		t.Errorf("hda evidence %+v", ev)
	}
	d, why := in.Stall()
	if d != "nvme" {
		t.Fatalf("stall blamed on %q (%s)", d, why)
	}
	c := in.Judge("nvme")
	if c.Verdict != record.Hang || c.Component != "nvmed" {
		t.Fatalf("nvme: %+v", c)
	}
	if c := in.Judge("e1000"); c.Verdict != record.Hang || c.Component != "nvmed" || !strings.Contains(c.Message, "driver started for pci-00-00-02.0") {
		t.Fatalf("e1000: %+v", c)
	}
}

func TestRedoxDriverErrorAndCrash(t *testing.T) {
	log := redoxLog + `2026-03-17T23-54-17.000Z [@nvmed:12 INFO] NVMe model QEMU NVMe Ctrl serial NVME_SERIAL
pcid-spawner: spawn "/usr/lib/drivers/ihdad"
2026-03-17T23-54-18.000Z [@ihdad:80 INFO] IHDA pci-00-00-1B.0
2026-03-17T23-54-19.000Z [@ihdad:200 ERROR] timeout on CORB command
redox login:`
	in := input(t, profile.Redox, log, record.Pass, "nvme", "e1000", "hda")
	in.Work["nvme"] = WorkResult{OK: true, Message: "ok"}
	in.Work["e1000"] = WorkResult{OK: true, Message: "ok"}
	in.Work["hda"] = WorkResult{OK: true, Message: "ok"}
	if c := in.Judge("hda"); c.Verdict != record.Fail || !strings.Contains(c.Message, "CORB") {
		t.Fatalf("hda with a CORB timeout: %+v", c)
	}
	if c := in.Judge("nvme"); c.Verdict != record.Pass {
		t.Fatalf("nvme: %+v", c)
	}
	log = strings.Replace(log, "redox login:", "UNHANDLED EXCEPTION, CPU #0, PID 3, NAME /usr/lib/drivers/nvmed, CONTEXT 0x1\nredox login:", 1)
	in = input(t, profile.Redox, log, record.Pass, "nvme")
	if c := in.Judge("nvme"); c.Verdict != record.Crash || c.Component != "nvmed" {
		t.Fatalf("crashed nvmed: %+v", c)
	}
}

// The stand-in: a user-space crash of the hda "daemon" (fx.crash=hda fx.crashkind=user)
// is CRASH for hda, the boot goes on, the others are judged normally.
func TestStandinDaemonCrash(t *testing.T) {
	log := `FX: init started (x86_64 6.1.0)
FX: stage modules
FX: pci 0000:00:03.0 8086:100e class=020000 driver=-
FX: pci 0000:00:04.0 1b36:0010 class=010802 driver=-
FX: pci 0000:00:05.0 8086:2668 class=040300 driver=-
FX: stage e1000
FX: stage nvme
FX: stage hda
FX: hda daemon started (pid 99)
FX: hda daemon crashed: Segmentation fault (signal 11)
FX: stage drivers
FX: driver e1000 bound eth0
FX: driver nvme bound /dev/nvme0n1
FX: driver hda unbound 0000:00:05.0
FX: stage shell
FX: boot complete`
	in := input(t, profile.Standin, log, record.Pass, "nvme", "e1000", "hda")
	in.Work["nvme"] = WorkResult{OK: true, Message: "ok"}
	in.Work["e1000"] = WorkResult{Err: context.DeadlineExceeded}
	if c := in.Judge("hda"); c.Verdict != record.Crash || c.Component != "hda" {
		t.Fatalf("hda: %+v", c)
	}
	if c := in.Judge("nvme"); c.Verdict != record.Pass || !strings.Contains(c.Message, "/dev/nvme0n1") {
		t.Fatalf("nvme: %+v", c)
	}
	if c := in.Judge("e1000"); c.Verdict != record.Infra {
		t.Fatalf("e1000 whose try could not run: %+v", c)
	}
}

func TestStandinSkippedAndUnbound(t *testing.T) {
	log := `FX: stage modules
FX: pci 0000:00:03.0 8086:100e class=020000 driver=-
FX: pci 0000:00:05.0 8086:2668 class=040300 driver=-
FX: pci 0000:00:06.0 1b36:000d class=0c0330 driver=-
FX: skip e1000
FX: stage hda
FX: stage drivers
FX: driver hda unbound 0000:00:05.0
FX: boot complete`
	in := input(t, profile.Standin, log, record.Pass, "e1000", "hda", "xhci", "nvme")
	if c := in.Judge("e1000"); c.Verdict != record.Skip {
		t.Errorf("skipped e1000: %+v", c)
	}
	if c := in.Judge("hda"); c.Verdict != record.Fail || !strings.Contains(c.Message, "no driver took it") {
		t.Errorf("unbound hda: %+v", c)
	}
	if c := in.Judge("xhci"); c.Verdict != record.Skip || !strings.Contains(c.Message, "no xhci driver") || !strings.Contains(c.Message, "1b36:000d") {
		t.Errorf("xhci: %+v", c)
	}
	if c := in.Judge("nvme"); c.Verdict != record.Fail || !strings.Contains(c.Message, "not enumerated") {
		t.Errorf("nvme the host lists but the guest lacks: %+v", c)
	}
}

func TestDevicesForMatrix(t *testing.T) {
	m := &matrix.Matrix{Hosts: []matrix.Host{{Devices: []string{"ps2", "nvme"}}, {Devices: []string{"xhci", "vga"}}}}
	if got := strings.Join(Devices(m), ","); got != "hda,nvme,e1000,xhci,ps2" {
		t.Fatalf("devices %s", got)
	}
}

func TestRedoxTryCommands(t *testing.T) {
	if got := RedoxNVMeCmd("/home/user/.rhw-nvme", "w"); got != "echo w > /home/user/.rhw-nvme && cat /home/user/.rhw-nvme && rm /home/user/.rhw-nvme" {
		t.Fatal(got)
	}
	// Replies and losses as netutils 26ffc85 src/ping/ping.rs prints them:
	// "From {} icmp_seq={} time={}ms" (:206) and "From {remote_host} icmp_seq={seq} timeout"
	// (:301); exit status 0 either way (src/ping/main.rs).
	r := &tableRunner{out: map[string]string{
		RedoxRouteCmd:           "default via 192.168.7.1 dev eth0 src 192.168.7.20\n",
		"ping -c 3 192.168.7.1": "From 192.168.7.1 icmp_seq=1 time=0.41ms\n",
		RedoxSchemesCmd:         "audio\naudiohw\ndebug\n",
		RedoxHDACmd:             "",
	}}
	if w := redoxE1000(context.Background(), r, Evidence{}); !w.OK {
		t.Fatalf("e1000 try: %+v (ran %q)", w, r.ran)
	}
	if w := redoxHDA(context.Background(), r, Evidence{}); !w.OK {
		t.Fatalf("hda try: %+v", w)
	}
	// Linux iputils' lowercase "64 bytes from" is not Redox's reply line; losses are not replies.
	r.out["ping -c 3 192.168.7.1"] = "From 192.168.7.1 icmp_seq=0 timeout\nFrom 192.168.7.1 icmp_seq=1 timeout\n"
	if w := redoxE1000(context.Background(), r, Evidence{}); w.OK || w.Err != nil {
		t.Fatalf("e1000 try with only timeouts: %+v", w)
	}
	// audiod accepts writes without ihdad: no audiohw scheme is a FAIL whatever the write did.
	r.out[RedoxSchemesCmd] = "audio\ndebug\n"
	if w := redoxHDA(context.Background(), r, Evidence{}); w.OK || w.Err != nil || !strings.Contains(w.Message, "audiohw") {
		t.Fatalf("hda try without ihdad's scheme: %+v", w)
	}
	// The route table out of reach (the user namespace lacks netcfg): INFRA, no guessed gateway.
	delete(r.out, RedoxRouteCmd)
	r.ran = nil
	if w := redoxE1000(context.Background(), r, Evidence{}); w.Err == nil || len(r.ran) != 1 {
		t.Fatalf("e1000 try without a route table: %+v (ran %q)", w, r.ran)
	}
}

// A driver banner is printed before the driver touches its device: alone it is not
// "initialised". xhcid (base 9dd6901d drivers/usb/xhcid/src/main.rs:148 "XHCI {}",
// xhci/device_enumerator.rs:113 "Device on port {} was attached").
func TestRedoxBannerIsNotInitialised(t *testing.T) {
	log := `kernel::arch::x86_shared::start:INFO -- Redox OS starting...
2026-08-01T10-00-00.100Z [@pcid:346 INFO] PCI 00-00:05.0 1B36:000D 0C.03.30.01 11 XHCI
pcid-spawner: spawn "/usr/lib/drivers/xhcid"
2026-08-01T10-00-00.200Z [@xhcid:148 INFO] XHCI pci-00-00-05.0
redox login:`
	in := input(t, profile.Redox, log, record.Pass, "xhci")
	if c := in.Judge("xhci"); c.Verdict != record.Fail || !strings.Contains(c.Message, "no line after it talked to the device") {
		t.Fatalf("xhci with its banner only: %+v", c)
	}
	log = strings.Replace(log, "redox login:", "2026-08-01T10-00-01.000Z [@xhcid::xhci::device_enumerator:113 INFO] Device on port 1 was attached\nredox login:", 1)
	in = input(t, profile.Redox, log, record.Pass, "xhci")
	if c := in.Judge("xhci"); c.Verdict != record.Pass {
		t.Fatalf("xhci with a device attached: %+v", c)
	}
}

type tableRunner struct {
	out map[string]string
	ran []string
}

func (r *tableRunner) Run(_ context.Context, cmd string) (string, int, error) {
	r.ran = append(r.ran, cmd)
	o, ok := r.out[cmd]
	if !ok {
		return "not found", 127, nil
	}
	return o, 0, nil
}
