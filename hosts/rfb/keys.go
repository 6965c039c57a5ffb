package rfb

import (
	"fmt"
	"strings"
)

// X keysyms (X11 keysymdef.h, which RFC 6143 7.5.4 refers to) for the key names the harness
// uses: QEMU qcodes (the names hosts.Screen.SendKeys takes), so one chord works on QMP and on
// RFB alike.
var keysyms = map[string]uint32{
	"ret": 0xff0d, "kp_enter": 0xff8d, "spc": 0x20, "tab": 0xff09, "esc": 0xff1b,
	"backspace": 0xff08, "delete": 0xffff, "insert": 0xff63,
	"home": 0xff50, "end": 0xff57, "pgup": 0xff55, "pgdn": 0xff56,
	"left": 0xff51, "up": 0xff52, "right": 0xff53, "down": 0xff54,
	"shift": 0xffe1, "shift_r": 0xffe2, "ctrl": 0xffe3, "ctrl_r": 0xffe4,
	"alt": 0xffe9, "alt_r": 0xffea, "meta_l": 0xffeb, "meta_r": 0xffec,
	"minus": '-', "equal": '=', "bracket_left": '[', "bracket_right": ']',
	"semicolon": ';', "apostrophe": '\'', "grave_accent": '`', "backslash": '\\',
	"comma": ',', "dot": '.', "slash": '/',
}

// shiftedSym is the keysym of a key typed with shift on a US layout: a viewer sends Shift
// and then the shifted symbol ('A', '!'), and the server maps it back to the key.
var shiftedSym = map[uint32]uint32{
	'1': '!', '2': '@', '3': '#', '4': '$', '5': '%', '6': '^', '7': '&', '8': '*', '9': '(', '0': ')',
	'-': '_', '=': '+', '[': '{', ']': '}', ';': ':', '\'': '"', '`': '~', '\\': '|', ',': '<', '.': '>', '/': '?',
}

// chordSyms turns a chord ("ret", "shift-a", "ctrl-alt-delete") into the keysyms pressed in
// order (and released in reverse).
func chordSyms(chord string) ([]uint32, error) {
	parts := strings.Split(chord, "-")
	shift := false
	var out []uint32
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("rfb: empty key in chord %q", chord)
		}
		if p == "shift" {
			shift = true
		}
	}
	for _, p := range parts {
		var s uint32
		switch {
		case len(p) == 1 && (p[0] >= 'a' && p[0] <= 'z' || p[0] >= '0' && p[0] <= '9'):
			s = uint32(p[0])
		case len(p) >= 2 && len(p) <= 3 && p[0] == 'f' && p[1] >= '1' && p[1] <= '9':
			n := 0
			fmt.Sscanf(p[1:], "%d", &n)
			if n < 1 || n > 12 {
				return nil, fmt.Errorf("rfb: no keysym for %q in chord %q", p, chord)
			}
			s = 0xffbe + uint32(n-1) // XK_F1..XK_F12
		default:
			k, ok := keysyms[p]
			if !ok {
				return nil, fmt.Errorf("rfb: no keysym for %q in chord %q", p, chord)
			}
			s = k
		}
		if shift && p != "shift" {
			if s >= 'a' && s <= 'z' {
				s -= 'a' - 'A'
			} else if u, ok := shiftedSym[s]; ok {
				s = u
			}
		}
		out = append(out, s)
	}
	return out, nil
}
