package console

import (
	"math/rand"
	"strings"
	"testing"
)

// naiveFirst is the obvious quadratic reference: the earliest end position of any pattern.
func naiveFirst(text string, pats []string) (end, pat int) {
	for e := 1; e <= len(text); e++ {
		for i, p := range pats {
			if p != "" && strings.HasSuffix(text[:e], p) {
				return e, i
			}
		}
	}
	return -1, -1
}

func TestMatcherAgreesWithNaiveAcrossChunkSplits(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	alpha := "abc\n"
	for iter := 0; iter < 2000; iter++ {
		var pats []string
		for i := 0; i < 1+r.Intn(5); i++ {
			n := 1 + r.Intn(4)
			var b strings.Builder
			for j := 0; j < n; j++ {
				b.WriteByte(alpha[r.Intn(len(alpha))])
			}
			pats = append(pats, b.String())
		}
		var tb strings.Builder
		for j := 0; j < r.Intn(40); j++ {
			tb.WriteByte(alpha[r.Intn(len(alpha))])
		}
		text := tb.String()
		wantEnd, wantPat := naiveFirst(text, pats)
		// Feed in random chunks.
		sc := NewMatcher(pats...).Scanner()
		gotEnd, gotPat, off := -1, -1, 0
		rest := text
		for len(rest) > 0 {
			n := 1 + r.Intn(len(rest))
			e, p := sc.Scan([]byte(rest[:n]))
			if e >= 0 {
				gotEnd, gotPat = off+e, p
				break
			}
			off += n
			rest = rest[n:]
		}
		if gotEnd != wantEnd || (gotEnd >= 0 && pats[gotPat] != pats[wantPat] && !strings.HasSuffix(text[:gotEnd], pats[gotPat])) {
			t.Fatalf("text %q pats %q: got (%d,%d) want (%d,%d)", text, pats, gotEnd, gotPat, wantEnd, wantPat)
		}
	}
}

func TestNormalizer(t *testing.T) {
	cases := map[string]string{
		"plain\n":                     "plain\n",
		"ovmf\r\r\nline\r\n":          "ovmf\nline\n",
		"\x1b[1;32mINFO\x1b[0m msg\n": "INFO msg\n",
		"nul\x00byte\n":               "nulbyte\n",
		"fx# \x1b[6n":                 "fx# ",
		"title\x1b]0;term\x07text":    "titletext",
		"bad\xff\xfeutf8\n":           "bad\xff\xfeutf8\n",
		"broken\x1b[12\nnext":         "broken\nnext",
		"two-byte\x1bcreset":          "two-bytereset",
		"osc-st\x1b]2;x\x1b\\after":   "osc-stafter",
	}
	for in, want := range cases {
		// Every split point must give the same result.
		for cut := 0; cut <= len(in); cut++ {
			var n Normalizer
			got := string(n.Append(n.Append(nil, []byte(in[:cut])), []byte(in[cut:])))
			if got != want {
				t.Errorf("normalize %q split at %d = %q, want %q", in, cut, got, want)
			}
		}
	}
}
