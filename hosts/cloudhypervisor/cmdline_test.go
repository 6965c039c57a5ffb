package cloudhypervisor

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// env is a fake environment for the Nix runner's knobs.
func env(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// exampleHost is the commented cloud-hypervisor host of matrix/examples/redox.yaml,
// uncommented, as YAML lines of a hosts: list (indented by two spaces).
func exampleHost(t *testing.T) string {
	t.Helper()
	data, _, err := matrix.ReadExample("redox.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "  # - name: ch") {
			in = true
		}
		if !in {
			continue
		}
		if !strings.HasPrefix(line, "  # ") {
			break
		}
		out = append(out, "  "+strings.TrimPrefix(line, "  # "))
	}
	if len(out) == 0 {
		t.Fatal("matrix/examples/redox.yaml has no commented cloud-hypervisor host (\"  # - name: ch\")")
	}
	text := strings.Join(out, "\n") + "\n"
	if !strings.Contains(text, "kind: cloud-hypervisor") {
		t.Fatalf("the example host is not a cloud-hypervisor host:\n%s", text)
	}
	return text
}

// withoutOptions drops the example host's options block (firmware, tap).
func withoutOptions(host string) string {
	var keep []string
	for _, l := range strings.Split(host, "\n") {
		if t := strings.TrimSpace(l); strings.HasPrefix(t, "options:") || strings.HasPrefix(t, "firmware: /") || strings.HasPrefix(t, "tap:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// loadHost parses a matrix with one disk image and the given hosts: YAML, and returns the
// first host and the image.
func loadHost(t *testing.T, hostsYAML string) (matrix.Host, matrix.Image) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "redox.img"), []byte("disk"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "images:\n  - name: redox\n    arch: x86_64\n    path: redox.img\nhosts:\n" + hostsYAML
	m, err := matrix.Parse("hw.yaml", []byte(src), dir)
	if err != nil {
		t.Fatalf("matrix:\n%s\n%v", src, err)
	}
	return m.Hosts[0], m.Images[0]
}

func TestExampleHostCommandLine(t *testing.T) {
	base := exampleHost(t)
	dir := "/run/job" // never touched: BuildPlan has no side effects

	// Without its options block the example cannot boot: a disk needs CLOUDHV.fd,
	// virtio-net a TAP.
	h, img := loadHost(t, withoutOptions(base))
	_, err := BuildPlan(h, img, Options{}, dir, "", env())
	if err == nil || !strings.Contains(err.Error(), "options.firmware") || !strings.HasPrefix(err.Error(), "hw.yaml:") {
		t.Fatalf("example without firmware: want a hw.yaml:line:col error naming options.firmware, got %v", err)
	}
	_, err = BuildPlan(h, img, Options{Firmware: "/fw/CLOUDHV.fd"}, dir, "", env())
	if err == nil || !strings.Contains(err.Error(), "options.tap") {
		t.Fatalf("example with virtio-net and no tap: want an error naming options.tap, got %v", err)
	}

	// As written (with its options block), it does.
	h, img = loadHost(t, base)
	var o Options
	if err := h.DecodeOptions(&o); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		getenv func(string) string
		want   []string
	}{
		{"no knobs", env(), []string{"cloud-hypervisor",
			"--firmware", "/opt/cloud-hypervisor/CLOUDHV.fd", "--disk", "path=/run/job/disk.img",
			"--cpus", "boot=2", "--memory", "size=1024M",
			"--serial", "tty", "--console", "off", "--api-socket", "path=/run/job/api.sock",
			"--net", "tap=tap0"}},
		// The example writes smp: 2 and memory: 1024M, which win over CH_CPUS/CH_MEMORY;
		// it says nothing about huge pages or direct I/O, so those knobs apply.
		{"knobs under the matrix", env(EnvCPUs, "8", EnvMemory, "4G", EnvHugepages, "1", EnvDirectIO, "on"), []string{"cloud-hypervisor",
			"--firmware", "/opt/cloud-hypervisor/CLOUDHV.fd", "--disk", "path=/run/job/disk.img,direct=on",
			"--cpus", "boot=2", "--memory", "size=1024M,hugepages=on",
			"--serial", "tty", "--console", "off", "--api-socket", "path=/run/job/api.sock",
			"--net", "tap=tap0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := BuildPlan(h, img, o, dir, "", tc.getenv)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(p.Argv, tc.want) {
				t.Errorf("argv\n got %q\nwant %q", p.Argv, tc.want)
			}
			if !reflect.DeepEqual(p.CommandLine, p.Argv) {
				t.Errorf("pty mode runs the whole command line; argv %q, command line %q", p.Argv, p.CommandLine)
			}
			if p.DiskFrom != img.Path || p.DiskTo != "/run/job/disk.img" {
				t.Errorf("disk copy %q -> %q, want %q -> /run/job/disk.img", p.DiskFrom, p.DiskTo, img.Path)
			}
			if p.Sources["cpus"] != "matrix" || p.Sources["memory"] != "matrix" {
				t.Errorf("sources %v: smp and memory are written in the example", p.Sources)
			}
		})
	}
}

