package console

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// chunks is a stream that returns the given reads one by one, then EOF: the read sizes
// (which decide the times file) are then exact, whatever the machine's load.
type chunks struct{ c [][]byte }

func (s *chunks) Read(p []byte) (int, error) {
	if len(s.c) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.c[0])
	if n == len(s.c[0]) {
		s.c = s.c[1:]
	} else {
		s.c[0] = s.c[0][n:]
	}
	return n, nil
}
func (s *chunks) Write(p []byte) (int, error) { return len(p), nil }
func (s *chunks) Close() error                { return nil }

func capture(t *testing.T, opts Options, reads [][]byte) (log, times []byte, dropped int64) {
	t.Helper()
	opts.Transcript = filepath.Join(t.TempDir(), "transcript.log")
	c, err := Open(&chunks{c: reads}, opts)
	if err != nil {
		t.Fatal(err)
	}
	<-c.Done()
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	log, _ = os.ReadFile(opts.Transcript)
	times, _ = os.ReadFile(transcript.TimesPath(opts.Transcript))
	return log, times, c.TranscriptDropped()
}

// A flood keeps the first and the last bytes with a marker naming what was dropped; the
// times file's reads point into the file as written.
func TestTranscriptCapKeepsHeadAndTail(t *testing.T) {
	var all bytes.Buffer
	var reads [][]byte
	for i := 0; i < 5000; i++ {
		l := []byte(fmt.Sprintf("FX-FLOOD line %05d the quick brown fox\n", i))
		all.Write(l)
		reads = append(reads, l)
	}
	log, times, dropped := capture(t, Options{TranscriptHead: 10000, TranscriptTail: 5000}, reads)
	if !bytes.HasPrefix(log, all.Bytes()[:10000]) || !bytes.HasSuffix(log, all.Bytes()[all.Len()-5000:]) {
		t.Fatalf("head or tail not kept")
	}
	want := int64(all.Len() - 15000)
	marker := fmt.Sprintf("[redox-hwtest: %d bytes of console output dropped here; the transcript keeps the first 10000 and the last 5000 bytes]", want)
	if dropped != want || !bytes.Contains(log, []byte(marker)) || len(log) != 15000+len(marker)+2 {
		t.Fatalf("dropped %d (want %d), %d bytes, marker present %v", dropped, want, len(log), bytes.Contains(log, []byte(marker)))
	}
	es, err := transcript.ParseTimes(times)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Off > int64(len(log)) {
			t.Fatalf("read at %d past the end of a %d-byte transcript", e.Off, len(log))
		}
	}
	if last := es[len(es)-1].Off; !bytes.HasPrefix(log[last:], []byte("FX-FLOOD line 04999")) {
		t.Fatalf("last read points at %q", log[last:min(int64(len(log)), last+30)])
	}
	if !strings.Contains(string(times), "transcript cut") {
		t.Fatal("the times file has no note of the cut")
	}
}

// A flood of one-byte reads: the times file's read lines never take more than the
// allowance and half as many bytes as the text they time (one line per read would be ~20x
// the transcript).
func TestTimesNoLargerThanTheText(t *testing.T) {
	var reads [][]byte
	for i := 0; i < 200000; i++ {
		reads = append(reads, []byte{"abc\n"[i%4]})
	}
	log, times, dropped := capture(t, Options{}, reads)
	if dropped != 0 || len(log) != 200000 {
		t.Fatalf("%d bytes, %d dropped", len(log), dropped)
	}
	readLines := 0
	for _, l := range strings.Split(string(times), "\n") {
		if l != "" && l[0] >= '0' && l[0] <= '9' {
			readLines += len(l) + 1
		}
	}
	if readLines > len(log)/2+timesAllowance+64 || readLines < len(log)/8 {
		t.Fatalf("%d bytes of read lines for %d bytes of text", readLines, len(log))
	}
}

// Under the caps nothing changes: the whole output, no marker.
func TestTranscriptUnderTheCapsIsWhole(t *testing.T) {
	reads := [][]byte{[]byte("one\n"), []byte("two\n"), bytes.Repeat([]byte("x"), 3000)}
	log, _, dropped := capture(t, Options{TranscriptHead: 2000, TranscriptTail: 5000}, reads)
	if dropped != 0 || string(log) != "one\ntwo\n"+strings.Repeat("x", 3000) {
		t.Fatalf("%d dropped, %d bytes", dropped, len(log))
	}
}
