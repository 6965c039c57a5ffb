package abi

import (
	"debug/elf"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// debugRoot is where Debian (and gdb's default configuration) keeps
// separate debug info; libc6-dbg puts glibc's there.
const debugRoot = "/usr/lib/debug"

// checkRealLibrary loads a real library twice and through a baseline, and
// requires every comparison to be empty.
func checkRealLibrary(t *testing.T, path string, opts LoadOptions) *Library {
	t.Helper()
	lib := mustLoad(t, path, opts)
	if len(lib.Symbols) < 500 {
		t.Errorf("%s: only %d exports", path, len(lib.Symbols))
	}
	if rep := Compare(lib, mustLoad(t, path, opts), Options{}); len(rep.Changes) != 0 {
		t.Errorf("%s against itself:\n%s", path, text(rep))
	}
	b, err := MarshalBaseline(lib)
	if err != nil {
		t.Fatal(err)
	}
	base, err := ParseBaseline(b)
	if err != nil {
		t.Fatalf("%s: baseline does not parse: %v", path, err)
	}
	if rep := Compare(base, lib, Options{}); len(rep.Changes) != 0 {
		t.Errorf("%s: dump then diff:\n%s", path, text(rep))
	}
	b2, _ := MarshalBaseline(base)
	if string(b) != string(b2) {
		t.Errorf("%s: baseline not stable through a round trip", path)
	}
	return lib
}

func TestGlibc(t *testing.T) {
	path := systemGlibc(t)
	lib := checkRealLibrary(t, path, LoadOptions{})
	if lib.SONAME != "libc.so.6" || len(lib.Versions) < 10 {
		t.Errorf("glibc: soname %q, %d version nodes", lib.SONAME, len(lib.Versions))
	}
	if lib.HasDWARF() {
		t.Logf("note: %s carries its own DWARF", path)
	} else {
		rep := Compare(lib, lib, Options{})
		if !rep.SymbolLevelOnly {
			t.Error("comparison of a library without DWARF is not marked symbol level only")
		}
	}
	// glibc keeps old symbol versions as hidden (name@VER) next to the
	// default (name@@VER); both are interface.
	var versions, hidden int
	for _, s := range lib.Symbols {
		if s.Version != "" {
			versions++
		}
		if s.Hidden {
			hidden++
		}
	}
	if versions < len(lib.Symbols)/2 || hidden == 0 {
		t.Errorf("glibc: %d of %d exports versioned, %d hidden", versions, len(lib.Symbols), hidden)
	}
}

// TestGlibcDebugInfo runs the type-level extraction on glibc's own DWARF
// when the separate debug info is installed (Debian: libc6-dbg).
func TestGlibcDebugInfo(t *testing.T) {
	path := systemGlibc(t)
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(buildID(f))
	f.Close()
	if len(id) < 3 {
		t.Skip("glibc has no build-id")
	}
	if _, err := os.Stat(filepath.Join(debugRoot, ".build-id", id[:2], id[2:]+".debug")); err != nil {
		t.Skipf("no separate debug info for glibc under %s (Debian: apt-get install libc6-dbg)", debugRoot)
	}
	lib := checkRealLibrary(t, path, LoadOptions{DebugDirs: []string{debugRoot}})
	if lib.DebugInfo != DebugBuildID {
		t.Fatalf("DebugInfo = %q, want %q", lib.DebugInfo, DebugBuildID)
	}
	withSig := 0
	for _, s := range lib.Symbols {
		if s.Signature != nil {
			withSig++
		}
	}
	if withSig < len(lib.Symbols)/2 || len(lib.Types) < 100 {
		t.Errorf("only %d of %d exports have signatures, %d layouts", withSig, len(lib.Symbols), len(lib.Types))
	}
	if hostMachine() != "x86_64" {
		return
	}
	for name, want := range map[string]string{
		"qsort":  "func(*void, uint64, uint64, *func(*void, *void) int32)",
		"printf": "func(*int8, ...) int32",
		"fopen":  "func(*int8, *int8) *struct _IO_FILE",
		"div":    "func(int32, int32) struct <div_t>",
		"signal": "func(int32, *func(int32)) *func(int32)",
	} {
		if got := findSymbol(t, lib, name).Signature.String(); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if st := findType(t, lib, "struct stat"); st.Size != 144 || st.Align != 8 {
		t.Errorf("struct stat: size %d align %d, want 144/8", st.Size, st.Align)
	}
	// The separate-debug build compares to the symbol-only load with
	// nothing but the note saying types were not compared.
	plain := mustLoad(t, path, LoadOptions{})
	if rep := Compare(plain, lib, Options{}); len(rep.Changes) != 0 || !rep.SymbolLevelOnly {
		t.Errorf("symbol-only vs debug-info load:\n%s", text(rep))
	}
}

func TestMusl(t *testing.T) {
	lib := checkRealLibrary(t, systemMusl(t), LoadOptions{})
	// Debian's musl libc.so has no SONAME and no symbol versions.
	if lib.SONAME != "" || len(lib.Versions) != 0 {
		t.Logf("musl: soname %q, %d version nodes", lib.SONAME, len(lib.Versions))
	}
	for _, name := range []string{"printf", "malloc", "environ"} {
		findSymbol(t, lib, name)
	}
}
