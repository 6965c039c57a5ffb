package cloudhypervisor

import (
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Options are the cloud-hypervisor host's kind-specific settings (matrix host `options:`),
// decoded strictly with matrix.Host.DecodeOptions.
type Options struct {
	// Binary overrides "cloud-hypervisor" (looked up on PATH).
	Binary string `yaml:"binary"`
	// Firmware is the path of CLOUDHV.fd (edk2's CloudHv platform build; nixpkgs
	// OVMF-cloud-hypervisor.fd/FV/CLOUDHV.fd). Required to boot a disk image; a kernel image
	// boots without it. Debian does not ship it. A relative path is relative to the
	// harness's working directory, as for the qemu host's firmware files.
	Firmware string `yaml:"firmware"`
	// Tap is an existing TAP interface for a virtio-net NIC (--net tap=<name>). Cloud
	// Hypervisor has no user-mode networking, so a host listing virtio-net needs one.
	Tap string `yaml:"tap"`
	// Hugepages backs guest memory with huge pages (--memory ...,hugepages=on). Unset: the
	// CH_HUGEPAGES environment variable, else off.
	Hugepages *bool `yaml:"hugepages"`
	// DirectIO opens the disk with O_DIRECT (--disk ...,direct=on). Unset: CH_DIRECT_IO,
	// else off (O_DIRECT fails on tmpfs, where job directories usually are).
	DirectIO *bool `yaml:"direct_io"`
	// APITimeout bounds each API request and the wait for the API socket after start
	// (default 30s).
	APITimeout matrix.Duration `yaml:"api_timeout"`
	// Serial is how the harness gets the guest's serial port: "pty" (default) or "socket".
	// See the package documentation: both lose no byte of the boot.
	Serial string `yaml:"serial"`
	// ImageCopy boots a private copy of the disk image made in the job directory (default
	// true), as the Nix runner does and as the qemu host's snapshot=on amounts to. false
	// boots the image in place: the guest writes into the matrix's file.
	ImageCopy *bool `yaml:"image_copy"`
	// ExtraArgs are appended verbatim to the cloud-hypervisor command line (in socket mode
	// the VM comes from vm.create, so only VMM switches such as -v belong here).
	ExtraArgs []string `yaml:"extra_args"`
}

// The Nix runner's environment knobs (RedoxOS Pure Nix Build, run-redox-cloud-hypervisor),
// honoured as defaults under the matrix: a value the matrix sets wins.
const (
	EnvCPUs      = "CH_CPUS"      // vCPUs, e.g. "4"
	EnvMemory    = "CH_MEMORY"    // memory, e.g. "2048M" (K/M/G/T suffix; none means MiB)
	EnvHugepages = "CH_HUGEPAGES" // non-empty: huge pages ("0", "off", "false", "no": not)
	EnvDirectIO  = "CH_DIRECT_IO" // on|off
)

// Defaults when neither the matrix nor the environment says.
const (
	DefaultBinary     = "cloud-hypervisor"
	DefaultCPUs       = 1
	DefaultMemory     = "1024M" // matrix.DefaultCHMemory, Redox's Cloud Hypervisor recipe
	DefaultAPITimeout = 30 * time.Second
	SerialPTY         = "pty"
	SerialSocket      = "socket"
)

// Plan is everything needed to start one VM, computed without side effects so that the
// command line can be unit-tested.
type Plan struct {
	// Argv is what is executed. In pty mode it is CommandLine; in socket mode it starts
	// the VMM with only its API socket and the VM comes from Config through vm.create.
	Argv []string
	// CommandLine is the whole VM as one cloud-hypervisor command line.
	CommandLine []string
	// Config is the same VM as vm.create's body.
	Config *VMConfig
	// Serial is SerialPTY or SerialSocket; SerialSock is the serial socket (socket mode).
	Serial     string
	SerialSock string
	APISock    string
	// DiskFrom is copied to DiskTo before the start (a private copy of the image); both
	// are empty when the image is booted in place or there is no disk.
	DiskFrom, DiskTo string
	// Scratch disks to create (path -> size in bytes) before the start.
	Scratch map[string]int64
	// Sources says where each setting came from: "cpus" -> "matrix", "CH_CPUS" or
	// "default" (also "memory", "hugepages", "direct_io").
	Sources map[string]string
	// Notes are things the log should say (boot args a disk boot cannot pass, ...).
	Notes []string
	// APITimeout is the resolved api_timeout.
	APITimeout time.Duration
}

// BuildPlan turns a host and an image into a Cloud Hypervisor VM. getenv reads the Nix
// runner's knobs (os.Getenv; tests pass their own); dir is the job's work directory.
func BuildPlan(h matrix.Host, img matrix.Image, o Options, dir, bootArgs string, getenv func(string) string) (*Plan, error) {
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	p := &Plan{
		APISock: filepath.Join(dir, "api.sock"),
		Scratch: map[string]int64{},
		Sources: map[string]string{},
		Serial:  o.Serial,
	}
	fail := func(format string, args ...any) error {
		return fmt.Errorf("cloud-hypervisor: host %s: "+format, append([]any{h.Name}, args...)...)
	}
	switch h.Arch {
	case "x86_64", "aarch64":
	default:
		return nil, fail("unsupported arch %q", h.Arch)
	}
	if h.Accel == "tcg" {
		return nil, fail("accel tcg: Cloud Hypervisor runs guests only on KVM (or MSHV); use a qemu host for emulation")
	}
	fw := img.Firmware
	if fw == "" {
		fw = h.Firmware
	}
	if fw == "bios" {
		return nil, fail("Cloud Hypervisor has no BIOS firmware: it boots UEFI (CLOUDHV.fd) or a kernel directly")
	}
	switch p.Serial {
	case "":
		p.Serial = SerialPTY
	case SerialPTY, SerialSocket:
	default:
		return nil, optErr(&h, "options.serial", "serial in options of host %q must be %q or %q, got %q", h.Name, SerialPTY, SerialSocket, p.Serial)
	}
	p.APITimeout = DefaultAPITimeout
	if o.APITimeout.Duration < 0 {
		return nil, optErr(&h, "options.api_timeout", "api_timeout in options of host %q must be positive, got %s", h.Name, o.APITimeout)
	}
	if o.APITimeout.Duration > 0 {
		p.APITimeout = o.APITimeout.Duration
	}

	cfg := &VMConfig{}
	// CPUs and memory: the matrix, else the Nix runner's knob, else the default.
	cpus := DefaultCPUs
	switch {
	case matrixSets(&h, "smp", h.SMP != 0):
		cpus, p.Sources["cpus"] = h.SMP, "matrix"
	case getenv(EnvCPUs) != "":
		n, err := strconv.Atoi(strings.TrimSpace(getenv(EnvCPUs)))
		if err != nil || n < 1 {
			return nil, fail("%s=%q: want a number of vCPUs >= 1", EnvCPUs, getenv(EnvCPUs))
		}
		cpus, p.Sources["cpus"] = n, EnvCPUs
	default:
		if h.SMP > 0 { // a loaded matrix's own default
			cpus = h.SMP
		}
		p.Sources["cpus"] = "default"
	}
	if cpus < 1 {
		return nil, fail("smp %d: want at least one vCPU", cpus)
	}
	cfg.CPUs = &CPUsConfig{BootVCPUs: cpus, MaxVCPUs: cpus}

	memText := DefaultMemory
	switch {
	case matrixSets(&h, "memory", h.Memory != ""):
		memText, p.Sources["memory"] = h.Memory, "matrix"
	case getenv(EnvMemory) != "":
		memText, p.Sources["memory"] = strings.TrimSpace(getenv(EnvMemory)), EnvMemory
	default:
		if h.Memory != "" {
			memText = h.Memory
		}
		p.Sources["memory"] = "default"
	}
	mem, err := ParseSize(memText)
	if err != nil {
		if p.Sources["memory"] == EnvMemory {
			return nil, fail("%s=%q: %v", EnvMemory, memText, err)
		}
		return nil, fail("memory: %v", err)
	}
	hugepages, src, err := knob(o.Hugepages, getenv, EnvHugepages, hugepagesValue)
	if err != nil {
		return nil, fail("%v", err)
	}
	p.Sources["hugepages"] = src
	cfg.Memory = &MemoryConfig{Size: mem, Hugepages: hugepages}

	direct, src, err := knob(o.DirectIO, getenv, EnvDirectIO, onOff)
	if err != nil {
		return nil, fail("%v", err)
	}
	p.Sources["direct_io"] = src

	// What to boot.
	switch {
	case img.Kernel != "":
		cfg.Payload = PayloadConfig{Kernel: img.Kernel, Initramfs: img.Initrd,
			Cmdline: strings.TrimSpace(strings.TrimSpace(img.Cmdline) + " " + strings.TrimSpace(bootArgs))}
	case img.Path != "":
		if o.Firmware == "" {
			return nil, optErr(&h, "options.firmware", "host %q (cloud-hypervisor) needs options.firmware, the path of CLOUDHV.fd, to boot disk image %s (Debian does not ship it: use edk2's CloudHv build, e.g. nixpkgs OVMF-cloud-hypervisor.fd/FV/CLOUDHV.fd)", h.Name, img.Name)
		}
		cfg.Payload = PayloadConfig{Firmware: o.Firmware}
		disk := img.Path
		if o.ImageCopy == nil || *o.ImageCopy {
			p.DiskFrom, p.DiskTo = img.Path, filepath.Join(dir, "disk.img")
			disk = p.DiskTo
		}
		cfg.Disks = append(cfg.Disks, DiskConfig{Path: disk, Direct: direct})
		if strings.TrimSpace(bootArgs) != "" {
			p.Notes = append(p.Notes, fmt.Sprintf("boot args %q not passed: a disk boot has its own command line and cloud-hypervisor has no fw_cfg here", strings.TrimSpace(bootArgs)))
		}
	default:
		return nil, fail("image %s has neither a kernel nor a disk path", img.Name)
	}

	for i, d := range h.Devices {
		switch d {
		case "virtio-blk":
			// The boot disk is virtio-blk; a kernel boot gets a scratch disk instead.
			if len(cfg.Disks) == 0 {
				scratch := filepath.Join(dir, "vblk.img")
				p.Scratch[scratch] = 16 << 20
				cfg.Disks = append(cfg.Disks, DiskConfig{Path: scratch, Direct: direct})
			}
		case "virtio-net":
			if o.Tap == "" {
				return nil, optErr(&h, "options.tap", "host %q lists virtio-net but has no options.tap: Cloud Hypervisor has no user-mode networking, name a TAP interface set up for the VM", h.Name)
			}
		default:
			return nil, optErr(&h, fmt.Sprintf("devices[%d]", i), "device %q of host %q is not supported by the cloud-hypervisor host kind (it has virtio-blk and virtio-net)", d, h.Name)
		}
	}
	if o.Tap != "" {
		cfg.Net = append(cfg.Net, NetConfig{Tap: o.Tap})
	}
	if p.Serial == SerialSocket {
		p.SerialSock = filepath.Join(dir, "serial.sock")
		cfg.Serial = &ConsoleConfig{Mode: ModeSocket, Socket: p.SerialSock}
	} else {
		cfg.Serial = &ConsoleConfig{Mode: ModeTty}
	}
	cfg.Console = &ConsoleConfig{Mode: ModeOff}
	p.Config = cfg

	bin := o.Binary
	if bin == "" {
		bin = DefaultBinary
	}
	cl, err := commandLine(bin, cfg, p.APISock)
	if err != nil {
		return nil, fail("%v", err)
	}
	p.CommandLine = append(cl, o.ExtraArgs...)
	if p.Serial == SerialSocket {
		p.Argv = append([]string{bin, "--api-socket", "path=" + p.APISock}, o.ExtraArgs...)
	} else {
		p.Argv = p.CommandLine
	}
	return p, nil
}

// commandLine renders cfg as cloud-hypervisor's command line (the syntax of its --help:
// --disk path=<p>,direct=on, --cpus boot=<n>, --memory size=<s>,hugepages=on,
// --serial tty|socket=<p>, --console off, --api-socket path=<p>, --net tap=<if>).
func commandLine(bin string, cfg *VMConfig, apiSock string) ([]string, error) {
	a := []string{bin}
	add := func(args ...string) { a = append(a, args...) }
	// Option values are comma-separated key=value lists with no quoting: a comma inside a
	// path or name cannot be carried.
	var bad error
	val := func(what, s string) string {
		if strings.Contains(s, ",") && bad == nil {
			bad = fmt.Errorf("%s %q contains a comma, which cloud-hypervisor's option syntax cannot carry", what, s)
		}
		return s
	}
	pl := cfg.Payload
	switch {
	case pl.Firmware != "":
		add("--firmware", pl.Firmware)
	case pl.Kernel != "":
		add("--kernel", pl.Kernel)
		if pl.Initramfs != "" {
			add("--initramfs", pl.Initramfs)
		}
		if pl.Cmdline != "" {
			add("--cmdline", pl.Cmdline)
		}
	}
	for _, d := range cfg.Disks {
		s := "path=" + val("disk path", d.Path)
		if d.Readonly {
			s += ",readonly=on"
		}
		if d.Direct {
			s += ",direct=on"
		}
		add("--disk", s)
	}
	if cfg.CPUs != nil {
		s := "boot=" + strconv.Itoa(cfg.CPUs.BootVCPUs)
		if cfg.CPUs.MaxVCPUs > cfg.CPUs.BootVCPUs {
			s += ",max=" + strconv.Itoa(cfg.CPUs.MaxVCPUs)
		}
		add("--cpus", s)
	}
	if cfg.Memory != nil {
		s := "size=" + FormatSize(cfg.Memory.Size)
		if cfg.Memory.Hugepages {
			s += ",hugepages=on"
		}
		add("--memory", s)
	}
	if cfg.Serial != nil {
		switch cfg.Serial.Mode {
		case ModeSocket:
			add("--serial", "socket="+val("serial socket", cfg.Serial.Socket))
		case ModeFile:
			add("--serial", "file="+val("serial file", cfg.Serial.File))
		default:
			add("--serial", strings.ToLower(cfg.Serial.Mode))
		}
	}
	if cfg.Console != nil {
		add("--console", strings.ToLower(cfg.Console.Mode))
	}
	add("--api-socket", "path="+val("api socket", apiSock))
	for _, n := range cfg.Net {
		s := "tap=" + val("tap", n.Tap)
		if n.MAC != "" {
			s += ",mac=" + n.MAC
		}
		add("--net", s)
	}
	return a, bad
}

// matrixSets reports whether the matrix sets a host key itself. A loaded matrix fills in
// defaults (smp 1, memory 1024M), which must not hide the Nix runner's knobs, so for a host
// loaded from a file the key must be written there; for a Host built in code any non-zero
// value counts (set).
//
// Whether the file has the key is read from Host.Errorf's documented fallback: a key the
// file does not have points at the host itself.
func matrixSets(h *matrix.Host, key string, set bool) bool {
	self := h.Errorf("", "")
	if self.Line <= 0 { // built in code
		return set
	}
	at := h.Errorf(key, "")
	return at.Line != self.Line || at.Col != self.Col
}

// knob resolves a boolean: the matrix option, else the environment variable, else false.
func knob(opt *bool, getenv func(string) string, env string, parse func(string) (bool, error)) (bool, string, error) {
	if opt != nil {
		return *opt, "matrix", nil
	}
	if v := getenv(env); v != "" {
		b, err := parse(strings.TrimSpace(v))
		if err != nil {
			return false, "", fmt.Errorf("%s=%q: %v", env, v, err)
		}
		return b, env, nil
	}
	return false, "default", nil
}

// hugepagesValue follows the Nix runner, where any non-empty CH_HUGEPAGES turns huge pages
// on, except that the obvious "no" words turn them off.
func hugepagesValue(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "0", "off", "false", "no":
		return false, nil
	}
	return true, nil
}

