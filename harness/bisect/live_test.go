package bisect_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/bisect"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The stand-in's systemd-boot menu disk with a stall before its NVMe driver (fx.hang=nvme,
// passed through fw_cfg so the loader's command line stays editable): the first boot hangs,
// the bisection types " fx.skip=nvme" into systemd-boot's editor, that boot reaches the
// shell, and nvme is named.
func TestLiveBisectionNamesTheStalledDriver(t *testing.T) {
	m, j := standin.Job(t, standin.Spec{Image: standin.X86UEFIMenu, Devices: []string{"nvme", "e1000", "hda"},
		Options: map[string]any{"disk_bus": "virtio"}})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	res, err := bisect.Run(ctx, bisect.Options{Matrix: m, Job: j, RunDir: t.TempDir(), BootArgs: "fx.hang=nvme",
		Log: func(s string) { t.Log(s) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(res.Summary)
	if !res.Reproduced || res.Culprit != "nvme" || !slices.Equal(res.Names, []string{"nvme"}) {
		t.Fatalf("culprit %q (%v), reproduced %v", res.Culprit, res.Names, res.Reproduced)
	}
	first, last := res.Attempts[0], res.Attempts[len(res.Attempts)-1]
	if first.Verdict != record.Hang || first.Stalled != "nvme" || !strings.Contains(first.Reason, "after stage drivers") {
		t.Errorf("first boot: %s", first)
	}
	if !last.Reached() || !slices.Equal(last.Names, []string{"nvme"}) {
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

// A plain boot of the menu disk gets through the menu by the stand-in profile's response
// (Enter at "fx stand-in"), as a Redox boot gets through its bootloader menu.
func TestLiveMenuDiskBootsWithTheProfileResponse(t *testing.T) {
	m, j := standin.Job(t, standin.Spec{Image: standin.X86UEFIMenu, Options: map[string]any{"disk_bus": "virtio"}})
	b := standin.Boot(t, m, j, job.Options{})
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("boot: %s", b)
	}
}
