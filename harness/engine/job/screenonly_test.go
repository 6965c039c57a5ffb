package job_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Screen-only boots: the stand-in on a QEMU host with no serial device at all
// (options.console: screen), its console on the VGA screen (console=tty0), the boot judged
// from the text OCR reads off the screen; the screen through QMP or through QEMU's VNC
// server and the RFB client (options.screen: vnc).

// screenOnlyMatrix is one job: the stand-in with its console on the screen, on a QEMU host
// with no serial device whose screen comes from screenFrom (qmp or vnc).
func screenOnlyMatrix(t testing.TB, screenFrom string) (*matrix.Matrix, matrix.Job) {
	t.Helper()
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
	return parse(t, y)
}

func bootScreenOnly(t *testing.T, screenFrom, args string) (*job.Booted, []record.Check, *record.Record) {
	t.Helper()
	requireOCR(t)
	m, j := screenOnlyMatrix(t, screenFrom)
	b, checks, rec := bootAndLog(t, m, j, args)
	if !b.ScreenOnly || !strings.Contains(rec.ScreenNote, "no serial console") {
		t.Errorf("the record does not say the boot was judged from the screen: %q", rec.ScreenNote)
	}
	return b, checks, rec
}

func TestScreenOnlyBootReachesShell(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
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
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
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

// BenchmarkScreenOnly: the stand-in booted to its shell judged from the screen alone (no
// serial device; the screen through QMP, OCR at every change) vs the same kernel and initrd
// judged from the serial line, one after the other in the same run (alternating which goes
// first). Goal: screen-only <= 1.3x serial. Metrics: seconds to the verdict each, the ratio,
// and OCR's milliseconds per capture read (goal <= 500).
func BenchmarkScreenOnly(b *testing.B) {
	requireOCR(b)
	fx := fixtures.Require(b)
	serialImg := fmt.Sprintf(`variant: standin, kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: "console=ttyS0 panic=-1"`, fx, fx)
	var scr, ser, ocrTime time.Duration
	var ocrs, cells int
	boot := func(screenOnly bool) time.Duration {
		var m *matrix.Matrix
		var j matrix.Job
		if screenOnly {
			m, j = screenOnlyMatrix(b, "qmp")
		} else {
			m, j = screenMatrix(b, serialImg)
		}
		start := time.Now()
		bt := job.Boot(context.Background(), m, j, job.Options{RunDir: b.TempDir(), NoScreen: !screenOnly})
		took := bt.Outcome.Reached.Sub(start)
		ok := bt.Outcome.Verdict == record.Pass
		if screenOnly && bt.Screen != nil {
			st := bt.Screen.Stats()
			ocrs += st.OCRRuns
			cells += st.OCRCells
			ocrTime += st.OCRTime
		}
		bt.Close()
		if !ok {
			b.Fatalf("boot (screen-only: %v): %s", screenOnly, bt)
		}
		return took
	}
	for i := 0; i < b.N; i++ {
		if i%2 == 0 {
			ser += boot(false)
			scr += boot(true)
		} else {
			scr += boot(true)
			ser += boot(false)
		}
	}
	n := float64(b.N)
	b.ReportMetric(scr.Seconds()/n, "screen-only-s/boot")
	b.ReportMetric(ser.Seconds()/n, "serial-s/boot")
	b.ReportMetric(float64(scr)/float64(ser), "ratio")
	if ocrs > 0 {
		b.ReportMetric(float64(ocrTime.Milliseconds())/float64(ocrs), "ocr-ms/capture")
		b.ReportMetric(float64(ocrs)/n, "ocr/boot")
		b.ReportMetric(100*float64(cells)/float64(ocrs), "cells-%")
	}
}

// bootAndLog boots the job, writes its record and logs the transcript (the text read off
// the screen) and the host log.
func bootAndLog(t *testing.T, m *matrix.Matrix, j matrix.Job, args string) (*job.Booted, []record.Check, *record.Record) {
	t.Helper()
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
	return b, checks, rec
}
