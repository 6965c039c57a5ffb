package text

import (
	"encoding/xml"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain text\n", "plain text\n"},
		{"\x1b[1;31mred\x1b[0m", "red"},
		{"\x1b]0;title\x07after", "after"},
		{"a\r\nb\rc", "a\nb\nc"},
		{"nul\x00 bel\x07 del\x7f", `nul\x00 bel\x07 del\x7f`},
		{"bad \xff\xfe utf8 \xc3(", `bad \xff\xfe utf8 \xc3(`},
		{"ok é ü 日本 \U0001F600", "ok é ü 日本 \U0001F600"},
		{"\uFFFE\uFFFF\uFFFD", `\uFFFE\uFFFF` + "\uFFFD"},
		{"tab\tkept", "tab\tkept"},
		{"trailing esc \x1b", "trailing esc "},
		{"\x1b[", ""},
	} {
		if got := Clean(tc.in); got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOneLineAndMarkdown(t *testing.T) {
	if got := OneLine("a\n\n b\t c", 0); got != "a b c" {
		t.Errorf("OneLine = %q", got)
	}
	if got := OneLine(strings.Repeat("x", 20), 10); got != "xxxxxxxxx…" {
		t.Errorf("OneLine cut = %q", got)
	}
	if got := MarkdownCell("a|b <i>[x](y)</i>", 0); got != `a\|b &lt;i&gt;\[x\](y)&lt;/i&gt;` {
		t.Errorf("MarkdownCell = %q", got)
	}
}

// FuzzClean: the output is valid UTF-8 with only XML 1.0 characters and no ESC.
func FuzzClean(f *testing.F) {
	f.Add("\x1b[31mred\x00\xff\r\n")
	f.Add("\x1b]8;;http://x\x1b\\link")
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if !utf8.ValidString(c) {
			t.Fatalf("invalid UTF-8 from %q: %q", s, c)
		}
		for _, r := range c {
			if !(r == 0x09 || r == 0x0A || r >= 0x20 && r <= 0xD7FF || r >= 0xE000 && r <= 0xFFFD || r >= 0x10000 && r <= 0x10FFFF) || r == 0x1b || r == 0x7f {
				t.Fatalf("character %U in Clean(%q)", r, s)
			}
		}
		var b strings.Builder
		if err := xml.EscapeText(&b, []byte(c)); err != nil {
			t.Fatal(err)
		}
		if Clean(c) != c {
			t.Fatalf("Clean is not idempotent on %q", c)
		}
	})
}
