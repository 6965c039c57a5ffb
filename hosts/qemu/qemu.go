// Package qemu is the QEMU host kind: x86_64 q35/pc with OVMF or SeaBIOS, aarch64 virt with
// AAVMF, the devices the matrix lists, serial on a unix socket that QEMU waits on (no byte is
// lost), QMP for control, KVM when it really works and TCG otherwise. QEMU runs in its own
// process group, which is what PowerOff kills and reaps: never anyone else's QEMU.
package qemu

import (
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/rfb"
	"github.com/redox-hwtest/redox-hwtest/hosts/vmproc"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	hosts.Register(hosts.Kind{Name: "qemu", New: New, Options: ValidateOptions})
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

	vmproc.Process // QEMU's process: PGID, Exited, ExitErr
	qmp            *QMP
	serial         net.Conn
	vnc            *rfb.Client       // the screen, when options.screen is vnc
	screenOnly     *hosts.ScreenOnly // the console stream, when options.console is screen
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
	return &Machine{host: h, img: img, env: env, opts: o, accel: accel, scale: scale, plan: plan}, nil
}

// Plan returns the command plan (for logs and tests).
func (m *Machine) Plan() *Plan { return m.plan }

// QMP returns the control connection (nil before PowerOn).
func (m *Machine) QMP() *QMP { return m.qmp }

// TimeScale implements hosts.Machine.
func (m *Machine) TimeScale() float64 { return m.scale }

// Facts implements hosts.Machine.
func (m *Machine) Facts() map[string]string {
	return map[string]string{"accel": m.accel, "qemu_argv": strings.Join(m.plan.Argv, " ")}
}

// PowerOn starts QEMU and connects the serial socket; QEMU holds the guest until then.
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := vmproc.Prepare(m.env.Dir, m.plan.Scratch, m.plan.SerialSock, m.plan.QMPSock); err != nil {
		return nil, hosts.Infra(err)
	}
	if m.plan.VarsTo != "" {
		if err := vmproc.CopyFile(m.plan.VarsFrom, m.plan.VarsTo); err != nil {
			return nil, hosts.Infra(fmt.Errorf("uefi vars: %w", err))
		}
	}
	if err := m.Start("qemu", m.plan.Argv, nil, nil, m.env.Log); err != nil {
		return nil, hosts.Infra(err)
	}
	if m.plan.ScreenOnly {
		return m.powerOnScreenOnly(ctx)
	}
	conn, err := m.DialUnix(ctx, m.plan.SerialSock, 30*time.Second)
	if err != nil {
		m.PowerOff(context.Background())
		return nil, hosts.Infra(fmt.Errorf("serial socket: %w", err))
	}
	m.serial = conn
	if err := m.attachControl(ctx); err != nil {
		return nil, err
	}
	return conn, nil
}

// attachControl connects QMP and, for options.screen vnc, the VNC screen; on failure the VM
// is powered off.
func (m *Machine) attachControl(ctx context.Context) error {
	err := m.dialQMP(ctx)
	if err == nil && m.plan.VNC {
		err = m.attachVNC(ctx)
	}
	if err != nil {
		m.PowerOff(context.Background())
	}
	return err
}

// dialQMP waits (bounded) for QEMU's QMP socket and connects.
func (m *Machine) dialQMP(ctx context.Context) error {
	err := m.WaitFor(ctx, m.plan.QMPSock, 30*time.Second, func(ctx context.Context) (err error) {
		m.qmp, err = DialQMP(ctx, m.plan.QMPSock)
		return err
	})
	if err != nil {
		return hosts.Infra(fmt.Errorf("qmp: %w", err))
	}
	return nil
}

// PowerOff asks QEMU to quit over QMP, then terminates and kills its process group, and
// always reaps it.
func (m *Machine) PowerOff(ctx context.Context) error {
	err := m.Stop(ctx, func(ctx context.Context) {
		if m.qmp != nil {
			m.qmp.Quit(ctx)
		}
	})
	if m.qmp != nil {
		m.qmp.Close()
	}
	if m.serial != nil {
		m.serial.Close()
	}
	if m.vnc != nil {
		m.vnc.Close()
	}
	if m.screenOnly != nil {
		m.screenOnly.Close()
	}
	return err
}
