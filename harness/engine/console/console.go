// Package console is the one reader of a serial stream. From the moment a stream is opened
// it is drained by a single goroutine that appends every raw byte, with its arrival time, to
// a transcript on disk (the artifact, which survives a crash of the harness) and the
// normalised text to a bounded in-memory window. Everything else (expect-style matching,
// the line feed of the stage machine, the silence watchdog) reads that window through its own
// cursor, so nothing ever waits on the reader and a console is never left undrained.
package console

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// ErrClosed is returned once the stream has ended (EOF, VM died, socket closed) and no
// further match is possible. Callers turn it into an INFRA verdict unless the log explains it.
var ErrClosed = errors.New("console stream closed")

// Options configure a console.
type Options struct {
	// Transcript is the raw byte log; its arrival times go to Transcript + ".times".
	// Empty means no transcript (benchmarks, tests).
	Transcript string
	// Window bounds the normalised text kept in memory (default 1 MiB).
	Window int
	// CharDelay paces Send for slow UARTs (0: write whole strings).
	CharDelay time.Duration
	// Filter, when set, rewrites raw bytes before they reach the transcript (secret redaction).
	Filter func([]byte) []byte
	// ReadSize is the read buffer size (default 64 KiB).
	ReadSize int
	// TranscriptHead and TranscriptTail cap the transcript on disk: the first and the
	// last bytes kept, what came between them dropped with a marker (defaults
	// DefaultTranscriptHead, DefaultTranscriptTail; see cappedLog).
	TranscriptHead, TranscriptTail int64
}

// Console owns a stream. Its methods are safe for concurrent use.
type Console struct {
	rw   io.ReadWriteCloser
	opts Options

	tf     *os.File
	timesF *os.File

	// The transcript is written by its own goroutine (writeLoop), never by the reader: a
	// write to a disk busy with other jobs' fsyncs can stall for seconds, and a reader
	// stalled that long sees the machine as silent (a false HANG) while the kernel's socket
	// buffer fills. The reader appends to pending (and ptimes) and wakes the writer; only
	// when maxPending bytes are waiting does it wait for the disk (nothing is dropped).
	pmu      sync.Mutex
	pdrained *sync.Cond // the writer took what was pending
	pending  []byte
	ptimes   bytes.Buffer
	wake     chan struct{} // cap 1: something is pending
	wdone    chan struct{} // writeLoop ended: every pending byte was written
	capped   *cappedLog    // the transcript's caps (pmu held)

	mu       sync.Mutex
	win      []byte // normalised text; win[0] is at absolute offset base
	base     int64
	total    int64 // absolute offset of the end of win
	rawTotal int64
	textRaw  int64     // raw bytes that read as text (see textBytes)
	last     time.Time // arrival of the last byte
	opened   time.Time
	changed  chan struct{} // closed and replaced on every append
	err      error         // set once the stream ended
	done     chan struct{}

	sendMu sync.Mutex
	tmu    sync.Mutex // guards writeErr and closed
	// writeErr is the first failure to write the transcript (a full disk): the console
	// keeps reading (the boot is still judged from memory), the job is told at Close.
	writeErr error
	closed   bool
	norm     Normalizer
}

// Open starts draining rw at once.
func Open(rw io.ReadWriteCloser, opts Options) (*Console, error) {
	if opts.Window <= 0 {
		opts.Window = 1 << 20
	}
	if opts.ReadSize <= 0 {
		opts.ReadSize = 64 << 10
	}
	c := &Console{rw: rw, opts: opts, changed: make(chan struct{}), done: make(chan struct{})}
	c.opened = time.Now()
	c.last = c.opened
	if opts.Transcript != "" {
		f, err := os.OpenFile(opts.Transcript, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			return nil, fmt.Errorf("console transcript: %w", err)
		}
		tf, err := os.OpenFile(transcript.TimesPath(opts.Transcript), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("console transcript times: %w", err)
		}
		c.tf, c.timesF = f, tf
		c.pdrained = sync.NewCond(&c.pmu)
		c.capped = newCappedLog(opts.TranscriptHead, opts.TranscriptTail)
		c.wake, c.wdone = make(chan struct{}, 1), make(chan struct{})
		transcript.WriteTimesHeader(&c.ptimes, c.opened)
		c.wake <- struct{}{} // the header is on disk at once
		go c.writeLoop()
	}
	go c.readLoop()
	return c, nil
}

