package console

import (
	"fmt"
	"io"
	"time"

	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// Caps of a transcript on disk (Options.TranscriptHead, TranscriptTail). A real boot
// transcript is tens of kB (the Redox boots in ../shared/redox-logs are 20-200 kB); a guest
// that floods its console (a driver printing in a loop) would otherwise fill the disk at
// the speed of the serial line until its deadline: a stand-in flooding under TCG wrote
// 195 MB of transcript and 1.3 GB of timings in 17 minutes. The head (how the boot got
// there) and the tail (what it was doing at the end) are kept, with a marker naming what
// was dropped between them.
const (
	DefaultTranscriptHead = 32 << 20
	DefaultTranscriptTail = 8 << 20
	// tailReads bounds the read times kept for the tail.
	tailReads = 4096
	// timesAllowance is the times file's read lines beyond half the text: a boot whose
	// output comes slowly in small reads (a prompt, a UART at 115200 baud) is timed read
	// by read.
	timesAllowance = 16 << 10
)

// cappedLog writes a transcript and the reads of its times file within the caps. The head
// goes to disk as it arrives; once it is full, the rest goes to a ring of the last tail
// bytes in memory, written after the marker when the stream ends. The read lines of the
// times file never take more than timesAllowance bytes plus half as many bytes as the text
// they time (readBudget): every read of an ordinary boot is timed, while a flood of tiny reads (QEMU's serial socket under TCG delivers a few bytes per read)
// coalesces into fewer timing lines instead of a times file larger than the transcript
// (one line per read made 1.3 GB of times for 195 MB of text). Methods are called with Console.pmu held, into the
// bytes pending for the console's writer.
type cappedLog struct {
	head, tail int64
	written    int64  // bytes in the file's head
	ring       []byte // the tail, ring[start:] then ring[:start] once full
	start      int
	over       int64 // bytes past the head (the ring and what it dropped)
	reads      []tailRead
	evicted    tailRead // the newest read dropped from reads
	readBudget int64    // 2*timesAllowance + bytes of text timed - 2*bytes of read lines written
}

type tailRead struct {
	off int64 // offset in the bytes past the head
	at  time.Time
}

func newCappedLog(head, tail int64) *cappedLog {
	if head <= 0 {
		head = DefaultTranscriptHead
	}
	if tail <= 0 {
		tail = DefaultTranscriptTail
	}
	return &cappedLog{head: head, tail: tail, readBudget: 2 * timesAllowance}
}

// write records one read of the transcript (already filtered) that arrived at at.
func (c *cappedLog) write(tf, times io.Writer, b []byte, at time.Time) error {
	line := int64(len(fmt.Sprintf("%d %d\n", c.written, at.UnixNano())))
	c.readBudget += int64(len(b))
	timed := c.readBudget >= 2*line
	if timed {
		c.readBudget -= 2 * line
	}
	var err error
	if c.written < c.head {
		if timed {
			transcript.WriteRead(times, c.written, at)
		}
		k := min(int64(len(b)), c.head-c.written)
		_, err = tf.Write(b[:k])
		c.written += k
		b = b[k:]
	} else if timed {
		if len(c.reads) >= tailReads {
			c.evicted = c.reads[0]
			c.reads = append(c.reads[:0], c.reads[1:]...)
		}
		c.reads = append(c.reads, tailRead{c.over, at})
	}
	if len(b) > 0 {
		c.keep(b)
	}
	return err
}

// keep appends to the tail ring.
func (c *cappedLog) keep(b []byte) {
	c.over += int64(len(b))
	if int64(len(b)) >= c.tail {
		c.ring, c.start = append(c.ring[:0], b[int64(len(b))-c.tail:]...), 0
		return
	}
	for len(b) > 0 {
		if int64(len(c.ring)) < c.tail {
			k := min(len(b), int(c.tail)-len(c.ring))
			c.ring = append(c.ring, b[:k]...)
			b = b[k:]
			continue
		}
		k := copy(c.ring[c.start:], b)
		b = b[k:]
		c.start = (c.start + k) % len(c.ring)
	}
}

// Dropped is how many bytes the caps left out of the transcript.
func (c *cappedLog) dropped() int64 { return c.over - int64(len(c.ring)) }

// finish writes the tail after the marker (when something was dropped) and the tail's
// read times; the times file gets a note of the cut.
func (c *cappedLog) finish(tf, times io.Writer, now time.Time) error {
	if c.over == 0 {
		return nil
	}
	marker := ""
	if d := c.dropped(); d > 0 {
		marker = fmt.Sprintf("\n[redox-hwtest: %d bytes of console output dropped here; the transcript keeps the first %d and the last %d bytes]\n", d, c.head, c.tail)
		transcript.WriteMark(times, transcript.MarkNote, now, fmt.Sprintf("transcript cut: %d bytes dropped after the first %d, the last %d kept", d, c.head, len(c.ring)))
	}
	if _, err := io.WriteString(tf, marker); err != nil {
		return err
	}
	base, from := c.head+int64(len(marker)), c.dropped()
	first := c.evicted
	for _, r := range c.reads {
		if r.off <= from {
			first = r
		}
	}
	if !first.at.IsZero() {
		transcript.WriteRead(times, base, first.at)
	}
	for _, r := range c.reads {
		if r.off > from {
			transcript.WriteRead(times, base+r.off-from, r.at)
		}
	}
	if _, err := tf.Write(c.ring[c.start:]); err != nil {
		return err
	}
	_, err := tf.Write(c.ring[:c.start])
	return err
}
