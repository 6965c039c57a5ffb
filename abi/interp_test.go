package abi

import (
	"path/filepath"
	"testing"
)

func TestExpectedInterp(t *testing.T) {
	for machine, want := range map[string]string{
		"x86_64":  "/lib/ld64.so.1",
		"aarch64": "/lib/ld.so.1",
		"riscv64": "",
	} {
		if got := ExpectedInterp(machine); got != want {
			t.Errorf("ExpectedInterp(%s) = %q, want %q", machine, got, want)
		}
	}
}

// TestInterp links a real program once with the Redox loader's path and
// once with the host default, and checks the executable-side facts and
// verdicts.
func TestInterp(t *testing.T) {
	want := ExpectedInterp(hostMachine())
	if want == "" {
		t.Skipf("no Redox loader defined for %s", hostMachine())
	}
	dir := t.TempDir()
	redoxExe := compile(t, filepath.Join(dir, "hello-redox"), "hello.c", "-Wl,--dynamic-linker="+want)
	hostExe := compile(t, filepath.Join(dir, "hello-host"), "hello.c")

	good := mustLoad(t, redoxExe, LoadOptions{})
	if good.Kind != KindExecutable || good.Interp != want {
		t.Fatalf("kind %q interp %q, want executable with %s", good.Kind, good.Interp, want)
	}
	if len(good.Needed) != 1 || good.Needed[0] != "libc.so.6" {
		t.Errorf("needed = %v, want [libc.so.6]", good.Needed)
	}
	if changes, note := CheckInterp(good, ""); len(changes) != 0 || note != "" {
		t.Errorf("CheckInterp(redox loader) = %+v %q", changes, note)
	}

	bad := mustLoad(t, hostExe, LoadOptions{})
	changes, _ := CheckInterp(bad, "")
	if len(changes) != 1 || changes[0].Class != Break || changes[0].Kind != InterpMismatch ||
		changes[0].Old != want || changes[0].New != bad.Interp {
		t.Errorf("CheckInterp(host loader) = %+v", changes)
	}
	// The override wins over the machine's default.
	if changes, _ := CheckInterp(bad, bad.Interp); len(changes) != 0 {
		t.Errorf("CheckInterp with override = %+v", changes)
	}

	// In a comparison the new side's loader is what is checked.
	if rep := Compare(good, bad, Options{}); !rep.HasBreak() || rep.Breaks()[0].Kind != InterpMismatch {
		t.Errorf("Compare(redox, host):\n%s", text(rep))
	}
	if rep := Compare(bad, good, Options{}); rep.HasBreak() {
		t.Errorf("Compare(host, redox):\n%s", text(rep))
	}
}

// TestFileKind: a PIE is an executable although it is ET_DYN; glibc's
// libc.so.6 is a library although it has a PT_INTERP.
func TestFileKind(t *testing.T) {
	dir := t.TempDir()
	pie := mustLoad(t, compile(t, filepath.Join(dir, "pie"), "hello.c", "-fPIE", "-pie"), LoadOptions{})
	nopie := mustLoad(t, compile(t, filepath.Join(dir, "nopie"), "hello.c", "-no-pie"), LoadOptions{})
	if pie.Kind != KindExecutable || nopie.Kind != KindExecutable {
		t.Errorf("pie %q, no-pie %q: want both executables", pie.Kind, nopie.Kind)
	}
	glibc := mustLoad(t, systemGlibc(t), LoadOptions{})
	if glibc.Kind != KindSharedObject || glibc.Interp == "" {
		t.Errorf("glibc: kind %q interp %q: want a shared object that has a PT_INTERP", glibc.Kind, glibc.Interp)
	}
	// A library's PT_INTERP is not a loader requirement.
	if changes, note := CheckInterp(glibc, ""); len(changes) != 0 || note != "" {
		t.Errorf("CheckInterp(glibc) = %+v %q", changes, note)
	}
}
