package qemu

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Redox's i586 machine as mk/qemu.mk (redox 81bc5bf) runs it: QEMU_ARCH=i386, -machine pc,
// QEMU_CPU?=pentium2 (TCG), BIOS (uefi=no: no pflash), disk=ata ("-drive file=$(DISK),
// format=raw": IDE on the pc machine), audio=ac97 ("-device AC97"), gpu=vga ("-vga std"),
// e1000 on user networking, and isa-debug-exit for redoxer as on x86_64.
func TestRedoxI586CommandLine(t *testing.T) {
	h := matrix.Host{Name: "pc32", Kind: "qemu", Arch: "i586", SMP: 1, Memory: "1024M",
		Devices: []string{"e1000", "ac97", "vga"}, Features: []string{FeatureRedoxerExit}}
	img := matrix.Image{Name: "redox", Arch: "i586", Path: "/img/redox.img"}
	s := argv(t, h, img, Options{}, "")
	mustContain(t, s, "qemu-system-i386 -accel tcg -machine pc -cpu pentium2 -smp 1 -m 1024M",
		"-drive file=/img/redox.img,format=raw,if=none,id=boot0,snapshot=on -device ide-hd,drive=boot0,bootindex=0",
		"-audiodev none,id=snd1 -device AC97,audiodev=snd1",
		"-netdev user,id=net0 -device e1000,netdev=net0", "-vga std", "-device isa-debug-exit")
	for _, no := range []string{"pflash", "nvme", "virtio", "ide.img"} {
		if strings.Contains(s, no) {
			t.Errorf("i586 plan has %q:\n%s", no, s)
		}
	}
	h.Firmware = "uefi"
	if _, err := BuildPlan(h, img, Options{}, "/run/j", "tcg", ""); err == nil || !strings.Contains(err.Error(), "BIOS only") {
		t.Errorf("i586 with uefi: %v", err)
	}
}

// The i586 stand-in boots its kernel directly; the ide device then gets a scratch disk on
// the PIIX controller for ata_piix (on Redox: ided) to find.
func TestStandinI586DirectBootScratchIDE(t *testing.T) {
	h := matrix.Host{Name: "pc32", Kind: "qemu", Arch: "i586", Firmware: "bios", Memory: "512M", Devices: []string{"ide", "e1000", "ac97"}}
	img := matrix.Image{Name: "s", Arch: "i586", Kernel: "/fx/vmlinuz-i586", Initrd: "/fx/initrd-i586.cpio.gz", Cmdline: "console=ttyS0"}
	p, err := BuildPlan(h, img, Options{}, "/run/j", "tcg", "fx.net=dhcp")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(p.Argv, " ")
	mustContain(t, s, "qemu-system-i386 -accel tcg -machine pc -cpu pentium2", "-kernel /fx/vmlinuz-i586",
		"-drive file=/run/j/ide.img,format=raw,if=none,id=ide0 -device ide-hd,drive=ide0,bus=ide.0", "-device AC97,audiodev=snd1")
	if p.Scratch["/run/j/ide.img"] != 64<<20 {
		t.Errorf("scratch disks %v", p.Scratch)
	}
}

// riscv64gc as mk/qemu.mk runs it: virt,acpi=off, QEMU_CPU=max, the UEFI firmware it looks
// for (PFLASH0 read-only, PFLASH1 copied: "$(BUILD)/fw_vars.bin"), disk on NVMe, gpu=ramfb,
// qemu-xhci with usb-kbd and usb-tablet. Used whenever those firmware files exist.
func TestRedoxRISCV64UEFICommandLine(t *testing.T) {
	present := map[string]bool{riscvUEFICode[2]: true, riscvUEFIVars[2]: true} // /usr/share/qemu/edk2-riscv-*.fd
	defer func(f func(string) bool) { fileExists = f }(fileExists)
	fileExists = func(p string) bool { return present[p] }

	h := matrix.Host{Name: "rv", Kind: "qemu", Arch: "riscv64gc", SMP: 4, Memory: "2048M",
		Devices: []string{"nvme", "e1000", "xhci", "ramfb"}}
	img := matrix.Image{Name: "redox", Arch: "riscv64gc", Path: "/img/redox.img"}
	p, err := BuildPlan(h, img, Options{}, "/run/j", "tcg", "")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(p.Argv, " ")
	mustContain(t, s, "qemu-system-riscv64 -accel tcg -machine virt,acpi=off -cpu max -smp 4 -m 2048M",
		"-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/qemu/edk2-riscv-code.fd",
		"-drive if=pflash,format=raw,unit=1,file=/run/j/efivars.fd",
		"-device nvme,drive=boot0,serial=NVME_SERIAL,bootindex=0",
		"-device qemu-xhci,id=xhci0 -device usb-kbd,bus=xhci0.0 -device usb-tablet,bus=xhci0.0", "-device ramfb")
	if p.VarsFrom != "/usr/share/qemu/edk2-riscv-vars.fd" {
		t.Errorf("vars copied from %q", p.VarsFrom)
	}
	if strings.Contains(s, "-bios") {
		t.Errorf("UEFI plan has -bios:\n%s", s)
	}
}

