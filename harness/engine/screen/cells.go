package screen

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"image"
	"io"
	"math/bits"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// Boot screens are text on a fixed grid of character cells drawn from one bitmap font: the
// VGA text mode (the BIOS, GRUB, a Linux console), QEMU's own messages, Redox's kernel
// graphical debug and fbcond. Such a screen is read exactly and in milliseconds by looking
// each cell's bitmap up in the font's glyph table; tesseract (a process, 1-6 s a screen) is
// left for what the table does not explain (Orbital's anti-aliased text, pictures).

// Glyph is one 8x16 cell bitmap: a byte a row, top row first, the most significant bit the
// leftmost pixel (the order PSF fonts store and Redox's renderers read, `row_data >> (7 - col)`).
type Glyph [16]byte

// CellFont is an 8x16 bitmap font as a table from glyph bitmap to character.
type CellFont struct {
	// Name says where the font came from (in readings and test messages).
	Name  string
	exact map[Glyph]rune
	// near are the glyphs of printable characters, for the nearest-glyph fallback.
	near []glyphRune
}

type glyphRune struct {
	g Glyph
	r rune
}

// NewCellFont makes the table of a font from its glyphs and the characters they draw. When
// two characters share a bitmap the lower code point wins (the ASCII letter over the Greek
// or Cyrillic one drawn the same). Blank glyphs and control characters are left out: a blank
// cell is a space whatever the font.
func NewCellFont(name string, glyphs map[rune]Glyph) *CellFont {
	f := &CellFont{Name: name, exact: make(map[Glyph]rune, len(glyphs))}
	for r, g := range glyphs {
		if g == (Glyph{}) || !unicode.IsPrint(r) || r == ' ' {
			continue
		}
		if old, ok := f.exact[g]; !ok || r < old {
			f.exact[g] = r
		}
	}
	for g, r := range f.exact {
		f.near = append(f.near, glyphRune{g, r})
	}
	// In code point order, so that of two glyphs as near as each other the lower code
	// point wins every time (a map's order is random).
	slices.SortFunc(f.near, func(a, b glyphRune) int { return int(a.r - b.r) })
	return f
}

// Len is the number of distinct glyphs in the table.
func (f *CellFont) Len() int { return len(f.exact) }

// maxNearBits is how many of a cell's 128 pixels may differ from a glyph for the cell to be
// read as that glyph (a font drawing a character a few pixels differently, as SeaBIOS's '-'
// is one pixel wider than Linux's); above it the cell is not explained by the font.
const maxNearBits = 6

// lookup returns the character a cell bitmap draws, and whether it was found exactly or
// within maxNearBits (nearest wins; of equally near ones the lowest code point).
func (f *CellFont) lookup(g Glyph) (r rune, exact, ok bool) {
	if r, ok := f.exact[g]; ok {
		return r, true, true
	}
	best, bestD := rune(0), maxNearBits+1
	for _, c := range f.near {
		d := 0
		for i := 0; i < 16 && d < bestD; i += 8 {
			a := binary.LittleEndian.Uint64(g[i:])
			b := binary.LittleEndian.Uint64(c.g[i:])
			d += bits.OnesCount64(a ^ b)
		}
		if d < bestD {
			best, bestD = c.r, d
		}
	}
	return best, false, bestD <= maxNearBits
}

// underCursor reads a cell with the text cursor on it: the cursor is full rows at the bottom
// of the cell (rows 13-14 under SeaBIOS, 14-15 under GRUB in the test captures), so those
// are cleared and what is left is looked up (blank: a space).
func (f *CellFont) underCursor(g Glyph) (rune, bool) {
	s := g
	for i := 12; i < 16; i++ {
		if s[i] == 0xFF {
			s[i] = 0
		}
	}
	if s == g {
		return 0, false
	}
	if s == (Glyph{}) {
		return ' ', true
	}
	r, _, ok := f.lookup(s)
	return r, ok
}

