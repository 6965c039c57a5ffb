// Package lock gives a real machine to one run at a time: one lock file per key (an
// endpoint of the machine: its console, its BMC, its outlet; see hosts.Endpoints) in a
// lock directory that does not depend on the environment by accident, held with flock(2), so the kernel releases it when the holder exits, however it
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
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

// EnvDir overrides DefaultDir.
const EnvDir = "REDOX_HWTEST_LOCK_DIR"

// SystemDir is the lock directory when REDOX_HWTEST_LOCK_DIR is not set: a fixed path, the
// same for every run and every user on the controller whatever their $TMPDIR (two runs
// with different temporary directories once locked the same board in two places and read
// its console at once). /run/lock is the system's directory for lock files (FHS 3.0,
// world-writable on Debian); where it is missing, /var/tmp, never $TMPDIR.
var SystemDir = func() string {
	if fi, err := os.Stat("/run/lock"); err == nil && fi.IsDir() {
		return "/run/lock/redox-hwtest"
	}
	return "/var/tmp/redox-hwtest-locks"
}()

// DefaultDir is where host locks live: $REDOX_HWTEST_LOCK_DIR when set on purpose, else
// SystemDir. One directory per controller, shared by every user of the harness on it.
func DefaultDir() string {
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	return SystemDir
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
	return fmt.Sprintf("%s is locked by %s; gave up after waiting %s", e.Name, e.Holder, e.Waited.Round(time.Millisecond))
}

var reName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// FileName is the lock file of a key: the key itself when it is a plain name, else the key
// with every other character made '_' and a hash of the whole key (so "tty:/dev/ttyS0" and
// "tty_/dev/ttyS0" stay two locks, and no key leaves the lock directory).
func FileName(key string) string {
	if reName.MatchString(key) {
		return key + ".lock"
	}
	safe := []byte(key)
	for i, c := range safe {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '+') {
			safe[i] = '_'
		}
	}
	if len(safe) > 100 {
		safe = safe[:100]
	}
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("%s-%x.lock", safe, sum[:6])
}

// Acquire takes the lock of key (a host's endpoint, e.g. "tcp:10.0.0.5:3001", or a plain
// name), waiting up to o.Wait (and until ctx ends).
func Acquire(ctx context.Context, name string, o Options) (*Lock, error) {
	if name == "" || strings.ContainsRune(name, 0) {
		return nil, fmt.Errorf("lock: bad key %q", name)
	}
	dir := o.Dir
	if dir == "" {
		dir = DefaultDir()
	}
	if _, err := os.Stat(dir); os.IsNotExist(err) {
		if err := os.MkdirAll(dir, os.ModeSticky|0o777); err != nil {
			return nil, fmt.Errorf("lock dir: %w", err)
		}
		// Every user of the harness on this controller locks here (the umask took o+w off);
		// sticky, as /tmp: nobody removes another's lock file.
		os.Chmod(dir, os.ModeSticky|0o777)
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	path := filepath.Join(dir, FileName(name))
	start := time.Now()
	var last Holder
	told := false
	var f *os.File
	for {
		if f == nil {
			// Each attempt uses its own open file description, so two goroutines of one
			// process exclude each other too.
			var err error
			if f, err = os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o666); err != nil {
				return nil, fmt.Errorf("lock %s: %w", path, err)
			}
			// Other users of the machine must be able to take it too (the umask took 0o022 off).
			f.Chmod(0o666)
		}
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			if sameFile(f, path) {
				break
			}
			// The file was removed (or replaced) after we opened it: a lock on it
			// excludes nobody. Open the path again.
			f.Close()
			f = nil
			continue
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
			return nil, fmt.Errorf("waiting for %s (held by %s): %w", name, h, ctx.Err())
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
	return readHolder(filepath.Join(dir, FileName(name)))
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

// Release gives the lock up (the holder record is cleared first). Safe to call twice. It
// fails when the lock did not hold all along: the lock file was removed or replaced while
// held (someone cleaned the lock directory), so another run may have taken the same host
// meanwhile. The caller keeps that error with the job: its results may not be its own.
func (l *Lock) Release() error {
	if l == nil || l.f == nil {
		return nil
	}
	var errs []error
	if err := l.stillHeld(); err != nil {
		errs = append(errs, err)
	} else if err := l.f.Truncate(0); err != nil {
		errs = append(errs, fmt.Errorf("lock %s: clearing the holder record: %w", l.Path, err))
	}
	if err := syscall.Flock(int(l.f.Fd()), syscall.LOCK_UN); err != nil {
		errs = append(errs, fmt.Errorf("lock %s: unlock: %w", l.Path, err))
	}
	if err := l.f.Close(); err != nil {
		errs = append(errs, fmt.Errorf("lock %s: %w", l.Path, err))
	}
	l.f = nil
	return errors.Join(errs...)
}

// stillHeld checks that the path still names the file this lock holds.
func (l *Lock) stillHeld() error {
	if !sameFile(l.f, l.Path) {
		return fmt.Errorf("lock %s was removed or replaced while held: another run may have used host %s at the same time", l.Path, l.Name)
	}
	return nil
}

// sameFile reports whether path names the open file f.
func sameFile(f *os.File, path string) bool {
	var held, now syscall.Stat_t
	if syscall.Fstat(int(f.Fd()), &held) != nil || syscall.Stat(path, &now) != nil {
		return false
	}
	return now.Dev == held.Dev && now.Ino == held.Ino
}

// Set is the locks of all of a host's endpoints, taken in sorted order (two runs that
// want overlapping sets cannot each hold half).
type Set struct{ Locks []*Lock }

// AcquireAll takes the lock of every key (sorted, duplicates once), or none.
func AcquireAll(ctx context.Context, keys []string, o Options) (*Set, error) {
	ks := append([]string(nil), keys...)
	sort.Strings(ks)
	ks = slices.Compact(ks)
	s := &Set{}
	for _, k := range ks {
		l, err := Acquire(ctx, k, o)
		if err != nil {
			s.Release()
			return nil, err
		}
		s.Locks = append(s.Locks, l)
	}
	return s, nil
}

// Release gives every lock up, in reverse order, and reports every failure.
func (s *Set) Release() error {
	if s == nil {
		return nil
	}
	var errs []error
	for i := len(s.Locks) - 1; i >= 0; i-- {
		if err := s.Locks[i].Release(); err != nil {
			errs = append(errs, err)
		}
	}
	s.Locks = nil
	return errors.Join(errs...)
}
