package classify

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// MaxLineLen is where offline analysis cuts a line that never ends (the console's line
// reader does the same live), so memory stays bounded on any input.
const MaxLineLen = 4096

// Input describes what an offline analysis read.
type Input struct {
	HeaderLines int   // leading "# " comment lines skipped
	Lines       int   // lines analysed after the header
	Bytes       int64 // raw bytes after the header
}

// Analyze reads a whole transcript and finishes the analysis (a log that stops before
// login ends in a hang event). Leading "# " comment lines are skipped but counted, so
// line numbers are the file's; the rest is normalised as the console does (ANSI escapes,
// CR and NUL removed) and cut into lines of at most MaxLineLen bytes.
func Analyze(r io.Reader, p *profile.Profile) (Analysis, Input, error) {
	an := New(p)
	in, err := FeedReader(an, r)
	if err != nil {
		return Analysis{}, in, err
	}
	return an.Finish(), in, nil
}

// FeedReader feeds a transcript's lines to an analyzer (see Analyze) without finishing.
func FeedReader(an *Analyzer, r io.Reader) (Input, error) {
	return FeedReaderFunc(r, func(l Line) { an.Feed(l) })
}

// FeedReaderFunc is FeedReader with each line handed to feed (an analyzer and whatever
// else reads the same transcript, such as the device inventory).
func FeedReaderFunc(r io.Reader, feed func(Line)) (Input, error) {
	var in Input
	br := bufio.NewReaderSize(r, 64<<10)

	var (
		norm    console.Normalizer
		out     []byte
		partial = make([]byte, 0, MaxLineLen)
		n       int
	)
	emit := func() {
		n++
		in.Lines++
		feed(Line{N: n, Text: string(partial)})
		partial = partial[:0]
	}
	body := func(raw []byte) {
		in.Bytes += int64(len(raw))
		out = norm.Append(out[:0], raw)
		for len(out) > 0 {
			i := bytes.IndexByte(out, '\n')
			end := i
			if i < 0 {
				end = len(out)
			}
			seg := out[:end]
			for len(seg) > 0 {
				if len(partial) == MaxLineLen {
					emit()
				}
				take := min(len(seg), MaxLineLen-len(partial))
				partial = append(partial, seg[:take]...)
				seg = seg[take:]
			}
			if i < 0 {
				break
			}
			emit()
			out = out[i+1:]
		}
	}

	// The header: whole raw lines, read until the first one that is not a comment.
	inHeader, skipping := true, false
	for inHeader {
		line, err := br.ReadSlice('\n')
		switch {
		case skipping:
			// The rest of an over-long header line.
		case len(line) > 0 && transcript.IsHeaderLine(line[:min(len(line), 2)]) && (len(line) > 1 || err != nil):
			in.HeaderLines++
		case len(line) > 0:
			inHeader = false
			n = in.HeaderLines
			body(line)
		}
		skipping = errors.Is(err, bufio.ErrBufferFull) && inHeader
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			if errors.Is(err, io.EOF) {
				if len(partial) > 0 {
					emit()
				}
				return in, nil
			}
			return in, err
		}
	}
	buf := make([]byte, 64<<10)
	for {
		k, err := br.Read(buf)
		if k > 0 {
			body(buf[:k])
		}
		if err != nil {
			if len(partial) > 0 {
				emit()
			}
			if errors.Is(err, io.EOF) {
				return in, nil
			}
			return in, err
		}
	}
}
