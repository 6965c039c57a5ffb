package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Options are the qemu host's kind-specific settings (matrix host `options:`).
type Options struct {
	// Binary overrides qemu-system-<arch>.
	Binary string `yaml:"binary"`
	// FirmwareCode and FirmwareVars override the OVMF/AAVMF files (UEFI). The vars file is
	// copied per VM so runs never share NVRAM.
	FirmwareCode string `yaml:"firmware_code"`
	FirmwareVars string `yaml:"firmware_vars"`
	// DiskBus puts the boot disk on nvme, virtio, ahci or ide (default: nvme when the host
	// lists nvme, as Redox's mk/qemu.mk does, else virtio).
	DiskBus string `yaml:"disk_bus"`
	// ExtraArgs are appended verbatim.
	ExtraArgs []string `yaml:"extra_args"`
	// KVMProbeKernel is a Linux kernel booted under KVM to prove KVM really runs guests
	// (default: the stand-in kernel when built, else the controller's /boot/vmlinuz).
	KVMProbeKernel string `yaml:"kvm_probe_kernel"`
	// Console is "serial" (default) or "screen": no serial device at all, the boot is
	// judged from the screen alone (as on a laptop without a serial port). Needs a display
	// device (vga or ramfb) in the host's devices.
	Console string `yaml:"console"`
	// Screen is where the harness takes the screen and keyboard from: "qmp" (default:
	// screendump and send-key) or "vnc" (QEMU's own VNC server on loopback with a password
	// set over QMP, read by the RFB client as a KVM-over-IP device is).
	Screen string `yaml:"screen"`
	// OpenSBI and UBoot override the riscv64gc `firmware: u-boot` files (Debian's opensbi
	// and u-boot-qemu packages).
	OpenSBI string `yaml:"opensbi"`
	UBoot   string `yaml:"u_boot"`
}

// Firmware file defaults (Debian's ovmf and qemu-efi-aarch64 packages).
var (
	ovmfCode  = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars  = "/usr/share/OVMF/OVMF_VARS_4M.fd"
	aavmfCode = "/usr/share/AAVMF/AAVMF_CODE.fd"
	aavmfVars = "/usr/share/AAVMF/AAVMF_VARS.fd"
	// riscv64gc UEFI: the files redox mk/qemu.mk (81bc5bf) looks for as PFLASH0 / PFLASH1, in
	// its order. Debian 12 packages none of them (no qemu-efi-riscv64 in bookworm).
	riscvUEFICode = []string{"/usr/share/qemu-efi-riscv64/RISCV_VIRT_CODE.fd", "/usr/share/edk2/riscv/RISCV_VIRT_CODE.fd",
		"/usr/share/qemu/edk2-riscv-code.fd", "/run/libvirt/nix-ovmf/edk2-riscv-code.fd", "/opt/homebrew/opt/qemu/share/qemu/edk2-riscv-code.fd"}
	riscvUEFIVars = []string{"/usr/share/qemu-efi-riscv64/RISCV_VIRT_VARS.fd", "/usr/share/edk2/riscv/RISCV_VIRT_VARS.fd",
		"/usr/share/qemu/edk2-riscv-vars.fd", "/run/libvirt/nix-ovmf/edk2-riscv-vars.fd", "/opt/homebrew/opt/qemu/share/qemu/edk2-riscv-vars.fd"}
	// riscv64gc u-boot: OpenSBI's fw_jump (Debian opensbi) runs U-Boot built for S-mode
	// (Debian u-boot-qemu, qemu-riscv64_smode) at 0x80200000, where -kernel loads it.
	openSBIJump  = "/usr/lib/riscv64-linux-gnu/opensbi/generic/fw_jump.elf"
	uBootRISCV64 = "/usr/lib/u-boot/qemu-riscv64_smode/uboot.elf"
	// fileExists is how the plan finds the first riscv64 UEFI firmware present (a variable
	// for the tests).
	fileExists = func(p string) bool { st, err := os.Stat(p); return err == nil && st.Mode().IsRegular() }
)

