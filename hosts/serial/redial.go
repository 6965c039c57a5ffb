package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
)

// Dialer opens one connection to a console.
type Dialer func(ctx context.Context) (io.ReadWriteCloser, error)

// Redial is a console stream that survives a dropped connection: when a read fails it
// records a gap, puts a visible marker line into the stream ("### redox-hwtest: console
// lost ..."), reconnects with exponential backoff, and marks the end of the gap with its
// duration ("### redox-hwtest: console back after 2.31s ..."). It tells the console's
// notes (SetNote) too, and reports every gap (Gaps) so harness/engine/boot can tell a hang of
// the machine from silence it could not see. After GiveUp without a connection, Read
// fails and the boot is INFRA.
//
// Writes made while the console is lost wait for the reconnection (up to GiveUp).
// Redial is what hosts/ipmi uses for SOL as well.
type Redial struct {
	what string
	dial Dialer
	opt  ReconnectOptions
	log  io.Writer

	mu      sync.Mutex
	conn    io.ReadWriteCloser // nil while lost
	gaps    []hosts.Gap
	note    func(string)
	changed chan struct{} // closed and replaced when conn changes
	pending []byte        // marker text to deliver before more data
	err     error         // set when lost for good
	closed  chan struct{}
	once    sync.Once
}

// NewRedial connects (retrying with backoff up to opt.GiveUp) and returns the stream.
func NewRedial(ctx context.Context, what string, dial Dialer, opt ReconnectOptions, log io.Writer) (*Redial, error) {
	if log == nil {
		log = io.Discard
	}
	r := &Redial{what: what, dial: dial, opt: opt.withDefaults(), log: log, changed: make(chan struct{}), closed: make(chan struct{})}
	conn, err := r.connect(ctx, time.Now())
	if err != nil {
		return nil, err
	}
	r.conn = conn
	return r, nil
}

// connect dials until it works, GiveUp after since passes, ctx ends or Close is called.
func (r *Redial) connect(ctx context.Context, since time.Time) (io.ReadWriteCloser, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-r.closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	delay := r.opt.Min.Duration
	attempts := 0
	for {
		attempts++
		dctx, dcancel := context.WithTimeout(ctx, max(5*time.Second, 2*r.opt.Max.Duration))
		conn, err := r.dial(dctx)
		dcancel()
		if err == nil {
			if attempts > 1 {
				fmt.Fprintf(r.log, "%s: connected after %d attempts\n", r.what, attempts)
			}
			return conn, nil
		}
		left := time.Until(since.Add(r.opt.GiveUp.Duration))
		if left <= 0 {
			return nil, fmt.Errorf("%s: no connection after %d attempts in %s: %w", r.what, attempts, time.Since(since).Round(time.Millisecond), err)
		}
		if attempts == 1 || attempts%10 == 0 {
			fmt.Fprintf(r.log, "%s: connect attempt %d failed: %v (retrying for %s more)\n", r.what, attempts, err, left.Round(time.Second))
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%s: %w (last error: %v)", r.what, ctx.Err(), err)
		case <-time.After(min(delay, left)):
		}
		delay = min(2*delay, r.opt.Max.Duration)
	}
}

// SetNote implements hosts.Noter.
func (r *Redial) SetNote(f func(string)) {
	r.mu.Lock()
	r.note = f
	r.mu.Unlock()
}

// Gaps implements hosts.GapReporter.
func (r *Redial) Gaps() []hosts.Gap {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hosts.Gap(nil), r.gaps...)
}

func (r *Redial) remark(s string) {
	fmt.Fprintf(r.log, "%s: %s\n", r.what, s)
	r.mu.Lock()
	note := r.note
	r.mu.Unlock()
	if note != nil {
		note(r.what + ": " + s)
	}
}