// maxPending bounds the transcript bytes read but not yet written (per console).
const maxPending = 256 << 10

// queue hands transcript bytes and times entries to the writer: fill writes them into the
// pending buffers (through the caps, cappedLog). It waits only while maxPending bytes are
// already waiting for the disk.
func (c *Console) queue(fill func(tf, times io.Writer) error) {
	c.pmu.Lock()
	for len(c.pending) >= maxPending && !c.isWriterDone() {
		c.pdrained.Wait()
	}
	err := fill(pendingWriter{c}, &c.ptimes)
	c.pmu.Unlock()
	c.keepWriteErr(err)
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// pendingWriter appends to the transcript bytes waiting for the writer (pmu held).
type pendingWriter struct{ c *Console }

func (w pendingWriter) Write(b []byte) (int, error) {
	w.c.pending = append(w.c.pending, b...)
	return len(b), nil
}

func (c *Console) isWriterDone() bool {
	select {
	case <-c.wdone:
		return true
	default:
		return false
	}
}

// writeLoop writes what the reader queued as soon as it is queued (the file on disk is
// never more than a moment behind the console: it must survive a crash of the harness),
// and everything left once the stream has ended.
func (c *Console) writeLoop() {
	defer close(c.wdone)
	var spare []byte
	var times bytes.Buffer
	for {
		ended := false
		select {
		case <-c.wake:
		case <-c.done:
			ended = true
		}
		c.pmu.Lock()
		data := c.pending
		c.pending = spare[:0]
		times.Reset()
		times.Write(c.ptimes.Bytes())
		c.ptimes.Reset()
		c.pdrained.Broadcast()
		c.pmu.Unlock()
		if times.Len() > 0 {
			_, err := c.timesF.Write(times.Bytes())
			c.keepWriteErr(err)
		}
		if len(data) > 0 {
			_, err := c.tf.Write(data)
			c.keepWriteErr(err)
		}
		spare = data
		if ended {
			return
		}
	}
}

// Opened is when the console started reading (time zero for stage times).
func (c *Console) Opened() time.Time { return c.opened }

func (c *Console) readLoop() {
	buf := make([]byte, c.opts.ReadSize)
	var normBuf []byte
	for {
		n, err := c.rw.Read(buf)
		if n > 0 {
			now := time.Now()
			chunk := buf[:n]
			if c.tf != nil {
				w := chunk
				if c.opts.Filter != nil {
					w = c.opts.Filter(chunk)
				}
				c.queue(func(tf, times io.Writer) error { return c.capped.write(tf, times, w, now) })
			}
			normBuf = c.norm.Append(normBuf[:0], chunk)
			c.append(normBuf, now, int64(n), textBytes(chunk))
		}
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, os.ErrClosed) {
				err = ErrClosed
			} else {
				err = fmt.Errorf("%w: %v", ErrClosed, err)
			}
			c.finish(err)
			return
		}
	}
}

