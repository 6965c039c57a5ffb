package qemu

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/vmproc"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// ChooseAccel picks the accelerator for a host: the matrix's explicit choice, or (auto) KVM
// only when the guest arch matches the controller and a probe boot under KVM really prints a
// kernel banner. /dev/kvm can exist and even run firmware while every real kernel hangs (seen
// on this project's machines), so presence is not proof.
func ChooseAccel(h matrix.Host, o Options) (accel, why string) {
	switch h.Accel {
	case "kvm", "tcg":
		return h.Accel, "set in the matrix"
	}
	if !archMatchesController(h.Arch) {
		return "tcg", "guest arch differs from the controller"
	}
	ok, why := ProbeKVM(o.KVMProbeKernel)
	if ok {
		return "kvm", why
	}
	return "tcg", why
}

func archMatchesController(arch string) bool {
	// mk/qemu.mk: i586 uses KVM on an x86_64 host too (kvm?=yes).
	return ((arch == "x86_64" || arch == "i586") && runtime.GOARCH == "amd64") || (arch == "aarch64" && runtime.GOARCH == "arm64")
}

var (
	probeMu    sync.Mutex
	probeCache = map[string]probeResult{}
)

type probeResult struct {
	OK   bool      `json:"ok"`
	Why  string    `json:"why"`
	When time.Time `json:"when"`
}

// ProbeKVM boots a Linux kernel under KVM for a few seconds and reports whether it printed
// its banner. The answer is cached in memory and, for an hour, in a file in a private cache
// directory (probeCacheFile), since every test binary and every job would otherwise pay for
// the probe.
func ProbeKVM(kernel string) (bool, string) {
	if kernel == "" {
		kernel = defaultProbeKernel()
	}
	probeMu.Lock()
	defer probeMu.Unlock()
	if r, ok := probeCache[kernel]; ok {
		return r.OK, r.Why
	}
	cacheFile := probeCacheFile()
	var disk map[string]probeResult
	if cacheFile != "" {
		if data, err := os.ReadFile(cacheFile); err == nil {
			json.Unmarshal(data, &disk)
		}
	}
	if r, ok := disk[kernel]; ok && time.Since(r.When) < time.Hour {
		probeCache[kernel] = r
		return r.OK, r.Why + " (cached)"
	}
	r := probeResult{When: time.Now()}
	r.OK, r.Why = runProbe(kernel)
	probeCache[kernel] = r
	if disk == nil {
		disk = map[string]probeResult{}
	}
	disk[kernel] = r
	if data, err := json.Marshal(disk); err == nil && cacheFile != "" {
		tmp := fmt.Sprintf("%s.%d", cacheFile, os.Getpid())
		if os.WriteFile(tmp, data, 0o600) == nil {
			os.Rename(tmp, cacheFile)
		}
	}
	return r.OK, r.Why
}

// probeCacheFile is the probe's cache in the user's cache directory
// (redox-hwtest/kvm-probe/, mode 0700; its parent is shared with the image cache and test
// tools), or "" when there is none we can trust. A predictable name in a shared /tmp would
// let another user plant "KVM works" (every boot then hangs) or "no KVM" for us.
func probeCacheFile() string {
	base, err := os.UserCacheDir()
	if err != nil {
		return ""
	}
	dir := filepath.Join(base, "redox-hwtest", "kvm-probe")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return ""
	}
	if !privateDir(dir) {
		return ""
	}
	return filepath.Join(dir, "kvm-probe.json")
}

