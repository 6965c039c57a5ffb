package site

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/record"
)

// A downloaded image shows the exact file and (the start of) its digest on the page.
func TestImageFactsNameTheFileTested(t *testing.T) {
	f := imageFacts(record.Image{Version: "0.9.0-123-g1a2b3c4", Date: "2026-12-04", Variant: "desktop",
		File: "redox_desktop_0.9.0-123-g1a2b3c4_harddrive.img.zst", SHA256: strings.Repeat("ab", 32)})
	for _, want := range []string{"0.9.0-123-g1a2b3c4", "2026-12-04", "redox_desktop_0.9.0-123-g1a2b3c4_harddrive.img.zst", "sha256 abababababab"} {
		if !strings.Contains(f, want) {
			t.Errorf("%q lacks %q", f, want)
		}
	}
}
