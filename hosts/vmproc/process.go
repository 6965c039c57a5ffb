package vmproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// Process is the one lifecycle of a VMM process, for a Machine to embed: Start in its own
// process group, the exit state (Exited, ExitErr as hosts.Machine wants them, the reason
// always "<name> exited: <exit status or signal>: <last stderr lines>"), the waits for
// what the VMM creates (giving up when it dies), and Stop, the ladder that always reaps
// it. Its zero value is ready: Exited works before Start (it never closes then).
type Process struct {
	hosts.ExitState

	mu     sync.Mutex
	name   string
	cmd    *exec.Cmd
	pgid   int
	stderr Tail
	stop   sync.Once
}

// Prepare makes the job directory, the scratch files (sparse, of the given sizes) and
// removes sockets a previous VMM left at these paths ("" entries are skipped).
func Prepare(dir string, scratch map[string]int64, sockets ...string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for path, size := range scratch {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			return err
		}
		if err := os.Truncate(path, size); err != nil {
			return err
		}
	}
	for _, s := range sockets {
		if s != "" {
			os.Remove(s)
		}
	}
	return nil
}

// CopyFile makes a private copy of a file the VMM writes to (a disk image, UEFI variables),
// streamed (copy_file_range: a reflink or an in-kernel copy where the filesystem can); a
// failed copy leaves nothing behind. Only a regular file is copied: a FIFO named as the
// UEFI variables would block the open, /dev/zero fill the disk.
func CopyFile(from, to string) error {
	in, err := inputfile.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		os.Remove(to)
		return err
	}
	return out.Close()
}

// Start runs argv as the VMM called name: in its own process group (Stop kills exactly
// what was started, children included; Pdeathsig takes it down with the harness), stderr
// (and stdout, unless given) into log and the tail kept for the exit reason. stdin and
// stdout may be nil.
func (p *Process) Start(name string, argv []string, stdin, stdout *os.File, log io.Writer) error {
	p.stderr.Max = 16 << 10
	var logw io.Writer = &p.stderr
	if log != nil {
		logw = io.MultiWriter(&p.stderr, &headWriter{w: log, left: LogLimit})
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if stdin != nil {
		cmd.Stdin = stdin
	}
	cmd.Stdout = logw
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.Stderr = logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", argv[0], err)
	}
	p.mu.Lock()
	p.name, p.cmd, p.pgid = name, cmd, cmd.Process.Pid
	p.mu.Unlock()
	go func() {
		err := cmd.Wait()
		e := errors.New(name + " exited")
		if err != nil {
			e = fmt.Errorf("%s exited: %v", name, err)
		}
		if tail := strings.TrimSpace(p.stderr.String()); tail != "" {
			e = fmt.Errorf("%w: %s", e, LastLines(tail, 5))
		}
		p.Exit(e)
	}()
	return nil
}

// PGID is the VMM's process group id (0 before Start).
func (p *Process) PGID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pgid
}

// Started reports whether Start succeeded.
func (p *Process) Started() bool { return p.PGID() != 0 }

// WaitFor calls try until it succeeds, every 20ms for up to timeout: for a socket or an API
// the VMM brings up. It gives up at once when the VMM exits, with its exit reason.
func (p *Process) WaitFor(ctx context.Context, what string, timeout time.Duration, try func(ctx context.Context) error) error {
	deadline, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	for {
		err := try(deadline)
		if err == nil {
			return nil
		}
		select {
		case <-p.Exited():
			return p.ExitErr()
		case <-deadline.Done():
			return fmt.Errorf("%s: %w (last error: %v)", what, deadline.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// DialUnix connects to a unix socket the VMM creates (WaitFor).
func (p *Process) DialUnix(ctx context.Context, path string, timeout time.Duration) (net.Conn, error) {
	var conn net.Conn
	err := p.WaitFor(ctx, path, timeout, func(ctx context.Context) error {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", path)
		conn = c
		return err
	})
	return conn, err
}

// Stop ends the VMM once: polite (the VMM's own quit request, skipped when it already
// exited) gets a moment, then SIGTERM and SIGKILL go to its process group, and it is
// reaped. It fails only when the VMM is still there after SIGKILL. Nothing to do before
// Start.
func (p *Process) Stop(ctx context.Context, polite func(ctx context.Context)) error {
	if !p.Started() {
		return nil
	}
	p.stop.Do(func() {
		if polite != nil {
			select {
			case <-p.Exited():
			default:
				pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
				polite(pctx)
				cancel()
			}
		}
		StopGroup(p.PGID(), p.Exited())
	})
	select {
	case <-p.Exited():
		return nil
	default:
		p.mu.Lock()
		defer p.mu.Unlock()
		return fmt.Errorf("%s (process group %d) did not exit after SIGKILL", p.name, p.pgid)
	}
}

// ExitCode is the VMM's exit status once it has exited; ok is false while it runs or when
// a signal ended it.
func (p *Process) ExitCode() (code int, ok bool) {
	select {
	case <-p.Exited():
	default:
		return 0, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.ProcessState == nil {
		return 0, false
	}
	if ws, isWS := p.cmd.ProcessState.Sys().(syscall.WaitStatus); isWS && ws.Signaled() {
		return 0, false
	}
	return p.cmd.ProcessState.ExitCode(), true
}
