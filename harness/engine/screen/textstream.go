package screen

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
)

// TextStream is the console of a machine without a serial console: the text of its screen,
// read by OCR, as a byte stream the rest of the harness follows as it follows a serial line.
// It looks at the screen every Interval; when the screen changed (a blinking cursor aside)
// it reads the text and emits the lines that were not on the screen it read before, in
// screen order, so a scrolling console yields its new lines and a redrawn screen its new
// content. The stage machine, the signatures (a panic's text) and the silence watchdog
// then work unchanged: silence is a screen whose text stopped changing, and a HANG is
// decided at the stage the screen showed last, with the last screen captured.
//
// What it cannot tell (a note in the record says so): a line that scrolls off between two
// looks is never read, so a stage can be missed (a later stage still counts it passed);
// text OCR misreads does not match; a picture without text (a logo, a graphical progress
// bar) is silence unless the profile has a needle for it.
//
// Writes are typed on the machine's keyboard (TextToChords), so a profile's responses
// (Enter at a boot menu) and a shell session reach the machine the only way they can.
type TextStream struct {
	rec      *Recorder
	base     io.ReadWriteCloser // hosts.ScreenOnly: ends when the machine is gone
	interval time.Duration

	mu       sync.Mutex
	buf      []byte
	err      error
	cond     *sync.Cond    // buf or err changed
	baseDone chan struct{} // the machine's stream ended
	cancel   context.CancelFunc
	done     chan struct{}
	prev     map[string]bool
	looks    int
}

// DefaultInterval is how often a TextStream looks at the screen (a look costs a
// screendump and a hash; OCR runs only on a changed screen).
const DefaultInterval = 500 * time.Millisecond

// maxPending caps the text read but not yet consumed.
const maxPending = 1 << 20

// NewTextStream starts reading rec's screen. base is the machine's own (byteless) console
// stream: its end (the machine stopped, or its screen went away) ends this stream with the
// same error.
func NewTextStream(rec *Recorder, base io.ReadWriteCloser, interval time.Duration) *TextStream {
	if interval <= 0 {
		interval = DefaultInterval
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &TextStream{rec: rec, base: base, interval: interval, baseDone: make(chan struct{}),
		cancel: cancel, done: make(chan struct{}), prev: map[string]bool{}}
	t.cond = sync.NewCond(&t.mu)
	go t.loop(ctx)
	go func() {
		var b [1]byte
		_, err := base.Read(b[:])
		if err == nil {
			err = io.EOF
		}
		close(t.baseDone)
		t.fail(err)
	}()
	return t
}

func (t *TextStream) loop(ctx context.Context) {
	defer close(t.done)
	tick := time.NewTicker(t.interval)
	defer tick.Stop()
	for {
		lctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		text, err := t.rec.ReadText(lctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			// The screen cannot be read. When the machine stopped (QEMU exited after a
			// panic or a power-off) its stream ends at the same moment, and that end is
			// what the boot is judged on; otherwise (the screen's server went away, OCR
			// missing or crashed) it is a lab fault, never a silent machine.
			select {
			case <-t.baseDone:
			case <-time.After(2 * time.Second):
				if !hosts.IsInfra(err) {
					err = hosts.Infra(errors.New("screen: " + err.Error()))
				}
				t.fail(err)
			}
			return
		default:
			t.emit(text)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// emit appends the lines of text that were not on the screen read before.
func (t *TextStream) emit(text string) {
	cur := map[string]bool{}
	var out strings.Builder
	for _, l := range strings.Split(text, "\n") {
		l = strings.Join(strings.Fields(l), " ")
		if l == "" || cur[l] {
			continue
		}
		cur[l] = true
		if !t.prev[l] {
			out.WriteString(l)
			out.WriteByte('\n')
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.prev = cur
	if out.Len() == 0 || len(t.buf) > maxPending {
		return
	}
	t.buf = append(t.buf, out.String()...)
	t.cond.Broadcast()
}

func (t *TextStream) fail(err error) {
	t.mu.Lock()
	if t.err == nil {
		t.err = err
	}
	t.cond.Broadcast()
	t.mu.Unlock()
}

// Read returns text read off the screen, blocking until there is some or the stream ended.
func (t *TextStream) Read(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for len(t.buf) == 0 && t.err == nil {
		t.cond.Wait()
	}
	if len(t.buf) > 0 {
		n := copy(p, t.buf)
		t.buf = t.buf[n:]
		return n, nil
	}
	return 0, t.err
}

// Write types p on the machine's keyboard.
func (t *TextStream) Write(p []byte) (int, error) {
	chords, err := TextToChords(string(p))
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second+time.Duration(len(chords))*200*time.Millisecond)
	defer cancel()
	if err := t.rec.Press(ctx, chords); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close stops looking and closes the machine's stream.
func (t *TextStream) Close() error {
	t.cancel()
	err := t.base.Close()
	<-t.done
	t.fail(io.EOF)
	return err
}