func TestEnvKnobsAreDefaults(t *testing.T) {
	// A loaded host that does not write smp/memory: the matrix fills in 1 and 1024M, which
	// must not hide the knobs.
	h, img := loadHost(t, "  - name: ch\n    kind: cloud-hypervisor\n    arch: x86_64\n    options:\n      firmware: /fw/CLOUDHV.fd\n")
	if h.SMP != 1 || h.Memory != "1024M" {
		t.Fatalf("matrix defaults changed: smp %d memory %q", h.SMP, h.Memory)
	}
	o := Options{Firmware: "/fw/CLOUDHV.fd"}
	cases := []struct {
		name      string
		h         matrix.Host
		o         Options
		getenv    func(string) string
		cpus, mem string
		disk      string
		sources   map[string]string
	}{
		{"loaded, no knobs", h, o, env(), "boot=1", "size=1024M", "path=/j/disk.img",
			map[string]string{"cpus": "default", "memory": "default", "hugepages": "default", "direct_io": "default"}},
		{"loaded, knobs", h, o, env(EnvCPUs, "4", EnvMemory, "2G", EnvHugepages, "yes", EnvDirectIO, "on"), "boot=4", "size=2048M,hugepages=on", "path=/j/disk.img,direct=on",
			map[string]string{"cpus": EnvCPUs, "memory": EnvMemory, "hugepages": EnvHugepages, "direct_io": EnvDirectIO}},
		{"CH_HUGEPAGES=0 and CH_DIRECT_IO=off", h, o, env(EnvHugepages, "0", EnvDirectIO, "off"), "boot=1", "size=1024M", "path=/j/disk.img",
			map[string]string{"hugepages": EnvHugepages, "direct_io": EnvDirectIO}},
		{"options beat knobs", h, Options{Firmware: "/fw/CLOUDHV.fd", Hugepages: ptr(false), DirectIO: ptr(false)},
			env(EnvHugepages, "1", EnvDirectIO, "on"), "boot=1", "size=1024M", "path=/j/disk.img",
			map[string]string{"hugepages": "matrix", "direct_io": "matrix"}},
		{"code host, zero values", matrix.Host{Name: "c", Kind: Kind, Arch: "x86_64"}, o,
			env(EnvCPUs, "3", EnvMemory, "512"), "boot=3", "size=512M", "path=/j/disk.img",
			map[string]string{"cpus": EnvCPUs, "memory": EnvMemory}},
		{"code host, values set", matrix.Host{Name: "c", Kind: Kind, Arch: "x86_64", SMP: 6, Memory: "3G"}, o,
			env(EnvCPUs, "3", EnvMemory, "512"), "boot=6", "size=3072M", "path=/j/disk.img",
			map[string]string{"cpus": "matrix", "memory": "matrix"}},
		{"code host, nothing", matrix.Host{Name: "c", Kind: Kind, Arch: "x86_64"}, o,
			env(), "boot=1", "size=1024M", "path=/j/disk.img",
			map[string]string{"cpus": "default", "memory": "default"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := BuildPlan(tc.h, img, tc.o, "/j", "", tc.getenv)
			if err != nil {
				t.Fatal(err)
			}
			for flag, want := range map[string]string{"--cpus": tc.cpus, "--memory": tc.mem, "--disk": tc.disk} {
				if got := argAfter(p.Argv, flag); got != want {
					t.Errorf("%s %q, want %q (argv %q)", flag, got, want, p.Argv)
				}
			}
			for k, want := range tc.sources {
				if p.Sources[k] != want {
					t.Errorf("source of %s: %q, want %q", k, p.Sources[k], want)
				}
			}
			// The API body says the same as the command line.
			c := p.Config
			if c.CPUs.BootVCPUs != c.CPUs.MaxVCPUs || "boot="+itoa(c.CPUs.BootVCPUs) != tc.cpus {
				t.Errorf("config cpus %+v, command line %s", c.CPUs, tc.cpus)
			}
			if !strings.HasPrefix(tc.mem, "size="+FormatSize(c.Memory.Size)) || c.Memory.Hugepages != strings.Contains(tc.mem, "hugepages=on") {
				t.Errorf("config memory %+v, command line %s", c.Memory, tc.mem)
			}
			if c.Disks[0].Direct != strings.Contains(tc.disk, "direct=on") {
				t.Errorf("config disk %+v, command line %s", c.Disks[0], tc.disk)
			}
		})
	}
}

