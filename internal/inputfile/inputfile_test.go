package inputfile

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/testfiles"
)

func TestReadFileBounds(t *testing.T) {
	dir := t.TempDir()
	small := testfiles.Write(t, filepath.Join(dir, "small"), "0123456789")
	if b, err := ReadFile(small, 10, "a test file"); err != nil || string(b) != "0123456789" {
		t.Fatalf("at the limit: %q %v", b, err)
	}
	var tl *TooLargeError
	if _, err := ReadFile(small, 9, "a test file"); !errors.As(err, &tl) || !strings.Contains(err.Error(), "larger than the 9-byte limit for a test file") {
		t.Fatalf("over the limit: %v", err)
	}
	fifo := testfiles.FIFO(t, filepath.Join(dir, "fifo"))
	var nr *NotRegularError
	for _, p := range []string{fifo, "/dev/zero", "/dev/null", dir} {
		if _, err := ReadFile(p, 1<<20, "a test file"); !errors.As(err, &nr) || !IsBoundsError(err) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if _, err := Open(filepath.Join(dir, "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}
