package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// One ser2net console under two host names is bad input: `run` refuses the matrix with exit
// 2 and the place of the second host, before any job starts.
func TestRunRefusesTwoHostsOnOneConsole(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "img"), nil, 0o644)
	matrix := filepath.Join(dir, "lab.yaml")
	os.WriteFile(matrix, []byte(`images: [{name: img, arch: x86_64, path: img}]
hosts:
  - {name: board, kind: serial, arch: x86_64, options: {address: "localhost:3001"}}
  - {name: board-old-name, kind: serial, arch: x86_64, options: {address: "127.0.0.1:3001"}}
suites: [{name: boot}]
`), 0o644)
	_, stderr, code := cli(t, "run", "-matrix", matrix, "-out", filepath.Join(dir, "run"))
	if code != 2 || !strings.Contains(stderr, "lab.yaml:4:") || !strings.Contains(stderr, "tcp:127.0.0.1:3001") {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
}
