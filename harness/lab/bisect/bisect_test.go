package bisect

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// fakeBoots hang unless the culprit is skipped.
func fakeBoots(culprit, attributed string, res *Result) func([]string) Attempt {
	return func(skip []string) Attempt {
		a := Attempt{Skip: skip, Names: skip, Verdict: record.Hang, Reason: "no output", Stalled: attributed}
		if slices.Contains(skip, culprit) {
			a.Verdict, a.Stalled = record.Pass, ""
		}
		res.Attempts = append(res.Attempts, a)
		return a
	}
}

func id(d string) string { return d }

func TestSearch(t *testing.T) {
	cands := []string{"e1000", "nvme", "hda", "xhci", "ahci"}
	for _, tc := range []struct {
		culprit, attributed string
		noAttr              bool
		boots               int
	}{
		{"nvme", "nvme", false, 2}, // the attribution is right: one more boot
		{"hda", "nvme", false, 6},  // wrong: skip nvme, then all the rest, then halve them
		{"xhci", "nvme", true, 5},  // attribution ignored: all, then halving
		{"e1000", "", false, 4},    // no attribution
		{"ahci", "", false, 6},     // the last candidate
	} {
		var res Result
		search(&res, cands, tc.noAttr, fakeBoots(tc.culprit, tc.attributed, &res), id)
		var trace []string
		for _, a := range res.Attempts {
			trace = append(trace, strings.Join(a.Skip, "+")+"="+string(a.Verdict))
		}
		if res.Culprit != tc.culprit || !res.Reproduced || len(res.Attempts) != tc.boots {
			t.Errorf("culprit %s: found %q (%s); boots %v", tc.culprit, res.Culprit, res.Summary, trace)
		}
		t.Logf("%s: %d boots: %v", tc.culprit, len(res.Attempts), trace)
	}
	// Nothing helps: not a driver hang.
	var res Result
	search(&res, cands, false, fakeBoots("none", "", &res), id)
	if res.Culprit != "" || !strings.Contains(res.Summary, "still hangs") {
		t.Errorf("no culprit: %q %s", res.Culprit, res.Summary)
	}
	// The first boot passes: nothing to do.
	res = Result{}
	search(&res, cands, false, func(s []string) Attempt {
		a := Attempt{Verdict: record.Pass}
		res.Attempts = append(res.Attempts, a)
		return a
	}, id)
	if res.Reproduced || len(res.Attempts) != 1 {
		t.Errorf("passing first boot: %+v", res)
	}
}

// fakeLoader plays a boot loader's menu and editor on a pipe and records the keys.
type fakeLoader struct {
	conn   net.Conn
	mu     sync.Mutex
	keys   []byte
	ignore int           // "e" presses to ignore (a loader still drawing)
	delay  time.Duration // before the editor shows (a loader loading the kernel first)
	menu   string
	opened string
}

func (f *fakeLoader) run() {
	f.conn.Write([]byte(f.menu))
	buf := make([]byte, 64)
	line := ""
	open := false
	for {
		n, err := f.conn.Read(buf)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.keys = append(f.keys, buf[:n]...)
		f.mu.Unlock()
		for _, c := range buf[:n] {
			switch {
			case !open && c == 'e' && f.ignore > 0:
				f.ignore--
			case !open && c == 'e':
				open = true
				time.Sleep(f.delay)
				f.conn.Write([]byte("\x1b[18;02H" + f.opened))
			case open && c == '\r':
				f.conn.Write([]byte("\x1b[2J" + line + "\r\nbooting\r\n"))
				line = ""
			case open:
				line += string(c)
				f.conn.Write([]byte("\x1b[18;02H" + f.opened + line))
			}
		}
	}
}

