// Package testfiles makes the files the bounded-input tests hand the harness: a small
// regular one, and the hostile ones, a FIFO without a writer (whose open would block a
// reader for good) and a sparse file far over a size limit (nothing written, so it costs
// no disk). Test-only (internal/layers
// testOnly); it sits in internal/ so every layer's tests may import it.
package testfiles

import (
	"os"
	"syscall"
	"testing"
)

// Write writes content to the file at path and returns path; the test fails when it cannot.
func Write(t testing.TB, path, content string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

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
