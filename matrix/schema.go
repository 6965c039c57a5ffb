// Package matrix is the hw.yaml schema: which images boot on which hosts under which suites.
// Decoding is strict (unknown keys, wrong types and duplicate names are errors that name
// file:line:col), and expansion into jobs is deterministic so every process of a parallel
// Ginkgo run builds the same spec tree.
package matrix

import "time"

// Matrix is one hw.yaml file.
type Matrix struct {
	// Path is the absolute path the matrix was read from; relative paths inside it
	// (image files, sysroots, expected-output files) resolve against its directory.
	Path   string  `yaml:"-"`
	Images []Image `yaml:"images"`
	Hosts  []Host  `yaml:"hosts"`
	Suites []Suite `yaml:"suites"`
	// Settings apply to every job unless a host overrides them.
	Settings Settings `yaml:"settings"`
}

// Settings are run-wide knobs.
type Settings struct {
	// OutDir is where run directories go (default "out", relative to the matrix).
	OutDir string `yaml:"out_dir"`
	// Silence is the hang window before time scaling (default 30s).
	Silence Duration `yaml:"silence"`
	// BootTimeout bounds one boot before time scaling (default 120s).
	BootTimeout Duration `yaml:"boot_timeout"`
}

// Image is one bootable build.
type Image struct {
	Name string `yaml:"name"`
	// Arch is x86_64 or aarch64.
	Arch string `yaml:"arch"`
	// Variant is the Redox build flavour: desktop, server, minimal, cloud (or standin).
	Variant string `yaml:"variant"`
	// Version is the Redox version or build date shown in reports (e.g. "0.9.0", "2026-11-21").
	Version string `yaml:"version"`
	// Firmware is bios or uefi.
	Firmware string `yaml:"firmware"`
	// Profile names what a boot of this image looks like: redox or standin.
	Profile string `yaml:"profile"`
	// Exactly one of Path (a disk image), URL (downloaded into the cache), or Kernel
	// (+Initrd, a direct -kernel boot used by the stand-in) says what to boot.
	Path    string `yaml:"path"`
	URL     string `yaml:"url"`
	SHA256  string `yaml:"sha256"`
	Kernel  string `yaml:"kernel"`
	Initrd  string `yaml:"initrd"`
	Cmdline string `yaml:"cmdline"`
	// Transcript is a recorded serial log, booted by replay hosts.
	Transcript string `yaml:"transcript"`
	// BootArgs are extra switches handed to the guest (the stand-in reads them from
	// QEMU fw_cfg opt/fx/args, so they work on fixed UEFI disk images too).
	BootArgs string `yaml:"boot_args"`
	// ABIBaseline and Sysroot feed the ABI suite.
	ABIBaseline string   `yaml:"abi_baseline"`
	Sysroot     string   `yaml:"sysroot"`
	Labels      []string `yaml:"labels"`
}

// Host is one machine, virtual or real.
type Host struct {
	Name string `yaml:"name"`
	// Kind is how the machine is reached: qemu, cloud-hypervisor, serial, ipmi, replay.
	Kind string `yaml:"kind"`
	Arch string `yaml:"arch"`
	// Firmware the host boots with: bios or uefi (an image runs only where it matches).
	Firmware string `yaml:"firmware"`
	Machine  string `yaml:"machine"`
	CPU      string `yaml:"cpu"`
	Memory   string `yaml:"memory"`
	SMP      int    `yaml:"smp"`
	// Accel is auto (probe KVM, fall back to TCG), kvm or tcg.
	Accel string `yaml:"accel"`
	// Devices the host has: nvme, e1000, hda, xhci, ahci, virtio-net, virtio-blk, ps2, ...
	Devices []string `yaml:"devices"`
	// TimeScale multiplies every timeout (TCG is ~10x slower than KVM); 0 means auto.
	TimeScale float64 `yaml:"time_scale"`
	// Silence overrides the matrix-wide hang window.
	Silence Duration `yaml:"silence"`
	Labels  []string `yaml:"labels"`
	// Features are capabilities beyond devices (e.g. "network", "display").
	Features []string `yaml:"features"`
	// Vendor/Model/Board describe real hardware for HARDWARE.md rows.
	Vendor string  `yaml:"vendor"`
	Model  string  `yaml:"model"`
	XFail  []XFail `yaml:"xfail"`
	// Options holds kind-specific settings (serial port, BMC address, ...), decoded by
	// the host kind itself so this schema does not grow a field per backend.
	Options map[string]any `yaml:"options"`
}

// XFail declares a known failure on a host, with a reference (issue URL).
type XFail struct {
	// Check is the check name (e.g. "boot/login", "drivers/hda"); Image optionally narrows it.
	Check     string `yaml:"check"`
	Image     string `yaml:"image"`
	Reference string `yaml:"reference"`
}

// Suite selects what runs on each job.
type Suite struct {
	Name string `yaml:"name"` // boot, drivers, network, abi, guest
	// Hosts/Images restrict the suite by label ("arch:x86_64", "kind:qemu", a host label).
	Labels []string `yaml:"labels"`
	// Commands and Expect are for the in-guest suite (relibc-tests style).
	Commands []GuestCommand `yaml:"commands"`
}

// GuestCommand runs in the guest; its stdout is compared with a file.
type GuestCommand struct {
	Name   string `yaml:"name"`
	Run    string `yaml:"run"`
	Expect string `yaml:"expect"`
}

// Job is one image booted on one host for one suite.
type Job struct {
	Image Image
	Host  Host
	Suite Suite
}

// ID is stable across runs and shards: image@host/suite.
func (j Job) ID() string { return j.Image.Name + "@" + j.Host.Name + "/" + j.Suite.Name }

// Duration is a time.Duration written as "30s" in YAML.
type Duration struct{ time.Duration }
