// Package labproc is test support for the real-machine host kinds (serial, ipmi): the helper
// processes a pretend lab is made of (socat cables, ser2net, ipmi_sim, the QEMU board)
// started in their own process groups and killed by group at cleanup, free loopback ports,
// and a skip naming the Debian package when a tool is missing. Only tests import it.
package labproc

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// packages names the Debian package of each tool the lab tests use.
var packages = map[string]string{
	"socat": "socat", "ser2net": "ser2net", "ipmi_sim": "openipmi", "ipmitool": "ipmitool",
	"qemu-system-x86_64": "qemu-system-x86",
}

// Need skips the test when a tool is not installed, naming its package.
func Need(t *testing.T, bins ...string) {
	t.Helper()
	for _, b := range bins {
		if _, err := exec.LookPath(b); err != nil {
			t.Skipf("%s is not installed (%v); apt-get install %s", b, err, packages[b])
		}
	}
}

// FreeTCP is a loopback TCP port free a moment ago.
func FreeTCP(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// FreeUDP is a loopback UDP port free a moment ago.
func FreeUDP(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// NoSecretIn fails the test if a file under dir (a run's artifacts) contains secret, or
// if there is no file at all (then the check proved nothing).
func NoSecretIn(t *testing.T, dir, secret string) {
	t.Helper()
	n := 0
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil || fi.IsDir() {
			return err
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), secret) {
			t.Errorf("%s contains the secret", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatalf("no artifacts under %s", dir)
	}
}

// Proc is a helper process in its own process group, killed (group) at cleanup.
type Proc struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs name with its output appended to logf.
func Start(t *testing.T, logf, name string, args ...string) *Proc {
	t.Helper()
	cmd := exec.Command(name, args...)
	out, err := os.OpenFile(logf, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out.Close()
	p := &Proc{cmd: cmd, done: make(chan struct{})}
	go func() { cmd.Wait(); close(p.done) }()
	t.Cleanup(p.KillGroup)
	return p
}

// KillGroup kills the process and everything in its group (ipmi_sim's VMs).
func (p *Proc) KillGroup() {
	syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	<-p.done
}

// KillLeader kills only the process itself (its children, e.g. a VM, keep running).
func (p *Proc) KillLeader() {
	p.cmd.Process.Kill()
	<-p.done
}

// Alive reports whether the process still runs.
func (p *Proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// Board is the pretend board's QEMU, started daemonized by the power commands with a
// pidfile vm.pid in the lab's private directory Dir.
type Board struct{ Dir string }

// PID is the board QEMU's pid (0 if not running). Only ours: its command line names our
// directory.
func (b Board) PID() int {
	data, err := os.ReadFile(filepath.Join(b.Dir, "vm.pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		return 0
	}
	cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if !strings.Contains(string(cmdline), b.Dir) {
		return 0
	}
	return pid
}

// Kill kills the board's QEMU and waits (briefly) until it is gone.
func (b Board) Kill() {
	if pid := b.PID(); pid != 0 {
		syscall.Kill(pid, syscall.SIGKILL)
		for i := 0; i < 100 && b.PID() != 0; i++ {
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// Scale is the time scale of the lab boards: TCG boots of the stand-in take 7-20 s on this
// kind of machine; scale 10 turns the 3 s silence window into 30 s and the 12 s deadline
// into 2 min.
const Scale = 10

// StandinMatrix is a one-job matrix: the stand-in's UEFI disk (in the fixtures fx) booted
// on one host, given as the YAML of its kind and options lines ("kind: power\n    options:
// {...}"); relative paths resolve against dir.
func StandinMatrix(t *testing.T, fx, dir, hostName, kindAndOptions string) (*matrix.Matrix, matrix.Job) {
	t.Helper()
	y := fmt.Sprintf(`
settings: {silence: 3s, boot_timeout: 12s}
images:
  - {name: standin, arch: x86_64, variant: standin, profile: standin, path: %s/disk-uefi-x86_64.img}
hosts:
  - name: %s
    arch: x86_64
    time_scale: %d
    %s
`, fx, hostName, Scale, kindAndOptions)
	m, err := matrix.Parse("lab.yaml", []byte(y), dir)
	if err != nil {
		t.Fatalf("%v\n%s", err, y)
	}
	jobs := m.Jobs(matrix.Filter{})
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	return m, jobs[0]
}