func typeInto(t *testing.T, e *Editor, f *fakeLoader, names []string) string {
	t.Helper()
	a, b := net.Pipe()
	f.conn = b
	go f.run()
	con, err := console.Open(a, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	e2 := *e
	e2.CharDelay = time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e2.Type(ctx, con, names, 0.5); err != nil {
		t.Fatal(err)
	}
	if _, err := con.Expect(ctx, 0, "booting"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.keys)
}

func TestEditorKeys(t *testing.T) {
	keys := typeInto(t, Editors["standin"], &fakeLoader{menu: "\x1b[16;42H   fx stand-in   ", opened: "console=ttyS0 panic=-1", ignore: 1}, []string{"nvme"})
	if keys != "ee\x1b[F fx.skip=nvme\r" {
		t.Errorf("stand-in keys %q", keys)
	}
	// Redox: only init units can be skipped (ps2d; nvmed, ihdad are pcid-spawner's), and
	// `e` goes once although the editor opens late (the bootloader loads the kernel and
	// initfs first and would take a second `e` as text).
	ed := Editors["redox"]
	names := ed.Names([]string{"nvme", "ps2", "hda"})
	if !slices.Equal(names, []string{"ps2d"}) {
		t.Fatalf("redox names %v", names)
	}
	keys = typeInto(t, ed, &fakeLoader{menu: "Arrow keys and enter select mode\r\nPress e to edit boot environment\r\n",
		opened: "--- Redox Bootloader Environment Editor ---\r\n", delay: 300 * time.Millisecond}, names)
	if keys != "eINIT_SKIP=ps2d\r\r" {
		t.Errorf("redox keys %q", keys)
	}
}

// A boot that is INFRA (here: a skip the guest did not confirm) stops the bisection
// instead of being read as "still hangs".
func TestSearchStopsOnInfra(t *testing.T) {
	var res Result
	search(&res, []string{"e1000", "nvme", "hda"}, true, func(skip []string) Attempt {
		a := Attempt{Skip: skip, Verdict: record.Hang, Reason: "no output"}
		if len(skip) > 0 {
			a.Verdict, a.Reason = record.Infra, "the skip of nvme did not take"
		}
		res.Attempts = append(res.Attempts, a)
		return a
	}, id)
	if res.Culprit != "" || len(res.Attempts) != 2 || !strings.Contains(res.Summary, "INFRA: the skip of nvme did not take") {
		t.Errorf("%d boots, %q: %s", len(res.Attempts), res.Culprit, res.Summary)
	}
}

// Init's own lines, in the formats of base init at 9dd6901d: a service prints
// `eprintln!("Skipping '{} {}'", service.cmd, service.args.join(" "))` (init/src/scheduler.rs:95),
// a script command `"init: skipping '{} {}'"` (init/src/script.rs:89).
func TestSkipConfirmation(t *testing.T) {
	ed := Editors["redox"]
	log := "kernel::arch::x86_shared::start:INFO -- Redox OS starting...\nSkipping 'ps2d '\ninit: skipping 'pcid-spawner --initfs'\n"
	yes, no := ed.Confirmed([]string{"ps2d", "pcid-spawner", "audiod", "ps2"}, log)
	if !slices.Equal(yes, []string{"ps2d", "pcid-spawner"}) || !slices.Equal(no, []string{"audiod", "ps2"}) {
		t.Errorf("confirmed %v, not %v", yes, no)
	}
	yes, _ = Editors["standin"].Confirmed([]string{"nvme"}, "FX: stage modules\nFX: skip nvme\n")
	if !slices.Equal(yes, []string{"nvme"}) {
		t.Errorf("stand-in: %v", yes)
	}
}

// Which method leaves which device out, and why not, on a Redox VM with and without a
// display and on real hardware.
func TestPlan(t *testing.T) {
	img := matrix.Image{Name: "redox", Arch: "x86_64", Profile: "redox", Path: "/r.img"}
	for _, tc := range []struct {
		name string
		host matrix.Host
		want map[string]string // device -> substring of its plan line
	}{
		{"vm without display", matrix.Host{Name: "q35", Kind: "qemu", Firmware: "uefi", Options: map[string]any{"disk_bus": "virtio"}, Devices: []string{"nvme", "e1000", "ps2"}},
			map[string]string{"nvme": "nvme: device", "e1000": "e1000: device", "ps2": "VM has no display"}},
		{"vm with display, disk on nvme", matrix.Host{Name: "q35", Kind: "qemu", Firmware: "uefi", Devices: []string{"nvme", "e1000", "ps2", "vga"}},
			map[string]string{"nvme": "carries the boot disk", "e1000": "e1000: device", "ps2": "ps2: skip (ps2d at the boot loader)"}},
		{"real uefi machine", matrix.Host{Name: "x1", Kind: "serial", Firmware: "uefi", Devices: []string{"nvme", "ps2"}},
			map[string]string{"nvme": "started by pcid-spawner", "ps2": "ps2: skip"}},
		{"real bios machine", matrix.Host{Name: "x220", Kind: "serial", Firmware: "bios", Devices: []string{"e1000", "ps2"}},
			map[string]string{"e1000": "needs a VM and x220 is real hardware", "ps2": "draws its menu on VGA"}},
	} {
		o := Options{Job: matrix.Job{Image: img, Host: tc.host}}
		methods, lines := plan(o, profile.Redox, Editors["redox"], tc.host.Devices)
		check(t, tc.name, lines, methods, tc.want)
	}
	// The stand-in: skip only on its menu disks, else device.
	for path, want := range map[string]string{"/fx/disk-uefi-x86_64-menu.img": "nvme: skip (nvme at the boot loader)", "/fx/disk-uefi-x86_64.img": "nvme: device"} {
		h := matrix.Host{Name: "vm", Kind: "qemu", Firmware: "uefi", Options: map[string]any{"disk_bus": "virtio"}, Devices: []string{"nvme"}}
		o := Options{Job: matrix.Job{Image: matrix.Image{Name: "s", Profile: "standin", Path: path}, Host: h}}
		methods, lines := plan(o, profile.Standin, Editors["standin"], h.Devices)
		check(t, path, lines, methods, map[string]string{"nvme": want})
	}
}

func check(t *testing.T, name string, lines []string, methods map[string]Method, want map[string]string) {
	t.Helper()
	for d, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, d+":") && strings.Contains(l, w) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: %s: want %q in %v (methods %v)", name, d, w, lines, methods)
		}
	}
}

