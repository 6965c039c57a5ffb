package rfb

import (
	"bufio"
	"bytes"
	"image"
	"io"
	"testing"
)

func newReader(b []byte) *bufio.Reader { return bufio.NewReaderSize(bytes.NewReader(b), 64<<10) }

// applyAll decodes every FramebufferUpdate in the client's input.
func applyAll(t testing.TB, c *Client) {
	t.Helper()
	for {
		typ, err := c.r.ReadByte()
		if err == io.EOF {
			return
		}
		if err != nil || typ != 0 {
			t.Fatalf("message type %d: %v", typ, err)
		}
		if _, err := c.update(); err != nil {
			t.Fatal(err)
		}
	}
}

func samePixels(t *testing.T, what string, got *image.RGBA, want *image.RGBA, r image.Rectangle, tol int) {
	t.Helper()
	bad := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			g, w := got.Pix[got.PixOffset(x, y):][:4], want.Pix[want.PixOffset(x, y):][:4]
			for i := 0; i < 3; i++ {
				if d := int(g[i]) - int(w[i]); d > tol || d < -tol {
					bad++
					if bad < 4 {
						t.Errorf("%s: pixel %d,%d = %v, want %v", what, x, y, g, w)
					}
				}
			}
			if g[3] != 255 {
				t.Fatalf("%s: pixel %d,%d not opaque", what, x, y)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%s: %d components off", what, bad)
	}
}

