package hosts_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A program that links only what it names (testdata/linkonly: hosts/qemu and the record
// writer; not hosts/all, not hosts/secrets) checks a matrix against the kinds it linked and
// redacts a record's secrets: neither depends on an init() of a package it did not name.
func TestBinaryLinksOnlyWhatItNames(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go command not in PATH")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "linkonly")
	build := exec.Command("go", "build", "-o", bin, "./testdata/linkonly")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	deps, err := exec.Command("go", "list", "-deps", "./testdata/linkonly").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/hosts/all", "/hosts/secrets", "/hosts/serial", "/harness/"} {
		if strings.Contains(string(deps), p) {
			t.Fatalf("linkonly links %s; the test needs a program without it", p)
		}
	}
	load := func(host string) string {
		y := "images:\n  - {name: i, arch: x86_64, path: disk.img}\nhosts:\n  - " + host + "\nsuites:\n  - {name: boot}\n"
		p := filepath.Join(dir, "m.yaml")
		if err := os.WriteFile(p, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(bin, "load", p).CombinedOutput()
		if err == nil {
			return ""
		}
		return string(out)
	}
	if out := load("{name: q, kind: qemu, arch: x86_64, options: {disk_buss: nvme}}"); !strings.Contains(out, `m.yaml:4:51: unknown key "disk_buss"`) {
		t.Errorf("a qemu options typo: %q", out)
	}
	if out := load("{name: s, kind: serial, arch: x86_64, options: {device: /dev/ttyS0}}"); !strings.Contains(out, `m.yaml:4:21: host kind "serial" is not built into this program (have: qemu)`) {
		t.Errorf("a kind not linked: %q", out)
	}
	if out := load("{name: q, kind: qemu, arch: x86_64}"); out != "" {
		t.Errorf("a good matrix: %q", out)
	}
	const secret = "Hunter2-bmc"
	out, err := exec.Command(bin, "record", filepath.Join(dir, "run"), secret).CombinedOutput()
	if err != nil {
		t.Fatalf("record: %v\n%s", err, out)
	}
	b, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "result.json"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), secret) || !strings.Contains(string(b), "bmc said [REDACTED]") {
		t.Errorf("result.json:\n%s", b)
	}
}
