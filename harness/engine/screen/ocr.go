package screen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"strings"
	"syscall"
)

// OCR reads text off a screen: the cell recogniser when a font explains the screen, else
// tesseract (see the package comment).
type OCR struct {
	// Fonts are the cell recogniser's fonts; nil means DefaultFonts(), an empty non-nil list
	// turns the recogniser off (every screen goes to tesseract).
	Fonts []*CellFont
	// Bin is the tesseract command (default "tesseract" on PATH).
	Bin string
	// PSM is tesseract's page segmentation mode (default 11, "sparse text": boot screens are
	// a few lines scattered over a black screen, not a page).
	PSM int
	// Scale enlarges the screen before recognition (default 2: VGA's 8x16 font at 720x400
	// is below the glyph size tesseract's English model is trained on).
	Scale int
}

// ErrNoOCR is returned when tesseract is not installed.
var ErrNoOCR = errors.New("tesseract is not installed (Debian: tesseract-ocr tesseract-ocr-eng)")

// Available reports whether the OCR command can be run.
func (o *OCR) Available() error {
	if _, err := exec.LookPath(o.bin()); err != nil {
		return ErrNoOCR
	}
	return nil
}

func (o *OCR) bin() string {
	if o == nil || o.Bin == "" {
		return "tesseract"
	}
	return o.Bin
}

// Engines a Reading names.
const (
	EngineCells     = "cells"
	EngineTesseract = "tesseract"
)

// MinExplained is the share of a screen's ink cells the cell recogniser must read as glyphs
// of one font for its text to be taken; below it the screen has something the fonts do
// not draw (a picture, anti-aliased text) and tesseract reads it.
const MinExplained = 0.97

// Reading is a screen's text and how it was read.
type Reading struct {
	Text   string
	Engine string      // EngineCells or EngineTesseract
	Cells  CellReading // the cell recogniser's best font (why tesseract ran, when it did)
}

// Read returns the text on img.
func (o *OCR) Read(ctx context.Context, img image.Image) (string, error) {
	r, err := o.Recognise(ctx, img)
	return r.Text, err
}

// Recognise reads img with the cell recogniser and, when no font explains at least
// MinExplained of its ink cells, with tesseract. A screen with no ink at all is read as
// empty by the recogniser: tesseract would be given the same blank picture (Prepare).
func (o *OCR) Recognise(ctx context.Context, img image.Image) (Reading, error) {
	fonts := DefaultFonts()
	if o != nil && o.Fonts != nil {
		fonts = o.Fonts
	}
	var best CellReading
	if len(fonts) > 0 {
		cells := SplitCells(img)
		for i, f := range fonts {
			r := cells.read(f, 1-MinExplained)
			if i == 0 || r.Exact+r.Near > best.Exact+best.Near ||
				(r.Exact+r.Near == best.Exact+best.Near && r.Exact > best.Exact) {
				best = r
			}
			if !r.GaveUp && r.Unexplained == 0 && r.Near == 0 {
				break // every ink cell a glyph of this font: no other can do better
			}
		}
		if !best.GaveUp && best.Explained() >= MinExplained {
			return Reading{Text: best.Text, Engine: EngineCells, Cells: best}, nil
		}
	}
	t, err := o.tesseract(ctx, img)
	return Reading{Text: t, Engine: EngineTesseract, Cells: best}, err
}