// Plan is everything needed to start one VM, computed without side effects so the command
// line can be unit-tested.
type Plan struct {
	Argv []string
	// VarsFrom/VarsTo: the UEFI variable store to copy before starting.
	VarsFrom, VarsTo string
	// Scratch disks to create (path -> size in bytes) before starting.
	Scratch    map[string]int64
	SerialSock string
	QMPSock    string
	// ScreenOnly: no serial device; the VM starts paused (-S) and runs once the harness
	// looks at its screen. VNC: QEMU serves its display over RFB (-vnc).
	ScreenOnly, VNC bool
}

// archDefault is what a host of an arch gets when the matrix leaves it out.
type archDefault struct{ binary, machine, cpu string }

var archDefaults = map[string]archDefault{
	// redox mk/qemu.mk (81bc5bf): QEMU_CPU?=core2duo without KVM, -cpu host with it.
	"x86_64": {"qemu-system-x86_64", "q35", "core2duo"},
	// mk/qemu.mk: QEMU_CPU=max. pauth-impdef=on keeps max but swaps the emulated
	// pointer-authentication algorithm for QEMU's cheaper one: the QARMA one
	// makes -cpu max 3x slower under TCG.
	"aarch64": {"qemu-system-aarch64", "virt", "max,pauth-impdef=on"},
	// mk/qemu.mk ARCH=i586: QEMU_ARCH=i386, QEMU_MACHINE?=pc, QEMU_CPU?=pentium2.
	"i586": {"qemu-system-i386", "pc", "pentium2"},
	// mk/qemu.mk ARCH=riscv64gc: QEMU_MACHINE=virt,acpi=off (DTB, not ACPI), QEMU_CPU=max.
	// QEMU 7.2 (Debian 12) knows neither: its virt has no acpi property (and no ACPI on
	// riscv) and its riscv64 CPUs are rv64 and named boards; a host there says
	// machine: virt, cpu: rv64.
	"riscv64gc": {"qemu-system-riscv64", "virt,acpi=off", "max"},
}

