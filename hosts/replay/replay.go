// Package replay is the host kind "replay": a recorded serial transcript (matrix
// Image.Transcript) played back through a real unix socket pair, so the harness reads it
// exactly as it reads a VM's console: same console, same line reader, same stage machine,
// same verdicts as `redox-hwtest analyze` on the file.
//
// Timing: a transcript the harness recorded has a "<transcript>.times" file beside it
// (the console's "<raw byte offset> <unix ns>" per read); each chunk is then written at its
// recorded moment. Without one, lines are written LineDelay apart, or at a UART's pace
// (Baud). Speed divides every delay. The transcript's leading "# " comment lines are not played.
//
// The end: a real console does not close when the machine stops printing, and neither
// does a replay. When the transcript has been written and the harness has read all of it,
// Exited is closed (ExitErr nil: the replay has nothing more to give) but the stream stays
// open and silent until PowerOff, so a harness that keeps watching sees silence: a log that
// ends before login is a HANG by the silence watchdog, as `analyze` reports a hang for it
// offline. An injected stall (StallAfterLine) is a hang in the middle: the output stops after
// that line, the stream stays open, and Exited is not closed until PowerOff.
package replay

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

func init() {
	hosts.Register(hosts.Kind{Name: "replay", New: New, Options: func(h *matrix.Host) error { _, err := DecodeOptions(h); return err }})
}

// Machine plays one transcript.
type Machine struct {
	name    string // the transcript's base name (facts never carry host paths)
	opts    Options
	body    []byte
	sched   []chunk
	timed   bool // the schedule comes from a .times file
	stalled bool // the schedule stops at an injected stall
	scale   float64

	// Exited is closed once the transcript was written and the harness read all of it (the
	// stream stays open and silent), when writing failed, or at PowerOff; not by an
	// injected stall. ExitErr is nil for a replay that played to its end.
	hosts.ExitState

	mu      sync.Mutex
	started bool
	harness net.Conn // the end handed to the harness
	player  net.Conn // the end the replay writes to
	stop    chan struct{}
	stopped bool
	done    chan struct{} // the player goroutine ended
	input   []byte        // what the harness typed (bounded)
	sent    int64         // transcript bytes written
	playAt  time.Time     // when the schedule started
	next    int           // the schedule's next chunk to write
}

// maxInput bounds the record of the harness's input.
const maxInput = 64 << 10

// New builds a replay machine for a job (hosts.Factory). A missing or unreadable
// transcript is a lab failure (INFRA) that still matches fs.ErrNotExist; bad options or a
// corrupt .times file are configuration errors.
func New(h matrix.Host, img matrix.Image, env hosts.Env) (hosts.Machine, error) {
	opts, err := DecodeOptions(&h)
	if err != nil {
		return nil, err
	}
	if img.Transcript == "" {
		return nil, fmt.Errorf("host %s (replay): image %s has no transcript to play", h.Name, img.Name)
	}
	m, err := Open(img.Transcript, opts)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", h.Name, err)
	}
	switch {
	case h.TimeScale > 0:
		m.scale = h.TimeScale
	case opts.Speed < 1:
		m.scale = 1 / opts.Speed
	}
	return m, nil
}

// Open prepares a replay of a transcript file with the given options.
func Open(path string, opts Options) (*Machine, error) {
	if opts.Speed <= 0 {
		return nil, fmt.Errorf("replay: speed must be > 0")
	}
	// Only a regular file of bounded size: the replay holds the transcript in memory.
	raw, err := inputfile.ReadFile(path, inputfile.TranscriptLimit, "a replayed transcript")
	if err != nil {
		return nil, hosts.Infra(fmt.Errorf("replay transcript: %w", err))
	}
	_, body, _ := transcript.SplitHeader(raw)
	m := &Machine{name: filepath.Base(path), opts: opts, body: body, scale: 1,
		stop: make(chan struct{}), done: make(chan struct{})}
	// The times file too: regular, bounded (the matrix checked both at load; this holds
	// for a transcript that changed since, or a host built in code).
	if tb, err := inputfile.ReadFile(transcript.TimesPath(path), inputfile.TimesLimit, "a transcript's times file"); err == nil {
		es, err := transcript.ParseTimes(tb)
		if err != nil {
			return nil, fmt.Errorf("replay %s.times: %w", m.name, err)
		}
		m.sched, m.timed = timedChunks(es, len(body), opts.Speed), true
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, hosts.Infra(fmt.Errorf("replay transcript times: %w", err))
	} else if opts.Baud > 0 {
		m.sched = baudChunks(body, opts.Baud, opts.Speed)
	} else {
		m.sched = lineChunks(body, opts.LineDelay, opts.Speed)
	}
	if opts.StallAfterLine >= 0 {
		if end := lineEnd(body, opts.StallAfterLine); end >= 0 {
			m.sched, m.stalled = cut(m.sched, end), true
		}
	}
	return m, nil
}

// PowerOn connects a unix socket pair, starts playing into one end and returns the other.
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.started {
		return nil, errors.New("replay: already powered on")
	}
	if m.stopped {
		return nil, errors.New("replay: powered off")
	}
	a, b, err := socketPair()
	if err != nil {
		return nil, hosts.Infra(fmt.Errorf("replay: %w", err))
	}
	m.harness, m.player, m.started = a, b, true
	m.playAt = time.Now()
	go m.drainInput()
	go m.play()
	return &consoleEnd{Conn: a, m: m}, nil
}

