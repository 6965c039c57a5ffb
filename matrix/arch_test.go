package matrix

import (
	"strings"
	"testing"
)

// HARDWARE.md's i686 and QEMU's riscv64 are other spellings of Redox's i586 and riscv64gc
// (mk/config.mk rewrites ARCH=i686 to i586): the matrix accepts them and jobs, labels and
// records carry the canonical name, so an i686 host runs i586 images.
func TestArchAliases(t *testing.T) {
	y := "images:\n" +
		"  - {name: pc32, arch: i586, url: https://example.invalid/redox_desktop_x_harddrive.img}\n" +
		"  - {name: rv, arch: riscv64, url: https://example.invalid/rv.img}\n" +
		"hosts:\n" +
		"  - {name: d600, kind: serial, arch: i686, options: {device: /dev/ttyS0}}\n" +
		"  - {name: q32, kind: qemu, arch: i586}\n" +
		"  - {name: qrv, kind: qemu, arch: riscv64gc}\n"
	m, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(y), "testdata")
	if err != nil {
		t.Fatal(err)
	}
	if m.Images[1].Arch != "riscv64gc" || m.Hosts[0].Arch != "i586" {
		t.Errorf("aliases not rewritten: image %q, host %q", m.Images[1].Arch, m.Hosts[0].Arch)
	}
	// mk/qemu.mk's machine and CPU per arch are the qemu defaults.
	for _, c := range []struct{ host, machine, cpu string }{{"q32", "pc", "pentium2"}, {"qrv", "virt,acpi=off", "max"}} {
		for _, h := range m.Hosts {
			if h.Name == c.host && (h.Machine != c.machine || h.CPU != c.cpu) {
				t.Errorf("%s: machine %q cpu %q, want %q %q (mk/qemu.mk)", h.Name, h.Machine, h.CPU, c.machine, c.cpu)
			}
		}
	}
	var pairs []string
	for _, j := range m.Jobs(Filter{}) {
		pairs = append(pairs, j.Image.Name+"@"+j.Host.Name)
		if !j.HasLabel("arch:" + j.Image.Arch) {
			t.Errorf("%s@%s lacks its arch label", j.Image.Name, j.Host.Name)
		}
	}
	if got := strings.Join(pairs, " "); !strings.Contains(got, "pc32@d600") || !strings.Contains(got, "pc32@q32") || !strings.Contains(got, "rv@qrv") || strings.Contains(got, "rv@q32") {
		t.Errorf("jobs %s", got)
	}
}

func TestArchErrorsAtTheirPlace(t *testing.T) {
	for _, c := range []struct{ yaml, want string }{
		{"images:\n  - name: a\n    arch: riscv32\n    url: https://example.invalid/a.img\n" + okHost,
			`hw.yaml:3:11: unknown arch "riscv32" in image "a" (known: x86_64, aarch64, i586, riscv64gc)`},
		{okImage + "hosts:\n  - name: q\n    kind: qemu\n    arch: i386\n",
			`hw.yaml:8:11: unknown arch "i386" in host "q"`},
		{okImage + "hosts:\n  - name: q\n    kind: qemu\n    arch: x86_64\n    firmware: opensbi\n",
			`hw.yaml:9:15: unknown firmware "opensbi" in host "q" (known: bios, uefi, u-boot)`},
	} {
		_, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(c.yaml), "testdata")
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("got  %v\nwant %s", err, c.want)
		}
	}
}