// The skip rule: confirmed skips stand; a boot that reached login without a confirmation is
// INFRA; a hang before init reached a skipped unit stands only when the guest shows it got
// the skip (the stand-in's switches line), never on Redox, whose init prints nothing of
// the kind.
func TestJudgeSkip(t *testing.T) {
	sd, rx := Editors["standin"], Editors["redox"]
	for _, tc := range []struct {
		ed    *Editor
		names []string
		log   string
		v     record.Verdict
		want  record.Verdict
	}{
		{sd, []string{"nvme"}, "FX: switches fx.skip=nvme fx.hang=nvme\nFX: skip nvme\n", record.Pass, record.Pass},
		{sd, []string{"nvme"}, "FX: switches fx.hang=nvme\n", record.Pass, record.Infra},
		{sd, []string{"hda"}, "FX: switches fx.skip=hda fx.hang=nvme\nFX: stage e1000\n", record.Hang, record.Hang},
		{sd, []string{"hda"}, "FX: switches fx.hang=nvme\nFX: stage e1000\n", record.Hang, record.Infra},
		{rx, []string{"ps2d"}, "Skipping 'ps2d '\n", record.Hang, record.Hang},
		{rx, []string{"ps2d"}, "init: pcid-spawner\n", record.Hang, record.Infra},
	} {
		if v, reason, _ := judgeSkip(tc.ed, tc.names, tc.log, tc.v, "r"); v != tc.want {
			t.Errorf("%s %v %s on %q: %s (%s), want %s", tc.ed.Profile, tc.names, tc.v, tc.log, v, reason, tc.want)
		}
	}
}

// On a real BIOS machine nothing can be left out (no VM to start without a device, and the
// bootloader's editor is on VGA only): Run says so per device and boots nothing.
func TestRunOnRealHardwareSaysWhyItStops(t *testing.T) {
	j := matrix.Job{Image: matrix.Image{Name: "redox", Arch: "x86_64", Profile: "redox", Path: "/r.img"},
		Host: matrix.Host{Name: "x220", Kind: "serial", Arch: "x86_64", Firmware: "bios", Devices: []string{"e1000", "hda", "ps2"}}}
	res, err := Run(context.Background(), Options{Job: j, RunDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 0 || res.Culprit != "" || len(res.Plan) != 3 {
		t.Fatalf("%d boots, culprit %q, plan %v", len(res.Attempts), res.Culprit, res.Plan)
	}
	for _, want := range []string{"no device of x220 can be left out", "pcid-spawner", "real hardware", "draws its menu on VGA"} {
		if !strings.Contains(res.Summary, want) {
			t.Errorf("summary lacks %q: %s", want, res.Summary)
		}
	}
}
