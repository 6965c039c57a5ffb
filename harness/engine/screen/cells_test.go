package screen

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"math/rand"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

// testGlyphs are three made-up glyphs for fonts built in the tests.
var testGlyphs = [3]Glyph{
	{2: 0x18, 3: 0x3c, 4: 0x66, 5: 0x66, 6: 0x7e, 7: 0x66, 8: 0x66}, // an A
	{2: 0x7c, 3: 0x66, 4: 0x7c, 5: 0x66, 6: 0x66, 7: 0x7c},          // a B
	{2: 0x10, 3: 0x38, 4: 0x7c, 5: 0xfe, 6: 0x38, 7: 0x38, 8: 0x38}, // an arrow
}

// psf1 builds a PSF1 font of 256 glyphs, testGlyphs at 'A', 'B' and 0x18, with a Unicode
// table mapping them to A (and Greek Alpha, which must lose to A), B and U+2191.
func psf1() []byte {
	var b bytes.Buffer
	b.Write([]byte{0x36, 0x04, 0x02, 16})
	font := make([]byte, 256*16)
	copy(font['A'*16:], testGlyphs[0][:])
	copy(font['B'*16:], testGlyphs[1][:])
	copy(font[0x18*16:], testGlyphs[2][:])
	b.Write(font)
	for i := 0; i < 256; i++ {
		var cps []uint16
		switch i {
		case 'A':
			cps = []uint16{0x391, 'A'}
		case 'B':
			cps = []uint16{'B', 0xFFFE, 'B', 0x301} // a sequence: not a character of its own
		case 0x18:
			cps = []uint16{0x2191}
		}
		for _, c := range append(cps, 0xFFFF) {
			binary.Write(&b, binary.LittleEndian, c)
		}
	}
	return b.Bytes()
}

// psf2 builds a PSF2 font of 3 glyphs (testGlyphs) with a UTF-8 Unicode table.
func psf2() []byte {
	var b bytes.Buffer
	for _, v := range []uint32{0x864ab572, 0, 32, 1, 3, 16, 16, 8} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	for _, g := range testGlyphs {
		b.Write(g[:])
	}
	for _, s := range []string{"A", "B", "↑"} {
		b.WriteString(s)
		b.WriteByte(0xFF)
	}
	return b.Bytes()
}

func gz(data []byte) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write(data)
	w.Close()
	return b.Bytes()
}

