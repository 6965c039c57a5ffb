package job_test

import (
	"context"
	"fmt"
	"image"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/hosts/pikvm/kvmdstandin"
	"github.com/redox-hwtest/redox-hwtest/hosts/qemu"
	"github.com/redox-hwtest/redox-hwtest/hosts/qemu/qemutest"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// qemuMachine is the machine behind the stand-in PiKVM: a QEMU VM (the stand-in kernel and
// initrd, console on the VGA screen, no serial device) that the ATX button starts and
// stops, whose screen the snapshot shows (QMP screendump) and whose keyboard the HID types
// on (QMP send-key).
type qemuMachine struct {
	t   testing.TB
	fx  string
	dir string
	// vnc: QEMU's own VNC server on a unix socket in dir, with the password in dir/vnc.pw
	// (screen: vnc; vncProxy gives it a TCP address).
	vnc  bool
	mu   sync.Mutex
	cmd  *exec.Cmd
	qmp  *qemu.QMP
	done chan struct{}
}

func (q *qemuMachine) Press(on bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !on {
		q.stopLocked()
		return nil
	}
	sock := filepath.Join(q.dir, "qmp.sock")
	os.Remove(sock)
	var extra []string
	if q.vnc {
		extra = vncArgs(q.dir)
	}
	cmd := qemutest.Command(q.fx, sock, "512M", "console=tty0 panic=-1", extra...)
	if err := cmd.Start(); err != nil {
		return err
	}
	q.cmd, q.done = cmd, make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(q.done)
	qmp, err := qemutest.DialQMP(sock)
	if err != nil {
		return err
	}
	q.qmp = qmp
	return nil
}

func (q *qemuMachine) stopLocked() {
	if q.cmd != nil {
		syscall.Kill(-q.cmd.Process.Pid, syscall.SIGKILL)
		<-q.done
		q.qmp.Close()
		q.cmd = nil
	}
}

func (q *qemuMachine) Powered() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.cmd == nil {
		return false
	}
	select {
	case <-q.done:
		return false
	default:
		return true
	}
}

func (q *qemuMachine) Snapshot() (image.Image, error) {
	q.mu.Lock()
	qmp := q.qmp
	q.mu.Unlock()
	if qmp == nil {
		return nil, fmt.Errorf("no signal")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return qmp.Screendump(ctx, q.dir)
}

// webToQcode is the part of kvmd's key names this test types.
func webToQcode(k string) string {
	switch {
	case strings.HasPrefix(k, "Key"):
		return strings.ToLower(k[3:])
	case strings.HasPrefix(k, "Digit"):
		return k[5:]
	}
	return map[string]string{"Enter": "ret", "ShiftLeft": "shift", "Space": "spc"}[k]
}

func (q *qemuMachine) Shortcut(keys []string) error {
	var qc []string
	for _, k := range keys {
		qc = append(qc, webToQcode(k))
	}
	q.mu.Lock()
	qmp := q.qmp
	q.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return qmp.SendKeys(ctx, []string{strings.Join(qc, "-")})
}

// pikvmLive skips without OCR, the stand-in fixtures or QEMU; it returns the fixtures.
func pikvmLive(t *testing.T) string {
	t.Helper()
	requireOCR(t)
	fx := fixtures.Require(t)
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	return fx
}

// bootPiKVM boots the stand-in image on a pikvm host with these options and wants PASS:
// the machine reached its shell, judged from its screen.
func bootPiKVM(t *testing.T, fx, options string) *record.Record {
	t.Helper()
	y := fmt.Sprintf(`
settings: {silence: 6s, boot_timeout: 120s}
images:
  - {name: standin, arch: x86_64, profile: standin, variant: standin, path: %s/disk-uefi-x86_64.img}
hosts:
  - {name: laptop, kind: pikvm, arch: x86_64, silence: 60s, options: {%s}}
suites:
  - {name: boot}
`, fx, options)
	m, j := parse(t, y)
	b, checks, rec := bootAndLog(t, m, j, "")
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("want PASS judged from the PiKVM's screen, got %s: %s", b.Outcome.Verdict, b.Outcome.Reason)
	}
	if c := check(t, checks, "boot/login"); c.Verdict != record.Pass {
		t.Errorf("boot/login = %s %s", c.Verdict, c.Message)
	}
	if len(rec.Screens) == 0 {
		t.Error("no captures")
	}
	return rec
}

// standinPiKVM is the stand-in kvmd wired to a QEMU VM (with QEMU's VNC server when vnc).
func standinPiKVM(t *testing.T, fx string, vnc bool) (*qemuMachine, *kvmdstandin.Server, string) {
	t.Helper()
	mach := &qemuMachine{t: t, fx: fx, dir: t.TempDir(), vnc: vnc}
	t.Cleanup(func() { mach.mu.Lock(); mach.stopLocked(); mach.mu.Unlock() })
	k := kvmdstandin.New("kvmd-live-pw", mach)
	srv := httptest.NewServer(k.Handler())
	t.Cleanup(srv.Close)
	return mach, k, srv.URL
}

// TestPiKVMScreenOnlyBoot: a "real machine" behind a PiKVM — the stand-in kvmd
// (hosts/pikvm/kvmdstandin) wired to a QEMU VM with no serial device — is powered on over
// ATX (the LED read back), and its boot to the shell is judged from the streamer's
// snapshots alone; power off reads the LED back too.
func TestPiKVMScreenOnlyBoot(t *testing.T) {
	fx := pikvmLive(t)
	mach, _, url := standinPiKVM(t, fx, false)
	t.Setenv("RHW_TEST_PIKVM_PW", "kvmd-live-pw")
	bootPiKVM(t, fx, `address: "`+url+`", password_env: RHW_TEST_PIKVM_PW, poll: 1s, power_timeout: 30s, min_off: 100ms`)
	if mach.Powered() {
		t.Error("the machine is still on after the job (power off not read back)")
	}
}