func TestSocketModeAndKernelBoot(t *testing.T) {
	h := matrix.Host{Name: "ch", Kind: Kind, Arch: "x86_64", SMP: 2, Memory: "1G", Devices: []string{"virtio-blk"}}
	img := matrix.Image{Name: "standin", Arch: "x86_64", Kernel: "/k/vmlinuz", Initrd: "/k/initrd.gz", Cmdline: "console=ttyS0"}
	p, err := BuildPlan(h, img, Options{Serial: "socket", ExtraArgs: []string{"-v"}}, "/j", "fx.stall=init", env())
	if err != nil {
		t.Fatal(err)
	}
	wantArgv := []string{"cloud-hypervisor", "--api-socket", "path=/j/api.sock", "-v"}
	if !reflect.DeepEqual(p.Argv, wantArgv) {
		t.Errorf("socket mode starts the VMM with its API only:\n got %q\nwant %q", p.Argv, wantArgv)
	}
	wantCL := []string{"cloud-hypervisor", "--kernel", "/k/vmlinuz", "--initramfs", "/k/initrd.gz",
		"--cmdline", "console=ttyS0 fx.stall=init", "--disk", "path=/j/vblk.img",
		"--cpus", "boot=2", "--memory", "size=1024M", "--serial", "socket=/j/serial.sock",
		"--console", "off", "--api-socket", "path=/j/api.sock", "-v"}
	if !reflect.DeepEqual(p.CommandLine, wantCL) {
		t.Errorf("command line\n got %q\nwant %q", p.CommandLine, wantCL)
	}
	if p.SerialSock != "/j/serial.sock" || p.Config.Serial.Mode != ModeSocket || p.Config.Serial.Socket != p.SerialSock {
		t.Errorf("serial %q config %+v", p.SerialSock, p.Config.Serial)
	}
	if p.Config.Console.Mode != ModeOff {
		t.Errorf("console %+v", p.Config.Console)
	}
	if p.Scratch["/j/vblk.img"] != 16<<20 || p.DiskTo != "" {
		t.Errorf("a kernel boot listing virtio-blk gets a scratch disk and copies nothing: %v %q", p.Scratch, p.DiskTo)
	}
	if p.Config.Payload.Firmware != "" {
		t.Errorf("kernel boot with firmware %q", p.Config.Payload.Firmware)
	}
}

