package cloudhypervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/boot"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/internal/syncbuf"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// These tests run the Machine against the FAKE cloud-hypervisor process of fakech_test.go.

type fakeRun struct {
	m   *Machine
	dir string
	log *syncbuf.Buffer
}

// fakeMachine builds a Machine whose binary is the fake VMM in the given mode.
func fakeMachine(t *testing.T, mode, serial string, opts map[string]any) *fakeRun {
	t.Helper()
	old := kvmDevice
	kvmDevice = "" // the fake needs no KVM
	t.Cleanup(func() { kvmDevice = old })
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := sockDir(t)
	t.Setenv(fakeCHEnv, "1")
	t.Setenv(fakeModeEnv, mode)
	t.Setenv(fakePIDFileEnv, filepath.Join(dir, "child.pid"))
	fw := filepath.Join(dir, "CLOUDHV.fd")
	img := filepath.Join(dir, "redox.img")
	for _, f := range []string{fw, img} {
		if err := os.WriteFile(f, []byte("fake"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	o := map[string]any{"binary": exe, "firmware": fw, "serial": serial, "api_timeout": "10s"}
	for k, v := range opts {
		o[k] = v
	}
	h := matrix.Host{Name: "fake", Kind: Kind, Arch: hostArch(), SMP: 2, Memory: "512M", Options: o}
	log := &syncbuf.Buffer{}
	mach, err := New(h, matrix.Image{Name: "r", Arch: hostArch(), Path: img}, hosts.Env{Dir: dir, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	m := mach.(*Machine)
	t.Cleanup(func() {
		m.PowerOff(context.Background())
		if t.Failed() {
			t.Logf("host log:\n%s", log)
		}
	})
	return &fakeRun{m: m, dir: dir, log: log}
}

// powerOn starts the machine and opens its console (closed at cleanup).
func (r *fakeRun) powerOn(t *testing.T) *console.Console {
	t.Helper()
	stream, err := r.m.PowerOn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return openConsole(t, stream)
}

func openConsole(t *testing.T, rw io.ReadWriteCloser) *console.Console {
	t.Helper()
	con, err := console.Open(rw, console.Options{Transcript: filepath.Join(t.TempDir(), "transcript.log")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { con.Close() })
	return con
}

func expect(t *testing.T, con *console.Console, from int64, pattern string) console.Match {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	m, err := con.Expect(ctx, from, pattern)
	if err != nil {
		t.Fatalf("waiting for %q: %v\nlast output: %q", pattern, err, con.Tail(300))
	}
	return m
}

// checkLines checks that text starts with the fake guest's first line and has every line in
// order: nothing lost, nothing reordered.
func checkLines(t *testing.T, text string) {
	t.Helper()
	lines := strings.Split(text, "\n")
	n := 0
	for _, l := range lines {
		if !strings.HasPrefix(l, "FAKE-GUEST line ") {
			continue
		}
		want := fmt.Sprintf("FAKE-GUEST line %05d ", n)
		if !strings.HasPrefix(l, want) || len(l) != len(want)+72 {
			t.Fatalf("line %d of the serial output is %q, want %q...", n, l, want)
		}
		n++
	}
	if !strings.HasPrefix(text, "FAKE-GUEST line 00000 ") {
		t.Errorf("the stream does not start with the guest's first byte: %q", text[:min(len(text), 80)])
	}
	if n != fakeLines {
		t.Errorf("%d of %d lines arrived", n, fakeLines)
	}
}

func childPID(t *testing.T, dir string) int {
	t.Helper()
	for i := 0; i < 200; i++ {
		if b, err := os.ReadFile(filepath.Join(dir, "child.pid")); err == nil && len(b) > 0 {
			pid, err := strconv.Atoi(string(b))
			if err == nil {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the fake VMM did not start its child")
	return 0
}

// gone reports whether a process is dead (reaped, or a zombie waiting for init).
func gone(pid int) bool {
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2] == 'Z'
	}
	return false
}

// eventuallyGone waits a little for a SIGKILLed process to disappear (delivery is
// asynchronous).
func eventuallyGone(pid int) bool {
	for i := 0; i < 250; i++ {
		if gone(pid) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestFakeVMMPTYLosesNothing(t *testing.T) {
	r := fakeMachine(t, "", "pty", nil)
	stream, err := r.m.PowerOn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// Let the guest fill the pty and block before anyone reads.
	time.Sleep(300 * time.Millisecond)
	con := openConsole(t, stream)
	done := expect(t, con, 0, "FAKE-GUEST done")
	checkLines(t, con.Text(0, done.End))
	echo := expect(t, con, done.End, "FAKE-GUEST tick")
	if err := con.Send(t.Context(), "hello harness\r"); err != nil {
		t.Fatal(err)
	}
	expect(t, con, echo.End, "FAKE-ECHO hello harness")
	if strings.Contains(con.Text(0, con.Offset()), "hello harness\r") {
		t.Error("the terminal echoed the input: it is not in raw mode")
	}

	f := r.m.Facts()
	if f["ch_version"] != fakeVersion || f["serial"] != "pty" || !strings.Contains(f["ch_argv"], "--serial tty") {
		t.Errorf("facts %v", f)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "disk.img")); err != nil {
		t.Errorf("the private disk copy is missing: %v", err)
	}
	pgid, child := r.m.PGID(), childPID(t, r.dir)
	if pgid <= 0 || r.m.ExitErr() != nil {
		t.Fatalf("pgid %d, exit %v", pgid, r.m.ExitErr())
	}
	if err := r.m.PowerOff(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.m.Exited():
	default:
		t.Fatal("PowerOff returned with the VMM alive")
	}
	if !eventuallyGone(child) {
		t.Errorf("the VMM's child %d (process group %d) survived PowerOff", child, pgid)
	}
	if _, err := os.Stat(filepath.Join(r.dir, "disk.img")); !os.IsNotExist(err) {
		t.Errorf("the disk copy outlived the machine: %v", err)
	}
	if err := r.m.PowerOff(t.Context()); err != nil {
		t.Errorf("second PowerOff: %v", err)
	}
}

func TestFakeVMMPauseResumeSnapshot(t *testing.T) {
	r := fakeMachine(t, "", "pty", nil)
	con := r.powerOn(t)
	expect(t, con, expect(t, con, 0, "FAKE-GUEST done").End, "FAKE-GUEST tick")
	ctx := t.Context()
	if err := r.m.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if !r.m.Paused() {
		t.Fatal("Paused() false after Pause")
	}
	if info, err := r.m.API().Info(ctx); err != nil || info.State != StatePaused {
		t.Fatalf("vm.info while paused: %+v %v", info, err)
	}
	time.Sleep(150 * time.Millisecond) // a tick in flight may still land
	before := con.Offset()
	time.Sleep(500 * time.Millisecond)
	if after := con.Offset(); after != before {
		t.Errorf("a paused guest printed %q", con.Text(before, after))
	}
	err := r.m.Pause(ctx)
	if !IsStatus(err, http.StatusMethodNotAllowed) || !r.m.Paused() {
		t.Errorf("pausing twice: %v (paused %v)", err, r.m.Paused())
	}
	if err := r.m.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if r.m.Paused() {
		t.Fatal("Paused() true after Resume")
	}
	expect(t, con, before, "FAKE-GUEST tick")
	snap := filepath.Join(t.TempDir(), "snap")
	if err := r.m.Snapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(snap, "config.json")); err != nil {
		t.Errorf("snapshot: %v", err)
	}
	if r.m.Paused() {
		t.Error("Snapshot left a running VM paused")
	}
	if info, err := r.m.API().Info(ctx); err != nil || info.State != StateRunning {
		t.Errorf("vm.info after the snapshot: %+v %v", info, err)
	}
}

func TestFakeVMMDeathIsInfra(t *testing.T) {
	r := fakeMachine(t, "die", "pty", nil)
	con := r.powerOn(t)
	out := boot.Run(t.Context(), con, r.m, boot.Config{Profile: profile.Standin, Silence: 20 * time.Second, Deadline: time.Minute})
	if out.Verdict != record.Infra {
		t.Fatalf("verdict %s (%s), want INFRA", out.Verdict, out.Reason)
	}
	select {
	case <-r.m.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("Exited not closed after the VMM died")
	}
	e := r.m.ExitErr()
	if e == nil || !strings.Contains(e.Error(), "exit status 3") || !strings.Contains(e.Error(), "the guest died") {
		t.Fatalf("ExitErr %v: want the exit status and the VMM's last words", e)
	}
	if !strings.Contains(con.Text(0, con.Offset()), "FAKE-GUEST dying") {
		t.Error("the guest's last line before the VMM died was lost")
	}
	if err := r.m.PowerOff(t.Context()); err != nil {
		t.Error(err)
	}
}

func TestFakeVMMPowerOffEscalates(t *testing.T) {
	r := fakeMachine(t, "ignore-shutdown", "pty", nil)
	stream, err := r.m.PowerOn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer stream.Close()
	go io.Copy(io.Discard, stream)
	child := childPID(t, r.dir)
	start := time.Now()
	if err := r.m.PowerOff(t.Context()); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	// vmm.shutdown is ignored (2s), SIGTERM too (3s): only SIGKILL ends it.
	if took < 4*time.Second || took > 20*time.Second {
		t.Errorf("PowerOff took %s, want the vmm.shutdown and SIGTERM waits before SIGKILL", took)
	}
	if !strings.Contains(r.m.ExitErr().Error(), "killed") {
		t.Errorf("ExitErr %v, want a SIGKILL", r.m.ExitErr())
	}
	if !eventuallyGone(child) {
		t.Errorf("child %d survived", child)
	}
}

func TestFakeVMMSocketMode(t *testing.T) {
	r := fakeMachine(t, "", "socket", nil)
	if !reflect.DeepEqual(r.m.Plan().Argv[1:3], []string{"--api-socket", "path=" + filepath.Join(r.dir, "api.sock")}) {
		t.Fatalf("argv %q", r.m.Plan().Argv)
	}
	con := r.powerOn(t)
	done := expect(t, con, 0, "FAKE-GUEST done")
	checkLines(t, con.Text(0, done.End))
	if err := con.Send(t.Context(), "over the socket\r"); err != nil {
		t.Fatal(err)
	}
	expect(t, con, done.End, "FAKE-ECHO over the socket")
	info, err := r.m.API().Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if info.State != StateRunning || !reflect.DeepEqual(&info.Config, r.m.Plan().Config) {
		t.Errorf("the VMM got\n %+v, want\n %+v", info.Config, *r.m.Plan().Config)
	}
	f := r.m.Facts()
	if f["serial_early_output"] != "" || !strings.Contains(f["ch_command_line"], "--serial socket=") {
		t.Errorf("facts %v", f)
	}
}

func TestFakeVMMSocketModeOlderVMM(t *testing.T) {
	r := fakeMachine(t, "old-socket", "socket", nil)
	con := r.powerOn(t)
	expect(t, con, 0, "FAKE-GUEST tick")
	if f := r.m.Facts(); !strings.Contains(f["serial_early_output"], "only at vm.boot") {
		t.Errorf("facts %v: a VMM that binds the serial socket at vm.boot must be recorded", f)
	}
	if !strings.Contains(r.log.String(), "output before the connection may be missing") {
		t.Errorf("log does not say output may be missing:\n%s", r.log)
	}
}

func TestFakeVMMStartFailures(t *testing.T) {
	t.Run("exits at start", func(t *testing.T) {
		r := fakeMachine(t, "exit-at-start", "pty", nil)
		_, err := r.m.PowerOn(t.Context())
		if !hosts.IsInfra(err) || !strings.Contains(err.Error(), "Error parsing config") || !strings.Contains(err.Error(), "exit status 1") {
			t.Fatalf("want INFRA with the VMM's message, got %v", err)
		}
		<-r.m.Exited()
	})
	// The VMM died before the guest printed a byte (a firmware it cannot load): INFRA with
	// the VMM's message, whether PowerOn still waits for its API or the boot follows the
	// console already (then named a start failure; issue 24).
	t.Run("dies before the guest ran", func(t *testing.T) {
		r := fakeMachine(t, "die-at-boot", "pty", nil)
		defer r.m.PowerOff(t.Context())
		stream, err := r.m.PowerOn(t.Context())
		if err != nil {
			if !hosts.IsInfra(err) || !strings.Contains(err.Error(), "cannot load the firmware") {
				t.Fatalf("want INFRA with the VMM's message, got %v", err)
			}
			return
		}
		con, err := console.Open(stream, console.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer con.Close()
		out := boot.Run(t.Context(), con, r.m, boot.Config{Profile: profile.Standin, Silence: 20 * time.Second, Deadline: time.Minute})
		if out.Verdict != record.Infra || !strings.Contains(out.Reason, "before the guest printed anything") || !strings.Contains(out.Reason, "cannot load the firmware") {
			t.Fatalf("verdict %s (%s), want INFRA: a start failure with the VMM's message", out.Verdict, out.Reason)
		}
	})
	t.Run("API never answers", func(t *testing.T) {
		r := fakeMachine(t, "no-api", "socket", map[string]any{"api_timeout": "500ms"})
		start := time.Now()
		_, err := r.m.PowerOn(t.Context())
		if !hosts.IsInfra(err) || !strings.Contains(err.Error(), "api socket") {
			t.Fatalf("want INFRA about the api socket, got %v", err)
		}
		if time.Since(start) > 15*time.Second {
			t.Errorf("took %s", time.Since(start))
		}
		select {
		case <-r.m.Exited(): // killed and reaped
		default:
			t.Error("the VMM was left running")
		}
	})
	t.Run("no binary", func(t *testing.T) {
		r := fakeMachine(t, "", "pty", map[string]any{"binary": filepath.Join(t.TempDir(), "no-such-vmm")})
		_, err := r.m.PowerOn(t.Context())
		if !hosts.IsInfra(err) || !strings.Contains(err.Error(), "no-such-vmm") {
			t.Fatalf("want INFRA naming the binary, got %v", err)
		}
		if err := r.m.PowerOff(t.Context()); err != nil {
			t.Errorf("PowerOff of a machine that never started: %v", err)
		}
	})
}
