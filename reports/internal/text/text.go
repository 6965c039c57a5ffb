// Package text makes console bytes safe to put into reports: XML (JUnit), HTML (the support
// page) and Markdown (tables, HARDWARE.md). A console can print anything: colour escapes,
// NUL, other control characters, invalid UTF-8. Clean keeps every byte visible (escaped as
// \xNN) except colour/cursor escape sequences, which are dropped, and never returns a
// character that XML 1.0 forbids.
package text

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Clean returns s with ANSI escape sequences removed, "\r\n" and lone "\r" turned into
// "\n", other C0 control characters (except tab and newline), DEL and invalid UTF-8 bytes
// written as \xNN, and the non-characters U+FFFE/U+FFFF written as \uFFFE/\uFFFF. The
// result is valid UTF-8 and contains only characters legal in XML 1.0.
func Clean(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == 0x1b:
			i += escapeLen(s[i:])
			continue
		case c == '\r':
			b.WriteByte('\n')
			i++
			if i < len(s) && s[i] == '\n' {
				i++
			}
			continue
		case c == '\t' || c == '\n':
			b.WriteByte(c)
			i++
			continue
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, c)
			i++
			continue
		case c < utf8.RuneSelf:
			b.WriteByte(c)
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, c)
		case r == 0xFFFE || r == 0xFFFF:
			fmt.Fprintf(&b, `\u%04X`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s needs no cleaning (printable ASCII, tab and newline only).
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x7f || (c < 0x20 && c != '\t' && c != '\n') {
			return false
		}
	}
	return true
}

// escapeLen returns the length of the escape sequence at the start of s (s[0] == ESC):
// CSI (ESC [ params final), OSC (ESC ] ... BEL or ESC \), or a two-byte escape. A
// truncated sequence at the end of s is consumed whole.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		for i := 2; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
			if s[i] < 0x20 || s[i] > 0x7e {
				return i // not a CSI after all: keep the odd byte
			}
		}
		return len(s)
	case ']':
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\' {
				return i + 2
			}
			if s[i] == '\n' {
				return i
			}
		}
		return len(s)
	}
	if s[1] >= 0x20 && s[1] <= 0x7e {
		return 2
	}
	return 1
}

// OneLine cleans s, folds every run of whitespace (newlines included) into one space and
// cuts the result to at most max runes (adding "…"); max <= 0 means no limit.
func OneLine(s string, max int) string {
	s = strings.Join(strings.Fields(Clean(s)), " ")
	if max > 0 && utf8.RuneCountInString(s) > max {
		r := []rune(s)
		s = strings.TrimSpace(string(r[:max-1])) + "…"
	}
	return s
}

// MarkdownCell makes s safe inside a Markdown table cell: one line, pipes and backslashes
// escaped, HTML-significant characters written as entities so a console line can never
// open a tag or a link on a rendered page.
func MarkdownCell(s string, max int) string {
	s = OneLine(s, max)
	r := strings.NewReplacer(`\`, `\\`, `|`, `\|`, `<`, `&lt;`, `>`, `&gt;`, `&`, `&amp;`,
		"`", "\\`", `[`, `\[`, `]`, `\]`, `*`, `\*`, `_`, `\_`)
	return r.Replace(s)
}
