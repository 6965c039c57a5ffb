// Package matrix is the hw.yaml schema: which images boot on which hosts under which suites.
// Decoding is strict (unknown keys, wrong types and duplicate names are errors that name
// file:line:col), and expansion into jobs is deterministic so every process of a parallel
// Ginkgo run builds the same spec tree.
//
// Load (or Parse) reads a matrix in three steps. The YAML is parsed with goccy/go-yaml's
// parser and the tree is checked against these Go types, which records where every value
// is ("hosts[2].memory" -> line:col); goccy then decodes it with yaml.Strict(); last,
// the values are validated (known words, required keys, unique names, images some host
// can run, files that exist) and completed with defaults. Every error is a *Error,
// "hw.yaml:12:5: unknown key \"memroy\" in host \"q35-uefi\" (...)".
//
// Jobs expands the matrix in file order (suites, then images, then hosts) with label
// filters and sharding. A loaded Matrix is read-only and safe for concurrent use, and so
// are the Jobs made from it (DecodeOptions included).
package matrix

// Matrix is one hw.yaml file.
//
// After Load or Parse every relative file name inside it (image path, kernel, initrd,
// transcript, abi_baseline, sysroot, a guest command's expect file, settings.out_dir) has
// been made absolute against Dir, and the defaults of DefaultSettings and the Host/Image
// doc comments have been applied.
type Matrix struct {
	// Path is the absolute path the matrix was read from ("" when it came from Parse);
	// relative paths inside it resolve against Dir.
	Path string `yaml:"-"`
	// Dir is the absolute directory relative paths in the matrix resolve against: the
	// directory of Path for Load, the baseDir given to Parse.
	Dir    string  `yaml:"-"`
	Images []Image `yaml:"images"`
	Hosts  []Host  `yaml:"hosts"`
	Suites []Suite `yaml:"suites"`
	// Skipped says which optional images were left out and why (their files are missing).
	Skipped []string `yaml:"-"`
	// Settings apply to every job unless a host overrides them.
	Settings Settings `yaml:"settings"`

	src *source // positions of every node, for errors found after decoding
}

// Settings are run-wide knobs.
type Settings struct {
	// OutDir is where run directories go (default "out", relative to the matrix).
	OutDir string `yaml:"out_dir"`
	// Silence is the hang window before time scaling (default 30s).
	Silence Duration `yaml:"silence"`
	// BootTimeout bounds one boot before time scaling (default 120s).
	BootTimeout Duration `yaml:"boot_timeout"`
	// Jobs bounds how many VM jobs `run` runs at once (0: from the controller's cores and
	// memory; `run -j` overrides it). Real machines are bounded by their own exclusivity.
	Jobs int `yaml:"jobs"`
	// ImageCache is the directory downloaded (url:) images are kept in, keyed by digest and
	// shared by concurrent runs (relative to the matrix; default $REDOX_HWTEST_IMAGE_CACHE,
	// else the user's cache directory + "/redox-hwtest/images"; see hosts/imagecache).
	ImageCache string `yaml:"image_cache"`
	// ImageCacheSize bounds the cache, least recently used images leave first: a size such
	// as "20G" (suffix K, M, G or T; none means MiB). Empty means 20G.
	ImageCacheSize string `yaml:"image_cache_size"`
}

// Image is one bootable build.
//
// Required: name, arch, and exactly one of path, url, kernel, transcript.
// Default: profile is "standin" for a kernel image or variant "standin", else "redox".
type Image struct {
	// Name is unique among images; letters, digits, '.', '_', '+', '-'.
	Name string `yaml:"name"`
	// Arch is x86_64, aarch64, i586 or riscv64gc (upstream's ARCH names; i686 and riscv64
	// are accepted and rewritten: ArchAliases).
	Arch string `yaml:"arch"`
	// Variant is the Redox build flavour: desktop, server, minimal, cloud (or standin).
	Variant string `yaml:"variant"`
	// Version is the Redox version or build date shown in reports (e.g. "0.9.0", "2026-11-21").
	Version string `yaml:"version"`
	// Firmware is bios, uefi or u-boot; empty means the image does not care (a direct kernel
	// boot, a transcript) and runs on hosts of either firmware.
	Firmware string `yaml:"firmware"`
	// Profile names what a boot of this image looks like: redox or standin.
	Profile string `yaml:"profile"`
	// Exactly one of Path (a disk image), URL (downloaded into the cache), or Kernel
	// (+Initrd, a direct -kernel boot used by the stand-in) says what to boot. Path,
	// Kernel and Initrd are relative to the matrix directory and must exist (unless
	// LoadOptions.SkipFileChecks); URL is http(s). SHA256 (64 hex digits) checks a URL
	// download or a Path. Initrd and Cmdline need Kernel. Kernel images run only on
	// virtual hosts (qemu, cloud-hypervisor).
	//
	// Newest turns URL into a directory (ending in "/") and names a file pattern in it
	// (path.Match, e.g. "redox_desktop_*_harddrive.img.zst"): the newest file of that
	// pattern listed in the directory's SHA256SUM is fetched, with the digest listed there
	// (so sha256 is not given with it). A URL image without sha256 is checked against the
	// SHA256SUM beside it. hosts/imagecache downloads, verifies and decompresses it.
	Path   string `yaml:"path"`
	URL    string `yaml:"url"`
	SHA256 string `yaml:"sha256"`
	Newest string `yaml:"newest"`
	// Date is the build date (YYYY-MM-DD) of a fetched url image, when its name or its
	// server says it; set by hosts/imagecache, never written in a matrix.
	Date    string `yaml:"-"`
	Kernel  string `yaml:"kernel"`
	Initrd  string `yaml:"initrd"`
	Cmdline string `yaml:"cmdline"`
	// Console is where the image shows its boot: "" (on the serial line and on the screen,
	// as Redox does: it runs on every host), "serial" (on the serial line only: not on a
	// host without one) or "screen" (on the screen only: only on a host with no serial
	// console, qemu options.console: screen).
	Console string `yaml:"console"`
	// Transcript is a recorded serial log, booted by replay hosts (and only by them: a
	// transcript image runs only on replay hosts, a replay host only runs transcript images).
	Transcript string `yaml:"transcript"`
	// Optional images are left out of the matrix, not an error, when a file they name is
	// missing: recordings or builds that only some machines have (the real Redox transcripts
	// in ../shared/redox-logs).
	Optional bool `yaml:"optional"`
	// BootArgs are extra switches handed to the guest (the stand-in reads them from
	// QEMU fw_cfg opt/fx/args, so they work on fixed UEFI disk images too).
	BootArgs string `yaml:"boot_args"`
	// ABIBaseline and Sysroot feed the ABI suite.
	ABIBaseline string `yaml:"abi_baseline"`
	Sysroot     string `yaml:"sysroot"`
	// Labels are added to every job of this image (see Job.Labels).
	Labels []string `yaml:"labels"`

	src  *source // where the image was defined
	path string  // "images[3]"
}

