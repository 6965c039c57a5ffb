package rfb

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"errors"
	"fmt"
	"image"
	"image/draw"
	"image/jpeg"
	"io"
)

// Tight encoding (rfbproto.rst "Tight Encoding"; QEMU ui/vnc-enc-tight.c is the sender the
// tests use). A rectangle starts with a compression-control byte: its low four bits reset
// zlib streams 0-3, its high four bits are the type: 8 fill, 9 JPEG, 10 PNG (never asked
// for), else basic compression through stream (bits 4-5), with an explicit filter (bit 6).
// Pixels in Tight are TPIXELs: 3 bytes R, G, B for the 32-bit depth-24 format setup asks for.

const (
	tightFill = 0x8
	tightJPEG = 0x9
	tightPNG  = 0xA

	filterCopy     = 0
	filterPalette  = 1
	filterGradient = 2

	// tightMinToCompress: data shorter than this is sent as it is, without zlib.
	tightMinToCompress = 12
	// maxCompact is the largest length Tight's compact representation holds (22 bits).
	maxCompact = 1<<22 - 1
)

// tightState is the per-connection state Tight keeps across rectangles: four zlib streams
// (each a continuous deflate stream the server flushes after every rectangle) and reusable
// buffers.
type tightState struct {
	streams [4]*zstream
	buf     []byte // compressed data of one rectangle
	out     []byte // decompressed data of one rectangle
}

// zstream is one of Tight's zlib streams. The inflater reads through chunk, an
// io.ByteReader over the rectangle's compressed bytes, so it never reads ahead of what has
// arrived (flate reads byte by byte from an io.ByteReader). It may stop short of the end of
// a rectangle's bytes: the rectangle's pixels can be complete before the inflater has read
// the end-of-block code and the empty stored block of the server's sync flush (when its
// 32 KiB window fills on the last pixel). Those bytes are the start of the stream's next
// input, so they are kept (in) and the next rectangle's bytes appended to them.
type zstream struct {
	chunk bytes.Reader
	in    []byte // the unread rest of the stream's input, then the next rectangle's bytes
	z     io.ReadCloser
}

func (t *tightState) decode(r *bufio.Reader, fb *image.RGBA, rect image.Rectangle) (string, error) {
	ctl, err := r.ReadByte()
	if err != nil {
		return "", err
	}
	for i := 0; i < 4; i++ {
		if ctl&(1<<i) != 0 && t.streams[i] != nil {
			t.streams[i].z.Close()
			t.streams[i] = nil
		}
	}
	w, h := rect.Dx(), rect.Dy()
	switch ctl >> 4 {
	case tightFill:
		var px [3]byte
		if _, err := io.ReadFull(r, px[:]); err != nil {
			return "", err
		}
		fill(fb, rect, px)
		return "tight-fill", nil
	case tightJPEG:
		n, err := compactLen(r)
		if err != nil {
			return "", err
		}
		data, err := t.read(r, n)
		if err != nil {
			return "", err
		}
		cfg, err := jpeg.DecodeConfig(bytes.NewReader(data))
		if err != nil {
			return "", fmt.Errorf("rfb: tight jpeg: %w", err)
		}
		if cfg.Width != w || cfg.Height != h {
			return "", fmt.Errorf("rfb: tight jpeg of %dx%d for a %dx%d rectangle", cfg.Width, cfg.Height, w, h)
		}
		im, err := jpeg.Decode(bytes.NewReader(data))
		if err != nil {
			return "", fmt.Errorf("rfb: tight jpeg: %w", err)
		}
		draw.Draw(fb, rect, im, im.Bounds().Min, draw.Src)
		return "tight-jpeg", nil
	case tightPNG:
		return "", errors.New("rfb: tight PNG rectangle, which was not asked for")
	}
	if ctl>>4 > tightPNG {
		return "", fmt.Errorf("rfb: tight compression control 0x%02x", ctl)
	}
	stream := int(ctl>>4) & 3
	filter := byte(filterCopy)
	if ctl&0x40 != 0 {
		if filter, err = r.ReadByte(); err != nil {
			return "", err
		}
	}
	var palette [256][3]byte
	colors := 0
	size := w * h * 3
	switch filter {
	case filterCopy, filterGradient:
	case filterPalette:
		b, err := r.ReadByte()
		if err != nil {
			return "", err
		}
		colors = int(b) + 1
		for i := 0; i < colors; i++ {
			if _, err := io.ReadFull(r, palette[i][:]); err != nil {
				return "", err
			}
		}
		if colors == 2 {
			size = (w + 7) / 8 * h
		} else {
			size = w * h
		}
	default:
		return "", fmt.Errorf("rfb: tight filter %d", filter)
	}
	data, err := t.inflate(r, stream, size)
	if err != nil {
		return "", err
	}
	switch {
	case filter == filterPalette:
		// Two colours: one bit a pixel, each row padded to a byte; more: one byte a pixel.
		stride := w
		if colors == 2 {
			stride = (w + 7) / 8
		}
		for y := 0; y < h; y++ {
			o := fb.PixOffset(rect.Min.X, rect.Min.Y+y)
			for x := 0; x < w; x++ {
				var i int
				if colors == 2 {
					i = int(data[y*stride+x/8] >> (7 - x%8) & 1)
				} else {
					i = int(data[y*stride+x])
				}
				if i >= colors {
					return "", fmt.Errorf("rfb: tight palette index %d of %d colours", i, colors)
				}
				c := palette[i]
				fb.Pix[o], fb.Pix[o+1], fb.Pix[o+2], fb.Pix[o+3] = c[0], c[1], c[2], 255
				o += 4
			}
		}
	case filter == filterGradient:
		// Each component is predicted from the pixels left, above and above-left
		// (left + above - aboveleft, clamped to 0..255) and the data is the difference.
		for y := 0; y < h; y++ {
			o := fb.PixOffset(rect.Min.X, rect.Min.Y+y)
			for x := 0; x < w; x++ {
				for c := 0; c < 3; c++ {
					var left, up, ul int
					if x > 0 {
						left = int(fb.Pix[o-4+c])
					}
					if y > 0 {
						up = int(fb.Pix[o-fb.Stride+c])
						if x > 0 {
							ul = int(fb.Pix[o-fb.Stride-4+c])
						}
					}
					p := min(max(left+up-ul, 0), 255)
					fb.Pix[o+c] = byte(p + int(data[(y*w+x)*3+c]))
				}
				fb.Pix[o+3] = 255
				o += 4
			}
		}
	default:
		for y := 0; y < h; y++ {
			o := fb.PixOffset(rect.Min.X, rect.Min.Y+y)
			for x := 0; x < w; x++ {
				k := (y*w + x) * 3
				fb.Pix[o], fb.Pix[o+1], fb.Pix[o+2], fb.Pix[o+3] = data[k], data[k+1], data[k+2], 255
				o += 4
			}
		}
	}
	return "tight-basic", nil
}

