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
