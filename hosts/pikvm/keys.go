package pikvm

import (
	"fmt"
	"strings"
)

// webKeys maps the QEMU qcode names hosts.Screen.SendKeys takes to kvmd's key names (the
// browser's KeyboardEvent.code, kvmd/keyboard/mappings.py WEB_TO_EVDEV).
var webKeys = map[string]string{
	"ret": "Enter", "kp_enter": "NumpadEnter", "spc": "Space", "tab": "Tab", "esc": "Escape",
	"backspace": "Backspace", "delete": "Delete", "insert": "Insert",
	"home": "Home", "end": "End", "pgup": "PageUp", "pgdn": "PageDown",
	"left": "ArrowLeft", "up": "ArrowUp", "right": "ArrowRight", "down": "ArrowDown",
	"shift": "ShiftLeft", "shift_r": "ShiftRight", "ctrl": "ControlLeft", "ctrl_r": "ControlRight",
	"alt": "AltLeft", "alt_r": "AltRight", "meta_l": "MetaLeft", "meta_r": "MetaRight",
	"minus": "Minus", "equal": "Equal", "bracket_left": "BracketLeft", "bracket_right": "BracketRight",
	"semicolon": "Semicolon", "apostrophe": "Quote", "grave_accent": "Backquote", "backslash": "Backslash",
	"comma": "Comma", "dot": "Period", "slash": "Slash",
}

// chordKeys turns a chord ("shift-a", "ret") into kvmd key names.
func chordKeys(chord string) ([]string, error) {
	var out []string
	for _, k := range strings.Split(chord, "-") {
		switch {
		case k == "":
			return nil, fmt.Errorf("pikvm: empty key in chord %q", chord)
		case len(k) == 1 && k[0] >= 'a' && k[0] <= 'z':
			out = append(out, "Key"+strings.ToUpper(k))
		case len(k) == 1 && k[0] >= '0' && k[0] <= '9':
			out = append(out, "Digit"+k)
		case len(k) >= 2 && len(k) <= 3 && k[0] == 'f' && k[1] >= '1' && k[1] <= '9' && (len(k) == 2 || k == "f10" || k == "f11" || k == "f12"):
			out = append(out, "F"+k[1:])
		default:
			w, ok := webKeys[k]
			if !ok {
				return nil, fmt.Errorf("pikvm: no key for %q in chord %q", k, chord)
			}
			out = append(out, w)
		}
	}
	return out, nil
}