// TestEncodings decodes each encoding and filter against the picture it was made from: Raw,
// CopyRect (overlapping, both directions), Tight fill, basic copy/palette (2 and 5 colours)/
// gradient through zlib streams that persist across rectangles (and a short rectangle sent
// without zlib), JPEG (within JPEG's error), and a DesktopSize change in the middle.
func TestEncodings(t *testing.T) {
	const w, h = 64, 48
	src := testImage(w, h)
	var e testEncoder
	full := image.Rect(0, 0, w, h)
	e.update(1)
	e.raw(src, full)
	want := image.NewRGBA(full)
	copy(want.Pix, src.Pix)

	// CopyRect down-right and up-left over itself.
	e.update(2)
	e.copyRect(image.Rect(10, 10, 40, 30), image.Pt(5, 6))
	e.copyRect(image.Rect(0, 0, 20, 20), image.Pt(3, 2))
	move := func(dst image.Rectangle, sp image.Point) {
		tmp := image.NewRGBA(full)
		copy(tmp.Pix, want.Pix)
		for y := 0; y < dst.Dy(); y++ {
			for x := 0; x < dst.Dx(); x++ {
				copy(want.Pix[want.PixOffset(dst.Min.X+x, dst.Min.Y+y):][:4], tmp.Pix[tmp.PixOffset(sp.X+x, sp.Y+y):][:4])
			}
		}
	}
	move(image.Rect(10, 10, 40, 30), image.Pt(5, 6))
	move(image.Rect(0, 0, 20, 20), image.Pt(3, 2))
	c := clientFor(e.buf.Bytes(), w, h)
	applyAll(t, c)
	samePixels(t, "raw+copyrect", c.fb, want, full, 0)

	// Tight.
	e = testEncoder{}
	setRect := func(r image.Rectangle, f func(x, y int) [3]byte) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				p := f(x, y)
				copy(want.Pix[want.PixOffset(x, y):], []byte{p[0], p[1], p[2], 255})
			}
		}
	}
	e.update(8)
	fillR := image.Rect(0, 0, 16, 8)
	e.tightFill(fillR, [3]byte{1, 2, 3})
	setRect(fillR, func(x, y int) [3]byte { return [3]byte{1, 2, 3} })
	// copy filter, twice through stream 0 (the stream carries on between rectangles)
	for _, r := range []image.Rectangle{image.Rect(16, 0, 48, 16), image.Rect(0, 16, 30, 30)} {
		var data []byte
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				data = append(data, byte(x*3), byte(y*5), byte(x+y))
			}
		}
		e.tightBasic(r, 0, -1, nil, data)
		setRect(r, func(x, y int) [3]byte { return [3]byte{byte(x * 3), byte(y * 5), byte(x + y)} })
	}
	// 2-colour palette, 1 bit a pixel, rows padded to a byte (width 13)
	monoR := image.Rect(48, 0, 61, 10)
	pal2 := [][3]byte{{10, 20, 30}, {200, 100, 50}}
	stride := (monoR.Dx() + 7) / 8
	mono := make([]byte, stride*monoR.Dy())
	for y := 0; y < monoR.Dy(); y++ {
		for x := 0; x < monoR.Dx(); x++ {
			if (x+y)%3 == 0 {
				mono[y*stride+x/8] |= 0x80 >> (x % 8)
			}
		}
	}
	e.tightBasic(monoR, 1, filterPalette, pal2, mono)
	setRect(monoR, func(x, y int) [3]byte { return pal2[b2i((x-48+y)%3 == 0)] })
	// 5-colour palette, a byte a pixel
	palR := image.Rect(30, 16, 64, 30)
	pal5 := [][3]byte{{1, 1, 1}, {50, 0, 0}, {0, 60, 0}, {0, 0, 70}, {255, 255, 255}}
	var idx []byte
	for y := palR.Min.Y; y < palR.Max.Y; y++ {
		for x := palR.Min.X; x < palR.Max.X; x++ {
			idx = append(idx, byte((x*y)%5))
		}
	}
	e.tightBasic(palR, 2, filterPalette, pal5, idx)
	setRect(palR, func(x, y int) [3]byte { return pal5[(x*y)%5] })
	// gradient: the data is each component minus its prediction
	gradR := image.Rect(0, 30, 40, 48)
	gw, gh := gradR.Dx(), gradR.Dy()
	val := func(x, y, c int) int { return (x*7 + y*11 + c*40) % 256 }
	var grad []byte
	for y := 0; y < gh; y++ {
		for x := 0; x < gw; x++ {
			for c := 0; c < 3; c++ {
				var l, u, ul int
				if x > 0 {
					l = val(x-1, y, c)
				}
				if y > 0 {
					u = val(x, y-1, c)
					if x > 0 {
						ul = val(x-1, y-1, c)
					}
				}
				p := min(max(l+u-ul, 0), 255)
				grad = append(grad, byte(val(x, y, c)-p))
			}
		}
	}
	e.tightBasic(gradR, 3, filterGradient, nil, grad)
	setRect(gradR, func(x, y int) [3]byte {
		return [3]byte{byte(val(x, y-30, 0)), byte(val(x, y-30, 1)), byte(val(x, y-30, 2))}
	})
	// a rectangle shorter than 12 bytes of data goes without zlib
	tiny := image.Rect(40, 30, 43, 31)
	e.tightBasic(tiny, 0, -1, nil, []byte{9, 8, 7, 6, 5, 4, 3, 2, 1})
	setRect(tiny, func(x, y int) [3]byte { k := (x - 40) * 3; return [3]byte{byte(9 - k), byte(8 - k), byte(7 - k)} })
	// JPEG
	jr := image.Rect(40, 32, 64, 48)
	e.tightJPEG(src, jr, 95)
	setRect(jr, func(x, y int) [3]byte {
		o := src.PixOffset(x, y)
		return [3]byte{src.Pix[o], src.Pix[o+1], src.Pix[o+2]}
	})
	c.r = newReader(e.buf.Bytes())
	applyAll(t, c)
	samePixels(t, "tight lossless", c.fb, want, image.Rect(0, 0, 64, 32), 0)
	samePixels(t, "tight gradient", c.fb, want, gradR, 0)
	samePixels(t, "tight jpeg", c.fb, want, jr, 24)
	st := c.Stats()
	if st.Rects["tight-fill"] != 1 || st.Rects["tight-basic"] != 6 || st.Rects["tight-jpeg"] != 1 || st.Rects["raw"] != 1 || st.Rects["copyrect"] != 2 {
		t.Errorf("counts %v", st.Rects)
	}

	// DesktopSize, then the new screen's content in the same update.
	e = testEncoder{}
	e.update(2)
	e.desktopSize(32, 16)
	e.tightFill(image.Rect(0, 0, 32, 16), [3]byte{7, 7, 7})
	c.r = newReader(e.buf.Bytes())
	applyAll(t, c)
	if st := c.Stats(); st.Size != image.Pt(32, 16) || st.Resizes != 1 || c.fb.Pix[0] != 7 {
		t.Fatalf("after DesktopSize: %+v", st)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestBadInput: a broken or hostile server gives an error, never a panic or an allocation
// beyond the caps.
func TestBadInput(t *testing.T) {
	mk := func(f func(e *testEncoder)) []byte {
		var e testEncoder
		f(&e)
		return e.buf.Bytes()
	}
	for name, b := range map[string][]byte{
		"rect outside": mk(func(e *testEncoder) { e.update(1); e.tightFill(image.Rect(0, 0, 100, 10), [3]byte{}) }),
		"copy source outside": mk(func(e *testEncoder) {
			e.update(1)
			e.copyRect(image.Rect(0, 0, 4, 4), image.Pt(30, 30))
		}),
		"huge desktop":     mk(func(e *testEncoder) { e.update(1); e.desktopSize(60000, 60000) }),
		"unknown encoding": mk(func(e *testEncoder) { e.update(1); e.rect(image.Rect(0, 0, 1, 1), 16) }),
		"png":              mk(func(e *testEncoder) { e.update(1); e.rect(image.Rect(0, 0, 1, 1), encTight); e.buf.WriteByte(0xA0) }),
		"bad filter": mk(func(e *testEncoder) {
			e.update(1)
			e.rect(image.Rect(0, 0, 1, 1), encTight)
			e.buf.Write([]byte{0x40, 7})
		}),
		"jpeg size": mk(func(e *testEncoder) {
			e.update(1)
			im := testImage(8, 8)
			e.rect(image.Rect(0, 0, 4, 4), encTight)
			e.buf.WriteByte(tightJPEG << 4)
			var j bytes.Buffer
			jpegEncode(&j, im)
			e.compact(j.Len())
			e.buf.Write(j.Bytes())
		}),
		"palette index": mk(func(e *testEncoder) {
			e.update(1)
			e.tightBasic(image.Rect(0, 0, 2, 2), 0, filterPalette, [][3]byte{{0, 0, 0}, {1, 1, 1}, {2, 2, 2}}, []byte{0, 1, 2, 9})
		}),
		"truncated": mk(func(e *testEncoder) {
			e.update(1)
			e.raw(testImage(16, 16), image.Rect(0, 0, 16, 16))
			e.buf.Truncate(e.buf.Len() - 5)
		}),
		"zlib garbage": mk(func(e *testEncoder) {
			e.update(1)
			e.rect(image.Rect(0, 0, 8, 8), encTight)
			e.buf.WriteByte(0x00)
			e.compact(20)
			e.buf.Write(bytes.Repeat([]byte{0xff}, 20))
		}),
	} {
		c := clientFor(b, 16, 16)
		c.r.ReadByte()
		if _, err := c.update(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func TestCompactLen(t *testing.T) {
	for _, n := range []int{0, 1, 127, 128, 16383, 16384, maxCompact} {
		var e testEncoder
		e.compact(n)
		got, err := compactLen(bytes.NewReader(e.buf.Bytes()))
		if err != nil || got != n {
			t.Errorf("%d: got %d, %v", n, got, err)
		}
	}
}

func TestVNCAuth(t *testing.T) {
	// The response is DES-ECB of the challenge under the password with each key byte's bits
	// reversed: checked by decrypting with the same reversed key.
	ch := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	a, err := vncAuth("password", ch)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := vncAuth("password-longer-than-8", ch)
	if a != b {
		t.Error("only the first 8 bytes of the password count")
	}
	if c, _ := vncAuth("passwore", ch); c == a {
		t.Error("different passwords, same response")
	}
}

func TestChordSyms(t *testing.T) {
	for chord, want := range map[string][]uint32{
		"ret": {0xff0d}, "a": {'a'}, "shift-a": {0xffe1, 'A'}, "shift-1": {0xffe1, '!'},
		"ctrl-alt-delete": {0xffe3, 0xffe9, 0xffff}, "f12": {0xffc9}, "shift-minus": {0xffe1, '_'},
	} {
		got, err := chordSyms(chord)
		if err != nil || len(got) != len(want) {
			t.Errorf("%s: %v %v", chord, got, err)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %x, want %x", chord, got, want)
			}
		}
	}
	for _, bad := range []string{"", "a--b", "nosuchkey", "f13"} {
		if _, err := chordSyms(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
