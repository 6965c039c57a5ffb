// Package testfiles makes the hostile files the bounded-input tests hand the harness: a
// FIFO without a writer (whose open would block a reader for good) and a sparse file far
// over a size limit (nothing written, so it costs no disk). Test-only (internal/layers
// testOnly); it sits in internal/ so every layer's tests may import it.
package testfiles

import (
	"os"
	"syscall"
	"testing"
)

// FIFO makes a named pipe at path and returns path; the test fails when the system
// cannot make one.
func FIFO(t testing.TB, path string) string {
	t.Helper()
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// Sparse makes a file of size bytes at path without writing them and returns path.
func Sparse(t testing.TB, path string, size int64) string {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		t.Fatal(err)
	}
	return path
}
