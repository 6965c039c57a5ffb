package qemu

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func argv(t *testing.T, h matrix.Host, img matrix.Image, o Options, args string) string {
	t.Helper()
	p, err := BuildPlan(h, img, o, "/run/j", "tcg", args)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(p.Argv, " ")
}

func mustContain(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("command line lacks %q:\n%s", p, s)
		}
	}
}

// The Redox developer's defaults (redox mk/qemu.mk at 81bc5bf): q35, QEMU_CPU?=core2duo
// (TCG), 4 CPUs, 2 GiB, OVMF, disk on NVMe, e1000 on user networking, "-device
// ich9-intel-hda -device hda-output", xHCI, gpu=vga "-vga std".
func TestRedoxX86UEFICommandLine(t *testing.T) {
	h := matrix.Host{Name: "q35", Kind: "qemu", Arch: "x86_64", Firmware: "uefi", Machine: "q35", SMP: 4, Memory: "2048M",
		Devices: []string{"nvme", "e1000", "hda", "xhci", "vga"}}
	img := matrix.Image{Name: "redox", Arch: "x86_64", Firmware: "uefi", Path: "/img/redox.img"}
	s := argv(t, h, img, Options{}, "")
	mustContain(t, s, "qemu-system-x86_64 -accel tcg -machine q35 -cpu core2duo -smp 4 -m 2048M", "-vga std",
		"-drive if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd",
		"-drive if=pflash,format=raw,unit=1,file=/run/j/efivars.fd",
		"-drive file=/img/redox.img,format=raw,if=none,id=boot0,snapshot=on",
		"-device nvme,drive=boot0,serial=NVME_SERIAL,bootindex=0",
		"-netdev user,id=net0 -device e1000,netdev=net0",
		"-device ich9-intel-hda -device hda-output,audiodev=snd0",
		"-device qemu-xhci,id=xhci0",
		"socket,id=ser0,path=/run/j/serial.sock,server=on,wait=on",
		"socket,id=qmp0,path=/run/j/qmp.sock,server=on,wait=off")
	if strings.Contains(s, "nvme.img") {
		t.Errorf("the boot disk is already on NVMe; no scratch NVMe disk expected:\n%s", s)
	}
	// QMP must come before the serial socket: QEMU blocks on the serial's wait=on.
	if strings.Index(s, "qmp0") > strings.Index(s, "ser0") {
		t.Errorf("qmp chardev must precede the serial chardev")
	}
}

func TestStandinBIOSDirectBootWithSwitchesAndScratchNVMe(t *testing.T) {
	h := matrix.Host{Name: "pc", Kind: "qemu", Arch: "x86_64", Firmware: "bios", Machine: "pc", Memory: "512M", Devices: []string{"nvme", "hda"}}
	img := matrix.Image{Name: "s", Arch: "x86_64", Firmware: "bios", Kernel: "/fx/vmlinuz", Initrd: "/fx/initrd", Cmdline: "console=ttyS0"}
	p, err := BuildPlan(h, img, Options{}, "/run/j", "tcg", "fx.hang=nvme,x")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(p.Argv, " ")
	mustContain(t, s, "-machine pc", "-kernel /fx/vmlinuz -initrd /fx/initrd -append console=ttyS0 fx.hang=nvme,x",
		"-fw_cfg name=opt/fx/args,string=fx.hang=nvme,,x", "-device nvme,drive=nvme0,serial=fx0001", "-device intel-hda -device hda-output")
	if strings.Contains(s, "pflash") {
		t.Errorf("BIOS boot must not use pflash")
	}
	if p.Scratch["/run/j/nvme.img"] == 0 {
		t.Errorf("scratch NVMe disk not planned: %v", p.Scratch)
	}
}

// aarch64 as mk/qemu.mk (81bc5bf) runs it: virt, cpu max, AAVMF, disk?=nvme, e1000,
// "-device ich9-intel-hda -device hda-output", "-device qemu-xhci -device usb-kbd -device
// usb-tablet", gpu=ramfb "-vga none -device ramfb".
func TestAarch64AsMkQemu(t *testing.T) {
	h := matrix.Host{Name: "virt", Kind: "qemu", Arch: "aarch64", Firmware: "uefi", Memory: "2048M",
		Devices: []string{"nvme", "e1000", "hda", "xhci", "ramfb"}}
	img := matrix.Image{Name: "r", Arch: "aarch64", Firmware: "uefi", Path: "/img/redox-live.iso"}
	s := argv(t, h, img, Options{}, "")
	mustContain(t, s, "-machine virt -cpu max,pauth-impdef=on", "-device nvme,drive=boot0,serial=NVME_SERIAL",
		"-device e1000,netdev=net0", "-device ich9-intel-hda -device hda-output,audiodev=snd0",
		"-device qemu-xhci,id=xhci0 -device usb-kbd,bus=xhci0.0 -device usb-tablet,bus=xhci0.0", "-device ramfb")
	if strings.Contains(s, "virtio-blk") {
		t.Errorf("aarch64 disk on virtio (virtio-core panics on aarch64 upstream):\n%s", s)
	}
}

func TestAarch64UEFI(t *testing.T) {
	h := matrix.Host{Name: "virt", Kind: "qemu", Arch: "aarch64", Firmware: "uefi", Memory: "2048M", Devices: []string{"xhci"}}
	img := matrix.Image{Name: "r", Arch: "aarch64", Firmware: "uefi", Path: "/img/r.iso"}
	s := argv(t, h, img, Options{}, "")
	mustContain(t, s, "qemu-system-aarch64 -accel tcg -machine virt -cpu max,pauth-impdef=on",
		"file=/usr/share/AAVMF/AAVMF_CODE.fd", "-device virtio-blk-pci,drive=boot0")
	if _, err := BuildPlan(h, matrix.Image{Name: "b", Arch: "aarch64", Firmware: "bios", Path: "/x"}, Options{}, "/d", "tcg", ""); err == nil {
		t.Errorf("aarch64 BIOS must be refused")
	}
}

func TestUnknownDeviceIsAnError(t *testing.T) {
	h := matrix.Host{Name: "x", Kind: "qemu", Arch: "x86_64", Devices: []string{"floppy"}}
	if _, err := BuildPlan(h, matrix.Image{Name: "i", Path: "/i"}, Options{}, "/d", "tcg", ""); err == nil {
		t.Fatal("want an error for an unknown device")
	}
}

// A screen-only host has no serial device and starts paused (PowerOn continues it once the
// screen is watched); screen: vnc serves the display on loopback with a password.
func TestScreenOnlyAndVNC(t *testing.T) {
	h := matrix.Host{Name: "laptop", Kind: "qemu", Arch: "x86_64", Firmware: "bios", Machine: "pc", Devices: []string{"vga"}}
	img := matrix.Image{Name: "s", Arch: "x86_64", Kernel: "/fx/vmlinuz", Cmdline: "console=tty0"}
	p, err := BuildPlan(h, img, Options{Console: "screen", Screen: "vnc"}, "/run/j", "tcg", "")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Join(p.Argv, " ")
	mustContain(t, s, " -S ", "-vnc 127.0.0.1:0,to=99,password=on,lossy=on", "-vga std")
	if strings.Contains(s, "-serial") || strings.Contains(s, "ser0") || !p.ScreenOnly || !p.VNC {
		t.Errorf("screen-only plan %+v:\n%s", p, s)
	}
	s = argv(t, h, img, Options{}, "")
	if strings.Contains(s, "-vnc") || strings.Contains(s, " -S ") || !strings.Contains(s, "-serial chardev:ser0") {
		t.Errorf("default plan:\n%s", s)
	}
}
