// Package session is the harness's hands inside a booted guest: it logs in the way the
// image's profile says, runs shell commands framed by random markers that carry the exit
// status, fetches files over the console (base64, checksummed, chunked) and collects Redox's
// driver logs.
//
// # The marker scheme
//
// A command is typed as one line, for the POSIX shell
//
//	echo rhw4f''1c9a-S; <cmd>; echo rhw4f''1c9a-E $?
//
// The nonce (fresh random hex per command) is split by an empty quoted string, so the echo of
// the typed line never contains it: only the shell's own output "rhw4f1c9a-S" and
// "rhw4f1c9a-E <status>" does. The output is the text between the end of the start marker and
// the end marker, which may follow the last output byte on the same line (output without a
// final newline). The end marker is accepted only once its line is complete, so a status of
// "12" is never read as "1".
//
// Nothing in the extraction depends on where other writers' lines land: lines the profile
// declares as console noise (the stand-in's "FX-NOISE <n>", Redox daemon log lines, kernel
// messages) are cut out of the output wherever they appear, including in the middle of an
// output line (a writer that puts its whole line between two of the command's writes splits
// that line in two; cutting "noise\n" joins it again). Noise the profile does not declare
// stays in the output, where a comparison with expected output sees it: it is never silently
// taken for the command's result. Markers themselves are single small writes and are found
// by substring, so noise before, after or between them does not matter.
package session

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// Runner runs one shell command in the guest: its output (noise removed) and exit status.
// Session implements it; the drivers, network and guest checks take a Runner so they can be
// unit-tested with a fake.
type Runner interface {
	Run(ctx context.Context, cmd string) (stdout string, exit int, err error)
}

// Options tune a session.
type Options struct {
	// CharDelay paces typing one byte at a time (a real UART's receive FIFO is 16 bytes and
	// an early-boot guest drains it slowly); 0 writes each command in one piece.
	CharDelay time.Duration
	// Scale multiplies the default timeouts (the host's time scale; 0 means 1).
	Scale float64
	// CommandTimeout bounds a Run whose context has no deadline (before scaling; default 60s).
	CommandTimeout time.Duration
	// LoginTimeout bounds login and the first command (before scaling; default 30s).
	LoginTimeout time.Duration
	// Dialect overrides the profile's shell dialect.
	Dialect *Dialect
	// Needs are what the session's job needs to reach (Redox schemes such as "logging"
	// and "netcfg"): Login logs in as the profile's first account that reaches them.
	Needs []string
	// LoggedIn: the boot ended in a shell without a login prompt (an image that logs in
	// by itself): Login types no credentials, it only proves the shell works.
	LoggedIn bool
}

// Session is a logged-in shell on a console. It is not safe for concurrent use: one command
// runs at a time, as on a terminal.
type Session struct {
	con     *console.Console
	prof    *profile.Profile
	d       *Dialect
	opts    Options
	cursor  int64
	synced  bool
	Stats   Stats
	nonceFn func() string
	user    string // who Login logged in as
}

// User is the account the session logged in as ("" before Login or without one).
func (s *Session) User() string { return s.user }

// Stats count what the session did (for reports and tests).
type Stats struct {
	Commands int
	// NoiseCut counts noise lines (or line fragments) cut out of command output.
	NoiseCut int
	// Resyncs counts recoveries after a command that did not end (Ctrl-C and a new sync).
	Resyncs int
	// SplitMarkers counts commands whose markers were found only in the noise-cut text.
	SplitMarkers int
}

// Result is one command's outcome.
type Result struct {
	Stdout   string
	Exit     int
	NoiseCut int
	Took     time.Duration
	// Raw is the console text between the markers before noise was cut.
	Raw string
}

// ErrNoShell is returned when no command could be run at all (login failed, no prompt).
var ErrNoShell = errors.New("no working shell on the console")

// New starts a session on con, reading from the console's current end: output that arrived
// before (the boot) is never taken for a command's.
func New(con *console.Console, p *profile.Profile, o Options) *Session {
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 60 * time.Second
	}
	if o.LoginTimeout <= 0 {
		o.LoginTimeout = 30 * time.Second
	}
	d := o.Dialect
	if d == nil {
		d = DialectFor(p)
	}
	return &Session{con: con, prof: p, d: d, opts: o, cursor: con.Offset(), nonceFn: newNonce}
}

// Dialect returns the shell dialect in use.
func (s *Session) Dialect() *Dialect { return s.d }

// Console returns the console the session types on.
func (s *Session) Console() *console.Console { return s.con }

func (s *Session) scaled(d time.Duration) time.Duration {
	return time.Duration(float64(d) * s.opts.Scale)
}

