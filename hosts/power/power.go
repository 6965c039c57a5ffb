// Package power switches real machines on and off and gets their image onto them.
//
// A Controller is anything that can power a machine: shell commands for a PDU or a USB
// relay (Command, this package), or a BMC (hosts/ipmi). A real board is a serial console
// (hosts/serial) plus one of these.
//
// Commands run through /bin/sh -c in their own process group with a timeout, and get what
// they need in the environment, never on a command line: RHW_HOST, RHW_IMAGE (the image
// file), RHW_IMAGE_NAME, RHW_BOOT_ARGS, RHW_PXE_URL (the iPXE script URL when booting over
// the network), RHW_WORK_DIR, and RHW_PASSWORD when the block names password_env or
// password_file (a PDU login; /proc/<pid>/environ is readable only by its owner, a command
// line by everyone).
package power

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/hosts/vmproc"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// State is a machine's power state.
type State int

const (
	Unknown State = iota
	Off
	On
)

func (s State) String() string {
	switch s {
	case On:
		return "on"
	case Off:
		return "off"
	}
	return "unknown"
}

// Controller switches a machine's power. On and Off return once the machine is really in
// that state as far as the controller can tell (a status command or the BMC is polled).
type Controller interface {
	On(ctx context.Context) error
	Off(ctx context.Context) error
	// Cycle turns the machine off and on again (honouring the minimum off time).
	Cycle(ctx context.Context) error
	// Status is Unknown (with a nil error) when the controller cannot tell.
	Status(ctx context.Context) (State, error)
	// Describe says what controls the power (for Facts; never a secret).
	Describe() string
}

// Options is the power block of a host's options: power by command.
type Options struct {
	// On, Off: shell commands that switch the power (required).
	On  string `yaml:"on"`
	Off string `yaml:"off"`
	// Cycle switches off and on in one command (optional; default Off, wait MinOff, On).
	Cycle string `yaml:"cycle"`
	// Status prints the state (optional): "on" or "off" as a word of its output
	// (case-insensitive, also "1"/"0"); a non-zero exit is an error.
	Status string `yaml:"status"`
	// MinOff is the least time the machine stays off before it is switched on again
	// (capacitors drain, a USB hub forgets the board; default 2s).
	MinOff matrix.Duration `yaml:"min_off"`
	// Timeout bounds each command (default 60s).
	Timeout matrix.Duration `yaml:"timeout"`
	// Settle bounds the wait for Status to report the new state after On/Off (default 30s).
	Settle matrix.Duration `yaml:"settle"`
	// A PDU login, handed to the commands as $RHW_PASSWORD.
	secrets.Source `yaml:",inline"`
}

// Defaults.
const (
	DefaultMinOff  = 2 * time.Second
	DefaultTimeout = 60 * time.Second
	DefaultSettle  = 30 * time.Second
)

// Validate checks the block; key is where it sits in the host's options ("power"), for
// errors with the matrix position.
func (o *Options) Validate(h *matrix.Host, key string) error {
	if o.On == "" {
		return h.Errorf(key+".on", "power.on of host %q is required (the command that switches the machine on)", h.Name)
	}
	if o.Off == "" {
		return h.Errorf(key+".off", "power.off of host %q is required (the command that switches the machine off)", h.Name)
	}
	for _, d := range []struct {
		k string
		v matrix.Duration
	}{{"min_off", o.MinOff}, {"timeout", o.Timeout}, {"settle", o.Settle}} {
		if d.v.Duration < 0 {
			return h.Errorf(key+"."+d.k, "power.%s of host %q must not be negative", d.k, h.Name)
		}
	}
	if o.Env != "" && o.File != "" {
		return h.Errorf(key+".password_file", "power of host %q: give password_env or password_file, not both", h.Name)
	}
	return nil
}

// Command is a Controller made of shell commands.
type Command struct {
	o        Options
	log      io.Writer
	password string

	mu     sync.Mutex
	env    []string
	minOff MinOff
}

// NewCommand makes a command controller; the password (if any) is loaded now and
// registered for redaction.
func NewCommand(o Options, log io.Writer) (*Command, error) {
	if o.On == "" || o.Off == "" {
		return nil, errors.New("power: on and off commands are required")
	}
	if o.MinOff.Duration == 0 {
		o.MinOff.Duration = DefaultMinOff
	}
	if o.Timeout.Duration == 0 {
		o.Timeout.Duration = DefaultTimeout
	}
	if o.Settle.Duration == 0 {
		o.Settle.Duration = DefaultSettle
	}
	if log == nil {
		log = io.Discard
	}
	pw, err := secrets.Load(o.Source)
	if err != nil {
		return nil, fmt.Errorf("power password: %w", err)
	}
	return &Command{o: o, log: log, password: pw, minOff: MinOff{Min: o.MinOff.Duration}}, nil
}

// NewRunner makes a Command that only runs commands (Run: the flash command of a host whose
// power is not a command, e.g. an IPMI host).
func NewRunner(timeout time.Duration, log io.Writer) *Command {
	if log == nil {
		log = io.Discard
	}
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Command{o: Options{Timeout: matrix.Duration{Duration: timeout}}, log: log}
}

