package main

import (
	"os"
	"path/filepath"
	"testing"
)

// A typo in a host's options is bad input (exit 2) before any job starts, not an INFRA
// verdict at boot time: the host kinds' validators run when the matrix loads.
func TestRunOptionsTypoIsBadInput(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "hw.yaml")
	y := `images:
  - {name: i, arch: x86_64, path: disk.img}
hosts:
  - {name: q, kind: qemu, arch: x86_64, accel: tcg, options: {disk_buss: nvme}}
suites:
  - {name: boot}
`
	if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "disk.img"), make([]byte, 512), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := runMain([]string{"-matrix", path, "-out", filepath.Join(dir, "out")}); got != 2 {
		t.Fatalf("exit %d, want 2", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("a run directory was created for a matrix that does not load")
	}
}
