package abi

import (
	"debug/elf"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"
)

// TestSeparateDebugInfo splits a library's DWARF into a separate file, as
// distributions do, and checks both ways of finding it and that a wrong
// file is refused.
func TestSeparateDebugInfo(t *testing.T) {
	objcopy := needTool(t, "objcopy")
	strip := needTool(t, "strip")
	dir := t.TempDir()
	full := compile(t, filepath.Join(dir, "full.so"), "libabitest.c",
		"-shared", "-fPIC", "-g", "-Wl,--build-id=sha1", "-Wl,-soname,libabitest.so.1")
	want := mustLoad(t, full, LoadOptions{})
	debug := filepath.Join(dir, "full.debug")
	run(t, objcopy, "--only-keep-debug", full, debug)

	// By build-id under a debug root.
	root := filepath.Join(dir, "root")
	stripped := filepath.Join(dir, "stripped.so")
	run(t, strip, "-o", stripped, full)
	f := mustLoad(t, stripped, LoadOptions{})
	if f.HasDWARF() {
		t.Fatal("stripped library has DWARF without a debug dir: the zero LoadOptions must read the file alone")
	}
	id := buildIDOf(t, stripped)
	idPath := filepath.Join(root, ".build-id", id[:2], id[2:]+".debug")
	if err := os.MkdirAll(filepath.Dir(idPath), 0o755); err != nil {
		t.Fatal(err)
	}
	copyFile(t, debug, idPath)
	got := mustLoad(t, stripped, LoadOptions{DebugDirs: []string{root}})
	if got.DebugInfo != DebugBuildID {
		t.Fatalf("DebugInfo = %q, want %q", got.DebugInfo, DebugBuildID)
	}
	if rep := Compare(want, got, Options{}); len(rep.Changes) != 0 || rep.SymbolLevelOnly {
		t.Errorf("embedded vs build-id debug info differ:\n%s", text(rep))
	}

	// A debug file of another build at that path is not trusted.
	other := compile(t, filepath.Join(dir, "other.so"), "libabitest.c",
		"-shared", "-fPIC", "-g", "-DV2_GROWN", "-Wl,--build-id=sha1")
	run(t, objcopy, "--only-keep-debug", other, idPath)
	if got := mustLoad(t, stripped, LoadOptions{DebugDirs: []string{root}}); got.HasDWARF() {
		t.Errorf("used a debug file whose build-id does not match (%s)", got.DebugInfo)
	}

	// By .gnu_debuglink next to the library (no build-id this time).
	ldir := filepath.Join(dir, "link")
	if err := os.MkdirAll(ldir, 0o755); err != nil {
		t.Fatal(err)
	}
	linked := filepath.Join(ldir, "libabitest.so.1")
	run(t, objcopy, "--remove-section=.note.gnu.build-id", stripped, linked)
	copyFile(t, debug, filepath.Join(ldir, "libabitest.debug"))
	run(t, objcopy, "--add-gnu-debuglink="+filepath.Join(ldir, "libabitest.debug"), linked)
	empty := t.TempDir()
	got = mustLoad(t, linked, LoadOptions{DebugDirs: []string{empty}})
	if got.DebugInfo != DebugDebuglink {
		t.Fatalf("DebugInfo = %q, want %q", got.DebugInfo, DebugDebuglink)
	}
	if rep := Compare(want, got, Options{}); len(rep.Changes) != 0 {
		t.Errorf("embedded vs debuglink debug info differ:\n%s", text(rep))
	}

	// A debuglink target whose CRC does not match is refused.
	if err := os.WriteFile(filepath.Join(ldir, "libabitest.debug"), []byte("not the debug file"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := mustLoad(t, linked, LoadOptions{DebugDirs: []string{empty}}); got.HasDWARF() {
		t.Errorf("used a debuglink file with the wrong CRC (%s)", got.DebugInfo)
	}
}

func buildIDOf(t *testing.T, path string) string {
	t.Helper()
	f, err := elf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	id := buildID(f)
	if len(id) < 2 {
		t.Fatalf("%s has no build-id", path)
	}
	return hex.EncodeToString(id)
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