// inflate returns size bytes of a basic rectangle: as they are when shorter than
// tightMinToCompress, else a compact length and that much zlib data through the stream.
func (t *tightState) inflate(r *bufio.Reader, stream, size int) ([]byte, error) {
	if cap(t.out) < size {
		t.out = make([]byte, size)
	}
	out := t.out[:size]
	if size < tightMinToCompress {
		_, err := io.ReadFull(r, out)
		return out, err
	}
	n, err := compactLen(r)
	if err != nil {
		return nil, err
	}
	data, err := t.read(r, n)
	if err != nil {
		return nil, err
	}
	z := t.streams[stream]
	if z == nil {
		z = &zstream{}
		z.in = append(z.in, data...)
		z.chunk.Reset(z.in)
		zr, err := zlib.NewReader(&z.chunk)
		if err != nil {
			return nil, fmt.Errorf("rfb: tight zlib stream %d: %w", stream, err)
		}
		z.z = zr
		t.streams[stream] = z
	} else {
		if len(z.in)+len(data) > 2*maxCompact {
			return nil, fmt.Errorf("rfb: tight zlib stream %d: %d bytes left unread", stream, len(z.in))
		}
		z.in = append(z.in, data...)
		z.chunk.Reset(z.in)
	}
	if _, err := io.ReadFull(z.z, out); err != nil {
		return nil, fmt.Errorf("rfb: tight zlib stream %d: %v", stream, err)
	}
	rest := z.chunk.Len()
	copy(z.in, z.in[len(z.in)-rest:])
	z.in = z.in[:rest]
	return out, nil
}

// read reads n bytes into the reusable buffer.
func (t *tightState) read(r io.Reader, n int) ([]byte, error) {
	if cap(t.buf) < n {
		t.buf = make([]byte, n)
	}
	b := t.buf[:n]
	_, err := io.ReadFull(r, b)
	return b, err
}

// compactLen reads Tight's compact length: 1 to 3 bytes, 7 bits each, low bits first.
func compactLen(r io.ByteReader) (int, error) {
	n := 0
	for i := 0; i < 3; i++ {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if i == 2 {
			n |= int(b) << 14
			break
		}
		n |= int(b&0x7f) << (7 * i)
		if b&0x80 == 0 {
			break
		}
	}
	if n > maxCompact {
		return 0, fmt.Errorf("rfb: tight length %d", n)
	}
	return n, nil
}

func fill(fb *image.RGBA, r image.Rectangle, px [3]byte) {
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := fb.PixOffset(r.Min.X, y)
		for x := r.Min.X; x < r.Max.X; x++ {
			fb.Pix[o], fb.Pix[o+1], fb.Pix[o+2], fb.Pix[o+3] = px[0], px[1], px[2], 255
			o += 4
		}
	}
}