// SetEnv adds name=value pairs to the environment of every command (RHW_IMAGE, ...).
func (c *Command) SetEnv(kv ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.env = append(c.env, kv...)
}

// Describe implements Controller.
func (c *Command) Describe() string {
	s := "command"
	if c.o.Status != "" {
		s += " (with status)"
	}
	return s
}

// Run runs one of the host's commands (also used for the flash command of boot: command)
// with the controller's environment; its output goes to the log, stdout is returned.
func (c *Command) Run(ctx context.Context, what, cmdline string, timeout time.Duration) (string, error) {
	if timeout <= 0 {
		timeout = c.o.Timeout.Duration
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.Command("/bin/sh", "-c", cmdline)
	c.mu.Lock()
	env := append(os.Environ(), c.env...)
	c.mu.Unlock()
	if c.password != "" {
		env = secrets.Env(env, "RHW_PASSWORD", c.password)
	}
	cmd.Env = env
	var stdout bytes.Buffer
	lw := &prefixWriter{w: c.log, prefix: "power " + what + ": "}
	stderr := &vmproc.Tail{Max: 4 << 10}
	cmd.Stdout = io.MultiWriter(&stdout, lw)
	cmd.Stderr = io.MultiWriter(stderr, lw)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A command that leaves a daemon holding our pipes (a VM it started) must not make us
	// wait for that daemon.
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("power %s: %w", what, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case err = <-done:
		case <-time.After(2 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			err = <-done
		}
		err = fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	lw.flush()
	fmt.Fprintf(c.log, "power %s: done in %s: %v\n", what, time.Since(start).Round(time.Millisecond), errOrOK(err))
	if err != nil {
		// What the command said on its way out is the cause a reader needs.
		if tail := strings.TrimSpace(stderr.String()); tail != "" {
			err = fmt.Errorf("%w: %s", err, vmproc.LastLines(tail, 3))
		}
		return stdout.String(), fmt.Errorf("power %s command failed: %w", what, err)
	}
	return stdout.String(), nil
}

func errOrOK(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

// On implements Controller: it waits out the minimum off time first.
func (c *Command) On(ctx context.Context) error {
	if err := c.minOff.Wait(ctx, c.log); err != nil {
		return err
	}
	if _, err := c.Run(ctx, "on", c.o.On, 0); err != nil {
		return err
	}
	return c.settle(ctx, On)
}

// Off implements Controller.
func (c *Command) Off(ctx context.Context) error {
	_, err := c.Run(ctx, "off", c.o.Off, 0)
	c.minOff.Off()
	if err != nil {
		return err
	}
	return c.settle(ctx, Off)
}

// Cycle implements Controller.
func (c *Command) Cycle(ctx context.Context) error {
	if c.o.Cycle != "" {
		_, err := c.Run(ctx, "cycle", c.o.Cycle, 0)
		return err
	}
	if err := c.Off(ctx); err != nil {
		return err
	}
	return c.On(ctx)
}

// Status implements Controller.
func (c *Command) Status(ctx context.Context) (State, error) {
	if c.o.Status == "" {
		return Unknown, nil
	}
	out, err := c.Run(ctx, "status", c.o.Status, 0)
	if err != nil {
		return Unknown, err
	}
	return ParseState(out)
}

// ParseState reads "on"/"off" (or 1/0, true/false) from a status command's output.
func ParseState(out string) (State, error) {
	var on, off bool
	for _, w := range strings.FieldsFunc(strings.ToLower(out), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}) {
		switch w {
		case "on", "1", "true":
			on = true
		case "off", "0", "false":
			off = true
		}
	}
	switch {
	case on && !off:
		return On, nil
	case off && !on:
		return Off, nil
	}
	return Unknown, fmt.Errorf("power status: cannot tell on from off in %q", strings.TrimSpace(out))
}

// settle polls the status command until it reports want (no-op without one).
func (c *Command) settle(ctx context.Context, want State) error {
	if c.o.Status == "" {
		return nil
	}
	deadline := time.Now().Add(c.o.Settle.Duration)
	var last State
	var lastErr error
	for {
		last, lastErr = c.Status(ctx)
		if lastErr == nil && last == want {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("power: the machine did not change state: status still %s (want %s) %s after the %s command (last error: %v)", last, want, c.o.Settle.Duration, want, lastErr)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// prefixWriter writes whole lines with a prefix (command output in host.log).
type prefixWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
	buf    []byte
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf[:i])
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}

func (p *prefixWriter) flush() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.buf) > 0 {
		fmt.Fprintf(p.w, "%s%s\n", p.prefix, p.buf)
		p.buf = nil
	}
}

// Endpoint is the outlet this block switches, as far as the harness can tell: its on
// command, when the command does not depend on the host ($RHW_HOST and the other RHW_
// variables make one command text serve many outlets). "" when it cannot tell.
func (o *Options) Endpoint() string {
	if o == nil || o.On == "" || strings.Contains(o.On, "RHW_") {
		return ""
	}
	return "power:" + strings.Join(strings.Fields(o.On), " ")
}
