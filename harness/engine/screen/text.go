package screen

import (
	"strings"
	"unicode"
)

// Fold is the form OCR text and screen phrases are compared in: lower case, every run of
// characters that are not letters or digits one space, padded with a space at each end (so
// a phrase matches whole words only).
func Fold(s string) string {
	var b strings.Builder
	b.WriteByte(' ')
	space := true
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	if !space {
		b.WriteByte(' ')
	}
	return b.String()
}

// HasPhrase reports whether the phrase is in the text, both folded.
func HasPhrase(text, phrase string) bool {
	p := Fold(phrase)
	if strings.TrimSpace(p) == "" {
		return false
	}
	return strings.Contains(Fold(text), p)
}

// HasPhraseNear is HasPhrase allowing up to maxEdits characters inserted, dropped or
// changed (both folded): for checking text just typed into a loader, whose characters OCR
// may misread one by one (1 and l, v and u) where a whole phrase of words would not be.
func HasPhraseNear(text, phrase string, maxEdits int) bool {
	p := []rune(strings.TrimSpace(Fold(phrase)))
	if len(p) == 0 {
		return false
	}
	t := []rune(Fold(text))
	// Approximate substring matching (Sellers): row j holds the fewest edits turning
	// p[:j] into some substring of t ending here.
	prev := make([]int, len(p)+1)
	cur := make([]int, len(p)+1)
	for j := range prev {
		prev[j] = j
	}
	if prev[len(p)] <= maxEdits {
		return true
	}
	for _, c := range t {
		cur[0] = 0
		for j := 1; j <= len(p); j++ {
			cost := 1
			if p[j-1] == c {
				cost = 0
			}
			cur[j] = min(prev[j-1]+cost, prev[j]+1, cur[j-1]+1)
		}
		if cur[len(p)] <= maxEdits {
			return true
		}
		prev, cur = cur, prev
	}
	return false
}
