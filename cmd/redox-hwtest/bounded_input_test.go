package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/internal/testfiles"
)

// Every input the harness parses is read only if it is a regular file: a device or a FIFO
// (by name, or by a symlink where a run directory's file should be) is a clear error at
// once, never a hang or an endless read (issue 14 item 2).
func TestNonRegularInputsRefused(t *testing.T) {
	dir := t.TempDir()
	fifo := testfiles.FIFO(t, filepath.Join(dir, "fifo"))
	// A baseline run whose run.json is /dev/zero, and one whose job record is a FIFO.
	zeroRun := writeRun(t, filepath.Join(dir, "zero-run"), fakerun.Info(0), fakerun.Records(0))
	os.Remove(filepath.Join(zeroRun, "run.json"))
	if err := os.Symlink("/dev/zero", filepath.Join(zeroRun, "run.json")); err != nil {
		t.Fatal(err)
	}
	fifoRun := writeRun(t, filepath.Join(dir, "fifo-run"), fakerun.Info(1), fakerun.Records(1))
	results, _ := filepath.Glob(filepath.Join(fifoRun, "jobs", "*", "result.json"))
	if len(results) == 0 {
		t.Fatal("no result.json in the fake run")
	}
	os.Remove(results[0])
	testfiles.FIFO(t, results[0])
	good := writeRun(t, filepath.Join(dir, "good-run"), fakerun.Info(2), fakerun.Records(2))

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"analyze", "/dev/zero"}, "/dev/zero is a character device, not a regular file"},
		{[]string{"analyze", "/dev/urandom"}, "/dev/urandom is a character device, not a regular file"},
		{[]string{"analyze", fifo}, "is a FIFO, not a regular file"},
		{[]string{"analyze", dir}, "is a directory, not a regular file"},
		{[]string{"report", "hardware-md", "--upstream", "/dev/zero", good}, "/dev/zero is a character device, not a regular file"},
		{[]string{"report", "hardware-md", "--upstream", fifo, good}, "is a FIFO, not a regular file"},
		{[]string{"gate", "--baseline", zeroRun, "--current", good}, "run.json is a character device, not a regular file"},
		{[]string{"gate", "--baseline", fifoRun, "--current", good}, "result.json is a FIFO, not a regular file"},
		{[]string{"report", "table", fifoRun}, "result.json is a FIFO, not a regular file"},
		{[]string{"abi", "diff", "/dev/zero", "/dev/zero"}, "/dev/zero is a character device, not a regular file"},
	} {
		_, stderr, code := cli(t, c.args...)
		if code != 2 || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 and %q", strings.Join(c.args, " "), code, stderr, c.want)
		}
	}
}

// Upstream's HARDWARE.md over its size limit is refused with the limit named.
func TestHardwareMDSizeLimit(t *testing.T) {
	dir := t.TempDir()
	big := testfiles.Sparse(t, filepath.Join(dir, "HARDWARE.md"), 9<<20)
	good := writeRun(t, filepath.Join(dir, "run"), fakerun.Info(0), fakerun.Records(0))
	_, stderr, code := cli(t, "report", "hardware-md", "--upstream", big, good)
	if code != 2 || !strings.Contains(stderr, "larger than the 8 MiB limit for upstream's HARDWARE.md") {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
}
