package abi

// ExpectedInterp is the PT_INTERP a Redox executable for machine (as in
// Library.Machine) must name: relibc's dynamic loader. Empty when Redox
// has no dynamic loader for the machine, which the comparison reports as
// unchecked rather than guessing.
func ExpectedInterp(machine string) string {
	switch machine {
	case "x86_64":
		return "/lib/ld64.so.1"
	case "aarch64":
		return "/lib/ld.so.1"
	}
	return ""
}

// CheckInterp checks an executable's PT_INTERP against the loader it must
// use: override when non-empty, else ExpectedInterp(lib.Machine). It
// returns the break (if any) and a note when nothing could be checked. A
// shared object has no loader requirement and always passes.
func CheckInterp(lib *Library, override string) (changes []Change, note string) {
	if lib.Kind != KindExecutable {
		return nil, ""
	}
	want := override
	if want == "" {
		want = ExpectedInterp(lib.Machine)
	}
	if want == "" {
		return nil, "no known Redox loader for machine " + lib.Machine + ": PT_INTERP not checked"
	}
	if lib.Interp == "" {
		// A static executable has no loader to get wrong (Redox runs static binaries).
		return nil, "static executable (no PT_INTERP): loader not checked"
	}
	if lib.Interp == want {
		return nil, ""
	}
	got := lib.Interp
	return []Change{{
		Class:   Break,
		Kind:    InterpMismatch,
		Subject: lib.File,
		Old:     want,
		New:     got,
		Detail:  "PT_INTERP must be the " + lib.Machine + " loader",
	}}, ""
}