// CellReading is what the cell recogniser made of a screen.
type CellReading struct {
	Font        string // the font that explained the screen best
	Text        string // rows joined by newlines, trailing spaces trimmed
	InkCells    int    // cells that are not blank
	Exact       int    // ink cells whose bitmap is a glyph of the font
	Near        int    // ink cells within maxNearBits of a glyph
	Unexplained int    // ink cells the font does not explain
	// GaveUp: the read stopped once too many cells were unexplained for the text to be
	// taken (Text is then partial).
	GaveUp bool
}

// Explained is the share of ink cells read as a glyph (1 for a screen with no ink).
func (c CellReading) Explained() float64 {
	if c.InkCells == 0 {
		return 1
	}
	return float64(c.Exact+c.Near) / float64(c.InkCells)
}

// Cells are the ink bitmaps of a screen's character cells, computed once and looked up in
// any number of fonts.
type Cells struct {
	cols, rows int
	glyphs     []Glyph // row-major; the zero Glyph is a blank cell
	ink        int     // cells that are not blank
}

// SplitCells cuts img into 8x16 glyph bitmaps on the grid inkMask uses (9x16 cells on the
// 720x400 VGA text screen, whose 9th column is blank or repeats the 8th for the line-drawing
// characters 0xC0-0xDF, and so is dropped; 8x16 elsewhere), from (0,0): VGA text mode and
// Redox's renderers (kernel graphical debug, console-draw) start the grid at the corner. A
// partial cell at the right or bottom edge is ignored.
func SplitCells(img image.Image) *Cells {
	m := inkMask(img)
	c := &Cells{cols: m.w / m.cw, rows: m.h / 16}
	c.glyphs = make([]Glyph, c.cols*c.rows)
	for cy := 0; cy < c.rows; cy++ {
		for cx := 0; cx < c.cols; cx++ {
			g := &c.glyphs[cy*c.cols+cx]
			for y := 0; y < 16; y++ {
				row := m.ink[(cy*16+y)*m.w+cx*m.cw:]
				var b byte
				for x := 0; x < 8; x++ {
					if row[x] {
						b |= 0x80 >> x
					}
				}
				g[y] = b
			}
			if *g != (Glyph{}) {
				c.ink++
			}
		}
	}
	return c
}

// Read looks every cell up in font.
func (c *Cells) Read(font *CellFont) CellReading { return c.read(font, 1) }

// read is Read giving up once more than the share maxUnexplained of the ink cells is not
// explained (a picture read with every font costs no more than it must).
func (c *Cells) read(font *CellFont, maxUnexplained float64) CellReading {
	out := CellReading{Font: font.Name}
	limit := int(maxUnexplained * float64(c.ink))
	var sb strings.Builder
	line := make([]rune, 0, c.cols)
	for cy := 0; cy < c.rows; cy++ {
		line = line[:0]
		for _, g := range c.glyphs[cy*c.cols : (cy+1)*c.cols] {
			if g == (Glyph{}) {
				line = append(line, ' ')
				continue
			}
			out.InkCells++
			r, exact, ok := font.lookup(g)
			if !ok {
				// A glyph that sets more than half of its cell (▓, ◘) makes its own
				// colour the cell's dominant one: its ink comes out inverted.
				inv := g
				for i := range inv {
					inv[i] = ^inv[i]
				}
				r, exact, ok = font.lookup(inv)
			}
			if !ok {
				r, ok = font.underCursor(g)
			}
			switch {
			case ok && exact:
				out.Exact++
			case ok:
				out.Near++
			default:
				out.Unexplained++
				r = ' '
				if out.Unexplained > limit {
					out.GaveUp, out.InkCells = true, c.ink
					return out
				}
			}
			line = append(line, r)
		}
		if cy > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(strings.TrimRight(string(line), " "))
	}
	out.Text = strings.TrimRight(sb.String(), "\n")
	return out
}

