package job_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
)

// BenchmarkBootToShell compares boot-to-shell of the x86_64 stand-in through the whole
// harness (QEMU host, console with transcript, stage machine) with the same QEMU command
// read by a bare reader (dial the serial socket, read until the marker). The two are
// interleaved in one run, so machine noise hits both; the figure that matters is the ratio.
func BenchmarkBootToShell(b *testing.B) {
	var harness, bare time.Duration
	for i := 0; i < b.N; i++ {
		harness += bootHarness(b)
		bare += bootBare(b)
	}
	b.ReportMetric(harness.Seconds()/float64(b.N), "harness-s/boot")
	b.ReportMetric(bare.Seconds()/float64(b.N), "bare-s/boot")
	b.ReportMetric(float64(harness)/float64(bare), "ratio")
}

func bootHarness(b *testing.B) time.Duration {
	m, j := standinMatrix(b, "120s")
	start := time.Now()
	bt := job.Boot(context.Background(), m, j, job.Options{RunDir: b.TempDir()})
	// Boot-to-shell is when the harness saw the shell, not when it stopped reading after
	// it (it lingers a moment for daemons that crash right at login).
	took := bt.Outcome.Reached.Sub(start)
	ok := bt.Outcome.Verdict == "PASS"
	bt.Close()
	if !ok {
		b.Fatalf("harness boot: %s", bt)
	}
	return took
}

func bootBare(b *testing.B) time.Duration {
	_, j := standinMatrix(b, "120s")
	took, _ := standin.BareBoot(b, j)
	return took
}

// BenchmarkScreenOverhead is the screen goal: boot-to-shell of the x86_64 stand-in (direct
// kernel, SeaBIOS, with a VGA display) with the screen work on — a capture at every stage
// and at the end, the screen looked at every second while the stand-in's bootloader stage
// (GRUB's menu, by needle and OCR) is awaited, i.e. from power-on to the kernel — against
// the same boot with it off (Options.NoScreen), interleaved in one run.
func BenchmarkScreenOverhead(b *testing.B) {
	requireOCR(b)
	fx := fixtures.Require(b)
	img := fmt.Sprintf(`variant: standin, kernel: %s/vmlinuz-x86_64, initrd: %s/initrd-x86_64.cpio.gz, cmdline: "console=ttyS0 panic=-1"`, fx, fx)
	var on, off time.Duration
	var dumps, ocrs int
	var ocrTime time.Duration
	boot := func(noScreen bool) time.Duration {
		m, j := screenMatrix(b, img)
		start := time.Now()
		bt := job.Boot(context.Background(), m, j, job.Options{RunDir: b.TempDir(), NoScreen: noScreen})
		took := bt.Outcome.Reached.Sub(start)
		ok := bt.Outcome.Verdict == "PASS"
		if bt.Screen != nil {
			st := bt.Screen.Stats()
			dumps += st.Dumps
			ocrs += st.OCRRuns
			ocrTime += st.OCRTime
		}
		bt.Close()
		if !ok {
			b.Fatalf("boot (screen off: %v): %s", noScreen, bt)
		}
		return took
	}
	for i := 0; i < b.N; i++ {
		// Alternate which goes first, so a trend in the machine's load hits both alike.
		if i%2 == 0 {
			off += boot(true)
			on += boot(false)
		} else {
			on += boot(false)
			off += boot(true)
		}
	}
	n := float64(b.N)
	b.ReportMetric(on.Seconds()/n, "screen-on-s/boot")
	b.ReportMetric(off.Seconds()/n, "screen-off-s/boot")
	b.ReportMetric(float64(on)/float64(off), "ratio")
	b.ReportMetric(float64(dumps)/n, "dumps/boot")
	b.ReportMetric(float64(ocrs)/n, "ocr/boot")
	if ocrs > 0 {
		b.ReportMetric(float64(ocrTime.Milliseconds())/float64(ocrs), "ocr-ms/run")
	}
}
