package job_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Screen-only boots: the stand-in on a QEMU host with no serial device at all
// (options.console: screen), its console on the VGA screen (console=tty0), the boot judged
// from the text OCR reads off the screen; the screen through QMP or through QEMU's VNC
// server and the RFB client (options.screen: vnc).

func bootScreenOnly(t *testing.T, screenFrom, args string) (*job.Booted, []record.Check, *record.Record) {
	t.Helper()
	requireOCR(t)
	fx := fixtures.Require(t)
	y := fmt.Sprintf(`
settings: {silence: %s, boot_timeout: 120s}
images:
  - {name: standin, arch: x86_64, firmware: bios, profile: standin, variant: standin,
     kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: "console=tty0 panic=-1"}
hosts:
  - {name: laptop, kind: qemu, arch: x86_64, firmware: bios, machine: pc, memory: 512M, accel: tcg,
     time_scale: %d, devices: [vga], options: {console: screen, screen: %s}}
suites:
  - {name: boot}
`, screenSilence, fx, fx, scale, screenFrom)
	m, j := parse(t, y)
	run := t.TempDir()
	b := job.Boot(context.Background(), m, j, job.Options{RunDir: run, BootArgs: args})
	checks := b.BootChecks()
	b.Close()
	rec, err := b.WriteRecord(run, checks)
	if err != nil {
		t.Fatal(err)
	}
	tr, _ := os.ReadFile(filepath.Join(b.Dir, job.Transcript))
	hl, _ := os.ReadFile(filepath.Join(b.Dir, "host.log"))
	t.Logf("%s; screens %d; note %q\ntranscript (from the screen):\n%s\nhost log:\n%s", b, len(rec.Screens), rec.ScreenNote, tr, hl)
	if !b.ScreenOnly || !strings.Contains(rec.ScreenNote, "no serial console") {
		t.Errorf("the record does not say the boot was judged from the screen: %q", rec.ScreenNote)
	}
	return b, checks, rec
}

func TestScreenOnlyBootReachesShell(t *testing.T) {
	for _, from := range []string{"qmp", "vnc"} {
		t.Run(from, func(t *testing.T) {
			b, checks, rec := bootScreenOnly(t, from, "")
			if b.Outcome.Verdict != record.Pass {
				t.Fatalf("want PASS at the shell judged from the screen, got %s: %s", b.Outcome.Verdict, b.Outcome.Reason)
			}
			if c := check(t, checks, "boot/login"); c.Verdict != record.Pass {
				t.Errorf("boot/login = %s %s", c.Verdict, c.Message)
			}
			checkCaptures(t, rec, b.Dir)
		})
	}
}

func TestScreenOnlyStallIsHangAtTheStageShownLast(t *testing.T) {
	// fx.hang=shell: the stand-in stops before its shell stage, after the driver lines.
	b, checks, rec := bootScreenOnly(t, "qmp", "fx.hang=shell")
	o := b.Outcome
	if o.Verdict != record.Hang || o.Analysis.LastStage != "drivers" {
		t.Fatalf("want HANG at stage drivers, got %s: %s (stage %q)", o.Verdict, o.Reason, o.Analysis.LastStage)
	}
	if c := check(t, checks, "boot/login"); c.Verdict != record.Hang {
		t.Errorf("boot/login = %s %s", c.Verdict, c.Message)
	}
	var hang bool
	for _, s := range rec.Screens {
		hang = hang || s.Why == "HANG"
	}
	if !hang || rec.LastScreen() == "" {
		t.Fatalf("no capture at the HANG verdict: %+v", rec.Screens)
	}
}