// Read implements io.Reader (one reader: the console).
func (r *Redial) Read(p []byte) (int, error) {
	for {
		r.mu.Lock()
		if len(r.pending) > 0 {
			n := copy(p, r.pending)
			r.pending = r.pending[n:]
			r.mu.Unlock()
			return n, nil
		}
		conn, err := r.conn, r.err
		r.mu.Unlock()
		if err != nil {
			return 0, err
		}
		select {
		case <-r.closed:
			return 0, io.EOF
		default:
		}
		if conn == nil {
			if err := r.reconnect(); err != nil {
				return 0, err
			}
			continue
		}
		n, rerr := conn.Read(p)
		if n > 0 {
			return n, nil
		}
		if rerr == nil {
			continue
		}
		select {
		case <-r.closed:
			return 0, io.EOF
		default:
		}
		r.lost(conn, rerr)
	}
}

// lost starts a gap: the connection is dropped and a marker queued.
func (r *Redial) lost(conn io.ReadWriteCloser, why error) {
	now := time.Now()
	reason := "connection closed by the other end"
	if !errors.Is(why, io.EOF) {
		reason = why.Error()
	}
	conn.Close()
	r.mu.Lock()
	if r.conn == conn {
		r.conn = nil
		r.gaps = append(r.gaps, hosts.Gap{Start: now, Reason: reason})
		r.pending = append(r.pending, fmt.Sprintf("\r\n### redox-hwtest: console lost at %s (%s); reconnecting ###\r\n", now.Format("15:04:05.000"), reason)...)
		close(r.changed)
		r.changed = make(chan struct{})
	}
	r.mu.Unlock()
	r.remark("console lost (" + reason + "); reconnecting")
}

// reconnect ends the open gap, or gives up.
func (r *Redial) reconnect() error {
	r.mu.Lock()
	start := time.Now()
	if n := len(r.gaps); n > 0 && r.gaps[n-1].Open() {
		start = r.gaps[n-1].Start
	}
	r.mu.Unlock()
	conn, err := r.connect(context.Background(), start)
	r.mu.Lock()
	defer func() {
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
	}()
	if err != nil {
		select {
		case <-r.closed:
			return io.EOF
		default:
		}
		r.err = fmt.Errorf("console lost for good: %w", err)
		go r.remark(r.err.Error())
		return r.err
	}
	select {
	case <-r.closed:
		conn.Close()
		return io.EOF
	default:
	}
	now := time.Now()
	n := len(r.gaps) - 1
	r.gaps[n].End = now
	d := now.Sub(r.gaps[n].Start).Round(time.Millisecond)
	r.conn = conn
	r.pending = append(r.pending, fmt.Sprintf("\r\n### redox-hwtest: console back after %s (lost at %s); output in between is missing ###\r\n", d, r.gaps[n].Start.Format("15:04:05.000"))...)
	go r.remark(fmt.Sprintf("console back after %s (gap %s to %s)", d, r.gaps[n].Start.Format("15:04:05.000"), now.Format("15:04:05.000")))
	return nil
}

// Write implements io.Writer; while the console is lost it waits for the reconnection.
func (r *Redial) Write(p []byte) (int, error) {
	for attempt := 0; ; attempt++ {
		r.mu.Lock()
		conn, err, changed := r.conn, r.err, r.changed
		r.mu.Unlock()
		if err != nil {
			return 0, err
		}
		if conn == nil {
			select {
			case <-changed:
				continue
			case <-r.closed:
				return 0, io.ErrClosedPipe
			}
		}
		n, werr := conn.Write(p)
		if werr == nil || attempt > 0 {
			return n, werr
		}
		// The reader notices the broken connection too; wait for it to come back once.
		select {
		case <-changed:
		case <-r.closed:
			return n, werr
		case <-time.After(r.opt.GiveUp.Duration):
			return n, werr
		}
		p = p[n:]
	}
}

// Close ends the stream (Read returns io.EOF).
func (r *Redial) Close() error {
	var err error
	r.once.Do(func() {
		close(r.closed)
		r.mu.Lock()
		conn := r.conn
		r.mu.Unlock()
		if conn != nil {
			err = conn.Close()
		}
	})
	return err
}