func (c *Console) append(text []byte, now time.Time, raw, textRaw int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.rawTotal += raw
	c.textRaw += textRaw
	c.last = now
	if len(text) > 0 {
		if len(c.win)+len(text) > 2*c.opts.Window {
			// Keep the last Window bytes in a fresh array: readers may still hold slices of
			// the old one, which must stay intact (they scan without the lock).
			keep := c.opts.Window
			if keep > len(c.win) {
				keep = len(c.win)
			}
			nw := make([]byte, keep, 2*c.opts.Window+len(text))
			copy(nw, c.win[len(c.win)-keep:])
			c.base += int64(len(c.win) - keep)
			c.win = nw
		}
		c.win = append(c.win, text...)
		c.total += int64(len(text))
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

func (c *Console) finish(err error) {
	if c.tf != nil {
		at := time.Now()
		c.queue(func(tf, times io.Writer) error {
			werr := c.capped.finish(tf, times, at)
			transcript.WriteMark(times, transcript.MarkNote, at, "end: "+err.Error())
			return werr
		})
	}
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	close(c.done)
}

// Done is closed when the stream has ended.
func (c *Console) Done() <-chan struct{} { return c.done }

// Err is the reason the stream ended, or nil while it is open.
func (c *Console) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// LastOutput is the arrival time of the most recent byte (Opened if none yet).
func (c *Console) LastOutput() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

// Offset is the absolute offset of the end of the normalised text so far; a cursor at
// Offset sees only output that arrives later.
func (c *Console) Offset() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.total
}

// RawBytes is the number of raw bytes read so far.
func (c *Console) RawBytes() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rawTotal
}

// view returns the text from cursor on (moving cursor up if the window dropped it), the
// channel that signals more, and the stream error.
func (c *Console) view(cursor int64) (text []byte, from int64, changed <-chan struct{}, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if cursor < c.base {
		cursor = c.base
	}
	return c.win[cursor-c.base:], cursor, c.changed, c.err
}

// Text returns the normalised text between two absolute offsets that is still in the window.
func (c *Console) Text(from, to int64) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if from < c.base {
		from = c.base
	}
	if to > c.total {
		to = c.total
	}
	if from >= to {
		return ""
	}
	return string(c.win[from-c.base : to-c.base])
}

// Tail returns up to n bytes of the most recent normalised text (for excerpts).
func (c *Console) Tail(n int) string {
	end := c.Offset()
	return c.Text(end-int64(n), end)
}

// Match is one expect hit.
type Match struct {
	Pattern int    // index into the patterns given
	Start   int64  // absolute offset of the match in the normalised text
	End     int64  // just past the match: the cursor for the next Expect
	Before  string // text from the cursor to the match (bounded by the window)
}

// Expect scans the text from cursor on for any of the patterns, waiting for output until ctx
// ends. Each byte is scanned once per call. It fails with ctx's error, or with ErrClosed once
// the stream has ended and the remaining text holds no match.
func (c *Console) Expect(ctx context.Context, cursor int64, patterns ...string) (Match, error) {
	return c.ExpectMatcher(ctx, cursor, NewMatcher(patterns...))
}

// ExpectMatcher is Expect with a precompiled matcher (hot loops, benchmarks).
func (c *Console) ExpectMatcher(ctx context.Context, cursor int64, m *Matcher) (Match, error) {
	sc := m.Scanner()
	start := cursor
	for {
		text, from, changed, err := c.view(cursor)
		if from > cursor {
			// The window moved past us: the text in between was only kept in the transcript.
			sc = m.Scanner()
			start = from
		}
		if end, p := sc.Scan(text); end >= 0 {
			e := from + int64(end)
			s := e - int64(len(m.patterns[p]))
			return Match{Pattern: p, Start: s, End: e, Before: c.Text(start, s)}, nil
		}
		cursor = from + int64(len(text))
		if err != nil {
			return Match{}, err
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return Match{}, ctx.Err()
		}
	}
}

// Line is one line of normalised output.
type Line struct {
	N    int    // 1-based line number in the normalised stream
	Text string // without the newline
	// Partial is true for a line that has not ended yet (a prompt); the same N is delivered
	// again, complete or longer, when more arrives.
	Partial bool
	// Cut is true for a line that lost text: the reader fell a whole window behind (a
	// flood) and the window dropped text before it was read, so this line is the join of
	// two fragments (the transcript has the whole text).
	Cut  bool
	Time time.Time // when the console read the line's last byte (approximately)
}

