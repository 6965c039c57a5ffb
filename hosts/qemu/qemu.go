// Package qemu is the QEMU host kind: x86_64 q35/pc with OVMF or SeaBIOS, aarch64 virt with
// AAVMF, the devices the matrix lists, serial on a unix socket that QEMU waits on (no byte is
// lost), QMP for control, KVM when it really works and TCG otherwise. QEMU runs in its own
// process group, which is what PowerOff kills and reaps: never anyone else's QEMU.
package qemu

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
	"github.com/redox-hwtest/redox-hwtest/hosts/vmproc"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	hosts.Register("qemu", New)
	matrix.RegisterOptions("qemu", ValidateOptions)
}

// Machine is one QEMU VM.
type Machine struct {
	host  matrix.Host
	img   matrix.Image
	env   hosts.Env
	opts  Options
	accel string
	scale float64
	plan  *Plan

	cmd     *exec.Cmd
	pgid    int
	stderr  *vmproc.Tail
	exited  chan struct{}
	exitErr error
	qmp     *QMP
	serial  net.Conn
	offOnce sync.Once
}

// New is the qemu host Factory.
func New(h matrix.Host, img matrix.Image, env hosts.Env) (hosts.Machine, error) {
	var o Options
	if err := decodeOptions(h, &o); err != nil {
		return nil, err
	}
	accel, why := ChooseAccel(h, o)
	scale := h.TimeScale
	if scale <= 0 {
		scale = 1
		if accel == "tcg" {
			scale = 10
		}
	}
	if env.Log != nil {
		fmt.Fprintf(env.Log, "qemu: accel %s (%s), time scale %.1f\n", accel, why, scale)
	}
	plan, err := BuildPlan(h, img, o, env.Dir, accel, env.BootArgs)
	if err != nil {
		return nil, hosts.Infra(err)
	}
	return &Machine{host: h, img: img, env: env, opts: o, accel: accel, scale: scale, plan: plan, exited: make(chan struct{})}, nil
}

// Plan returns the command plan (for logs and tests).
func (m *Machine) Plan() *Plan { return m.plan }

// PGID is QEMU's process group id (0 before PowerOn).
func (m *Machine) PGID() int { return m.pgid }

// QMP returns the control connection (nil before PowerOn).
func (m *Machine) QMP() *QMP { return m.qmp }

// TimeScale implements hosts.Machine.
func (m *Machine) TimeScale() float64 { return m.scale }

// Facts implements hosts.Machine.
func (m *Machine) Facts() map[string]string {
	return map[string]string{"accel": m.accel, "qemu_argv": strings.Join(m.plan.Argv, " ")}
}

// Exited implements hosts.Machine.
func (m *Machine) Exited() <-chan struct{} { return m.exited }

// ExitErr implements hosts.Machine.
func (m *Machine) ExitErr() error {
	select {
	case <-m.exited:
		return m.exitErr
	default:
		return nil
	}
}

// PowerOn starts QEMU and connects the serial socket; QEMU holds the guest until then.
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := os.MkdirAll(m.env.Dir, 0o755); err != nil {
		return nil, hosts.Infra(err)
	}
	if m.plan.VarsTo != "" {
		if err := copyFile(m.plan.VarsFrom, m.plan.VarsTo); err != nil {
			return nil, hosts.Infra(fmt.Errorf("uefi vars: %w", err))
		}
	}
	for path, size := range m.plan.Scratch {
		if err := os.WriteFile(path, nil, 0o644); err != nil {
			return nil, hosts.Infra(err)
		}
		if err := os.Truncate(path, size); err != nil {
			return nil, hosts.Infra(err)
		}
	}
	for _, s := range []string{m.plan.SerialSock, m.plan.QMPSock} {
		os.Remove(s)
	}
	m.stderr = &vmproc.Tail{Max: 16 << 10}
	var logw io.Writer = m.stderr
	if m.env.Log != nil {
		logw = io.MultiWriter(m.stderr, m.env.Log)
	}
	cmd := exec.Command(m.plan.Argv[0], m.plan.Argv[1:]...)
	cmd.Stdin = nil
	cmd.Stdout = logw
	cmd.Stderr = logw
	// Its own process group: PowerOff kills exactly what we started, children included.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, hosts.Infra(fmt.Errorf("start %s: %w", m.plan.Argv[0], err))
	}
	m.cmd, m.pgid = cmd, cmd.Process.Pid
	go func() {
		err := cmd.Wait()
		if err == nil {
			m.exitErr = fmt.Errorf("qemu exited")
		} else {
			m.exitErr = fmt.Errorf("qemu exited: %v", err)
		}
		if tail := strings.TrimSpace(m.stderr.String()); tail != "" {
			m.exitErr = fmt.Errorf("%w: %s", m.exitErr, vmproc.LastLines(tail, 5))
		}
		close(m.exited)
	}()
	conn, err := m.dial(ctx, m.plan.SerialSock)
	if err != nil {
		m.PowerOff(context.Background())
		return nil, hosts.Infra(fmt.Errorf("serial socket: %w", err))
	}
	m.serial = conn
	q, err := m.dialQMP(ctx)
	if err != nil {
		conn.Close()
		m.PowerOff(context.Background())
		return nil, hosts.Infra(fmt.Errorf("qmp: %w", err))
	}
	m.qmp = q
	return conn, nil
}

// dial waits for QEMU to create a socket, giving up if QEMU exits.
func (m *Machine) dial(ctx context.Context, path string) (net.Conn, error) {
	return vmproc.DialUnix(ctx, path, 30*time.Second, m.exited, func() error { return m.exitErr })
}

func (m *Machine) dialQMP(ctx context.Context) (*QMP, error) {
	deadline, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		q, err := DialQMP(deadline, m.plan.QMPSock)
		if err == nil {
			return q, nil
		}
		select {
		case <-m.exited:
			return nil, m.exitErr
		case <-deadline.Done():
			return nil, fmt.Errorf("%w (last error: %v)", deadline.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// PowerOff asks QEMU to quit over QMP, then terminates and kills its process group, and
// always reaps it.
func (m *Machine) PowerOff(ctx context.Context) error {
	m.offOnce.Do(func() {
		if m.cmd == nil {
			return
		}
		if m.qmp != nil {
			qctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			m.qmp.Quit(qctx)
			cancel()
		}
		vmproc.StopGroup(m.pgid, m.exited)
		if m.qmp != nil {
			m.qmp.Close()
		}
		if m.serial != nil {
			m.serial.Close()
		}
	})
	select {
	case <-m.exited:
		return nil
	default:
		return errors.New("qemu did not exit after SIGKILL")
	}
}

func copyFile(from, to string) error {
	data, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, data, 0o644)
}
