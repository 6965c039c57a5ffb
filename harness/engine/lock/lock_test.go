package lock

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestBusyLockNamesItsHolder(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(context.Background(), "board1", Options{Dir: dir, Job: "img@board1/boot"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	_, err = Acquire(context.Background(), "board1", Options{Dir: dir, Wait: 300 * time.Millisecond, Poll: 50 * time.Millisecond})
	var be *BusyError
	if !errors.As(err, &be) {
		t.Fatalf("want BusyError, got %v", err)
	}
	if be.Holder.PID != os.Getpid() || be.Holder.Job != "img@board1/boot" || be.Waited < 300*time.Millisecond {
		t.Fatalf("holder %+v waited %v", be.Holder, be.Waited)
	}
	msg := err.Error()
	for _, want := range []string{"board1", "pid ", "job img@board1/boot", "since "} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	// another host is independent
	l2, err := Acquire(context.Background(), "board2", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	l2.Release()
}

func TestSecondWaiterRunsAfterRelease(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(context.Background(), "h", Options{Dir: dir, Job: "first"})
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu     sync.Mutex
		waited []Holder
	)
	released := make(chan time.Time, 1)
	go func() {
		time.Sleep(400 * time.Millisecond)
		released <- time.Now()
		l.Release()
	}()
	l2, err := Acquire(context.Background(), "h", Options{Dir: dir, Job: "second", Wait: 10 * time.Second, Poll: 20 * time.Millisecond,
		OnWait: func(h Holder) { mu.Lock(); waited = append(waited, h); mu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	got := time.Now()
	defer l2.Release()
	if rel := <-released; got.Before(rel) {
		t.Fatal("second acquired before the first released")
	}
	if len(waited) == 0 || waited[0].Job != "first" {
		t.Fatalf("OnWait: %+v", waited)
	}
	if h := ReadHolder(dir, "h"); h.Job != "second" || h.PID != os.Getpid() {
		t.Fatalf("record after acquire: %+v", h)
	}
	l2.Release()
	if h := ReadHolder(dir, "h"); h.PID != 0 {
		t.Fatalf("record after release: %+v", h)
	}
	if err := l2.Release(); err != nil {
		t.Fatal("second Release:", err)
	}
}

func TestContextEndsTheWait(t *testing.T) {
	dir := t.TempDir()
	l, _ := Acquire(context.Background(), "h", Options{Dir: dir})
	defer l.Release()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := Acquire(ctx, "h", Options{Dir: dir, Wait: time.Hour})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v", err)
	}
}

func TestBadName(t *testing.T) {
	if _, err := Acquire(context.Background(), "", Options{Dir: t.TempDir()}); err == nil {
		t.Fatal("accepted an empty key")
	}
	// An endpoint key holds '/' and ':': its lock file stays inside the directory.
	dir := t.TempDir()
	l, err := Acquire(context.Background(), "tty:/../../x", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Release()
	if filepath.Dir(l.Path) != dir {
		t.Fatalf("lock file %s is outside %s", l.Path, dir)
	}
	if FileName("tty:/dev/ttyS0") == FileName("tty_/dev/ttyS0") {
		t.Fatal("two keys share a lock file")
	}
}

// The default lock directory is the same whatever $TMPDIR says: two runs with different
// temporary directories must find one lock.
func TestDefaultDirDoesNotFollowTMPDIR(t *testing.T) {
	t.Setenv(EnvDir, "")
	t.Setenv("TMPDIR", t.TempDir())
	a := DefaultDir()
	t.Setenv("TMPDIR", t.TempDir())
	if b := DefaultDir(); a != b || strings.HasPrefix(a, os.Getenv("TMPDIR")) {
		t.Fatalf("default lock dir follows TMPDIR: %s, then %s", a, b)
	}
	t.Setenv(EnvDir, "/somewhere/else")
	if DefaultDir() != "/somewhere/else" {
		t.Fatalf("%s does not override the default", EnvDir)
	}
}

// A lock whose file was removed while held did not exclude anyone: Release says so.
func TestReleaseReportsALockFileRemovedWhileHeld(t *testing.T) {
	dir := t.TempDir()
	l, err := Acquire(context.Background(), "tcp:127.0.0.1:3001", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(l.Path); err != nil {
		t.Fatal(err)
	}
	// Meanwhile another run takes "the same" lock: a new file.
	other, err := Acquire(context.Background(), "tcp:127.0.0.1:3001", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	err = l.Release()
	if err == nil || !strings.Contains(err.Error(), "removed or replaced while held") {
		t.Fatalf("Release = %v, want the lost exclusion reported", err)
	}
}

func TestAcquireAllTakesEveryKeyOrNone(t *testing.T) {
	dir := t.TempDir()
	busy, err := Acquire(context.Background(), "power:pdu 3", Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Release()
	if _, err := AcquireAll(context.Background(), []string{"tty:/dev/ttyS0", "power:pdu 3"}, Options{Dir: dir}); err == nil {
		t.Fatal("took a set with a busy member")
	}
	// The free member was given back.
	l, err := Acquire(context.Background(), "tty:/dev/ttyS0", Options{Dir: dir})
	if err != nil {
		t.Fatalf("free member still held: %v", err)
	}
	l.Release()
}

// A holder that dies without releasing (SIGKILL) frees the host: the kernel drops flock
// locks with the last descriptor.
func TestKilledHolderReleases(t *testing.T) {
	if os.Getenv("RHW_LOCK_HELPER") != "" {
		l, err := Acquire(context.Background(), "h", Options{Dir: os.Getenv("RHW_LOCK_HELPER"), Job: "doomed"})
		if err != nil {
			os.Exit(3)
		}
		_ = l
		os.Stdout.WriteString("locked\n")
		time.Sleep(time.Hour)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledHolderReleases$")
	cmd.Env = append(os.Environ(), "RHW_LOCK_HELPER="+dir)
	out, _ := cmd.StdoutPipe()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	buf := make([]byte, 7)
	if _, err := out.Read(buf); err != nil || string(buf) != "locked\n" {
		t.Fatalf("helper: %q %v", buf, err)
	}
	_, err := Acquire(context.Background(), "h", Options{Dir: dir})
	var be *BusyError
	if !errors.As(err, &be) || be.Holder.PID != cmd.Process.Pid || be.Holder.Job != "doomed" {
		t.Fatalf("want busy by the helper, got %v", err)
	}
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()
	l, err := Acquire(context.Background(), "h", Options{Dir: dir, Wait: 2 * time.Second})
	if err != nil {
		t.Fatalf("lock of a killed holder not released: %v", err)
	}
	l.Release()
}