// LineReader delivers lines from a cursor; it is how the stage machine follows a boot.
type LineReader struct {
	c       *Console
	cursor  int64
	n       int
	partial []byte
	cut     bool // the current line lost text to the window (Line.Cut)
	maxLine int
}

// Lines starts a line reader at the beginning of the window.
func (c *Console) Lines() *LineReader { return &LineReader{c: c, n: 0, maxLine: 4096} }

// Next returns the next complete line, or the current partial line when no newline arrives
// within settle (so a prompt such as "redox login: " is seen), waiting until ctx ends.
// It returns ErrClosed after the last line of an ended stream.
func (r *LineReader) Next(ctx context.Context, settle time.Duration) (Line, error) {
	var timer <-chan time.Time
	for {
		text, from, changed, err := r.c.view(r.cursor)
		if from > r.cursor {
			r.cut = true
		}
		r.cursor = from
		if i := indexNL(text); i >= 0 {
			r.partial = append(r.partial, text[:i]...)
			r.cursor += int64(i + 1)
			r.n++
			l := Line{N: r.n, Text: string(r.partial), Cut: r.cut, Time: r.c.LastOutput()}
			r.partial, r.cut = r.partial[:0], false
			return l, nil
		}
		if len(text) > 0 {
			r.partial = append(r.partial, text...)
			r.cursor += int64(len(text))
			if len(r.partial) >= r.maxLine {
				// An endless line is cut so memory stays bounded and matching continues.
				r.n++
				l := Line{N: r.n, Text: string(r.partial), Time: r.c.LastOutput()}
				r.partial = r.partial[:0]
				return l, nil
			}
			timer = time.After(settle)
			continue
		}
		if err != nil {
			if len(r.partial) > 0 {
				r.n++
				l := Line{N: r.n, Text: string(r.partial), Time: r.c.LastOutput()}
				r.partial = r.partial[:0]
				return l, nil
			}
			return Line{}, err
		}
		select {
		case <-changed:
		case <-timer:
			timer = nil
			if len(r.partial) > 0 {
				return Line{N: r.n + 1, Text: string(r.partial), Partial: true, Time: r.c.LastOutput()}, nil
			}
		case <-ctx.Done():
			return Line{}, ctx.Err()
		}
	}
}

func indexNL(b []byte) int {
	for i, c := range b {
		if c == '\n' {
			return i
		}
	}
	return -1
}

// WaitSilence returns nil once no byte has arrived for window, or ctx's error; the silence
// watchdog of the stage machine. It returns ErrClosed if the stream ends first.
func (c *Console) WaitSilence(ctx context.Context, window time.Duration) error {
	for {
		c.mu.Lock()
		last, err := c.last, c.err
		c.mu.Unlock()
		if err != nil {
			return err
		}
		wait := time.Until(last.Add(window))
		if wait <= 0 {
			if !c.Unread() {
				return nil
			}
			// The machine did talk: its bytes wait for a reader this process has not
			// scheduled yet (a loaded controller). Look again once it had the chance.
			wait = 5 * time.Millisecond
		}
		// Sleep until the window would close for the last byte seen; output that arrives
		// meanwhile moves the deadline, which the next round computes.
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-c.done:
			t.Stop()
		}
	}
}

// Unread says whether output has reached the controller that the console has not read yet
// (bytes waiting in the kernel's buffer for the reader goroutine). The silence watchdog and
// the linger after login ask it before deciding that the machine went quiet: on a
// controller too loaded to schedule the reader for a while, the time of the last read alone
// would call a talking machine silent.
func (c *Console) Unread() bool { return unread(c.rw) }

