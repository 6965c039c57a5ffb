package qemu

import (
	"fmt"
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
}

// Firmware file defaults (Debian's ovmf and qemu-efi-aarch64 packages).
var (
	ovmfCode  = "/usr/share/OVMF/OVMF_CODE_4M.fd"
	ovmfVars  = "/usr/share/OVMF/OVMF_VARS_4M.fd"
	aavmfCode = "/usr/share/AAVMF/AAVMF_CODE.fd"
	aavmfVars = "/usr/share/AAVMF/AAVMF_VARS.fd"
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
	add("-chardev", "socket,id=ser0,path="+qemuEscape(p.SerialSock)+",server=on,wait=on",
		"-serial", "chardev:ser0")

	fw := img.Firmware
	if fw == "" {
		fw = h.Firmware
	}
	if fw == "uefi" {
		code, vars := o.FirmwareCode, o.FirmwareVars
		if h.Arch == "x86_64" {
			code, vars = or(code, ovmfCode), or(vars, ovmfVars)
		} else {
			code, vars = or(code, aavmfCode), or(vars, aavmfVars)
		}
		p.VarsFrom, p.VarsTo = vars, filepath.Join(dir, "efivars.fd")
		add("-drive", "if=pflash,format=raw,unit=0,readonly=on,file="+qemuEscape(code),
			"-drive", "if=pflash,format=raw,unit=1,file="+qemuEscape(p.VarsTo))
	} else if h.Arch == "aarch64" {
		return nil, fmt.Errorf("qemu: aarch64 boots only with UEFI firmware")
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
		bus := o.DiskBus
		if bus == "" {
			bus = "virtio"
			if hasDevice(h, "nvme") {
				bus = "nvme"
			}
		}
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

	diskOnNVMe := img.Path != "" && (o.DiskBus == "nvme" || (o.DiskBus == "" && hasDevice(h, "nvme")))
	for _, d := range h.Devices {
		switch d {
		case "nvme":
			if !diskOnNVMe {
				scratch := filepath.Join(dir, "nvme.img")
				p.Scratch[scratch] = 64 << 20
				add("-drive", "file="+qemuEscape(scratch)+",format=raw,if=none,id=nvme0",
					"-device", "nvme,drive=nvme0,serial=fx0001")
			}
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
			if h.Arch == "aarch64" {
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
		case "x86_64":
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