// Host is one machine, virtual or real.
//
// Required: name, kind, arch. Defaults for the virtual kinds (qemu, cloud-hypervisor):
// accel "auto", smp 1, memory "2048M" (qemu, as Redox's mk/qemu.mk) or "1024M"
// (cloud-hypervisor); for qemu also machine "q35" (x86_64) or "virt" (aarch64) and
// cpu "max" on aarch64. Every host's Silence defaults to Settings.Silence.
type Host struct {
	// Name is unique among hosts; letters, digits, '.', '_', '+', '-'.
	Name string `yaml:"name"`
	// Kind is how the machine is reached: qemu, cloud-hypervisor, serial, ipmi, power, replay.
	Kind string `yaml:"kind"`
	// Arch is x86_64, aarch64, i586 or riscv64gc (i686 and riscv64 are accepted and
	// rewritten: ArchAliases).
	Arch string `yaml:"arch"`
	// Firmware the host boots with: bios, uefi or u-boot (an image runs only where it matches);
	// empty means the host kind decides.
	Firmware string `yaml:"firmware"`
	Machine  string `yaml:"machine"`
	CPU      string `yaml:"cpu"`
	// Memory is a size such as "2048M" or "2G" (suffix K, M, G or T; none means MiB,
	// as for QEMU's -m).
	Memory string `yaml:"memory"`
	// SMP is the number of CPUs (>= 0; 0 means the default).
	SMP int `yaml:"smp"`
	// Accel is auto (probe KVM, fall back to TCG), kvm or tcg; only for qemu and
	// cloud-hypervisor hosts.
	Accel string `yaml:"accel"`
	// Devices the host has: nvme, e1000, hda, xhci, ahci, virtio-net, virtio-blk, ps2, ...
	// (KnownDevices lists them all).
	Devices []string `yaml:"devices"`
	// TimeScale multiplies every timeout (TCG is ~10x slower than KVM); 0 means auto.
	// Must be finite and >= 0.
	TimeScale float64 `yaml:"time_scale"`
	// Silence overrides the matrix-wide hang window.
	Silence Duration `yaml:"silence"`
	// Slots is how many jobs a VM host runs at once (default 1); a real machine always
	// runs one.
	Slots int `yaml:"slots"`
	// Labels are added to every job on this host (see Job.Labels).
	Labels []string `yaml:"labels"`
	// Features are capabilities beyond devices (e.g. "network", "display").
	Features []string `yaml:"features"`
	// Vendor/Model/Board describe real hardware for HARDWARE.md rows.
	Vendor string  `yaml:"vendor"`
	Model  string  `yaml:"model"`
	XFail  []XFail `yaml:"xfail"`
	// Options holds kind-specific settings (serial port, BMC address, ...), decoded by
	// the host kind itself with DecodeOptions so this schema does not grow a field per
	// backend. A "password" key is refused: name an environment variable instead
	// (password_env).
	Options map[string]any `yaml:"options"`

	src  *source // where the host was defined
	path string  // "hosts[2]"
}

// XFail declares a known failure on a host, with a reference (issue URL).
type XFail struct {
	// Check is the check name (e.g. "boot/login", "drivers/hda"), or a path.Match
	// pattern ("drivers/*"); Image optionally narrows it to one image of the matrix.
	Check string `yaml:"check"`
	Image string `yaml:"image"`
	// Reference is required: where the failure is tracked (an issue URL).
	Reference string `yaml:"reference"`
}

// Suite selects what runs on each job.
//
// A matrix without a suites key runs the boot suite only.
type Suite struct {
	Name string `yaml:"name"` // one of KnownSuites: boot, drivers, network, abi, guest
	// Labels restrict the suite to the jobs that carry every one of them ("arch:x86_64",
	// "kind:qemu", an image or host label); a leading "!" excludes jobs with that label.
	Labels []string `yaml:"labels"`
	// Commands and Expect are for the in-guest suite (relibc-tests style); only the
	// guest suite may have commands.
	Commands []GuestCommand `yaml:"commands"`
	// FreshBoot gives each job of the suite a boot of its own instead of the boot the
	// suites of an image x host share (a destructive test, a kernel command line of its
	// own).
	FreshBoot bool `yaml:"fresh_boot"`
}

// GuestCommand runs in the guest; its stdout is compared with a file.
type GuestCommand struct {
	// Name is unique within the suite; Run is required.
	Name string `yaml:"name"`
	Run  string `yaml:"run"`
	// Expect is a file relative to the matrix directory (must exist unless
	// LoadOptions.SkipFileChecks).
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
