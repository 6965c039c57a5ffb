package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A typo in a host's options or features is bad input (exit 2, the message at
// file:line:col) before any job starts, not an INFRA verdict at boot time: the host kinds'
// validators and the feature table run when the matrix loads.
func TestRunOptionsTypoIsBadInput(t *testing.T) {
	for _, c := range []struct{ name, host, want string }{
		{"option", "options: {disk_buss: nvme}", `hw.yaml:4:63: unknown key "disk_buss"`},
		{"feature", "features: [redoxer-exti]", `hw.yaml:4:64: unknown feature "redoxer-exti" (did you mean "redoxer-exit"?`},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "hw.yaml")
			y := `images:
  - {name: i, arch: x86_64, path: disk.img}
hosts:
  - {name: q, kind: qemu, arch: x86_64, accel: tcg, ` + c.host + `}
suites:
  - {name: boot}
`
			if err := os.WriteFile(path, []byte(y), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "disk.img"), make([]byte, 512), 0o644); err != nil {
				t.Fatal(err)
			}
			var got int
			stderr := captureStderr(t, func() {
				got = runMain([]string{"-matrix", path, "-out", filepath.Join(dir, "out")})
			})
			if got != 2 {
				t.Fatalf("exit %d, want 2", got)
			}
			if !strings.Contains(stderr, c.want) {
				t.Errorf("stderr %q does not say %q", stderr, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
				t.Error("a run directory was created for a matrix that does not load")
			}
		})
	}
}

// captureStderr runs f with os.Stderr sent to a pipe and returns what f wrote there.
func captureStderr(t *testing.T, f func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	old := os.Stderr
	os.Stderr = w
	done := make(chan string)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 1<<20))
		io.Copy(io.Discard, r)
		done <- string(b)
	}()
	defer func() { os.Stderr = old }()
	f()
	w.Close()
	os.Stderr = old
	return <-done
}