func TestImageInPlaceAndNotes(t *testing.T) {
	h := matrix.Host{Name: "ch", Kind: Kind, Arch: "x86_64"}
	img := matrix.Image{Name: "r", Arch: "x86_64", Path: "/img/redox.img"}
	p, err := BuildPlan(h, img, Options{Firmware: "/fw/CLOUDHV.fd", ImageCopy: ptr(false), APITimeout: matrix.Duration{Duration: 5 * time.Second}}, "/j", "INIT_SKIP=x", env())
	if err != nil {
		t.Fatal(err)
	}
	if got := argAfter(p.Argv, "--disk"); got != "path=/img/redox.img" || p.DiskTo != "" {
		t.Errorf("image_copy: false boots the image in place; --disk %q, copy to %q", got, p.DiskTo)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "INIT_SKIP=x") {
		t.Errorf("notes %q: boot args a disk boot cannot take must be said", p.Notes)
	}
	if p.APITimeout != 5*time.Second {
		t.Errorf("api timeout %s", p.APITimeout)
	}
}

func TestPlanErrors(t *testing.T) {
	disk := matrix.Image{Name: "r", Arch: "x86_64", Path: "/img/redox.img"}
	fw := Options{Firmware: "/fw/CLOUDHV.fd"}
	host := func(mod func(*matrix.Host)) matrix.Host {
		h := matrix.Host{Name: "ch", Kind: Kind, Arch: "x86_64"}
		if mod != nil {
			mod(&h)
		}
		return h
	}
	for _, tc := range []struct {
		name   string
		h      matrix.Host
		img    matrix.Image
		o      Options
		getenv func(string) string
		want   string
	}{
		{"bios", host(func(h *matrix.Host) { h.Firmware = "bios" }), disk, fw, env(), "no BIOS"},
		{"tcg", host(func(h *matrix.Host) { h.Accel = "tcg" }), disk, fw, env(), "only on KVM"},
		{"arch", host(func(h *matrix.Host) { h.Arch = "riscv64" }), disk, fw, env(), "unsupported arch"},
		{"no firmware", host(nil), disk, Options{}, env(), "options.firmware"},
		{"transcript", host(nil), matrix.Image{Name: "t", Transcript: "/t.log"}, fw, env(), "neither a kernel nor a disk"},
		{"e1000", host(func(h *matrix.Host) { h.Devices = []string{"e1000"} }), disk, fw, env(), `device "e1000"`},
		{"virtio-net without tap", host(func(h *matrix.Host) { h.Devices = []string{"virtio-net"} }), disk, fw, env(), "options.tap"},
		{"bad CH_CPUS", host(nil), disk, fw, env(EnvCPUs, "many"), "CH_CPUS"},
		{"zero CH_CPUS", host(nil), disk, fw, env(EnvCPUs, "0"), "CH_CPUS"},
		{"bad CH_MEMORY", host(nil), disk, fw, env(EnvMemory, "lots"), "CH_MEMORY"},
		{"bad CH_DIRECT_IO", host(nil), disk, fw, env(EnvDirectIO, "maybe"), "CH_DIRECT_IO"},
		{"serial", host(nil), disk, Options{Firmware: "/fw", Serial: "telnet"}, env(), `"pty" or "socket"`},
		{"comma", host(nil), matrix.Image{Name: "r", Path: "/a,b.img"}, Options{Firmware: "/fw", ImageCopy: ptr(false)}, env(), "comma"},
		{"negative api timeout", host(nil), disk, Options{Firmware: "/fw", APITimeout: matrix.Duration{Duration: -time.Second}}, env(), "api_timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := BuildPlan(tc.h, tc.img, tc.o, "/j", "", tc.getenv)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
}

// Errors about the matrix point at the file: the device, the options block.
func TestPlanErrorsHavePositions(t *testing.T) {
	h, img := loadHost(t, "  - name: ch\n    kind: cloud-hypervisor\n    arch: x86_64\n    devices: [virtio-blk, e1000]\n    options:\n      firmware: /fw/CLOUDHV.fd\n")
	_, err := BuildPlan(h, img, Options{Firmware: "/fw/CLOUDHV.fd"}, "/j", "", env())
	var me *matrix.Error
	if !errors.As(err, &me) || me.File != "hw.yaml" || me.Line != 9 || me.Col != 27 {
		t.Fatalf("want hw.yaml:9:27 (the e1000), got %v", err)
	}
	// An unknown option is bad input when the matrix loads (the kind's registered
	// validator, given to the loader), at its file:line:col; never an INFRA verdict at boot time.
	src := "images:\n  - name: redox\n    arch: x86_64\n    path: redox.img\nhosts:\n  - name: ch\n    kind: cloud-hypervisor\n    arch: x86_64\n    options:\n      firmwre: /fw/CLOUDHV.fd\n"
	_, err = matrix.LoadOptions{SkipFileChecks: true, Kinds: hosts.OptionChecks()}.Parse("hw.yaml", []byte(src), t.TempDir())
	if hosts.IsInfra(err) || !errors.As(err, &me) || me.Line != 10 || !strings.Contains(err.Error(), "firmwre") {
		t.Fatalf("want a hw.yaml:10:... load error about firmwre, got %v", err)
	}
	// A host built in code (not loaded) gets the same check when its machine is built: a
	// configuration error, not a lab failure.
	h = matrix.Host{Name: "ch", Kind: Kind, Arch: "x86_64", Options: map[string]any{"firmwre": "/fw"}}
	_, err = hosts.New(h, img, hosts.Env{Dir: t.TempDir()})
	if err == nil || hosts.IsInfra(err) || !strings.Contains(err.Error(), "firmwre") {
		t.Fatalf("want a configuration error about firmwre, got %v", err)
	}
}

func TestNewChecksFirmwareAndRegisters(t *testing.T) {
	if !contains(hosts.Kinds(), Kind) {
		t.Fatalf("kind %q not registered (have %v)", Kind, hosts.Kinds())
	}
	dir := t.TempDir()
	h := matrix.Host{Name: "ch", Kind: Kind, Arch: hostArch(), Options: map[string]any{"firmware": filepath.Join(dir, "missing.fd")}}
	img := matrix.Image{Name: "r", Arch: hostArch(), Path: "/img/redox.img"}
	if _, err := hosts.New(h, img, hosts.Env{Dir: dir}); !hosts.IsInfra(err) || !strings.Contains(err.Error(), "missing.fd") {
		t.Fatalf("missing firmware file: got %v", err)
	}
	fw := filepath.Join(dir, "CLOUDHV.fd")
	os.WriteFile(fw, []byte("fw"), 0o644)
	h.Options = map[string]any{"firmware": fw, "api_timeout": "7s", "hugepages": true}
	m, err := hosts.New(h, img, hosts.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	cm := m.(*Machine)
	if cm.Plan().APITimeout != 7*time.Second || !cm.Plan().Config.Memory.Hugepages {
		t.Errorf("options not applied: %+v", cm.Plan())
	}
	f := m.Facts()
	if f["accel"] != "kvm" || f["serial"] != "pty" || f["firmware"] != fw || !strings.HasPrefix(f["ch_argv"], "cloud-hypervisor --firmware ") {
		t.Errorf("facts %v", f)
	}
	if m.TimeScale() != 1 {
		t.Errorf("time scale %v", m.TimeScale())
	}
	// Never powered on: PowerOff is a no-op, and safe twice.
	if err := m.PowerOff(t.Context()); err != nil {
		t.Error(err)
	}
	if err := m.PowerOff(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestSizes(t *testing.T) {
	for in, want := range map[string]int64{"1024M": 1 << 30, "2G": 2 << 30, "512": 512 << 20, "64K": 64 << 10, "1t": 1 << 40, "3m": 3 << 20} {
		got, err := ParseSize(in)
		if err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1M", "+5M", "1.5G", "G", "12X", "99999999999999999999T", "9000000000T"} {
		if n, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %d, want an error", in, n)
		}
	}
	for in, want := range map[int64]string{1 << 30: "1024M", 3 << 20: "3M", 1536 << 10: "1536K", 1000: "1000"} {
		if got := FormatSize(in); got != want {
			t.Errorf("FormatSize(%d) = %q, want %q", in, got, want)
		}
	}
}

func argAfter(argv []string, flag string) string {
	for i, a := range argv {
		if a == flag && i+1 < len(argv) {
			return argv[i+1]
		}
	}
	return ""
}

func ptr[T any](v T) *T { return &v }

func itoa(n int) string { return strconv.Itoa(n) }

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func hostArch() string {
	if runtime.GOARCH == "arm64" {
		return "aarch64"
	}
	return "x86_64"
}