func TestParsePSF(t *testing.T) {
	for name, data := range map[string][]byte{
		"psf1": psf1(), "psf1.gz": gz(psf1()), "psf2": psf2(), "psf2.gz": gz(psf2()),
	} {
		f, err := ParsePSF(name, data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if f.Len() != 3 {
			t.Errorf("%s: %d glyphs in the table, want 3", name, f.Len())
		}
		for i, want := range []rune{'A', 'B', '↑'} {
			if r, exact, ok := f.lookup(testGlyphs[i]); r != want || !exact || !ok {
				t.Errorf("%s: glyph %d read as %q (exact %v, ok %v), want %q", name, i, r, exact, ok, want)
			}
		}
		// One pixel off is the nearest glyph; far off is nothing.
		g := testGlyphs[1]
		g[12] = 0x01
		if r, exact, ok := f.lookup(g); r != 'B' || exact || !ok {
			t.Errorf("%s: B with a stray pixel read as %q (exact %v, ok %v)", name, r, exact, ok)
		}
		if _, _, ok := f.lookup(Glyph{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}); ok {
			t.Errorf("%s: half a block read as a glyph", name)
		}
	}
	// Without a Unicode table, glyphs are code page 437: printable ASCII only.
	noTab := psf1()
	noTab[2] = 0
	f, err := ParsePSF("notab", noTab[:4+256*16])
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != 2 {
		t.Errorf("no table: %d glyphs, want 2 (A and B; 0x18 is not ASCII)", f.Len())
	}

	for name, data := range map[string][]byte{
		"empty":     nil,
		"not psf":   []byte("hello, world, this is no font at all"),
		"truncated": psf1()[:1000],
		"8x8":       append([]byte{0x36, 0x04, 0x00, 8}, make([]byte, 256*8)...),
		"bad gzip":  {0x1f, 0x8b, 0, 0},
		"psf1 table": func() []byte {
			d := psf1()
			return d[:4+256*16+1]
		}(),
	} {
		if _, err := ParsePSF(name, data); err == nil {
			t.Errorf("%s: parsed", name)
		} else if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: error %q does not name the font", name, err)
		}
	}
	if _, err := LoadPSF("testdata/no-such-font.psf"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestCellsOnFixedSet: the captures of the fixed set are VGA text (SeaBIOS, GRUB, Linux's
// console) and QEMU's own message: SeaBIOS's font explains every ink cell of each (the only
// cells not matched exactly are the text cursor over a character or a blank).
func TestCellsOnFixedSet(t *testing.T) {
	font := SeaBIOSFont()
	for _, c := range loadOCRSet(t) {
		r := SplitCells(c.img).Read(font)
		if r.Unexplained != 0 || r.Near > 1 || r.InkCells == 0 {
			t.Errorf("%s: %d ink cells, %d exact, %d near, %d unexplained", c.file, r.InkCells, r.Exact, r.Near, r.Unexplained)
		}
		for _, l := range strings.Split(r.Text, "\n") {
			if strings.TrimRight(l, " ") != l {
				t.Errorf("%s: trailing spaces in %q", c.file, l)
			}
		}
	}
}

// TestVGAFontsAgree checks the code page 437 table against the Unicode table of Debian's
// console font (console-data) and says where SeaBIOS's glyphs differ from Linux's.
func TestVGAFontsAgree(t *testing.T) {
	var linux *CellFont
	for _, p := range VGAFontPaths {
		if f, err := LoadPSF(p); err == nil {
			linux = f
			break
		}
	}
	if linux == nil {
		if os.Getenv("REDOX_HWTEST_REQUIRE_FIXTURES") == "1" {
			t.Fatal("no console font (Debian: console-data)")
		}
		t.Skip("no console font (Debian: console-data)")
	}
	// The console font lists two characters for these glyphs; the lower code point is kept.
	aliases := map[rune]rune{'◄': '◀', '►': '▶', '■': '∎'}
	sea := SeaBIOSFont()
	differ := map[rune]bool{}
	for g, r := range sea.exact {
		lr, ok := linux.exact[g]
		switch {
		case !ok:
			differ[r] = true
		case lr != r && !(aliases[r] == lr):
			t.Errorf("glyph drawn as %q by SeaBIOS (code page 437 table) is %q in the console font", r, lr)
		}
	}
	// '-', '0', '@' and the top of the integral sign (0xF4) are drawn differently.
	want := map[rune]bool{'-': true, '0': true, '@': true, '⌠': true}
	if len(differ) != len(want) {
		t.Errorf("glyphs that differ: %q, want %q", keys(differ), keys(want))
	}
	for r := range want {
		if !differ[r] {
			t.Errorf("%q is the same in both", r)
		}
	}
}

func keys(m map[rune]bool) string {
	var s []rune
	for r := range m {
		s = append(s, r)
	}
	return string(s)
}

// renderRedox draws lines of text the way Redox's kernel graphical debug display does
// (redox-os/kernel src/devices/graphical_debug/debug.rs `char`: cell (x*8, y*16), pixel
// (col, row) set to the colour when `FONT[16*char + row] >> (7 - col) & 1`), on a
// background; fbcond and fbbootlogd (redox-os/base 9dd6901d drivers/graphics/console-draw,
// `TextScreen::char` with the default 8x16 font) draw the same way.
func renderRedox(img *image.RGBA, lines []string, fg, bg color.RGBA, firstRow int) {
	for y := firstRow * 16; y < (firstRow+len(lines))*16; y++ {
		for x := 0; x < img.Bounds().Dx(); x++ {
			img.SetRGBA(x, y, bg)
		}
	}
	for ly, l := range lines {
		for lx, ch := range []byte(l) {
			for row := 0; row < 16; row++ {
				rowData := redoxFont[16*int(ch)+row]
				for col := 0; col < 8; col++ {
					if (rowData>>(7-col))&1 == 1 {
						img.SetRGBA(lx*8+col, (firstRow+ly)*16+row, fg)
					}
				}
			}
		}
	}
}

// TestRedoxFontRoundTrip renders Redox's first boot lines with its font and reads them back:
// white on black as the kernel draws, and black on a light bar (the recogniser decides ink
// per cell, so an inverted line reads the same).
func TestRedoxFontRoundTrip(t *testing.T) {
	lines := []string{
		// The kernel's first log line (redox-os/kernel src/arch/x86_shared/start.rs).
		"Redox OS starting...",
		"kernel::arch::x86_shared::start:INFO -- Env: 0x0000000000000000",
		"printable ASCII: !\"#$%&'()*+,-./0123456789:;<=>?@[\\]^_`{|}~ AZaz",
	}
	img := image.NewRGBA(image.Rect(0, 0, 1024, 768))
	renderRedox(img, lines, color.RGBA{255, 255, 255, 255}, color.RGBA{0, 0, 0, 255}, 0)
	renderRedox(img, []string{"Arrow keys and enter select mode"}, color.RGBA{0, 0, 0, 255}, color.RGBA{170, 170, 170, 255}, 10)

	o := &OCR{Fonts: []*CellFont{SeaBIOSFont(), RedoxFont()}, Bin: "/nonexistent/tesseract"}
	r, err := o.Recognise(context.Background(), img)
	if err != nil {
		t.Fatalf("%v (cells: %+v)", err, r.Cells)
	}
	if r.Engine != EngineCells || !strings.HasPrefix(r.Cells.Font, "redox") {
		t.Fatalf("read by %s with %q, want the cells with Redox's font", r.Engine, r.Cells.Font)
	}
	want := strings.Join(lines, "\n") + strings.Repeat("\n", 8) + "Arrow keys and enter select mode"
	if r.Text != want {
		t.Errorf("read back\n%s\nwant\n%s", r.Text, want)
	}
	if r.Cells.Unexplained != 0 || r.Cells.Near != 0 {
		t.Errorf("cells: %+v", r.Cells)
	}
	if n := utf8.RuneCountInString(strings.Join(lines, "")); r.Cells.InkCells > n+32 {
		t.Errorf("%d ink cells for %d characters", r.Cells.InkCells, n+32)
	}
}

// TestOCRFallsBack: a screen the fonts do not explain (noise), or any screen when there are
// no fonts, goes to tesseract. The tesseract here is a path that does not exist, so the
// fallback is seen without running it (ErrNoOCR); TestRecognitionOnFixedSet/tesseract reads
// the fixed set through the real one with no fonts.
func TestOCRFallsBack(t *testing.T) {
	noise := image.NewRGBA(image.Rect(0, 0, 640, 480))
	rand.New(rand.NewSource(1)).Read(noise.Pix)
	text := loadOCRSet(t)[0].img
	for name, tc := range map[string]struct {
		o   *OCR
		img image.Image
	}{
		"noise":    {&OCR{Bin: "/nonexistent/tesseract"}, noise},
		"no fonts": {&OCR{Bin: "/nonexistent/tesseract", Fonts: []*CellFont{}}, text},
	} {
		r, err := tc.o.Recognise(context.Background(), tc.img)
		if r.Engine != EngineTesseract || !errors.Is(err, ErrNoOCR) {
			t.Errorf("%s: engine %s, err %v", name, r.Engine, err)
		}
		if name == "noise" && r.Cells.Explained() >= MinExplained {
			t.Errorf("noise explained: %+v", r.Cells)
		}
	}
	// A blank screen has nothing to read: no tesseract.
	blank := image.NewRGBA(image.Rect(0, 0, 720, 400))
	r, err := (&OCR{Bin: "/nonexistent/tesseract"}).Recognise(context.Background(), blank)
	if err != nil || r.Engine != EngineCells || r.Text != "" {
		t.Errorf("blank screen: %+v, %v", r, err)
	}
}

// TestSeaBIOSFontRoundTrip draws every glyph of SeaBIOS's font the way VGA text mode shows
// it (720x400, 9x16 cells, the 9th column a copy of the 8th for 0xC0-0xDF) and reads it back:
// the mostly-ink glyphs (▓, ♠) come out inverted and must still be read.
func TestSeaBIOSFontRoundTrip(t *testing.T) {
	font := SeaBIOSFont()
	img := image.NewRGBA(image.Rect(0, 0, 720, 400))
	for i := range img.Pix {
		img.Pix[i] = 0xff // opaque white: black text on a light screen this time
		if i%4 != 3 {
			img.Pix[i] = 0x20
		}
	}
	var want []string
	line := []rune{}
	i := 0
	for _, r := range cp437 {
		var g Glyph
		copy(g[:], seabiosFont[16*i:])
		code := i
		i++
		if g == (Glyph{}) || g == (Glyph{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}) {
			continue // blank and full cells are one colour: a space
		}
		if font.exact[g] != r {
			continue // a bitmap two characters share reads as the lower one
		}
		inv := g
		for k := range inv {
			inv[k] = ^inv[k]
		}
		if _, ok := font.exact[inv]; ok {
			// ◘ is • inverted, ▄ is ▀: ink decided per cell cannot tell them apart (no
			// letter or digit has such a twin).
			continue
		}
		cx, cy := len(line), len(want)*2
		for row := 0; row < 16; row++ {
			for col := 0; col < 9; col++ {
				bit := col < 8 && g[row]>>(7-col)&1 == 1
				if col == 8 && code >= 0xC0 && code <= 0xDF {
					bit = g[row]&1 == 1
				}
				if bit {
					img.SetRGBA(cx*9+col, cy*16+row, color.RGBA{0xaa, 0xaa, 0xaa, 0xff})
				}
			}
		}
		line = append(line, r)
		if len(line) == 80 {
			want, line = append(want, string(line)), line[:0]
		}
	}
	want = append(want, string(line))
	r := SplitCells(img).Read(font)
	got := strings.Split(r.Text, "\n")
	for k, w := range want {
		if 2*k >= len(got) || got[2*k] != strings.TrimRight(w, " ") {
			t.Errorf("line %d: read\n%q\nwant\n%q", k, got[min(2*k, len(got)-1)], w)
		}
	}
	if r.Unexplained != 0 || r.Near != 0 {
		t.Errorf("%+v", r)
	}
}