// privateDir: a directory owned by us that nobody else can write to or list.
func privateDir(dir string) bool {
	st, err := os.Lstat(dir)
	if err != nil || !st.IsDir() || st.Mode().Perm()&0o077 != 0 {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == os.Getuid()
}

func defaultProbeKernel() string {
	if root, err := matrix.ModuleRoot(); err == nil {
		k := filepath.Join(root, ".cache", "fixtures", "current", "vmlinuz-x86_64")
		if _, err := os.Stat(k); err == nil && runtime.GOARCH == "amd64" {
			return k
		}
	}
	if ks, _ := filepath.Glob("/boot/vmlinuz-*"); len(ks) > 0 {
		return ks[len(ks)-1]
	}
	return ""
}

func runProbe(kernel string) (bool, string) {
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false, "no usable /dev/kvm: " + err.Error()
	}
	f.Close()
	if kernel == "" {
		return false, "no kernel to probe KVM with"
	}
	bin := "qemu-system-x86_64"
	if runtime.GOARCH == "arm64" {
		bin = "qemu-system-aarch64"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	out := &vmproc.Tail{Max: 64 << 10}
	cmd := exec.CommandContext(ctx, bin, "-accel", "kvm", "-m", "256", "-nodefaults", "-display", "none",
		"-no-reboot", "-serial", "stdio", "-kernel", kernel, "-append", "console=ttyS0 console=ttyAMA0 panic=-1")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		return false, "probe: " + err.Error()
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	for {
		select {
		case <-done:
			if strings.Contains(out.String(), "Linux version") {
				return true, "KVM probe boot printed the kernel banner"
			}
			return false, "KVM probe boot failed: " + vmproc.LastLines(strings.TrimSpace(out.String()), 2)
		case <-time.After(100 * time.Millisecond):
			if strings.Contains(out.String(), "Linux version") {
				cancel()
				<-done
				return true, "KVM probe boot printed the kernel banner"
			}
		}
	}
}

// decodeOptions reads the host's `options:` block strictly.
func decodeOptions(h matrix.Host, o *Options) error {
	return h.DecodeOptions(o)
}

// diskBuses are the buses BuildPlan can put the boot disk on.
var diskBuses = []string{"nvme", "virtio", "ahci", "ide"}

// ValidateOptions is the qemu kind's options check when the matrix loads
// (matrix.RegisterOptions): unknown keys, wrong types and an unknown disk_bus are bad
// input at their file:line:col.
func ValidateOptions(h *matrix.Host) error {
	var o Options
	if err := decodeOptions(*h, &o); err != nil {
		return err
	}
	if o.DiskBus != "" && !slices.Contains(diskBuses, o.DiskBus) {
		return h.Errorf("options.disk_bus", "disk_bus in options of host %q must be one of %s, got %q", h.Name, strings.Join(diskBuses, ", "), o.DiskBus)
	}
	if o.Console != "" && o.Console != "serial" && o.Console != "screen" {
		return h.Errorf("options.console", "console in options of host %q must be serial or screen, got %q", h.Name, o.Console)
	}
	if o.Screen != "" && o.Screen != "qmp" && o.Screen != "vnc" {
		return h.Errorf("options.screen", "screen in options of host %q must be qmp or vnc, got %q", h.Name, o.Screen)
	}
	if (o.Console == "screen" || o.Screen == "vnc") && !slices.Contains(h.Devices, "vga") && !slices.Contains(h.Devices, "ramfb") {
		key := "options.console"
		if o.Console != "screen" {
			key = "options.screen"
		}
		return h.Errorf(key, "host %q takes its screen from the display, but its devices list none (add vga or ramfb)", h.Name)
	}
	// The firmware each arch can boot with on QEMU (BuildPlan says the same at boot).
	switch {
	case h.Arch == "i586" && h.Firmware == "uefi":
		return h.Errorf("firmware", "firmware uefi on host %q: i586 boots with BIOS only (redox mk/qemu.mk: uefi=no for i586)", h.Name)
	case h.Firmware == "u-boot" && h.Arch != "riscv64gc":
		return h.Errorf("firmware", "firmware u-boot on host %q: on qemu that is OpenSBI + U-Boot for riscv64gc only, not %s", h.Name, h.Arch)
	case h.Arch == "riscv64gc" && h.Firmware == "bios":
		return h.Errorf("firmware", "firmware bios on host %q: riscv64gc boots with uefi (mk/qemu.mk) or u-boot (OpenSBI + U-Boot)", h.Name)
	case (o.OpenSBI != "" || o.UBoot != "") && h.Arch != "riscv64gc":
		return h.Errorf("options", "opensbi and u_boot in options of host %q apply to riscv64gc hosts only, not %s", h.Name, h.Arch)
	}
	return nil
}
