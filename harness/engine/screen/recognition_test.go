package screen

import (
	"bufio"
	"context"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// ocrCase is one capture of the fixed set (testdata/ocr/cases.txt) with the phrases that are
// on it and some that are not.
type ocrCase struct {
	file            string
	present, absent []string
	img             image.Image
}

func loadOCRSet(t testing.TB) []ocrCase {
	t.Helper()
	f, err := os.Open("testdata/ocr/cases.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []ocrCase
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		parts := strings.Split(l, "|")
		if len(parts) != 3 {
			t.Fatalf("cases.txt:%d: want <file> | <present> | <absent>", n)
		}
		c := ocrCase{file: strings.TrimSpace(parts[0]), present: phrases(parts[1]), absent: phrases(parts[2])}
		pf, err := os.Open(filepath.Join("testdata/ocr", c.file))
		if err != nil {
			t.Fatal(err)
		}
		c.img, err = png.Decode(pf)
		pf.Close()
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		out = append(out, c)
	}
	return out
}

func phrases(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ";") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func requireTesseract(t testing.TB) {
	t.Helper()
	if err := (&OCR{}).Available(); err != nil {
		if os.Getenv("REDOX_HWTEST_REQUIRE_FIXTURES") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// TestRecognitionOnFixedSet is the recognition goal: over the fixed set, the phrases on a
// screen are found in >= 95 % of cases and a phrase that is not there is never reported, by
// OCR as configured (the cell recogniser reads every capture of the set: asserted) and by
// tesseract alone (no fonts: the fallback). Both are deterministic for a given picture, so
// this is not a flaky threshold.
func TestRecognitionOnFixedSet(t *testing.T) {
	set := loadOCRSet(t)
	for _, tc := range []struct {
		name   string
		ocr    *OCR
		engine string
	}{
		{"cells", &OCR{}, EngineCells},
		{"tesseract", &OCR{Fonts: []*CellFont{}}, EngineTesseract},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.engine == EngineTesseract {
				requireTesseract(t)
			}
			found, want, falseHits := 0, 0, 0
			var total time.Duration
			for _, c := range set {
				t0 := time.Now()
				r, err := tc.ocr.Recognise(context.Background(), c.img)
				total += time.Since(t0)
				if err != nil {
					t.Fatalf("%s: %v", c.file, err)
				}
				if r.Engine != tc.engine {
					t.Errorf("%s: read by %s, want %s (cells: %+v)", c.file, r.Engine, tc.engine, r.Cells)
				}
				for _, p := range c.present {
					want++
					if HasPhrase(r.Text, p) {
						found++
					} else {
						t.Logf("%s: %q not found in %q", c.file, p, r.Text)
					}
				}
				for _, p := range c.absent {
					if HasPhrase(r.Text, p) {
						falseHits++
						t.Errorf("%s: %q reported but it is not on the screen (text %q)", c.file, p, r.Text)
					}
				}
			}
			rate := float64(found) / float64(want)
			t.Logf("recognition (%s): %d/%d phrases found (%.1f %%), %d false hits, over %d captures; %.0f ms per capture (this run)",
				tc.name, found, want, 100*rate, falseHits, len(set), float64(total.Milliseconds())/float64(len(set)))
			if rate < 0.95 {
				t.Errorf("recognition rate %.1f %% < 95 %%", 100*rate)
			}
		})
	}
}

// BenchmarkOCR reports the OCR time per capture over the fixed set and its recognition rate,
// as OCR runs in a boot (the cell recogniser, tesseract where it does not explain a screen);
// cells-% is the share of captures the recogniser answered. BenchmarkOCRTesseract is the
// baseline of the same run: tesseract alone.
func BenchmarkOCR(b *testing.B) { benchOCR(b, &OCR{}) }

// BenchmarkOCRTesseract is BenchmarkOCR with the cell recogniser off.
func BenchmarkOCRTesseract(b *testing.B) {
	requireTesseract(b)
	benchOCR(b, &OCR{Fonts: []*CellFont{}})
}

func benchOCR(b *testing.B, o *OCR) {
	set := loadOCRSet(b)
	found, want, falseHits, cells := 0, 0, 0, 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, c := range set {
			r, err := o.Recognise(context.Background(), c.img)
			if err != nil {
				b.Fatal(err)
			}
			if r.Engine == EngineCells {
				cells++
			}
			for _, p := range c.present {
				want++
				if HasPhrase(r.Text, p) {
					found++
				}
			}
			for _, p := range c.absent {
				if HasPhrase(r.Text, p) {
					falseHits++
				}
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N*len(set)), "ms/capture")
	b.ReportMetric(100*float64(found)/float64(want), "recognised-%")
	b.ReportMetric(float64(falseHits)/float64(b.N), "false-hits")
	b.ReportMetric(100*float64(cells)/float64(b.N*len(set)), "cells-%")
}
