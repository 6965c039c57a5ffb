package secrets

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html"
	"math/rand"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
)

// The four ways a password reached artifacts whole (issue 14 item 1): plain; with " and \
// (quoted by %q in an error message, or escaped by JSON/XML/HTML); split by a colour escape
// as a console prints it; and quoted in an error. None survives redaction, whole or in the
// console's normalised form.
func TestRedactEncodingsAndANSISplit(t *testing.T) {
	plain, special, split := "hunter2-S3cr3t", `pa"ss\w<o>rd&'x`, "hunter2-S3cr3t"
	r := New(plain, special)
	for _, text := range []string{
		"password: " + plain + "\n",
		"password: " + special + "\n",
		"KERNEL PANIC: panicked at 'hunter2-\x1b[1mS3cr3t'\n",                      // ANSI-split
		"hunter2-\x1b[1m\x1b[0;31mS3\r\x00cr3t and hunter2\x1b]0;title\x07-S3cr3t", // several kinds
		fmt.Sprintf("power on: exec %q: exit status 1", "pdu --password "+special),
		fmt.Sprintf("%+q", special),
		string(mustJSON(special)),
		xmlEscape(special),
		htmlEscape(special),
	} {
		got := r.Redact(text)
		norm := console.NormalizeString(got)
		for _, sec := range []string{plain, special, split} {
			for _, enc := range Encodings(sec) {
				if strings.Contains(got, enc) || strings.Contains(norm, enc) {
					t.Errorf("%q: redacted %q still holds %q", text, got, enc)
				}
			}
		}
		if !strings.Contains(got, Mask) {
			t.Errorf("%q: no mask in %q", text, got)
		}
	}
	// Text around a split secret is kept; a colour escape that is not inside one is kept.
	if got := r.Redact("a \x1b[1mbold\x1b[0m hunter2-\x1b[1mS3cr3t!"); got != "a \x1b[1mbold\x1b[0m "+Mask+"!" {
		t.Errorf("got %q", got)
	}
}

// An ANSI-split secret cut anywhere between stream chunks is still redacted.
func TestFilterANSISplitAcrossChunks(t *testing.T) {
	r := New("hunter2-S3cr3t")
	text := "boot \x1b[32mok\x1b[0m pw hunter2-\x1b[1mS3cr\x1b[0;31m3t end hunter2-S3 hunter"
	want := r.Redact(text)
	if strings.Contains(console.NormalizeString(want), "hunter2-S3cr3t") {
		t.Fatalf("whole-text redaction left the secret: %q", want)
	}
	rng := rand.New(rand.NewSource(2))
	for trial := 0; trial < 1000; trial++ {
		if got := streamInChunks(r, text, func(int) int { return 1 + rng.Intn(9) }); got != want {
			t.Fatalf("trial %d: streamed %q, want %q", trial, got, want)
		}
	}
}

func mustJSON(s string) []byte {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err)
	}
	return b
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

func htmlEscape(s string) string { return html.EscapeString(s) }