func onOff(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "on", "1", "true", "yes":
		return true, nil
	case "off", "0", "false", "no":
		return false, nil
	}
	return false, fmt.Errorf("want on or off")
}

// ParseSize parses a memory size as the matrix writes it: digits with an optional K, M, G
// or T suffix (binary units); no suffix means MiB, as for QEMU's -m.
func ParseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty size")
	}
	mult := int64(1 << 20)
	num := s
	switch s[len(s)-1] {
	case 'K', 'k':
		mult, num = 1<<10, s[:len(s)-1]
	case 'M', 'm':
		mult, num = 1<<20, s[:len(s)-1]
	case 'G', 'g':
		mult, num = 1<<30, s[:len(s)-1]
	case 'T', 't':
		mult, num = 1<<40, s[:len(s)-1]
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || strings.HasPrefix(num, "+") {
		return 0, fmt.Errorf("size %q: want a positive number with an optional K, M, G or T suffix, e.g. \"1024M\"", s)
	}
	if n > (1<<62)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

// FormatSize writes bytes the way cloud-hypervisor's --memory size= reads them: in M when
// whole MiB, else in K when whole KiB, else in bytes.
func FormatSize(n int64) string {
	switch {
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "M"
	case n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}

// optErr is an error about the host's key at its place in the matrix file (a host built in
// code has no place: then a plain error).
func optErr(h *matrix.Host, key, format string, args ...any) error {
	e := h.Errorf(key, format, args...)
	if e.File == "" && e.Line <= 0 {
		return fmt.Errorf("cloud-hypervisor: %s", e.Msg)
	}
	return e
}
