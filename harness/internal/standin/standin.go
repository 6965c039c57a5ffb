// Package standin builds one-job matrices around the stand-in fixtures for the integration
// tests of the session, drivers, network, guest and bisection packages, and boots them with
// the checks every such test wants (the VM's process group is gone after Close).
package standin

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Images the fixtures provide.
const (
	X86BIOS     = "x86_64-bios"      // SeaBIOS, -kernel/-initrd (the fastest boot)
	X86UEFI     = "x86_64-uefi"      // OVMF, systemd-boot disk
	X86UEFIMenu = "x86_64-uefi-menu" // OVMF, systemd-boot waiting at its menu (editor on)
	X86BIOSGrub = "x86_64-bios-grub" // SeaBIOS, GRUB whose menu is on VGA only (add the vga device)
	A64UEFI     = "aarch64-uefi"     // AAVMF, systemd-boot disk
	A64UEFIMenu = "aarch64-uefi-menu"
	I586BIOS    = "i586-bios"     // qemu-system-i386 pc pentium2, SeaBIOS, -kernel/-initrd (Debian 686)
	RV64UBoot   = "riscv64-uboot" // qemu-system-riscv64 virt, OpenSBI + U-Boot, the bare-metal payload
)

// Spec describes the one job.
type Spec struct {
	Image    string
	Devices  []string
	Features []string
	XFail    []matrix.XFail
	Suite    string
	Commands []matrix.GuestCommand
	// BootArgs are the image's boot_args (fw_cfg switches).
	BootArgs string
	// Profile is the image's profile (default "standin"); "redox" with BootArgs
	// "fx.redox=1" judges the stand-in speaking Redox (fixtures/redox).
	Profile string
	// Silence and BootTimeout are before scaling (defaults 2s and 60s); TimeScale
	// defaults to 15 (TCG on a shared two-core machine).
	Silence, BootTimeout string
	TimeScale            float64
	Options              map[string]any
	Memory               string
}

// Job parses the matrix for spec and returns its only job.
// KernelCmdline is the direct-boot stand-in's kernel command line. no_timer_check: Linux
// (arch/x86/kernel/apic/io_apic.c, timer_irq_works) otherwise tests the IO-APIC timer by
// waiting for ticks, and a TCG guest starved by a loaded controller (load 26 on 2 cores)
// failed it and panicked "IO-APIC + timer doesn't work!" at boot (a CRASH in the
// scheduler's live test that had nothing to do with what it tests).
const KernelCmdline = "console=ttyS0 panic=-1 no_timer_check"

