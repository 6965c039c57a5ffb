package hardwaremd

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics; whatever it accepts it writes back byte for byte; a
// merged row lands in its section and the result parses again with the row well-formed.
func FuzzParse(f *testing.F) {
	if data, err := os.ReadFile(fixture); err == nil {
		f.Add(data)
	}
	f.Add([]byte("## Recommended\n\n" + HeaderLine + "\n" + SeparatorLine + "\n| a | b |\n## Booting\n## Broken\n| x |"))
	f.Add([]byte("## Recommended\r\n" + HeaderLine + "\r\n\r\n## Booting\n```\n## Broken\n```\n## Broken\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := Parse(data)
		if err != nil {
			return
		}
		if got := d.Bytes(); !bytes.Equal(got, data) {
			t.Fatalf("round trip changed the input:\n%q\n%q", data, got)
		}
		for _, p := range d.Problems {
			_ = p.String()
		}
		row := Row{"Zz|Vendor", "M\\odel", "0.9.0", "2026-01-02", "desktop", "x86-64", "UEFI", Cell("report | <b>\x00")}
		row.Vendor = Cell(row.Vendor)
		row.Model = Cell(row.Model)
		if _, err := d.Merge([]Entry{{Status: Booting, Row: row}}); err != nil {
			if !strings.Contains(err.Error(), "header") {
				t.Fatal(err)
			}
			return
		}
		out := d.Bytes()
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("merged output does not parse: %v\n%q", err, out)
		}
		found := false
		for _, ln := range d2.Rows(Booting) {
			if ln.OK && ln.Row == row {
				found = true
			}
		}
		if !found {
			t.Fatalf("merged row not found in Booting:\n%q", out)
		}
	})
}
