// Package lock gives a real machine to one run at a time: one lock file per host in a lock
// directory, held with flock(2), so the kernel releases it when the holder exits, however it
// exits (a crashed or killed harness never leaves a stale lock). A waiter polls with a
// timeout and can say who holds the host: the holder writes its pid, controller hostname,
// job and start time into the file.
//
// flock works between the processes of one machine (and between goroutines of one process:
// each Acquire opens the file anew). For a lab shared by several controllers, serialise per
// host in CI as well (see README.md: GitLab resource_group).
package lock

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"
)

// EnvDir overrides DefaultDir.
const EnvDir = "REDOX_HWTEST_LOCK_DIR"

// DefaultDir is where host locks live unless REDOX_HWTEST_LOCK_DIR says otherwise: one
// directory per machine, shared by every user of the harness on it.
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "redox-hwtest-locks")
}

// Holder is who holds a lock.
type Holder struct {
	PID   int       `json:"pid"`
	Host  string    `json:"host"` // the controller's hostname
	Job   string    `json:"job,omitempty"`
	Since time.Time `json:"since"`
}

func (h Holder) String() string {
	if h.PID == 0 {
		return "an unknown holder (no holder record yet)"
	}
	s := fmt.Sprintf("pid %d on %s", h.PID, h.Host)
	if h.Job != "" {
		s += ", job " + h.Job
	}
	if !h.Since.IsZero() {
		s += fmt.Sprintf(", since %s (%s ago)", h.Since.Format(time.RFC3339), time.Since(h.Since).Round(time.Second))
	}
	return s
}

// Lock is a held host lock.
type Lock struct {
	Name string
	Path string
	f    *os.File
}

// Options for Acquire.
type Options struct {
	// Dir is the lock directory (DefaultDir() if empty); created if missing.
	Dir string
	// Job names the holder's job in the holder record.
	Job string
	// Wait bounds the wait for a busy lock (0: fail at once if busy).
	Wait time.Duration
	// Poll is the retry interval while waiting (default 250ms).
	Poll time.Duration
	// OnWait is called once when the lock is busy, with the current holder (for a
	// "waiting for host X, held by ..." message), and again whenever the holder changes.
	OnWait func(Holder)
}

// BusyError says the lock was still held when the wait ended.
type BusyError struct {
	Name   string
	Holder Holder
	Waited time.Duration
}

func (e *BusyError) Error() string {
	return fmt.Sprintf("host %s is locked by %s; gave up after waiting %s", e.Name, e.Holder, e.Waited.Round(time.Millisecond))
}

var reName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// Acquire takes the lock of host name, waiting up to o.Wait (and until ctx ends).
func Acquire(ctx context.Context, name string, o Options) (*Lock, error) {
	if !reName.MatchString(name) {
		return nil, fmt.Errorf("lock: bad host name %q", name)
	}
	dir := o.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	if err := os.MkdirAll(dir, 0o1777); err != nil {
		return nil, fmt.Errorf("lock dir: %w", err)
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	path := filepath.Join(dir, name+".lock")
	// Each attempt uses its own open file description, so two goroutines of one process
	// exclude each other too.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Other users of the machine must be able to take it too (the umask took 0o022 off).
	f.Chmod(0o666)
	start := time.Now()
	var last Holder
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("flock %s: %w", path, err)
		}
		h := readHolder(path)
		if o.OnWait != nil && (!told || h != last) {
			o.OnWait(h)
			told = true
		}
		last = h
		waited := time.Since(start)
		if waited >= o.Wait {
			f.Close()
			return nil, &BusyError{Name: name, Holder: h, Waited: waited}
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for host %s (held by %s): %w", name, h, ctx.Err())
		case <-time.After(min(poll, o.Wait-waited)):
		}
	}
	host, _ := os.Hostname()
	rec, _ := json.Marshal(Holder{PID: os.Getpid(), Host: host, Job: o.Job, Since: time.Now().UTC().Truncate(time.Second)})
	if err := f.Truncate(0); err == nil {
		f.WriteAt(append(rec, '\n'), 0)
	}
	return &Lock{Name: name, Path: path, f: f}, nil
}

// ReadHolder reads who holds the lock of host name in dir (zero if nobody wrote a record).
func ReadHolder(dir, name string) Holder {
	if dir == "" {
		dir = DefaultDir()
	}
	return readHolder(filepath.Join(dir, name+".lock"))
}

func readHolder(path string) Holder {
	b, err := os.ReadFile(path)
	if err != nil {
		return Holder{}
	}
	var h Holder
	if json.Unmarshal([]byte(strings.TrimSpace(string(b))), &h) != nil {
		return Holder{}
	}
	return h
}

// Release gives the lock up (the holder record is cleared first). Safe to call twice.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	l.f.Truncate(0)
	err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN)
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	l.f = nil
	return err
}
