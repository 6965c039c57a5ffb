package record

import (
	"os"
	"path/filepath"
	"testing"
)

// A run directory written before shared boots (format 1) still loads: its records become
// format 2 records whose suite had a boot of its own.
func TestReadRunFormat1(t *testing.T) {
	dir := t.TempDir()
	job := filepath.Join(dir, JobsDir, JobDirName("img@host/boot"))
	if err := os.MkdirAll(job, 0o755); err != nil {
		t.Fatal(err)
	}
	// Verbatim shape of a format 1 result.json.
	old := `{"format": 1, "job": "img@host/boot", "suite": "boot",
  "image": {"name": "img", "arch": "x86_64"}, "host": {"name": "host", "kind": "qemu", "arch": "x86_64"},
  "started": "2026-11-01T10:00:00Z", "finished": "2026-11-01T10:00:30Z",
  "checks": [{"name": "boot/login", "verdict": "PASS"}],
  "artifacts": {"transcript": "transcript.log"}, "attempts": 1}`
	if err := os.WriteFile(filepath.Join(job, ResultFile), []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	r := recs[0]
	if r.Format != FormatVersion || r.Boot == nil || r.Boot.Dir != JobDirName("img@host/boot") || r.Checks[0].Verdict != Pass {
		t.Errorf("upgraded record: %+v boot %+v", r, r.Boot)
	}
	// A format from the future is refused with both versions named.
	if err := os.WriteFile(filepath.Join(job, ResultFile), []byte(`{"format": 99, "job": "x"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadRun(dir); err == nil {
		t.Error("format 99 loaded")
	}
}