// Login gets from the end of a boot to a working shell: it types the profile's user (and
// password when a password prompt comes), waits for the welcome text, then proves the
// shell works with a marker command. A profile without a user (the stand-in boots straight
// into a shell) only gets the proof. The boot must have stopped at the login prompt.
func (s *Session) Login(ctx context.Context) error {
	l := s.prof.Login
	acct, err := l.For(s.opts.Needs...)
	if err != nil {
		return fmt.Errorf("login: %w: the job cannot be done from this image's shell", err)
	}
	l.User, l.Password = acct.User, acct.Password
	s.user = acct.User
	if s.opts.LoggedIn {
		l.User, s.user = "", ""
	}
	if l.User != "" {
		lctx, cancel := context.WithTimeout(ctx, s.scaled(s.opts.LoginTimeout))
		defer cancel()
		if err := s.send(lctx, l.User+"\r"); err != nil {
			return fmt.Errorf("login: %w", err)
		}
		var want []string
		pw := l.PasswordPrompt
		if pw == "" {
			pw = "assword:"
		}
		want = append(want, pw)
		if l.Welcome != "" {
			want = append(want, l.Welcome)
		}
		m, err := s.con.Expect(lctx, s.cursor, want...)
		if err != nil {
			return fmt.Errorf("login as %s: no password prompt or welcome text (%v); console ends: %q", l.User, err, s.con.Tail(300))
		}
		s.cursor = m.End
		if m.Pattern == 0 {
			if err := s.send(lctx, l.Password+"\r"); err != nil {
				return fmt.Errorf("login: %w", err)
			}
			if l.Welcome != "" {
				m, err := s.con.Expect(lctx, s.cursor, l.Welcome)
				if err != nil {
					return fmt.Errorf("login as %s: no welcome text %q after the password (%v); console ends: %q", l.User, l.Welcome, err, s.con.Tail(300))
				}
				s.cursor = m.End
			}
		}
	}
	if err := s.Sync(ctx); err != nil {
		return err
	}
	for _, c := range s.d.Setup {
		if _, _, err := s.Run(ctx, c); err != nil {
			return fmt.Errorf("setup %q: %w", c, err)
		}
	}
	return nil
}

// Sync proves the shell answers: it clears any half-typed line and runs a no-op with
// markers, three times at most.
func (s *Session) Sync(ctx context.Context) error {
	var last error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			s.Stats.Resyncs++
		}
		// Ctrl-U clears a line typed into the editor; Ctrl-C ends a stuck program.
		if err := s.send(ctx, s.d.Interrupt); err != nil {
			return err
		}
		sctx, cancel := context.WithTimeout(ctx, s.scaled(s.opts.LoginTimeout)/3)
		_, err := s.run(sctx, "true")
		cancel()
		if err == nil {
			s.synced = true
			return nil
		}
		if ctx.Err() != nil || errors.Is(err, console.ErrClosed) {
			return fmt.Errorf("%w: %v", ErrNoShell, err)
		}
		last = err
	}
	return fmt.Errorf("%w: %v; console ends: %q", ErrNoShell, last, s.con.Tail(300))
}

// Run runs cmd and returns its output with noise cut, and its exit status.
func (s *Session) Run(ctx context.Context, cmd string) (string, int, error) {
	r, err := s.RunResult(ctx, cmd)
	return r.Stdout, r.Exit, err
}

// RunResult is Run with the details.
func (s *Session) RunResult(ctx context.Context, cmd string) (Result, error) {
	if !s.synced {
		if err := s.Sync(ctx); err != nil {
			return Result{}, err
		}
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.scaled(s.opts.CommandTimeout))
		defer cancel()
	}
	r, err := s.run(ctx, cmd)
	if err != nil && !errors.Is(err, console.ErrClosed) {
		// The command may still be running: interrupt it and resynchronise before the next.
		s.synced = false
		ictx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s.send(ictx, s.d.Interrupt)
		cancel()
	}
	return r, err
}

