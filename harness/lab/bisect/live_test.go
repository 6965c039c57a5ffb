package bisect_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/lab/bisect"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The skip method: the stand-in's systemd-boot menu disk with a stall before its NVMe
// driver group (fx.hang=nvme, passed through fw_cfg so the loader's command line stays
// editable): the first boot hangs, the bisection types " fx.skip=nvme" into systemd-boot's
// editor, the guest's init confirms with "FX: skip nvme" (as Redox init prints "Skipping
// 'nvmed ...'"), that boot reaches the shell, and nvme is named.
func TestLiveBisectionNamesTheStalledDriver(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	// Silence 4s (x15): OVMF can be silent for more than 30 s when the machine is busy.
	m, j := standin.Job(t, standin.Spec{Image: standin.X86UEFIMenu, Devices: []string{"nvme", "e1000", "hda"},
		Options: map[string]any{"disk_bus": "virtio"}, Silence: "4s"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	res, err := bisect.Run(ctx, bisect.Options{Matrix: m, Job: j, RunDir: t.TempDir(), BootArgs: "fx.hang=nvme", Method: bisect.Skip,
		Log: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary)
	if !res.Reproduced || res.Culprit != "nvme" || res.Method != bisect.Skip || !slices.Equal(res.Names, []string{"nvme"}) {
		t.Fatalf("culprit %q (%v), reproduced %v", res.Culprit, res.Names, res.Reproduced)
	}
	first, last := res.Attempts[0], res.Attempts[len(res.Attempts)-1]
	if first.Verdict != record.Hang || first.Stalled != "nvme" || !strings.Contains(first.Reason, "after stage drivers") {
		t.Errorf("first boot: %s", first)
	}
	if !last.Reached() || !slices.Equal(last.Names, []string{"nvme"}) || len(last.Unconfirmed) > 0 || len(last.Removed) > 0 {
		t.Errorf("last boot: %s", last)
	}
	// The skip reached the guest through the boot loader's editor: the kernel command line
	// (listed first in init's switches line, before the fw_cfg words) has it.
	tr, err := os.ReadFile(filepath.Join(last.Dir, job.Transcript))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tr), "FX: switches fx.skip=nvme fx.hang=nvme") || !strings.Contains(string(tr), "FX: skip nvme") {
		t.Errorf("the last boot's transcript does not show the edited command line")
	}
	if len(res.Attempts) != 2 {
		t.Errorf("%d boots; the attribution should have made it two", len(res.Attempts))
	}
}

// The device method: a driver that stalls only when its device is there (fx.hangon=nvme: the
// stand-in's NVMe group hangs after "FX: stage nvme" if an NVMe controller is present, as a
// Redox nvmed started by pcid-spawner would). No attribution, so the whole halving runs: the
// first boot hangs, the VM without all three devices reaches the shell, without hda alone it
// still hangs, without nvme it gets through, and nvme is named.
func TestLiveDeviceBisectionNamesTheDevice(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	// Silence 4s (x15): a direct kernel boot prints nothing until the kernel is unpacked,
	// which takes more than 30 s when the machine is busy.
	m, j := standin.Job(t, standin.Spec{Image: standin.X86BIOS, Devices: []string{"nvme", "e1000", "hda"}, Silence: "4s"})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	res, err := bisect.Run(ctx, bisect.Options{Matrix: m, Job: j, RunDir: t.TempDir(), BootArgs: "fx.hangon=nvme",
		Method: bisect.Device, NoAttribution: true, Log: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary)
	if !res.Reproduced || res.Culprit != "nvme" || res.Method != bisect.Device || len(res.Names) != 0 {
		t.Fatalf("culprit %q by %q (%v), reproduced %v", res.Culprit, res.Method, res.Names, res.Reproduced)
	}
	var trace []string
	for _, a := range res.Attempts {
		trace = append(trace, strings.Join(a.Removed, "+")+"="+string(a.Verdict))
		if len(a.Names) > 0 {
			t.Errorf("the device method typed skips: %s", a)
		}
	}
	if want := []string{"=HANG", "hda+nvme+e1000=PASS", "hda=HANG", "nvme=PASS"}; !slices.Equal(trace, want) {
		t.Errorf("boots %v, want %v", trace, want)
	}
	// The guest really ran without the device: its init found no NVMe controller.
	last := res.Attempts[len(res.Attempts)-1]
	tr, err := os.ReadFile(filepath.Join(last.Dir, job.Transcript))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tr), "FX: driver nvme absent") {
		t.Errorf("the last boot's transcript does not show a VM without NVMe")
	}
}

// A plain boot of the menu disk gets through the menu by the stand-in profile's response
// (Enter at "fx stand-in"), as a Redox boot gets through its bootloader menu.
func TestLiveMenuDiskBootsWithTheProfileResponse(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	m, j := standin.Job(t, standin.Spec{Image: standin.X86UEFIMenu, Options: map[string]any{"disk_bus": "virtio"}})
	b := standin.Boot(t, m, j, job.Options{})
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("boot: %s", b)
	}
}
