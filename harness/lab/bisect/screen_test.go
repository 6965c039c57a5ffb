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
	"github.com/redox-hwtest/redox-hwtest/harness/engine/screen"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/lab/bisect"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The BIOS GRUB disk: its menu and editor are on the VGA screen only and read the keyboard,
// as Redox's BIOS bootloader does. The bisection reads the screen (OCR), opens GRUB's editor
// with "e" through QMP send-key, types " fx.skip=nvme" at the end of the linux line, checks
// it on the screen and boots with Ctrl-x; nvme is named.
func TestLiveBisectionThroughTheScreenAndKeyboard(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	if err := (&screen.OCR{}).Available(); err != nil {
		t.Skip(err)
	}
	m, j := standin.Job(t, standin.Spec{Image: standin.X86BIOSGrub, Devices: []string{"vga", "nvme", "e1000"},
		// The serial line is silent while GRUB loads the kernel, and OCR shares the CPU.
		Silence: "4s"})
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
	last := res.Attempts[len(res.Attempts)-1]
	if last.Verdict != record.Pass {
		t.Fatalf("last boot: %s", last)
	}
	tr, err := os.ReadFile(filepath.Join(last.Dir, job.Transcript))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(tr), "FX: switches fx.skip=nvme fx.hang=nvme") {
		t.Errorf("the last boot's kernel command line does not carry the skip typed into GRUB's editor")
	}
}