func Job(t testing.TB, s Spec) (*matrix.Matrix, matrix.Job) {
	t.Helper()
	fx := fixtures.Require(t)
	if s.Silence == "" {
		s.Silence = "2s"
	}
	if s.BootTimeout == "" {
		s.BootTimeout = "60s"
	}
	if s.TimeScale == 0 {
		s.TimeScale = 15
	}
	if s.Suite == "" {
		s.Suite = "boot"
	}
	if s.Memory == "" {
		s.Memory = "512M"
	}
	if s.Profile == "" {
		s.Profile = "standin"
	}
	img := map[string]any{"name": "standin-" + s.Image, "profile": s.Profile, "variant": "standin"}
	host := map[string]any{"name": "vm-" + s.Image, "kind": "qemu", "accel": "tcg", "memory": s.Memory,
		"time_scale": s.TimeScale}
	switch s.Image {
	case X86BIOS, I586BIOS:
		arch := strings.TrimSuffix(s.Image, "-bios") // x86_64 or i586: the fixtures' suffix too
		img["arch"], img["firmware"] = arch, "bios"
		img["kernel"], img["initrd"] = fx+"/vmlinuz-"+arch, fx+"/initrd-"+arch+".cpio.gz"
		img["cmdline"] = KernelCmdline
		host["arch"], host["firmware"], host["machine"] = arch, "bios", "pc"
	case X86BIOSGrub:
		img["arch"], img["firmware"] = "x86_64", "bios"
		img["path"] = fx + "/disk-bios-x86_64-grub.img"
		host["arch"], host["firmware"], host["machine"] = "x86_64", "bios", "pc"
	case X86UEFI, X86UEFIMenu:
		img["arch"], img["firmware"] = "x86_64", "uefi"
		img["path"] = fx + "/disk-uefi-x86_64" + strings.TrimPrefix(s.Image, X86UEFI) + ".img"
		host["arch"], host["firmware"], host["machine"] = "x86_64", "uefi", "q35"
	case RV64UBoot:
		// Debian 12's QEMU 7.2: machine virt (no acpi property), cpu rv64 (no max).
		img["arch"], img["firmware"] = "riscv64gc", "u-boot"
		img["path"] = fx + "/disk-riscv64-uboot.img"
		host["arch"], host["firmware"], host["machine"], host["cpu"] = "riscv64gc", "u-boot", "virt", "rv64"
		if s.Options == nil {
			s.Options = map[string]any{"disk_bus": "virtio"}
		}
	case A64UEFI, A64UEFIMenu:
		img["arch"], img["firmware"] = "aarch64", "uefi"
		img["path"] = fx + "/disk-uefi-aarch64" + strings.TrimPrefix(s.Image, A64UEFI) + ".img"
		host["arch"], host["firmware"], host["machine"] = "aarch64", "uefi", "virt"
	default:
		t.Fatalf("standin: unknown image %q", s.Image)
	}
	if s.BootArgs != "" {
		img["boot_args"] = s.BootArgs
	}
	if len(s.Devices) > 0 {
		host["devices"] = s.Devices
	}
	if len(s.Features) > 0 {
		host["features"] = s.Features
	}
	if len(s.XFail) > 0 {
		host["xfail"] = entries(s.XFail, "image", func(x matrix.XFail) map[string]string {
			return map[string]string{"check": x.Check, "reference": x.Reference, "image": x.Image}
		})
	}
	if len(s.Options) > 0 {
		host["options"] = s.Options
	}
	suite := map[string]any{"name": s.Suite}
	if len(s.Commands) > 0 {
		suite["commands"] = entries(s.Commands, "expect", func(c matrix.GuestCommand) map[string]string {
			return map[string]string{"name": c.Name, "run": c.Run, "expect": c.Expect}
		})
	}
	doc := map[string]any{
		"settings": map[string]any{"silence": s.Silence, "boot_timeout": s.BootTimeout},
		"images":   []any{img},
		"hosts":    []any{host},
		"suites":   []any{suite},
	}
	y, err := json.Marshal(doc) // JSON is YAML
	if err != nil {
		t.Fatal(err)
	}
	m, err := matrix.Parse("standin-test.yaml", y, t.TempDir())
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	jobs := m.Jobs(matrix.Filter{})
	if len(jobs) != 1 {
		t.Fatalf("%d jobs from %s", len(jobs), y)
	}
	return m, jobs[0]
}

type pgidHaver interface{ PGID() int }

// entries is items as a matrix list: each the mapping keys gives, less its optional key
// when that is empty (as an author leaves it out).
func entries[T any](items []T, optional string, keys func(T) map[string]string) []map[string]string {
	var out []map[string]string
	for _, it := range items {
		e := keys(it)
		if e[optional] == "" {
			delete(e, optional)
		}
		out = append(out, e)
	}
	return out
}

// Boot boots the job and registers a cleanup that powers the machine off and checks that
// no process of its process group survived. o.OnPowerOn is still called.
func Boot(t testing.TB, m *matrix.Matrix, j matrix.Job, o job.Options) *job.Booted {
	t.Helper()
	if o.RunDir == "" {
		o.RunDir = t.TempDir()
	}
	var pgid int
	user := o.OnPowerOn
	o.OnPowerOn = func(mach hosts.Machine) {
		if p, ok := mach.(pgidHaver); ok {
			pgid = p.PGID()
		}
		if user != nil {
			user(mach)
		}
	}
	b := job.Boot(context.Background(), m, j, o)
	t.Cleanup(func() {
		b.Close()
		if pgid != 0 {
			if err := syscall.Kill(-pgid, 0); !errors.Is(err, syscall.ESRCH) {
				t.Errorf("process group %d of our QEMU still has processes after Close (kill 0: %v)", pgid, err)
			}
		}
	})
	t.Logf("boot: %s", b)
	return b
}

// Options are job options for a test boot (a temporary run directory is filled in by Boot).
func Options() job.Options { return job.Options{} }
