package job_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/screen"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// These tests boot the stand-in with a VGA display and look at its screen: the BIOS GRUB
// disk whose menu is on the screen only and waits for a key, and the "desktop" variant
// whose last stage is text written only to the VGA console. They need tesseract.

func requireOCR(t testing.TB) {
	t.Helper()
	if err := (&screen.OCR{}).Available(); err != nil {
		if os.Getenv("REDOX_HWTEST_REQUIRE_FIXTURES") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// screenSilence is longer than the other live tests' window: tesseract shares the machine's
// two cores with the guest while the screen is read, and the BIOS disk prints nothing on the
// serial line until the kernel (≈ 20 s under load).
const screenSilence = 6 * time.Second

// screenMatrix is one job: image (a YAML flow mapping body) on a BIOS QEMU host with VGA.
func screenMatrix(t testing.TB, image string) (*matrix.Matrix, matrix.Job) {
	t.Helper()
	y := fmt.Sprintf(`
settings: {silence: %s, boot_timeout: 120s}
images:
  - {name: standin, arch: x86_64, firmware: bios, profile: standin, %s}
hosts:
  - {name: vm, kind: qemu, arch: x86_64, firmware: bios, machine: pc, memory: 512M, accel: tcg,
     time_scale: %d, devices: [vga]}
suites:
  - {name: boot}
`, screenSilence, image, scale)
	return parse(t, y)
}

func bootScreen(t *testing.T, image, args string) (*job.Booted, []record.Check, *record.Record, string) {
	t.Helper()
	requireOCR(t)
	m, j := screenMatrix(t, image)
	run := t.TempDir()
	b := job.Boot(context.Background(), m, j, job.Options{RunDir: run, BootArgs: args})
	checks := b.BootChecks()
	b.Close()
	rec, err := b.WriteRecord(run, checks)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s; screens %+v; note %q", b, rec.Screens, rec.ScreenNote)
	return b, checks, rec, b.Dir
}

// checkCaptures: every capture's file exists and is a PNG, the artifacts list each stored
// file once, and no stored file repeats the one stored before it (identical consecutive
// screens are stored once).
func checkCaptures(t *testing.T, rec *record.Record, dir string) {
	t.Helper()
	if len(rec.Screens) == 0 {
		t.Fatalf("no screen captures (note %q)", rec.ScreenNote)
	}
	stored := map[string]bool{}
	var prev []byte
	for _, c := range rec.Screens {
		data, err := os.ReadFile(filepath.Join(dir, c.File))
		if err != nil || !bytes.HasPrefix(data, []byte("\x89PNG")) {
			t.Fatalf("capture %+v: %v", c, err)
		}
		if !c.Same {
			if prev != nil && bytes.Equal(prev, data) {
				t.Errorf("capture %s stored again although the screen did not change", c.File)
			}
			stored[c.File] = true
			prev = data
		}
	}
	n := 0
	for k, v := range rec.Artifacts {
		if strings.HasPrefix(k, "screen:") {
			n++
			if !stored[v] {
				t.Errorf("artifact %s = %s is not a stored capture", k, v)
			}
		}
	}
	if n != len(stored) {
		t.Errorf("%d screen artifacts for %d stored captures", n, len(stored))
	}
}

func TestGrubMenuOnScreenIsAnsweredByKeyAndBootReachesShell(t *testing.T) {
	fx := fixtures.Require(t)
	b, checks, rec, dir := bootScreen(t, "variant: standin, path: "+fx+"/disk-bios-x86_64-grub.img", "")
	times, _ := os.ReadFile(filepath.Join(dir, job.Transcript+".times"))
	var notes []string
	for _, l := range strings.Split(string(times), "\n") {
		if strings.Contains(l, "screen") {
			notes = append(notes, l)
		}
	}
	t.Logf("screen notes:\n%s", strings.Join(notes, "\n"))
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("want PASS through the GRUB menu, got %s: %s", b.Outcome.Verdict, b.Outcome.Reason)
	}
	if c := check(t, checks, "boot/bootloader"); c.Verdict != record.Pass {
		t.Errorf("boot/bootloader (the menu, seen only on the screen) = %s %s", c.Verdict, c.Message)
	}
	tr, _ := os.ReadFile(filepath.Join(dir, job.Transcript+".times"))
	if !strings.Contains(string(tr), "pressing [ret]") {
		t.Errorf("the transcript notes do not show the Enter key pressed at the menu")
	}
	checkCaptures(t, rec, dir)
	if rec.Screens[0].Why != "stage bootloader" {
		t.Errorf("first capture %+v, want the menu at stage bootloader", rec.Screens[0])
	}
}

func TestScreenOnlyDesktopStagePasses(t *testing.T) {
	fx := fixtures.Require(t)
	img := fmt.Sprintf(`variant: desktop, kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: "console=ttyS0 panic=-1"`, fx, fx)
	b, checks, rec, dir := bootScreen(t, img, "")
	if b.Outcome.Verdict != record.Pass || !strings.Contains(b.Outcome.Reason, "desktop") {
		t.Fatalf("want PASS at the desktop, got %s: %s", b.Outcome.Verdict, b.Outcome.Reason)
	}
	if c := check(t, checks, "boot/desktop"); c.Verdict != record.Pass {
		t.Errorf("boot/desktop = %s %s", c.Verdict, c.Message)
	}
	if c := check(t, checks, "boot/login"); c.Verdict != record.Pass { // the stand-in's login stage is its shell
		t.Errorf("boot/login = %s %s", c.Verdict, c.Message)
	}
	checkCaptures(t, rec, dir)
}

func TestScreenOnlyDesktopStageMissingIsHangWithLastScreen(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	fx := fixtures.Require(t)
	img := fmt.Sprintf(`variant: desktop, kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: "console=ttyS0 panic=-1"`, fx, fx)
	b, checks, rec, dir := bootScreen(t, img, "fx.nodesktop=1")
	o := b.Outcome
	if o.Verdict != record.Hang || o.Analysis.LastStage != "shell" {
		t.Fatalf("want HANG after stage shell, got %s: %s (stage %q)", o.Verdict, o.Reason, o.Analysis.LastStage)
	}
	if c := check(t, checks, "boot/desktop"); c.Verdict != record.Hang {
		t.Errorf("boot/desktop = %s %s", c.Verdict, c.Message)
	}
	checkCaptures(t, rec, dir)
	last := rec.Screens[len(rec.Screens)-1]
	var hang *record.ScreenCapture
	for i := range rec.Screens {
		if rec.Screens[i].Why == "HANG" {
			hang = &rec.Screens[i]
		}
	}
	if hang == nil || rec.LastScreen() != last.File {
		t.Fatalf("no capture at the HANG verdict: %+v", rec.Screens)
	}
}
