package screen

import (
	_ "embed"
	"sync"
)

// redoxFont is the 8x16 font Redox draws its boot text in: redox-os/kernel
// res/unifont.font at 663e66410bac71cd7e335501118a7cee746d15f9 (4096 bytes, sha256
// b356681c2393143fc46d8beb8d9feaabd542c903e172de60ff2c10e05f06cd14), which the kernel's
// graphical debug display includes (src/devices/graphical_debug/debug.rs:
// `include_bytes!("../../../res/unifont.font")`) and draws as FONT[16*char + row], bit
// `row_data >> (7 - col)` the pixel in column col (most significant bit left), white on
// black, cells 8x16 from the corner. fbcond and fbbootlogd draw with orbclient::FONT by
// default (redox-os/base drivers/graphics/console-draw/src/lib.rs at 9dd6901d, read in the
// fork Gh0s777tt/eos-base: `ConsoleFont::new(FONT.to_vec(), 8, 16)`, glyph
// `font.glyphs[font.height * char + row]`, the same bit order; fbcond draws a PSF font
// instead when /etc/fbcond.toml names one, drivers/graphics/fbcond/src/scheme.rs:56-79,
// which this table does not read). redox-os/orbclient res/unifont.font at 5f10d483 is all
// of Unicode's plane 0 (1048544 bytes), and its first 4096 bytes (code points 0-255) are
// this file byte for byte (checked when it was embedded). Glyph i is code point i (Latin-1 for the first 256).
//
// GNU Unifont: GPLv2 or later with the GNU font embedding exception (orbclient ships the
// text as res/unifont-license.txt; fonts/README.md here names it).
//
//go:embed fonts/redox-unifont.font
var redoxFont []byte

// RedoxFont is the table of redoxFont.
func RedoxFont() *CellFont {
	chars := map[rune]Glyph{}
	for i := 0; i < 256; i++ {
		var g Glyph
		copy(g[:], redoxFont[16*i:])
		chars[rune(i)] = g
	}
	return NewCellFont("redox unifont (kernel res/unifont.font)", chars)
}

// seabiosFont is the 8x16 font the VGA text mode of QEMU's standard VGA draws with: SeaBIOS's
// VGA BIOS (QEMU's vgabios-*.bin) loads it into the card's character generator (coreboot/seabios
// vgasrc/vgafonts.c `vgafont16`, at 41514a7a974f61bc077c6da720d09e999f3d7a15, the file last
// changed in 2f2ec113), extracted from the C array as 256 glyphs of 16 bytes (4096 bytes,
// sha256 c7dd5990fa5401649cf69e9bbb4c8a51f86865939b9318281a27de7f314eda3a), glyph i code
// page 437's character i. That file says the fonts are public domain (from Joseph Gil's
// fntcol16). It is the IBM VGA font of Linux's console except four glyphs, checked against
// console-data's default8x16.psf.gz: '-' (0x2D, one pixel wider), '0' (0x30, dotted, not
// slashed), '@' (0x40) and 0xF4; the test captures show SeaBIOS's '0' and '-'.
//
//go:embed fonts/seabios-vgafont16.font
var seabiosFont []byte

// cp437 is code page 437, the character each glyph of a VGA font draws (checked against the
// Unicode table of console-data's default8x16.psf.gz in the tests, where installed).
const cp437 = "\u0000☺☻♥♦♣♠•◘○◙♂♀♪♫☼►◄↕‼¶§▬↨↑↓→←∟↔▲▼" +
	" !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~⌂" +
	"ÇüéâäàåçêëèïîìÄÅÉæÆôöòûùÿÖÜ¢£¥₧ƒáíóúñÑªº¿⌐¬½¼¡«»░▒▓│┤╡╢╖╕╣║╗╝╜╛┐" +
	"└┴┬├─┼╞╟╚╔╩╦╠═╬╧╨╤╥╙╘╒╓╫╪┘┌█▄▌▐▀αßΓπΣσµτΦΘΩδ∞φε∩≡±≥≤⌠⌡÷≈°∙·√ⁿ²■\u00a0"

// SeaBIOSFont is the table of seabiosFont.
func SeaBIOSFont() *CellFont {
	chars := map[rune]Glyph{}
	i := 0
	for _, r := range cp437 {
		var g Glyph
		copy(g[:], seabiosFont[16*i:])
		chars[r] = g
		i++
	}
	return NewCellFont("SeaBIOS vgafont16", chars)
}

// VGAFontPaths are where Debian keeps the IBM VGA 8x16 font (Linux's lib/fonts/font_8x16.c,
// the glyphs SeaBIOS's VGA BIOS and QEMU's own console draw): console-data's
// default8x16.psf.gz (PSF1 with a Unicode table), and kbd's upstream name default8x16.psfu.gz
// (Debian's kbd package does not ship its fonts; console-data does).
var VGAFontPaths = []string{
	"/usr/share/consolefonts/default8x16.psf.gz",
	"/usr/share/consolefonts/default8x16.psfu.gz",
}

var defaultFonts = sync.OnceValue(func() []*CellFont {
	out := []*CellFont{SeaBIOSFont()}
	for _, p := range VGAFontPaths {
		if f, err := LoadPSF(p); err == nil {
			out = append(out, f)
			break
		}
	}
	// A missing console font is no error: Linux's console text is then read by tesseract
	// where SeaBIOS's glyphs differ.
	return append(out, RedoxFont())
})

// DefaultFonts are the fonts the cell recogniser tries: SeaBIOS's VGA font, Linux's console
// font where installed, and Redox's.
func DefaultFonts() []*CellFont { return defaultFonts() }