// consoleEnd is the harness's end of the stream. A replay is a machine and a line in one:
// bytes whose moment has come but which its player has not written yet (a controller too
// loaded to schedule the player) are on the wire, as a real line's bytes sit in the
// kernel's buffer. Buffered says so, so the console's silence watchdog waits for them
// (console.Unread; Unwrap gives it the socket's own buffer).
type consoleEnd struct {
	net.Conn
	m *Machine
}

func (c *consoleEnd) Buffered() bool             { return c.m.behind() }
func (c *consoleEnd) Unwrap() io.ReadWriteCloser { return c.Conn }

// behind reports whether the schedule's next chunk is due and not written.
func (m *Machine) behind() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.started && !m.stopped && m.next < len(m.sched) && time.Since(m.playAt) >= m.sched[m.next].at
}

func socketPair() (net.Conn, net.Conn, error) {
	fds, err := socketpairFDs()
	if err != nil {
		return nil, nil, fmt.Errorf("socketpair: %w", err)
	}
	conn := func(fd int, name string) (net.Conn, error) {
		f := os.NewFile(uintptr(fd), name)
		defer f.Close()
		return net.FileConn(f)
	}
	a, err := conn(fds[0], "replay-console")
	if err != nil {
		syscall.Close(fds[1])
		return nil, nil, err
	}
	b, err := conn(fds[1], "replay-player")
	if err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

// play writes the schedule, then waits until the harness has read everything.
func (m *Machine) play() {
	defer close(m.done)
	m.mu.Lock()
	start := m.playAt
	m.mu.Unlock()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for _, c := range m.sched {
		if d := time.Until(start.Add(c.at)); d > 0 {
			timer.Reset(d)
			select {
			case <-timer.C:
			case <-m.stop:
				return
			}
		}
		if err := writeAll(m.player, m.body[c.start:c.end]); err != nil {
			m.finish(fmt.Errorf("replay: writing the console: %w", err))
			return
		}
		m.mu.Lock()
		m.sent += int64(c.end - c.start)
		m.next++
		m.mu.Unlock()
	}
	if m.stalled {
		return // silence, stream open, until PowerOff
	}
	// Everything is written; it is delivered when the harness has read it all.
	for {
		n, err := unreadBytes(m.player)
		if err != nil || n == 0 {
			break
		}
		timer.Reset(2 * time.Millisecond)
		select {
		case <-timer.C:
		case <-m.stop:
			return
		}
	}
	m.finish(nil)
}

func writeAll(w io.Writer, b []byte) error {
	for len(b) > 0 {
		n, err := w.Write(b)
		if err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// drainInput reads what the harness types (a replay does not react to it) so its writes
// never block, and keeps the first maxInput bytes for Input.
func (m *Machine) drainInput() {
	buf := make([]byte, 4096)
	for {
		n, err := m.player.Read(buf)
		if n > 0 {
			m.mu.Lock()
			if room := maxInput - len(m.input); room > 0 {
				m.input = append(m.input, buf[:min(n, room)]...)
			}
			m.mu.Unlock()
		}
		if err != nil {
			return
		}
	}
}

// finish ends the replay: Exited closes (hosts.ExitState, as for every host kind), with
// err nil when the transcript was played to its end.
func (m *Machine) finish(err error) { m.Exit(err) }

// PowerOff stops the replay and closes both ends of the stream.
func (m *Machine) PowerOff(ctx context.Context) error {
	m.mu.Lock()
	if m.stopped {
		m.mu.Unlock()
		return nil
	}
	m.stopped = true
	close(m.stop)
	started := m.started
	m.mu.Unlock()
	if started {
		m.player.Close()
		m.harness.Close()
		select {
		case <-m.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	m.finish(nil)
	return nil
}

// TimeScale is the host's time_scale when set, else 1 (1/speed for a slowed replay).
func (m *Machine) TimeScale() float64 { return m.scale }

// Facts describe the replay for the results.
func (m *Machine) Facts() map[string]string {
	f := map[string]string{
		"kind":       "replay",
		"transcript": m.name,
		"speed":      strconv.FormatFloat(m.opts.Speed, 'g', -1, 64),
	}
	if m.timed {
		f["timing"] = "recorded (.times)"
	} else if m.opts.Baud > 0 {
		f["timing"] = "baud=" + strconv.Itoa(m.opts.Baud)
	} else {
		f["timing"] = "line_delay=" + m.opts.LineDelay.String()
	}
	if m.opts.StallAfterLine >= 0 {
		f["stall_after_line"] = strconv.Itoa(m.opts.StallAfterLine)
	}
	return f
}

// Input returns what the harness has typed so far (at most 64 KiB).
func (m *Machine) Input() []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]byte(nil), m.input...)
}

// Sent is how many transcript bytes have been written to the stream so far.
func (m *Machine) Sent() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sent
}

// Body is what the replay plays: the transcript after its comment header.
func (m *Machine) Body() []byte { return m.body }

var _ hosts.Machine = (*Machine)(nil)
