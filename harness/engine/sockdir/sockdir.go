// Package sockdir makes the short private directory a job's unix sockets live in (their
// paths are limited to 108 bytes, job directories can be deep) and removes the ones a
// harness killed with SIGKILL left behind. A directory is named after its owner,
// rhw-<pid>-<process start time>-<random>, so a later run can tell whose it is and that
// the owner is gone: the pid alone could have been reused by another process since, the
// pid together with the kernel's start time of that process cannot.
package sockdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Prefix starts the name of every socket directory.
const Prefix = "rhw-"

// New makes a socket directory under parent ("" is os.TempDir()) owned by this process.
func New(parent string) (string, error) {
	start, err := startTime(os.Getpid())
	if err != nil {
		return "", fmt.Errorf("socket directory: %w", err)
	}
	return os.MkdirTemp(parent, fmt.Sprintf("%s%d-%d-", Prefix, os.Getpid(), start))
}

// Stale is a socket directory whose owner is gone.
type Stale struct {
	Path  string
	PID   int
	Start uint64
}

// CleanStale removes the socket directories under parent ("" is os.TempDir()) whose owner
// process is gone (no such pid, or the pid now belongs to a process started at another
// time), and only those this user owns. It returns what it removed; directories of a
// live harness, of other users and of any other name are left alone.
func CleanStale(parent string) ([]Stale, error) {
	if parent == "" {
		parent = os.TempDir()
	}
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil, err
	}
	var removed []Stale
	var errs []error
	for _, e := range entries {
		pid, start, ok := parseName(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		path := filepath.Join(parent, e.Name())
		if !ownedByMe(path) || alive(pid, start) {
			continue
		}
		if err := os.RemoveAll(path); err != nil {
			errs = append(errs, err)
			continue
		}
		removed = append(removed, Stale{Path: path, PID: pid, Start: start})
	}
	return removed, errors.Join(errs...)
}

// parseName reads pid and start time from rhw-<pid>-<start>-<random>.
func parseName(name string) (pid int, start uint64, ok bool) {
	rest, found := strings.CutPrefix(name, Prefix)
	if !found {
		return 0, 0, false
	}
	f := strings.SplitN(rest, "-", 3)
	if len(f) != 3 {
		return 0, 0, false
	}
	pid, err1 := strconv.Atoi(f[0])
	start, err2 := strconv.ParseUint(f[1], 10, 64)
	if err1 != nil || err2 != nil || pid <= 0 {
		return 0, 0, false
	}
	return pid, start, true
}

func ownedByMe(path string) bool {
	fi, err := os.Lstat(path)
	if err != nil {
		return false
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	return ok && int(st.Uid) == os.Getuid()
}

// alive reports whether pid is the very process that made the directory.
func alive(pid int, start uint64) bool {
	s, err := startTime(pid)
	return err == nil && s == start
}

// startTime is field 22 of /proc/<pid>/stat: when the process started, in clock ticks
// since boot (proc(5)). The command name before it is in parentheses and may hold spaces
// or parentheses, so the fields are counted from the last ')'.
func startTime(pid int) (uint64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(s[i+1:])
	// f[0] is field 3 (state); field 22 is f[19].
	if len(f) < 20 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f)+2)
	}
	return strconv.ParseUint(f[19], 10, 64)
}
