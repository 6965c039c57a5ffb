package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
	for _, k := range []string{"reached_login", "last_stage", "last_component", "stages", "events"} {
		if _, ok := v[k]; !ok {
			t.Errorf("missing field %q", k)
		}
	}
	if len(v) != 5 {
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
	if !strings.Contains(out, `"events": []`) {
		t.Errorf("empty events not []: %s", out)
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