// tesseract returns the text tesseract finds on img.
func (o *OCR) tesseract(ctx context.Context, img image.Image) (string, error) {
	psm, scale := 11, 2
	if o != nil && o.PSM > 0 {
		psm = o.PSM
	}
	if o != nil && o.Scale > 0 {
		scale = o.Scale
	}
	var in bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.NoCompression}).Encode(&in, Prepare(img, scale)); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, o.bin(), "stdin", "stdout", "-l", "eng", "--psm", fmt.Sprint(psm))
	cmd.Stdin = &in
	// One thread: the machines this runs on are shared, and OpenMP's spinning threads cost
	// more than they save on a screen of text.
	cmd.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Start()
	if err == nil {
		// A lower CPU priority (nice 10, about a tenth of a normal process's share when
		// the CPU is contended): the guest being watched comes first, but OCR is on the
		// critical path while a menu waits for its key, so not the lowest.
		syscall.Setpriority(syscall.PRIO_PROCESS, cmd.Process.Pid, 10)
		err = cmd.Wait()
	}
	if err != nil {
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return "", ErrNoOCR
		}
		return "", fmt.Errorf("tesseract: %v: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Prepare is the picture tesseract is given: black ink on white, enlarged scale times,
// with a white margin (text touching the edge is misread). Ink is decided per character
// cell (see inkMask).
func Prepare(img image.Image, scale int) *image.Gray {
	m := inkMask(img)
	w, h, ink := m.w, m.h, m.ink
	if scale < 1 {
		scale = 1
	}
	const margin = 16
	out := image.NewGray(image.Rect(0, 0, w*scale+2*margin, h*scale+2*margin))
	for i := range out.Pix {
		out.Pix[i] = 255
	}
	for y := 0; y < h*scale; y++ {
		dst := out.Pix[(y+margin)*out.Stride+margin:]
		row := ink[(y/scale)*w:]
		for x := 0; x < w*scale; x++ {
			if row[x/scale] {
				dst[x] = 0
			}
		}
	}
	return out
}

// inkMap is a screen's ink pixels, row-major, and the width of its character cells.
type inkMap struct {
	ink  []bool
	w, h int
	cw   int
}

// inkMask decides ink per character cell (9x16 on the 720x400 VGA text screen, else 8x16):
// a pixel is ink when its grey differs by more than 40 from the grey most of its cell has,
// so light text on black, black text on a highlighted menu bar and coloured text all come
// out the same. Both readers use it: the cell recogniser looks the cells up in a font,
// tesseract reads the picture Prepare makes of it.
func inkMask(img image.Image) inkMap {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	g := grey(img)
	cw, ch := 8, 16
	if w%9 == 0 && w/9 == 80 {
		cw = 9
	}
	m := make([]bool, w*h)
	var hist [256]int
	for cy := 0; cy < h; cy += ch {
		for cx := 0; cx < w; cx += cw {
			hist = [256]int{}
			for y := cy; y < min(cy+ch, h); y++ {
				for x := cx; x < min(cx+cw, w); x++ {
					hist[g[y*w+x]]++
				}
			}
			bg := 0
			for v := range hist {
				if hist[v] > hist[bg] {
					bg = v
				}
			}
			for y := cy; y < min(cy+ch, h); y++ {
				for x := cx; x < min(cx+cw, w); x++ {
					d := int(g[y*w+x]) - bg
					m[y*w+x] = d > 40 || d < -40
				}
			}
		}
	}
	return inkMap{ink: m, w: w, h: h, cw: cw}
}

// grey is img in grey levels, row-major, as color.GrayModel converts (the RGBA screendumps
// are read without going through an interface call per pixel).
func grey(img image.Image) []uint8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	g := make([]uint8, w*h)
	if p, ok := img.(*image.RGBA); ok {
		for y := 0; y < h; y++ {
			row := p.Pix[p.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := 0; x < w; x++ {
				r, gg, bb := uint32(row[4*x]), uint32(row[4*x+1]), uint32(row[4*x+2])
				// color.GrayModel on 16-bit values: (19595r + 38470g + 7471b + 1<<15) >> 24,
				// where each 8-bit value v is v*0x101.
				r, gg, bb = r*0x101, gg*0x101, bb*0x101
				g[y*w+x] = uint8((19595*r + 38470*gg + 7471*bb + 1<<15) >> 24)
			}
		}
		return g
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			g[y*w+x] = color.GrayModel.Convert(img.At(b.Min.X+x, b.Min.Y+y)).(color.Gray).Y
		}
	}
	return g
}
