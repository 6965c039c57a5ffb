package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func fixture(t *testing.T, name string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "transcripts", name))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatal(err)
	}
	return p
}

func run(args []string, stdin string) (int, string, string) {
	var out, errb bytes.Buffer
	code := analyzeMain(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

func TestAnalyzeExitStatus(t *testing.T) {
	for name, want := range map[string]int{
		"clean-uefi-boot.log":    0, // login, no events
		"ldso-session.log":       1, // login, but a process died (profile.IsCrash: an exit is a crash)
		"apic-errors.log":        0, // login; driver errors are findings for the drivers' checks
		"kernel-panic.log":       1, // crash
		"panic-old.log":          1, // login reached, but a daemon panicked
		"nvme-hang.log":          1, // no login
		"firmware-only-hang.log": 1,
	} {
		code, out, errs := run([]string{fixture(t, name)}, "")
		if code != want {
			t.Errorf("%s: exit %d, want %d\n%s%s", name, code, want, out, errs)
		}
	}
}

func TestAnalyzeJSONFormat(t *testing.T) {
	// Flags may follow the file.
	code, out, errs := run([]string{fixture(t, "hda-errors.log"), "--json"}, "")
	if code != 1 { // a driver failed with an exit status: a crash (profile.IsCrash)
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"reached_login", "last_stage", "last_component", "stages", "events", "devices"} {
		if _, ok := v[k]; !ok {
			t.Errorf("missing field %q", k)
		}
	}
	if len(v) != 6 {
		t.Errorf("unexpected fields: %v", v)
	}
	ev := v["events"].([]any)[0].(map[string]any)
	for _, k := range []string{"kind", "component", "title", "line", "count"} {
		if _, ok := ev[k]; !ok {
			t.Errorf("event lacks %q", k)
		}
	}
	if len(ev) != 5 {
		t.Errorf("unexpected event fields: %v", ev)
	}
	// Empty lists are [] (not null) for consumers.
	_, out, _ = run([]string{"--json", "-"}, "redox login: \n")
	if !strings.Contains(out, `"events": []`) || !strings.Contains(out, `"devices": []`) {
		t.Errorf("empty events or devices not []: %s", out)
	}
}

func TestAnalyzeStdinAndHumanOutput(t *testing.T) {
	code, out, _ := run([]string{"-"}, "# header\nkernel::arch::x86_shared::start:INFO -- Redox OS starting...\nKERNEL PANIC: panicked at src/a.rs:1:2:\nboom\n")
	if code != 1 || !strings.Contains(out, "kernel-panic") || !strings.Contains(out, "line 3") || !strings.Contains(out, "CRASH") {
		t.Fatalf("exit %d:\n%s", code, out)
	}
}

func TestAnalyzeBadInput(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"a", "b"},
		{"--nope", "x"},
		{filepath.Join(t.TempDir(), "missing.log")},
		{t.TempDir()},
		{"--profile", "windows", "-"},
	} {
		if code, _, _ := run(args, "x\n"); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errs := run([]string{"-"}, "# only a header\n"); code != 2 || !strings.Contains(errs, "no console output") {
		t.Errorf("header only: %d %s", code, errs)
	}
}

// analyze lists the boot's devices: in JSON as "devices" (docs/analyze.md) and in the text
// as a table. The aarch64 excerpt in ../shared/redox-logs elides everything between the
// bootloader and login, so its one device is the NVMe disk the firmware booted from; the
// 2026-08 capture in ../shared/redox-logs-2 has pcid's whole table.
func TestAnalyzeDevices(t *testing.T) {
	shared := fixtures.SharedDir(t, "redox-logs")
	code, out, errs := run([]string{"--json", filepath.Join(shared, "aios-edge-aarch64-qemu-nvme-login-excerpt.log")}, "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	var v struct {
		Devices []record.Device `json:"devices"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Devices) != 1 || v.Devices[0].Bus != "pci" || v.Devices[0].State != record.DeviceEnumerated || !strings.Contains(v.Devices[0].Note, "UEFI QEMU NVMe Ctrl") {
		t.Errorf("aarch64 excerpt: %+v", v.Devices)
	}
	capture := filepath.Join(filepath.Dir(shared), "redox-logs-2", "flashos-x86_64-qemu-nvme-ahci-rebranded-login-2026.log")
	if _, err := os.Stat(capture); err != nil {
		fixtures.MissingShared(t, "%v", err)
	}
	_, out, _ = run([]string{"--json", capture}, "")
	v.Devices = nil
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatal(err)
	}
	drivers := map[string]string{}
	for _, d := range v.Devices {
		drivers[d.Address] = d.Driver + " " + d.State
	}
	if len(v.Devices) != 9 || drivers["0000:00:02.0"] != "nvmed initialised" || drivers["0000:00:05.0"] != "e1000d spawned" {
		t.Errorf("capture: %v", drivers)
	}
	_, out, _ = run([]string{capture}, "")
	if !strings.Contains(out, "\ndevices:\n") || !strings.Contains(out, "0000:00:03.0  1b36:000d 0c.03.30 xhcid        initialised") {
		t.Errorf("text table:\n%s", out)
	}
}
