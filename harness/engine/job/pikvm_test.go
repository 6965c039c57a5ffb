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
	t    testing.TB
	fx   string
	dir  string
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
	cmd := qemutest.Command(q.fx, sock, "512M", "console=tty0 panic=-1")
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

// TestPiKVMScreenOnlyBoot: a "real machine" behind a PiKVM — the stand-in kvmd
// (hosts/pikvm/kvmdstandin) wired to a QEMU VM with no serial device — is powered on over
// ATX (the LED read back), and its boot to the shell is judged from the streamer's
// snapshots alone; power off reads the LED back too.
func TestPiKVMScreenOnlyBoot(t *testing.T) {
	requireOCR(t)
	fx := fixtures.Require(t)
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	dir, err := os.MkdirTemp("", "pikvm")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	mach := &qemuMachine{t: t, fx: fx, dir: dir}
	defer func() { mach.mu.Lock(); mach.stopLocked(); mach.mu.Unlock() }()
	k := kvmdstandin.New("kvmd-live-pw", mach)
	srv := httptest.NewServer(k.Handler())
	defer srv.Close()
	t.Setenv("RHW_TEST_PIKVM_PW", "kvmd-live-pw")
	y := fmt.Sprintf(`
settings: {silence: 6s, boot_timeout: 120s}
images:
  - {name: standin, arch: x86_64, profile: standin, variant: standin, path: %s/disk-uefi-x86_64.img}
hosts:
  - {name: laptop, kind: pikvm, arch: x86_64, silence: 60s,
     options: {address: "%s", password_env: RHW_TEST_PIKVM_PW, poll: 1s, power_timeout: 30s, min_off: 100ms}}
suites:
  - {name: boot}
`, fx, srv.URL)
	m, j := parse(t, y)
	b, checks, rec := bootAndLog(t, m, j, "")
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("want PASS judged from the PiKVM's screen, got %s: %s", b.Outcome.Verdict, b.Outcome.Reason)
	}
	if c := check(t, checks, "boot/login"); c.Verdict != record.Pass {
		t.Errorf("boot/login = %s %s", c.Verdict, c.Message)
	}
	if mach.Powered() {
		t.Error("the machine is still on after the job (power off not read back)")
	}
	if len(rec.Screens) == 0 {
		t.Error("no captures")
	}
}