// Where mk's riscv64 UEFI firmware is missing (Debian 12) the host boots OpenSBI + U-Boot
// from Debian's packages; an explicit uefi without the files is an error naming them.
func TestRISCV64WithoutUEFIFirmware(t *testing.T) {
	defer func(f func(string) bool) { fileExists = f }(fileExists)
	fileExists = func(string) bool { return false }

	h := matrix.Host{Name: "rv", Kind: "qemu", Arch: "riscv64gc", Machine: "virt", CPU: "rv64", Memory: "512M"}
	img := matrix.Image{Name: "s", Arch: "riscv64gc", Path: "/fx/disk-riscv64-uboot.img"}
	s := argv(t, h, img, Options{}, "")
	mustContain(t, s, "qemu-system-riscv64 -accel tcg -machine virt -cpu rv64",
		"-bios /usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf -kernel /usr/lib/u-boot/qemu-riscv64_smode/uboot.elf",
		"-device virtio-blk-pci,drive=boot0,bootindex=0")
	if strings.Contains(s, "pflash") {
		t.Errorf("u-boot plan has pflash:\n%s", s)
	}
	s = argv(t, h, img, Options{OpenSBI: "/o/fw.elf", UBoot: "/o/u.elf"}, "")
	mustContain(t, s, "-bios /o/fw.elf -kernel /o/u.elf")

	for _, c := range []struct {
		fw   string
		img  matrix.Image
		feat []string
		want string
	}{
		{"uefi", img, nil, "/usr/share/qemu-efi-riscv64/RISCV_VIRT_CODE.fd"},
		{"bios", img, nil, "riscv64gc boots with uefi"},
		{"u-boot", matrix.Image{Name: "k", Arch: "riscv64gc", Kernel: "/k"}, nil, "give a disk image"},
		{"u-boot", img, []string{FeatureRedoxerExit}, "no redoxer exit device for riscv64gc"},
	} {
		h2 := h
		h2.Firmware, h2.Features = c.fw, c.feat
		if _, err := BuildPlan(h2, c.img, Options{}, "/run/j", "tcg", ""); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("firmware %s image %s: %v, want %q", c.fw, c.img.Name, err, c.want)
		}
	}
	x := matrix.Host{Name: "q", Kind: "qemu", Arch: "x86_64", Firmware: "u-boot"}
	if _, err := BuildPlan(x, matrix.Image{Name: "i", Arch: "x86_64", Path: "/i"}, Options{}, "/run/j", "tcg", ""); err == nil {
		t.Error("x86_64 with u-boot: no error")
	}
}

// The firmware an arch cannot boot with on QEMU, and the riscv64 options elsewhere, are
// bad input at their file:line:col when the matrix loads.
func TestArchFirmwareErrorsAtLoad(t *testing.T) {
	for _, c := range []struct{ host, want string }{
		{`{name: q, kind: qemu, arch: i686, firmware: uefi}`,
			`m.yaml:6:49: firmware uefi on host "q": i586 boots with BIOS only`},
		{`{name: q, kind: qemu, arch: x86_64, firmware: u-boot}`,
			`m.yaml:6:51: firmware u-boot on host "q": on qemu that is OpenSBI + U-Boot for riscv64gc only`},
		{`{name: q, kind: qemu, arch: riscv64, firmware: bios}`,
			`m.yaml:6:52: firmware bios on host "q": riscv64gc boots with uefi`},
		{`{name: q, kind: qemu, arch: x86_64, options: {u_boot: /u.elf}}`,
			`m.yaml:6:50: opensbi and u_boot in options of host "q" apply to riscv64gc hosts only`},
		{`{name: q, kind: qemu, arch: riscv64, options: {opensbii: /o.elf}}`,
			`m.yaml:6:52: unknown key "opensbii" in options of host "q"`},
	} {
		arch := "x86_64"
		for _, a := range []string{"i686", "riscv64"} {
			if strings.Contains(c.host, "arch: "+a) {
				arch = a
			}
		}
		y := "images:\n  - {name: i, arch: " + arch + ", path: disk.img}\nsuites:\n  - {name: boot}\nhosts:\n  - " + c.host + "\n"
		_, err := matrix.LoadOptions{SkipFileChecks: true, Kinds: hosts.OptionChecks()}.Parse("m.yaml", []byte(y), t.TempDir())
		var me *matrix.Error
		if !errors.As(err, &me) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got  %v\n want %s", c.host, err, c.want)
		}
	}
	// And a good riscv64 stand-in host loads.
	y := "images:\n  - {name: i, arch: riscv64gc, firmware: u-boot, path: disk.img}\nhosts:\n  - {name: q, kind: qemu, arch: riscv64, firmware: u-boot, machine: virt, cpu: rv64, options: {disk_bus: virtio}}\n"
	m, err := matrix.LoadOptions{SkipFileChecks: true, Kinds: hosts.OptionChecks()}.Parse("m.yaml", []byte(y), t.TempDir())
	if err != nil || !slices.ContainsFunc(m.Jobs(matrix.Filter{}), func(j matrix.Job) bool { return j.Host.Name == "q" }) {
		t.Errorf("riscv64 stand-in host: %v", err)
	}
}
