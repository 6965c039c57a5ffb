package abi

import (
	"io"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkDumpGlibc is "redox-hwtest abi dump libc.so.6" without process
// start: load the file alone (Debian's libc.so.6 has no DWARF of its own,
// so this is the symbol level) and write the baseline.
func BenchmarkDumpGlibc(b *testing.B) {
	benchDump(b, LoadOptions{})
}

// BenchmarkDumpGlibcDebugInfo adds glibc's separate DWARF (libc6-dbg):
// signatures and layouts, the same information abidw reads.
func BenchmarkDumpGlibcDebugInfo(b *testing.B) {
	benchDump(b, LoadOptions{DebugDirs: []string{debugRoot}})
}

func benchDump(b *testing.B, opts LoadOptions) {
	path := systemGlibc(b)
	lib := mustLoad(b, path, opts)
	if len(opts.DebugDirs) > 0 && !lib.HasDWARF() {
		b.Skipf("no separate debug info for %s under %v", path, opts.DebugDirs)
	}
	b.ReportAllocs()
	for b.Loop() {
		lib, err := LoadWith(path, opts)
		if err != nil {
			b.Fatal(err)
		}
		if err := WriteBaseline(io.Discard, lib); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAbidwGlibc runs libabigail's abidw on the same file in the same
// sitting, for the comparison. abidw finds the separate debug info under
// the standard root by itself, so it compares with
// BenchmarkDumpGlibcDebugInfo.
func BenchmarkAbidwGlibc(b *testing.B) {
	abidw, err := exec.LookPath("abidw")
	if err != nil {
		b.Skip("abidw not on PATH (Debian: abigail-tools)")
	}
	path := systemGlibc(b)
	out := filepath.Join(b.TempDir(), "libc.abi")
	for b.Loop() {
		if msg, err := exec.Command(abidw, "--out-file", out, path).CombinedOutput(); err != nil {
			b.Fatalf("abidw: %v\n%s", err, msg)
		}
	}
}
