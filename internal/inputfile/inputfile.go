// Package inputfile opens and reads the files the harness parses (a matrix, a run's
// records, a gate baseline, an ABI baseline, upstream's HARDWARE.md, a log for `analyze`)
// within bounds, so hostile or mistaken input fails fast with a clear error instead of
// hanging or exhausting memory: only a regular file is read (not /dev/zero, /dev/urandom,
// a FIFO or a terminal), and a read-whole-file input has a size limit checked before and
// while reading. It imports nothing of the module, so every layer may use it.
package inputfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// Limits of the inputs read whole. Each is far above any real file of its kind (the
// default matrix is ~10 kB, a job's result.json a few kB, upstream HARDWARE.md ~30 kB).
const (
	MatrixLimit     = 1 << 20  // a matrix file
	RecordLimit     = 16 << 20 // one result.json / run.json
	HardwareMDLimit = 8 << 20  // upstream's HARDWARE.md
	BaselineLimit   = 64 << 20 // an ABI baseline (JSON)
	TranscriptLimit = 1 << 30  // a transcript the replay host holds in memory
	TimesLimit      = 1 << 30  // a transcript's .times file (the harness writes at most half its transcript)
	ExpectLimit     = 16 << 20 // a guest command's expected output (compared in memory)
)

// Check refuses, without opening it (a FIFO's open blocks until a writer comes), a path
// that is not a regular file once symlinks are followed (/dev/zero, a FIFO, a directory),
// and, when limit > 0, one larger than limit. It is how a matrix's file names are checked
// when it loads, so a bad file is bad input at its place in the matrix.
func Check(path string, limit int64, what string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return &NotRegularError{Path: path, Mode: st.Mode()}
	}
	if limit > 0 && st.Size() > limit {
		return &TooLargeError{Path: path, What: what, Limit: limit}
	}
	return nil
}

// NotRegularError is the error for a path that is not a regular file.
type NotRegularError struct {
	Path string
	Mode fs.FileMode
}

func (e *NotRegularError) Error() string {
	return fmt.Sprintf("%s is %s, not a regular file (only regular files are read)", e.Path, describe(e.Mode))
}

// TooLargeError is the error for a file over its limit.
type TooLargeError struct {
	Path  string
	What  string
	Limit int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is larger than the %s limit for %s", e.Path, size(e.Limit), e.What)
}

func describe(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

func size(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d-byte", n)
}

// Open opens path for reading if it is a regular file. The open itself does not block on
// a FIFO with no writer (O_NONBLOCK; it has no effect on a regular file).
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !st.Mode().IsRegular() {
		f.Close()
		return nil, &NotRegularError{Path: path, Mode: st.Mode()}
	}
	return f, nil
}

// ReadFile reads a regular file of at most limit bytes; what names the kind of input in
// the error ("a matrix file").
func ReadFile(path string, limit int64, what string) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err == nil && st.Size() > limit {
		return nil, &TooLargeError{Path: path, What: what, Limit: limit}
	}
	// The file may grow after the stat: read one byte past the limit to notice.
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, &TooLargeError{Path: path, What: what, Limit: limit}
	}
	return data, nil
}

// IsBoundsError reports whether err is one of this package's refusals.
func IsBoundsError(err error) bool {
	var nr *NotRegularError
	var tl *TooLargeError
	return errors.As(err, &nr) || errors.As(err, &tl)
}
