package rfb

import (
	"bytes"
	"image"
	"image/jpeg"
	"runtime"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/heappeak"
)

// The RFB goal: a full-screen 1024x768 update decoded in <= 50 ms, Raw and Tight/JPEG, in
// bounded memory. The update is one FramebufferUpdate message with one rectangle covering
// the screen, the way a mode change or a new connection gets it; the picture has smooth
// gradients and sharp edges (testImage), JPEG at quality 80 (PiKVM's default streamer
// quality; QEMU's levels map to 30..95). Metrics: ms/update, peak-heap-MiB (the heap in use
// at most while decoding, the two framebuffers included: 2 x 3 MiB). The baselines in the
// same run: BenchmarkRFBBaselineCopy (copying the same bytes into a framebuffer) and
// BenchmarkRFBBaselineJPEG (image/jpeg decoding the same JPEG alone).

const benchW, benchH = 1024, 768

func fullUpdate(raw bool) []byte {
	im := testImage(benchW, benchH)
	var e testEncoder
	e.update(1)
	if raw {
		e.raw(im, im.Rect)
	} else {
		e.tightJPEG(im, im.Rect, 80)
	}
	return e.buf.Bytes()
}

func benchDecode(b *testing.B, msg []byte) {
	c := clientFor(nil, benchW, benchH)
	var total time.Duration
	peak := heappeak.During(func() {
		for i := 0; i < b.N; i++ {
			c.r.Reset(bytes.NewReader(msg))
			c.r.ReadByte()
			start := time.Now()
			if _, err := c.update(); err != nil {
				b.Fatal(err)
			}
			total += time.Since(start)
		}
	})
	runtime.KeepAlive(c)
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms/update")
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
	b.SetBytes(int64(len(msg)))
}

func BenchmarkRFBDecodeRaw(b *testing.B)       { benchDecode(b, fullUpdate(true)) }
func BenchmarkRFBDecodeTightJPEG(b *testing.B) { benchDecode(b, fullUpdate(false)) }

func BenchmarkRFBBaselineCopy(b *testing.B) {
	msg := fullUpdate(true)
	fb := image.NewRGBA(image.Rect(0, 0, benchW, benchH))
	start := time.Now()
	for i := 0; i < b.N; i++ {
		copy(fb.Pix, msg[16:])
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/update")
}

func BenchmarkRFBBaselineJPEG(b *testing.B) {
	var j bytes.Buffer
	jpeg.Encode(&j, testImage(benchW, benchH), &jpeg.Options{Quality: 80})
	start := time.Now()
	for i := 0; i < b.N; i++ {
		if _, err := jpeg.Decode(bytes.NewReader(j.Bytes())); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Microseconds())/1000/float64(b.N), "ms/update")
}
