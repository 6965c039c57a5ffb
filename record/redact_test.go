package record

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/record/redact"
)

// Every string of a record written passes through the process-wide redaction: event titles
// and components, check messages and excerpts, lists, map keys and values. Nothing but
// record/redact is linked here (record's own test binary): the writer redacts by
// construction, not because hosts/secrets happens to be linked.
func TestWriteRedactsEveryString(t *testing.T) {
	redact.Register("S3cr3t")
	r := &Record{Job: "img@host/boot", Suite: "boot",
		Host:      Host{Name: "host", Devices: []string{"nvme", "S3cr3t"}},
		Checks:    []Check{{Name: "boot/no-crash", Verdict: Crash, Message: "S3cr3t", Title: "panic: S3cr3t", Component: "S3cr3t", Excerpt: "..S3cr3t.."}},
		Events:    []Event{{Kind: "panic", Component: "pdud S3cr3t", Title: "auth S3cr3t"}},
		Artifacts: map[string]string{"driver-log:S3cr3t": "logs/S3cr3t.log"}}
	dir, err := Write(t.TempDir(), r)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, ResultFile))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "S3cr3t") || strings.Count(string(b), "[REDACTED]") != 9 {
		t.Errorf("result.json:\n%s", b)
	}
}