func (s *Session) run(ctx context.Context, cmd string) (Result, error) {
	cmd = strings.TrimRight(strings.TrimSpace(cmd), ";")
	if cmd == "" || strings.ContainsAny(cmd, "\r\n") {
		return Result{}, fmt.Errorf("session: command must be one non-empty line: %q", cmd)
	}
	nonce := s.nonceFn()
	line := s.d.Wrap(nonce, cmd)
	start := time.Now()
	from := s.con.Offset()
	if from < s.cursor {
		from = s.cursor
	}
	s.Stats.Commands++
	if err := s.send(ctx, line+"\r"); err != nil {
		return Result{}, fmt.Errorf("session: typing %q: %w", cmd, err)
	}
	for {
		// Fast path: the markers as literals, each found in one pass over new output.
		// Every few seconds, and at the end, a slow pass over the noise-cut text catches
		// markers that a noise writer split (a kernel message lands anywhere).
		sub, cancel := context.WithTimeout(ctx, markerRescan)
		r, err := s.await(sub, from, nonce)
		cancel()
		if err == nil {
			r.Took = time.Since(start)
			return r, nil
		}
		if r, ok := s.scan(from, nonce); ok {
			r.Took = time.Since(start)
			return r, nil
		}
		if ctx.Err() != nil || errors.Is(err, console.ErrClosed) || !errors.Is(err, context.DeadlineExceeded) {
			if ctx.Err() != nil {
				err = ctx.Err()
			}
			return Result{}, fmt.Errorf("session: %q: %w; console ends: %q", cmd, err, s.con.Tail(300))
		}
	}
}

// markerRescan is how often a waiting command also looks for markers split by noise.
const markerRescan = 2 * time.Second

// await finds the markers as literals.
func (s *Session) await(ctx context.Context, from int64, nonce string) (Result, error) {
	m, err := s.con.Expect(ctx, from, nonce+"-S")
	if err != nil {
		return Result{}, fmt.Errorf("no start marker: %w", err)
	}
	outFrom := m.End
	m, err = s.con.Expect(ctx, outFrom, nonce+"-E ")
	if err != nil {
		return Result{}, fmt.Errorf("no end marker: %w", err)
	}
	outTo := m.Start
	// The status: digits up to the end of the marker's line, noise cut.
	exit, after, err := s.readStatus(ctx, m.End)
	if err != nil {
		return Result{}, err
	}
	raw := s.con.Text(outFrom, outTo)
	if int64(len(raw)) < outTo-outFrom {
		return Result{}, fmt.Errorf("output of %d bytes no longer in the console window; fetch large outputs in pieces", outTo-outFrom)
	}
	s.cursor = after
	out, cut := s.d.CutNoise(raw)
	// The start marker's own line break.
	out = strings.TrimPrefix(out, "\n")
	s.Stats.NoiseCut += cut
	return Result{Stdout: out, Exit: exit, NoiseCut: cut, Raw: raw}, nil
}

// scan looks for both markers in the noise-cut text since from.
func (s *Session) scan(from int64, nonce string) (Result, bool) {
	to := s.con.Offset()
	raw := s.con.Text(from, to)
	clean, cut := s.d.CutNoise(raw)
	b := strings.Index(clean, nonce+"-S\n")
	if b < 0 {
		return Result{}, false
	}
	rest := clean[b+len(nonce)+3:]
	re := regexp.MustCompile(regexp.QuoteMeta(nonce) + `-E (\d{1,3})\n`)
	m := re.FindStringSubmatchIndex(rest)
	if m == nil {
		return Result{}, false
	}
	exit, _ := strconv.Atoi(rest[m[2]:m[3]])
	s.cursor = to
	s.Stats.NoiseCut += cut
	s.Stats.SplitMarkers++
	return Result{Stdout: rest[:m[0]], Exit: exit, NoiseCut: cut, Raw: raw}, true
}

var reStatus = regexp.MustCompile(`^(\d{1,3})\n`)

// readStatus reads "<digits>\n" at off, tolerating noise lines in between, and returns the
// status and the offset after its line.
func (s *Session) readStatus(ctx context.Context, off int64) (int, int64, error) {
	cur := off
	for {
		m, err := s.con.Expect(ctx, cur, "\n")
		if err != nil {
			return 0, 0, fmt.Errorf("end marker line never ended: %w", err)
		}
		text, _ := s.d.CutNoise(s.con.Text(off, m.End))
		if g := reStatus.FindStringSubmatch(text); g != nil {
			n, _ := strconv.Atoi(g[1])
			return n, m.End, nil
		}
		if strings.Count(text, "\n") > 0 {
			return 0, 0, fmt.Errorf("end marker without a status: %q", text)
		}
		cur = m.End
	}
}

// send types s, paced when the session has a character delay.
func (s *Session) send(ctx context.Context, text string) error {
	if s.opts.CharDelay <= 0 || len(text) <= 1 {
		return s.con.Send(ctx, text)
	}
	for i := 0; i < len(text); i++ {
		if err := s.con.Send(ctx, text[i:i+1]); err != nil {
			return err
		}
		if i < len(text)-1 {
			t := time.NewTimer(s.opts.CharDelay)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
	}
	return nil
}

func newNonce() string {
	var b [4]byte
	rand.Read(b[:])
	return "rhw" + hex.EncodeToString(b[:])
}