// ParsePSF reads a PC Screen Font (PSF1 or PSF2, gzip-compressed or not) of 8x16 glyphs.
// Characters come from the font's Unicode table; a font without one is taken to be in
// code page 437 order, of which only printable ASCII (0x20-0x7E) is mapped.
func ParsePSF(name string, data []byte) (*CellFont, error) {
	if len(data) >= 2 && data[0] == 0x1f && data[1] == 0x8b {
		zr, err := gzip.NewReader(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
		// A console font is a few KiB; 1 MiB bounds a corrupt or hostile file.
		data, err = io.ReadAll(io.LimitReader(zr, 1<<20))
		if err != nil {
			return nil, fmt.Errorf("%s: %v", name, err)
		}
	}
	var n, height, width, size, hdr int
	var uni bool
	switch {
	case len(data) >= 4 && data[0] == 0x36 && data[1] == 0x04:
		// PSF1: magic, mode (0x01: 512 glyphs, 0x02/0x04: Unicode table), bytes per glyph.
		n, height, width, size, hdr = 256, int(data[3]), 8, int(data[3]), 4
		if data[2]&0x01 != 0 {
			n = 512
		}
		uni = data[2]&0x06 != 0
	case len(data) >= 32 && binary.LittleEndian.Uint32(data) == 0x864ab572:
		le := binary.LittleEndian
		hdr = int(le.Uint32(data[8:]))
		uni = le.Uint32(data[12:])&1 != 0
		n, size = int(le.Uint32(data[16:])), int(le.Uint32(data[20:]))
		height, width = int(le.Uint32(data[24:])), int(le.Uint32(data[28:]))
	default:
		return nil, fmt.Errorf("%s: not a PSF font", name)
	}
	if width != 8 || height != 16 || size != 16 {
		return nil, fmt.Errorf("%s: glyphs are %dx%d, not 8x16", name, width, height)
	}
	if n <= 0 || n > 1<<16 || hdr < 0 || hdr > len(data) || (len(data)-hdr)/size < n {
		return nil, fmt.Errorf("%s: truncated (%d glyphs announced)", name, n)
	}
	glyph := func(i int) (g Glyph) {
		copy(g[:], data[hdr+i*size:])
		return g
	}
	chars := map[rune]Glyph{}
	if !uni {
		for i := 0x20; i < 0x7f && i < n; i++ {
			chars[rune(i)] = glyph(i)
		}
		return NewCellFont(name, chars), nil
	}
	tab := data[hdr+n*size:]
	psf1 := data[0] == 0x36
	for i := 0; i < n && len(tab) > 0; i++ {
		g := glyph(i)
		seq := false // after the sequence marker: combining sequences, not single characters
		for len(tab) > 0 {
			var r rune
			if psf1 {
				if len(tab) < 2 {
					return nil, fmt.Errorf("%s: Unicode table truncated", name)
				}
				v := binary.LittleEndian.Uint16(tab)
				tab = tab[2:]
				if v == 0xFFFF {
					break
				}
				if v == 0xFFFE {
					seq = true
					continue
				}
				r = rune(v)
			} else {
				if tab[0] == 0xFF {
					tab = tab[1:]
					break
				}
				if tab[0] == 0xFE {
					seq, tab = true, tab[1:]
					continue
				}
				var sz int
				r, sz = utf8.DecodeRune(tab)
				tab = tab[sz:]
			}
			if !seq {
				if _, ok := chars[r]; !ok {
					chars[r] = g
				}
			}
		}
	}
	return NewCellFont(name, chars), nil
}

// LoadPSF reads a PSF font file (see ParsePSF) through the bounded reader every file the
// harness is pointed at goes through: a regular file of at most 1 MiB.
func LoadPSF(path string) (*CellFont, error) {
	data, err := inputfile.ReadFile(path, 1<<20, "a console font")
	if err != nil {
		return nil, err
	}
	return ParsePSF(path, data)
}
