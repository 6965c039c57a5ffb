package tables

import (
	"os"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
)

func TestMarkdownEscapesConsole(t *testing.T) {
	var b strings.Builder
	if err := Markdown(&b, fakerun.Records(0), Options{JUnit: "junit.xml"}); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if os.Getenv("TABLES_DUMP") != "" {
		os.Stdout.WriteString(out)
	}
	if strings.Contains(out, "<script>") {
		t.Error("raw <script> in the Markdown table")
	}
	if strings.ContainsAny(out, "\x00\x07\x1b") {
		t.Error("control characters in the Markdown table")
	}
	for _, want := range []string{"## redox-0.9.0-desktop-uefi", "optiplex (Dell OptiPlex 7010)", "[⏳](jobs/redox-0.9.0-desktop-uefi_at_optiplex__drivers/transcript.log \"HANG\")", "[JUnit](junit.xml)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q", want)
		}
	}
	// every table row has as many cells as its header
	var header int
	for _, l := range strings.Split(out, "\n") {
		if !strings.HasPrefix(l, "|") {
			header = 0
			continue
		}
		n := strings.Count(strings.ReplaceAll(l, `\|`, ""), "|")
		if header == 0 {
			header = n
		} else if n != header {
			t.Errorf("row has %d pipes, header %d: %s", n, header, l)
		}
	}
}
