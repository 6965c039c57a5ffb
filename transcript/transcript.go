// Package transcript owns the on-disk form of a console transcript: the raw byte log (with
// an optional leading "# " comment header, as annotated transcripts have) and its ".times"
// file beside it (when each read arrived, what the harness sent, its notes).
//
// The live console (harness/engine/console) writes both files; the replay host (hosts/replay) and
// offline analysis (harness/engine/classify) read them. One owner keeps writer and readers of the
// format in step. It imports nothing of this module, so the host layer can read it without
// importing the harness.
package transcript

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// TimesSuffix names the times file beside a transcript: <transcript> + TimesSuffix.
const TimesSuffix = ".times"

// TimesPath is the times file of the transcript at path.
func TimesPath(path string) string { return path + TimesSuffix }

// IsHeaderLine reports whether a raw line (with or without its line break) is a comment
// of a transcript's leading header: "# ..." or a bare "#".
func IsHeaderLine(line []byte) bool {
	line = bytes.TrimRight(line, "\r\n")
	return len(line) == 1 && line[0] == '#' || bytes.HasPrefix(line, []byte("# "))
}

// SplitHeader splits a transcript into its leading comment header (the lines starting
// with "# " that annotated transcripts begin with) and the console bytes after it.
func SplitHeader(b []byte) (header, body []byte, lines int) {
	off := 0
	for off < len(b) {
		end := bytes.IndexByte(b[off:], '\n')
		if end < 0 {
			end = len(b)
		} else {
			end += off + 1
		}
		if !IsHeaderLine(b[off:end]) {
			break
		}
		off = end
		lines++
	}
	return b[:off], b[off:], lines
}

// The times file, line by line:
//
//	# <comment>                       the header (timesHeader)
//	<raw byte offset> <unix ns>       one read: where its bytes begin in the transcript, when
//	> <unix ns> <Go-quoted text>      input the harness sent
//	! <unix ns> <Go-quoted text>      a harness note (a dropped line, a power cycle, the end)
const timesHeader = "# redox-hwtest transcript times: <raw byte offset> <unix ns> per read; '> <unix ns> <quoted>' for input sent; '! <unix ns> <quoted>' for notes\n"

// Marks of the times file's non-read lines.
const (
	MarkInput byte = '>'
	MarkNote  byte = '!'
)

// WriteTimesHeader starts a times file: the header and time zero (the console opening).
func WriteTimesHeader(w io.Writer, opened time.Time) {
	io.WriteString(w, timesHeader)
	WriteRead(w, 0, opened)
}

// WriteRead records a read whose bytes begin at raw offset off.
func WriteRead(w io.Writer, off int64, at time.Time) {
	fmt.Fprintf(w, "%d %d\n", off, at.UnixNano())
}

// WriteMark records input sent (MarkInput) or a note (MarkNote).
func WriteMark(w io.Writer, kind byte, at time.Time, text string) {
	fmt.Fprintf(w, "%c %d %s\n", kind, at.UnixNano(), strconv.Quote(text))
}

// Read is one read recorded in a times file: the raw offset where its bytes began and
// when they arrived (unix ns).
type Read struct {
	Off int64
	NS  int64
}

// ParseTimes reads a times file's reads; input and note lines are skipped. Offsets and
// times must not go backwards, and there must be at least one read.
func ParseTimes(b []byte) ([]Read, error) {
	var es []Read
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == MarkInput || line[0] == MarkNote {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("line %d: want \"<offset> <unix ns>\", got %q", n, line)
		}
		off, err1 := strconv.ParseInt(f[0], 10, 64)
		ns, err2 := strconv.ParseInt(f[1], 10, 64)
		if err1 != nil || err2 != nil || off < 0 {
			return nil, fmt.Errorf("line %d: want \"<offset> <unix ns>\", got %q", n, line)
		}
		if len(es) > 0 {
			last := es[len(es)-1]
			if off < last.Off {
				return nil, fmt.Errorf("line %d: offset %d goes backwards (after %d)", n, off, last.Off)
			}
			if ns < last.NS {
				return nil, fmt.Errorf("line %d: time goes backwards", n)
			}
		}
		es = append(es, Read{off, ns})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(es) == 0 {
		return nil, fmt.Errorf("no timing entries")
	}
	return es, nil
}