// unread looks through the stream's wrappers (hosts' redaction of secrets: Unwrap) for
// bytes one of them holds (Buffered) or the kernel holds for the innermost.
func unread(rw any) bool {
	for rw != nil {
		if b, ok := rw.(interface{ Buffered() bool }); ok && b.Buffered() {
			return true
		}
		if kernelUnread(rw) {
			return true
		}
		w, ok := rw.(interface{ Unwrap() io.ReadWriteCloser })
		if !ok {
			return false
		}
		rw = w.Unwrap()
	}
	return false
}

// Send writes s to the stream, one byte at a time with CharDelay between bytes when set (a
// real UART's receive FIFO is small, and Redox reads it slowly during boot).
func (c *Console) Send(ctx context.Context, s string) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	c.note(transcript.MarkInput, s)
	if c.opts.CharDelay <= 0 {
		_, err := io.WriteString(c.rw, s)
		return err
	}
	for i := 0; i < len(s); i++ {
		if _, err := c.rw.Write([]byte{s[i]}); err != nil {
			return err
		}
		if i < len(s)-1 {
			select {
			case <-time.After(c.opts.CharDelay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

// Note records a harness remark (a dropped serial line, a power cycle) in the times file
// with the current time, so the transcript can be read against what the harness did.
func (c *Console) Note(s string) { c.note(transcript.MarkNote, s) }

func (c *Console) note(kind byte, s string) {
	if c.tf == nil || c.Err() != nil {
		return
	}
	text := s
	if c.opts.Filter != nil {
		text = string(c.opts.Filter([]byte(s)))
	}
	at := time.Now()
	c.queue(func(_, times io.Writer) error { transcript.WriteMark(times, kind, at, text); return nil })
}

// keepWriteErr keeps the first transcript write error.
func (c *Console) keepWriteErr(err error) {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	if err != nil && c.writeErr == nil {
		c.writeErr = fmt.Errorf("transcript %s: %w", c.tf.Name(), err)
	}
}

// TranscriptDropped is how many bytes of console output the transcript's caps left out so
// far (0 when the whole output is in the transcript, or without one).
func (c *Console) TranscriptDropped() int64 {
	if c.tf == nil {
		return 0
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	return c.capped.dropped()
}

// TranscriptErr is the first failure to write the transcript or its times file (nil while
// every byte reached the disk).
func (c *Console) TranscriptErr() error {
	c.tmu.Lock()
	defer c.tmu.Unlock()
	return c.writeErr
}

// Readable reports how many raw bytes arrived and how many of them read as text: printable
// ASCII, the usual control characters of a terminal (tab, CR, LF, backspace, escape) and
// well-formed UTF-8. A line at the wrong baud rate (or parity, or word size) reads as
// noise: far fewer than half of its bytes are text, while a firmware's box drawing and
// colour escapes are.
func (c *Console) Readable() (raw, text int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rawTotal, c.textRaw
}

// textBytes counts the bytes of b that read as text (a UTF-8 sequence split across two
// reads counts as noise: a few bytes per read at most).
func textBytes(b []byte) int64 {
	var n int64
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c < 0x7f || c == '\t' || c == '\r' || c == '\n' || c == '\b' || c == 0x1b {
				n++
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r != utf8.RuneError || size > 1 {
			n += int64(size)
		}
		i += size
	}
	return n
}

// Close closes the stream and waits for the reader to finish writing the transcript. It
// returns the transcript's write error, if any byte or timestamp did not reach the disk
// (a full disk): the transcript is then incomplete, which the job must say. An error
// closing the stream itself (already closed by the machine's power-off) is not one.
func (c *Console) Close() error {
	c.rw.Close()
	<-c.done
	if c.tf != nil {
		<-c.wdone
		c.tmu.Lock()
		closed := c.closed
		c.closed = true
		c.tmu.Unlock()
		if !closed {
			c.keepWriteErr(c.tf.Close())
			c.keepWriteErr(c.timesF.Close())
		}
		return c.TranscriptErr()
	}
	return nil
}
