package screen

import "fmt"

// TextToChords turns text into QEMU qcode chords for a US keyboard layout ("A" is
// "shift-a", "=" is "equal", "\r" or "\n" is "ret"), for typing into a boot loader's editor
// on the machine's keyboard.
func TextToChords(s string) ([]string, error) {
	var out []string
	for _, r := range s {
		c, ok := qcodeOf(r)
		if !ok {
			return nil, fmt.Errorf("no key for %q", r)
		}
		out = append(out, c)
	}
	return out, nil
}

var named = map[rune]string{
	'\r': "ret", '\n': "ret", ' ': "spc", '\t': "tab", 0x1b: "esc", 0x7f: "backspace",
	'-': "minus", '=': "equal", '[': "bracket_left", ']': "bracket_right", ';': "semicolon",
	'\'': "apostrophe", '`': "grave_accent", '\\': "backslash", ',': "comma", '.': "dot", '/': "slash",
}

// shifted maps a character typed with shift to the key under it.
var shifted = map[rune]rune{
	'!': '1', '@': '2', '#': '3', '$': '4', '%': '5', '^': '6', '&': '7', '*': '8', '(': '9', ')': '0',
	'_': '-', '+': '=', '{': '[', '}': ']', ':': ';', '"': '\'', '~': '`', '|': '\\', '<': ',', '>': '.', '?': '/',
}

func qcodeOf(r rune) (string, bool) {
	switch {
	case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		return string(r), true
	case r >= 'A' && r <= 'Z':
		return "shift-" + string(r-'A'+'a'), true
	}
	if n, ok := named[r]; ok {
		return n, true
	}
	if base, ok := shifted[r]; ok {
		if base >= '0' && base <= '9' {
			return "shift-" + string(base), true
		}
		return "shift-" + named[base], true
	}
	return "", false
}
