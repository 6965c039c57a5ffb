package console

import "bytes"

// Normalizer turns raw console bytes into text fit for matching: ANSI escape sequences
// removed (Redox drivers log in colour), CR dropped so "\r\n", "\r\r\n" (OVMF) and "\n" are
// one line break, NUL dropped. It is streaming: an escape sequence split across two reads is
// still removed. Invalid UTF-8 passes through untouched; patterns are byte strings, so it
// cannot break a match. The raw bytes are kept elsewhere (the transcript); this is for
// matching only.
type Normalizer struct {
	state escState
}

type escState uint8

const (
	stText   escState = iota
	stEsc             // saw ESC
	stCSI             // inside ESC [ ... final byte
	stOSC             // inside ESC ] ... BEL or ESC \
	stOSCEsc          // saw ESC inside OSC
)

// nextSpecial finds the next byte the normaliser acts on (ESC, CR, NUL). It keeps the next
// position of each of the three so every byte is searched once per kind, with the
// vectorised bytes.IndexByte, and plain text is copied in runs.
type nextSpecial struct {
	pos [3]int // absolute index in the chunk, len(in) when there is none
}

var specials = [3]byte{0x1b, '\r', 0}

func (ns *nextSpecial) init(in []byte) {
	for k, c := range specials {
		ns.pos[k] = indexFrom(in, c, 0)
	}
}

func indexFrom(in []byte, c byte, from int) int {
	if i := bytes.IndexByte(in[from:], c); i >= 0 {
		return from + i
	}
	return len(in)
}

// after returns the first special byte at or after i.
func (ns *nextSpecial) after(in []byte, i int) int {
	m := len(in)
	for k, c := range specials {
		if ns.pos[k] < i {
			ns.pos[k] = indexFrom(in, c, i)
		}
		m = min(m, ns.pos[k])
	}
	return m
}

// Append appends the normalised form of in to dst and returns it.
func (n *Normalizer) Append(dst, in []byte) []byte {
	var ns nextSpecial
	ns.init(in)
	for i := 0; i < len(in); i++ {
		if n.state == stText {
			j := ns.after(in, i)
			dst = append(dst, in[i:j]...)
			if j == len(in) {
				break
			}
			i = j
		}
		c := in[i]
		switch n.state {
		case stText:
			switch c {
			case 0x1b:
				n.state = stEsc
			case '\r', 0:
			default:
				dst = append(dst, c)
			}
		case stEsc:
			switch c {
			case '[':
				n.state = stCSI
			case ']':
				n.state = stOSC
			default:
				// Two-byte sequence (ESC c, ESC 7, ...): drop both.
				n.state = stText
			}
		case stCSI:
			// Parameters and intermediates are 0x20-0x3f; a final byte 0x40-0x7e ends it.
			// Anything else (a newline in a broken sequence) ends it too, and is kept.
			if c >= 0x40 && c <= 0x7e {
				n.state = stText
			} else if c < 0x20 {
				n.state = stText
				if c == '\n' {
					dst = append(dst, c)
				}
			}
		case stOSC:
			if c == 0x07 || c == '\n' {
				n.state = stText
				if c == '\n' {
					dst = append(dst, c)
				}
			} else if c == 0x1b {
				n.state = stOSCEsc
			}
		case stOSCEsc:
			n.state = stText
		}
	}
	return dst
}

// NormalizeString is the one-shot form, for tests and offline analysis.
func NormalizeString(s string) string {
	var n Normalizer
	return string(n.Append(nil, []byte(s)))
}
