package qemu

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func TestISADebugExitFeature(t *testing.T) {
	img := matrix.Image{Name: "i", Arch: "x86_64", Kernel: "/k"}
	h := matrix.Host{Name: "h", Arch: "x86_64", Firmware: "bios", Features: []string{"isa-debug-exit"}}
	p, err := BuildPlan(h, img, Options{}, t.TempDir(), "tcg", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(p.Argv, " "), "-device isa-debug-exit,iobase=0xf4,iosize=0x04") {
		t.Fatalf("argv %v", p.Argv)
	}
	h.Features = nil
	p, _ = BuildPlan(h, img, Options{}, t.TempDir(), "tcg", "")
	if strings.Contains(strings.Join(p.Argv, " "), "isa-debug-exit") {
		t.Fatal("device without the feature")
	}
	a := matrix.Host{Name: "a", Arch: "aarch64", Firmware: "uefi", Features: []string{"isa-debug-exit"}}
	if _, err := BuildPlan(a, matrix.Image{Name: "i", Arch: "aarch64", Path: "/d"}, Options{}, t.TempDir(), "tcg", ""); err == nil {
		t.Fatal("aarch64 with isa-debug-exit accepted")
	}
}