const testVNCPassword = "rhw-vnc1"

// parallelSetenv is t.Setenv for a parallel test (which may not call it): each test uses
// variable names of its own.
func parallelSetenv(t *testing.T, k, v string) {
	os.Setenv(k, v)
	t.Cleanup(func() { os.Unsetenv(k) })
}

// vncArgs is QEMU's VNC server on dir/vnc.sock with the password in dir/vnc.pw (written
// here): VNC authentication, the security type kvmd-vnc offers with vncauth enabled.
func vncArgs(dir string) []string {
	os.WriteFile(filepath.Join(dir, "vnc.pw"), []byte(testVNCPassword), 0o600)
	return []string{"-object", "secret,id=vncpw,file=" + filepath.Join(dir, "vnc.pw"),
		"-vnc", "unix:" + filepath.Join(dir, "vnc.sock") + ",password-secret=vncpw,lossy=on"}
}

// vncPort is the stand-in kvmd-vnc port in front of QEMU's VNC server on dir/vnc.sock: an
// address known before the VM starts, as kvmd-vnc's is.
func vncPort(t *testing.T, dir string) string {
	t.Helper()
	v, err := kvmdstandin.StartVNC(filepath.Join(dir, "vnc.sock"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v.Addr
}

// TestPiKVMVNCScreenBoot: the machine behind the stand-in kvmd takes its screen and keys
// over RFB (screen: vnc, VNC authentication with its own password) from QEMU's VNC server,
// its power from ATX (the LED read back); its boot to the shell is judged from that screen.
func TestPiKVMVNCScreenBoot(t *testing.T) {
	t.Parallel()
	fx := pikvmLive(t)
	mach, k, url := standinPiKVM(t, fx, true)
	parallelSetenv(t, "RHW_TEST_PIKVM_VNC_KVMD_PW", "kvmd-live-pw")
	parallelSetenv(t, "RHW_TEST_PIKVM_VNC_PW", testVNCPassword)
	bootPiKVM(t, fx, `address: "`+url+`", password_env: RHW_TEST_PIKVM_VNC_KVMD_PW, poll: 1s, power_timeout: 30s, min_off: 100ms,
               screen: vnc, vnc_address: "`+vncPort(t, mach.dir)+`", vnc_password_env: RHW_TEST_PIKVM_VNC_PW`)
	if mach.Powered() {
		t.Error("the machine is still on after the job (power off not read back)")
	}
	k.Lock()
	n := len(k.Shortcuts)
	k.Unlock()
	if n != 0 {
		t.Errorf("%d key chords went through kvmd's HID; with screen: vnc they go over RFB", n)
	}
}

// TestPiKVMPowerCommand: the machine behind the PiKVM is switched by power commands (a
// power block as serial hosts take: here scripts that start and stop the QEMU VM, the
// state read back by a status command), its screen over VNC; it boots to the shell, and
// is off after the job. kvmd's API is not used on this path.
func TestPiKVMPowerCommand(t *testing.T) {
	t.Parallel()
	fx := pikvmLive(t)
	dir := t.TempDir()
	pidfile := filepath.Join(dir, "qemu.pid")
	pid := func() int {
		var pid int
		if b, err := os.ReadFile(pidfile); err == nil {
			fmt.Sscan(string(b), &pid)
		}
		return pid
	}
	// Kill only the VM this test started, by its pid.
	defer func() {
		if p := pid(); p > 0 {
			syscall.Kill(p, syscall.SIGKILL)
		}
	}()
	qemuArgs := append([]string{"qemu-system-x86_64", "-nodefaults", "-display", "none", "-no-user-config", "-no-reboot",
		"-machine", "pc", "-accel", "tcg", "-m", "512M", "-vga", "std",
		"-kernel", filepath.Join(fx, "vmlinuz-x86_64"), "-initrd", filepath.Join(fx, "initrd-x86_64.cpio.gz"),
		"-append", "'console=tty0 panic=-1'", "-daemonize", "-pidfile", pidfile}, vncArgs(dir)...)
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	on := script("on.sh", "rm -f "+pidfile+"\nexec "+strings.Join(qemuArgs, " "))
	off := script("off.sh", "[ -f "+pidfile+" ] && kill $(cat "+pidfile+") 2>/dev/null; exit 0")
	status := script("status.sh", "if [ -f "+pidfile+" ] && kill -0 $(cat "+pidfile+") 2>/dev/null; then echo on; else echo off; fi")
	parallelSetenv(t, "RHW_TEST_PIKVM_CMD_VNC_PW", testVNCPassword)
	// address: the PiKVM's, never contacted here (power and screen do not go through kvmd).
	bootPiKVM(t, fx, fmt.Sprintf(`address: "http://127.0.0.1:9", poll: 1s,
               screen: vnc, vnc_address: "%s", vnc_password_env: RHW_TEST_PIKVM_CMD_VNC_PW,
               power: {on: "%s", off: "%s", status: "%s", min_off: 100ms, settle: 20s}`, vncPort(t, dir), on, off, status))
	if p := pid(); p > 0 && syscall.Kill(p, 0) == nil {
		t.Error("the VM still runs after the job (power off not read back)")
	}
}
