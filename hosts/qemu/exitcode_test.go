package qemu

import (
	"slices"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// The redoxer exit device as upstream adds it: redox mk/qemu.mk at 81bc5bf
// ("QEMUFLAGS+=-device isa-debug-exit" on x86_64, "QEMUFLAGS+=-semihosting-config
// enable=on,target=native,userspace=on" on aarch64) and redoxer src/exec.rs at ad2c079
// ("-device", "isa-debug-exit" / "-semihosting-config", "enable=on,target=native,userspace=on").
func TestRedoxerExitDevice(t *testing.T) {
	x86img := matrix.Image{Name: "i", Arch: "x86_64", Kernel: "/k"}
	a64img := matrix.Image{Name: "i", Arch: "aarch64", Path: "/d"}
	for _, tc := range []struct {
		host matrix.Host
		img  matrix.Image
		want []string // consecutive argv words
		err  string
	}{
		{matrix.Host{Name: "h", Arch: "x86_64", Firmware: "bios", Features: []string{"redoxer-exit"}}, x86img,
			[]string{"-device", "isa-debug-exit"}, ""},
		// the older feature name, same device at the default port (not 0xf4)
		{matrix.Host{Name: "h", Arch: "x86_64", Firmware: "bios", Features: []string{"isa-debug-exit"}}, x86img,
			[]string{"-device", "isa-debug-exit"}, ""},
		{matrix.Host{Name: "a", Arch: "aarch64", Firmware: "uefi", Features: []string{"redoxer-exit"}}, a64img,
			[]string{"-semihosting-config", "enable=on,target=native,userspace=on"}, ""},
		{matrix.Host{Name: "a", Arch: "aarch64", Firmware: "uefi", Features: []string{"isa-debug-exit"}}, a64img,
			nil, "use the feature redoxer-exit"},
	} {
		p, err := BuildPlan(tc.host, tc.img, Options{}, t.TempDir(), "tcg", "")
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s %v: err %v, want %q", tc.host.Arch, tc.host.Features, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		i := slices.Index(p.Argv, tc.want[0])
		if i < 0 || i+1 >= len(p.Argv) || p.Argv[i+1] != tc.want[1] {
			t.Errorf("%s %v: argv %v lacks %v", tc.host.Arch, tc.host.Features, p.Argv, tc.want)
		}
		if strings.Contains(strings.Join(p.Argv, " "), "0xf4") {
			t.Errorf("argv still has port 0xf4: %v", p.Argv)
		}
	}
	h := matrix.Host{Name: "h", Arch: "x86_64", Firmware: "bios"}
	p, _ := BuildPlan(h, x86img, Options{}, t.TempDir(), "tcg", "")
	if s := strings.Join(p.Argv, " "); strings.Contains(s, "isa-debug-exit") || strings.Contains(s, "semihosting") {
		t.Fatal("exit device without the feature")
	}
}
