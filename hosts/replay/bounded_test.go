package replay

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/internal/testfiles"
)

// A transcript that is not a regular file (a FIFO, /dev/zero) is refused at once as a lab
// failure naming the problem, never a hang or an endless read (issue 14 item 2).
func TestOpenRefusesNonRegularTranscripts(t *testing.T) {
	fifo := testfiles.FIFO(t, filepath.Join(t.TempDir(), "boot.log"))
	for path, want := range map[string]string{fifo: "is a FIFO, not a regular file", "/dev/zero": "is a character device, not a regular file"} {
		_, err := Open(path, DefaultOptions())
		if err == nil || !strings.Contains(err.Error(), want) || !hosts.IsInfra(err) {
			t.Errorf("%s: got %v, want an INFRA error with %q", path, err, want)
		}
	}
}
