package rfb

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"image"
	"image/jpeg"
)

// testEncoder writes the server's side of the messages this package decodes, for the unit
// tests and the benchmarks: rectangles built as RFC 6143 and rfbproto.rst describe them.
// QEMU's VNC server (the live tests' peer) covers what a real server sends; this covers
// what it does not send on a stand-in VM (CopyRect: QEMU emits it only for a display
// device that copies regions, which std VGA does not) and gives the benchmarks a fixed input.
type testEncoder struct {
	buf bytes.Buffer
	z   [4]*zlib.Writer
	zb  [4]bytes.Buffer
}

func (e *testEncoder) update(n int) { e.buf.Write([]byte{0, 0, byte(n >> 8), byte(n)}) }

func (e *testEncoder) rect(r image.Rectangle, enc int32) {
	binary.Write(&e.buf, binary.BigEndian, []uint16{uint16(r.Min.X), uint16(r.Min.Y), uint16(r.Dx()), uint16(r.Dy())})
	binary.Write(&e.buf, binary.BigEndian, enc)
}

func (e *testEncoder) raw(im *image.RGBA, r image.Rectangle) {
	e.rect(r, encRaw)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			o := im.PixOffset(x, y)
			e.buf.Write([]byte{im.Pix[o], im.Pix[o+1], im.Pix[o+2], 0})
		}
	}
}

func (e *testEncoder) copyRect(dst image.Rectangle, src image.Point) {
	e.rect(dst, encCopyRect)
	binary.Write(&e.buf, binary.BigEndian, []uint16{uint16(src.X), uint16(src.Y)})
}

func (e *testEncoder) desktopSize(w, h int) { e.rect(image.Rect(0, 0, w, h), encDesktopSize) }

func (e *testEncoder) compact(n int) {
	e.buf.WriteByte(byte(n & 0x7f))
	if n > 0x7f {
		e.buf.Bytes()[e.buf.Len()-1] |= 0x80
		e.buf.WriteByte(byte(n >> 7 & 0x7f))
		if n > 0x3fff {
			e.buf.Bytes()[e.buf.Len()-1] |= 0x80
			e.buf.WriteByte(byte(n >> 14))
		}
	}
}

func (e *testEncoder) tightFill(r image.Rectangle, c [3]byte) {
	e.rect(r, encTight)
	e.buf.WriteByte(tightFill << 4)
	e.buf.Write(c[:])
}

func (e *testEncoder) tightJPEG(im *image.RGBA, r image.Rectangle, quality int) {
	e.rect(r, encTight)
	e.buf.WriteByte(tightJPEG << 4)
	var j bytes.Buffer
	jpeg.Encode(&j, im.SubImage(r), &jpeg.Options{Quality: quality})
	e.compact(j.Len())
	e.buf.Write(j.Bytes())
}

// tightBasic writes filtered data through zlib stream id (sync-flushed, as servers do), or
// as it is when shorter than 12 bytes.
func (e *testEncoder) tightBasic(r image.Rectangle, stream int, filter int, palette [][3]byte, data []byte) {
	e.rect(r, encTight)
	ctl := byte(stream << 4)
	if filter >= 0 {
		ctl |= 0x40
	}
	e.buf.WriteByte(ctl)
	if filter >= 0 {
		e.buf.WriteByte(byte(filter))
	}
	if filter == filterPalette {
		e.buf.WriteByte(byte(len(palette) - 1))
		for _, c := range palette {
			e.buf.Write(c[:])
		}
	}
	if len(data) < tightMinToCompress {
		e.buf.Write(data)
		return
	}
	if e.z[stream] == nil {
		e.z[stream] = zlib.NewWriter(&e.zb[stream])
	}
	e.zb[stream].Reset()
	e.z[stream].Write(data)
	e.z[stream].Flush()
	e.compact(e.zb[stream].Len())
	e.buf.Write(e.zb[stream].Bytes())
}

// testImage is a picture with smooth gradients and sharp edges (many colours).
func testImage(w, h int) *image.RGBA {
	im := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			o := im.PixOffset(x, y)
			im.Pix[o], im.Pix[o+1], im.Pix[o+2], im.Pix[o+3] = byte(x*255/w), byte(y*255/h), byte((x^y)&0x80), 255
		}
	}
	return im
}

// clientFor is a Client whose reader is the encoded messages (no connection), with a
// framebuffer of w x h.
func clientFor(b []byte, w, h int) *Client {
	c := &Client{counts: map[string]int64{}, changed: make(chan struct{}), done: make(chan struct{})}
	c.r = newReader(b)
	c.fb, _ = newFB(w, h)
	return c
}

func jpegEncode(w *bytes.Buffer, im image.Image) { jpeg.Encode(w, im, nil) }