// qemuEscape doubles commas: QEMU option values use ',' as a separator.
func qemuEscape(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// BuildPlan turns a host and an image into a QEMU command line.
func BuildPlan(h matrix.Host, img matrix.Image, o Options, dir, accel, bootArgs string) (*Plan, error) {
	p := &Plan{
		SerialSock: filepath.Join(dir, "serial.sock"),
		QMPSock:    filepath.Join(dir, "qmp.sock"),
		Scratch:    map[string]int64{},
	}
	defaults, ok := archDefaults[h.Arch]
	if !ok {
		return nil, fmt.Errorf("qemu: unsupported arch %q", h.Arch)
	}
	var a []string
	add := func(args ...string) { a = append(a, args...) }
	bin := or(o.Binary, defaults.binary)
	machine, cpu := or(h.Machine, defaults.machine), or(h.CPU, defaults.cpu)
	add(bin, "-accel", accel, "-machine", machine, "-cpu", cpu)
	if accel == "kvm" && h.CPU == "" {
		a[len(a)-1] = "host"
	}
	smp := h.SMP
	if smp <= 0 {
		smp = 1
	}
	mem := h.Memory
	if mem == "" {
		mem = "1024M"
	}
	add("-smp", fmt.Sprint(smp), "-m", mem)
	// No default devices: the matrix says exactly what the machine has. -no-reboot turns a
	// guest reboot (or a Linux panic=-1) into a QEMU exit instead of a boot loop.
	add("-nodefaults", "-display", "none", "-no-reboot", "-no-user-config")
	// QMP first (wait=off), then the serial socket with wait=on: QEMU does not start the
	// guest until the harness has connected, so no byte of the boot is lost.
	add("-chardev", "socket,id=qmp0,path="+qemuEscape(p.QMPSock)+",server=on,wait=off",
		"-mon", "chardev=qmp0,mode=control")
	if o.Console == "screen" {
		// No serial device: nothing holds the guest until a socket is connected, so it
		// starts paused and PowerOn continues it once the screen is being watched.
		p.ScreenOnly = true
		add("-S")
	} else {
		add("-chardev", "socket,id=ser0,path="+qemuEscape(p.SerialSock)+",server=on,wait=on",
			"-serial", "chardev:ser0")
	}
	if o.Screen == "vnc" {
		// Display :0 to :99 on loopback, the first free one (query-vnc says which);
		// password=on refuses every client until PowerOn sets one over QMP. lossy=on lets
		// QEMU send Tight/JPEG for areas that change often, as a KVM device does.
		p.VNC = true
		add("-vnc", "127.0.0.1:0,to=99,password=on,lossy=on")
	}

	fw := img.Firmware
	if fw == "" {
		fw = h.Firmware
	}
	if h.Arch == "riscv64gc" && fw == "" {
		// mk/qemu.mk boots riscv64gc with UEFI; where its firmware is missing (Debian
		// 12) the Debian way is OpenSBI + U-Boot.
		fw = "u-boot"
		if o.FirmwareCode != "" || firstFile(riscvUEFICode) != "" {
			fw = "uefi"
		}
	}
	switch {
	case h.Arch == "i586" && fw == "uefi":
		return nil, fmt.Errorf("qemu: i586 boots with BIOS only (redox mk/qemu.mk: uefi=no for i586)")
	case fw == "u-boot" && h.Arch != "riscv64gc":
		return nil, fmt.Errorf("qemu: firmware u-boot is OpenSBI + U-Boot on riscv64gc only, not %s", h.Arch)
	case h.Arch == "riscv64gc" && fw != "uefi" && fw != "u-boot":
		return nil, fmt.Errorf("qemu: riscv64gc boots with uefi (mk/qemu.mk) or u-boot (OpenSBI + U-Boot), not %q", fw)
	}
	if fw == "uefi" {
		code, vars := o.FirmwareCode, o.FirmwareVars
		switch h.Arch {
		case "x86_64":
			code, vars = or(code, ovmfCode), or(vars, ovmfVars)
		case "riscv64gc":
			code, vars = or(code, firstFile(riscvUEFICode)), or(vars, firstFile(riscvUEFIVars))
			if code == "" || vars == "" {
				return nil, fmt.Errorf("qemu: no riscv64 UEFI firmware (redox mk/qemu.mk looks for %s and %s; Debian 12 packages none): set options firmware_code and firmware_vars, or firmware: u-boot",
					strings.Join(riscvUEFICode, ", "), strings.Join(riscvUEFIVars, ", "))
			}
		default:
			code, vars = or(code, aavmfCode), or(vars, aavmfVars)
		}
		p.VarsFrom, p.VarsTo = vars, filepath.Join(dir, "efivars.fd")
		add("-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+qemuEscape(code),
			"-drive", "if=pflash,format=raw,unit=1,file="+qemuEscape(p.VarsTo))
	} else if h.Arch == "aarch64" {
		return nil, fmt.Errorf("qemu: aarch64 boots only with UEFI firmware")
	} else if fw == "u-boot" {
		if img.Kernel != "" {
			return nil, fmt.Errorf("qemu: image %s is a direct kernel boot, but with firmware u-boot -kernel carries U-Boot: give a disk image", img.Name)
		}
		add("-bios", or(o.OpenSBI, openSBIJump), "-kernel", or(o.UBoot, uBootRISCV64))
	}

	// What to boot.
	cmdline := strings.TrimSpace(img.Cmdline)
	switch {
	case img.Kernel != "":
		add("-kernel", img.Kernel)
		if img.Initrd != "" {
			add("-initrd", img.Initrd)
		}
		app := strings.TrimSpace(cmdline + " " + bootArgs)
		if app != "" {
			add("-append", app)
		}
	case img.Path != "":
		bus := defaultDiskBus(h, o)
		// snapshot=on: one image file serves every job; guest writes go to a temp overlay.
		drive := "file=" + qemuEscape(img.Path) + ",format=raw,if=none,id=boot0,snapshot=on"
		add("-drive", drive)
		switch bus {
		case "nvme":
			add("-device", "nvme,drive=boot0,serial=NVME_SERIAL,bootindex=0")
		case "virtio":
			add("-device", "virtio-blk-pci,drive=boot0,bootindex=0")
		case "ahci":
			add("-device", "ahci,id=ahci0", "-device", "ide-hd,drive=boot0,bus=ahci0.0,bootindex=0")
		case "ide":
			add("-device", "ide-hd,drive=boot0,bootindex=0")
		default:
			return nil, fmt.Errorf("qemu: unknown disk_bus %q", bus)
		}
	default:
		return nil, fmt.Errorf("qemu: image %s has neither kernel nor disk path", img.Name)
	}
	// Switches for the guest that work whatever the boot path (a UEFI disk has a fixed
	// command line): the stand-in reads them from fw_cfg.
	if args := strings.TrimSpace(bootArgs); args != "" {
		add("-fw_cfg", "name=opt/fx/args,string="+qemuEscape(args))
	}

	diskOnNVMe := img.Path != "" && defaultDiskBus(h, o) == "nvme"
	for _, d := range h.Devices {
		switch d {
		case "nvme":
			if !diskOnNVMe {
				scratch := filepath.Join(dir, "nvme.img")
				p.Scratch[scratch] = 64 << 20
				add("-drive", "file="+qemuEscape(scratch)+",format=raw,if=none,id=nvme0",
					"-device", "nvme,drive=nvme0,serial=fx0001")
			}
		case "ide":
			// The pc machine's PIIX IDE controller survives -nodefaults; without the boot
			// disk on it, ided / ata_piix get a scratch disk to find.
			if !(img.Path != "" && defaultDiskBus(h, o) == "ide") {
				scratch := filepath.Join(dir, "ide.img")
				p.Scratch[scratch] = 64 << 20
				add("-drive", "file="+qemuEscape(scratch)+",format=raw,if=none,id=ide0",
					"-device", "ide-hd,drive=ide0,bus=ide.0")
			}
		case "ac97":
			// mk/qemu.mk audio=ac97 (i586's default): -device AC97.
			add("-audiodev", "none,id=snd1", "-device", "AC97,audiodev=snd1")
		case "e1000":
			add("-netdev", "user,id=net0", "-device", "e1000,netdev=net0")
		case "virtio-net":
			add("-netdev", "user,id=net1", "-device", "virtio-net-pci,netdev=net1")
		case "hda":
			// redox mk/qemu.mk: "-device ich9-intel-hda -device hda-output" on x86_64
			// (q35) and aarch64 (virt) alike; the older intel-hda (ICH6) on the i440fx
			// pc machine, which mk never pairs with HDA (i586 gets AC97).
			ctrl := "ich9-intel-hda"
			if machine == "pc" || strings.HasPrefix(machine, "pc-i440fx") {
				ctrl = "intel-hda"
			}
			add("-audiodev", "none,id=snd0", "-device", ctrl, "-device", "hda-output,audiodev=snd0")
		case "xhci":
			// mk/qemu.mk: qemu-xhci on x86_64; qemu-xhci, usb-kbd and usb-tablet on
			// aarch64. The harness puts a USB keyboard on x86_64 too (mk does not), so a
			// device sits on the controller.
			add("-device", "qemu-xhci,id=xhci0", "-device", "usb-kbd,bus=xhci0.0")
			if h.Arch == "aarch64" || h.Arch == "riscv64gc" { // mk: both get the tablet too
				add("-device", "usb-tablet,bus=xhci0.0")
			}
		case "ahci":
			if !(img.Path != "" && o.DiskBus == "ahci") {
				add("-device", "ahci,id=ahci1")
			}
		case "virtio-blk":
			scratch := filepath.Join(dir, "vblk.img")
			p.Scratch[scratch] = 16 << 20
			add("-drive", "file="+qemuEscape(scratch)+",format=raw,if=none,id=vblk0",
				"-device", "virtio-blk-pci,drive=vblk0")
		case "ps2":
			// The i8042 controller is part of pc/q35 and survives -nodefaults.
		case "vga":
			// mk/qemu.mk gpu=vga on x86_64: -vga std. A display is what makes the Redox
			// bootloader show its menu (and so its `e` editor): bootloader src/main.rs
			// select_mode runs per video output with modes.
			add("-vga", "std")
		case "ramfb":
			// mk/qemu.mk gpu=ramfb on aarch64: -vga none -device ramfb (-nodefaults
			// already leaves out the default VGA).
			add("-device", "ramfb")
		default:
			return nil, fmt.Errorf("qemu: host %s: device %q is not supported by the qemu host kind", h.Name, d)
		}
	}
	// redoxer's exit device, as redox mk/qemu.mk (redoxer=yes) and redoxer src/exec.rs
	// (qemu_default_args) add it; a host feature, not a device: the matrix's device list
	// names Redox drivers. RedoxerExit names the feature that asked for it.
	if exit := RedoxerExit(h); exit != "" {
		switch h.Arch {
		case "x86_64", "i586": // mk/qemu.mk: isa-debug-exit for both
			// QEMU's defaults (iobase 0x501, iosize 2), which redoxerd writes to (base
			// drivers/redoxerd/src/sys.rs at 9dd6901d: Pio::<u8>::new(0x501).write(51 / 2)).
			add("-device", "isa-debug-exit")
		case "aarch64":
			if exit == "isa-debug-exit" {
				return nil, fmt.Errorf("qemu: host %s: isa-debug-exit needs an x86_64 machine (an ISA bus); an aarch64 redoxer image exits through semihosting: use the feature %s", h.Name, FeatureRedoxerExit)
			}
			// redoxerd calls qemu_exit::AArch64::exit (semihosting SYS_EXIT) from user
			// space, so userspace=on is needed as well as enable=on.
			add("-semihosting-config", "enable=on,target=native,userspace=on")
		default:
			return nil, fmt.Errorf("qemu: host %s: mk/qemu.mk has no redoxer exit device for %s", h.Name, h.Arch)
		}
	}
	add(o.ExtraArgs...)
	p.Argv = a
	return p, nil
}

// FeatureRedoxerExit is the host feature that gives the VM the device a redoxer image ends
// the run through: isa-debug-exit on x86_64, Arm semihosting on aarch64 (the older feature
// name isa-debug-exit is still accepted on x86_64).
const FeatureRedoxerExit = matrix.FeatureRedoxerExit

// RedoxerExit is the feature that asked for the redoxer exit device ("" when none).
func RedoxerExit(h matrix.Host) string {
	for _, f := range []string{FeatureRedoxerExit, matrix.FeatureISADebugExit} {
		if h.HasFeature(f) {
			return f
		}
	}
	return ""
}

// defaultDiskBus is where the boot disk goes: options disk_bus, else as mk/qemu.mk's
// disk?= for the arch: ata (IDE on the pc machine) on i586, nvme elsewhere when the host
// lists nvme, else virtio.
func defaultDiskBus(h matrix.Host, o Options) string {
	switch {
	case o.DiskBus != "":
		return o.DiskBus
	case h.Arch == "i586":
		return "ide"
	case hasDevice(h, "nvme"):
		return "nvme"
	}
	return "virtio"
}

// firstFile is the first of paths that exists, or "".
func firstFile(paths []string) string {
	for _, p := range paths {
		if fileExists(p) {
			return p
		}
	}
	return ""
}

// or is a, or b when a is empty.
func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func hasDevice(h matrix.Host, name string) bool {
	for _, d := range h.Devices {
		if d == name {
			return true
		}
	}
	return false
}
