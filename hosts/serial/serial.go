// Package serial is the host kind for a real machine on a serial line: a local tty (a USB
// serial adapter, by path or by the adapter's serial number) or a network serial port (raw
// TCP as ser2net exports it, or telnet with RFC 2217), with power by command (hosts/power)
// or by hand.
//
// Kinds: "serial" (power block optional) and "power" (the same, power block required: a
// PDU or relay plus a serial console is the usual real board).
//
// PowerOn switches the machine off, gets the image there (boot: preinstalled, command or
// pxe), opens the console and only then switches the power on, so nothing printed is lost.
// The console stream reconnects when the line drops (Redial): the gap is marked in the
// transcript and reported to the stage machine, which turns a hang it could not observe
// into INFRA.
package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	hosts.Register("serial", New)
	hosts.Register("power", New)
	check := func(h *matrix.Host) error { _, err := DecodeOptions(h); return err }
	matrix.RegisterOptions("serial", check)
	matrix.RegisterOptions("power", check)
}

// SysRoot is where FindUSBSerial looks (tests point it at a fake tree).
var SysRoot = "/sys"

// Machine is one boot of a real machine on a serial line.
type Machine struct {
	host  matrix.Host
	img   matrix.Image
	env   hosts.Env
	o     Options
	log   io.Writer
	scale float64
	pc    *power.Command // nil: powered by hand

	stream *Redial
	prep   *power.Prepared
	devMu  sync.Mutex
	device string // the tty a usb_serial resolved to
	hosts.ExitState
	stopMon chan struct{}
	monDone chan struct{}
	offOnce sync.Once
}

// New is the serial and power host Factory.
func New(h matrix.Host, img matrix.Image, env hosts.Env) (hosts.Machine, error) {
	o, err := DecodeOptions(&h)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = io.Discard
	}
	m := &Machine{host: h, img: img, env: env, o: o, log: log}
	m.scale = h.TimeScale
	if m.scale <= 0 {
		m.scale = 1 // real hardware runs at full speed
	}
	if o.Power != nil {
		pc, err := power.NewCommand(*o.Power, log)
		if err != nil {
			return nil, hosts.Infra(fmt.Errorf("host %s: %w", h.Name, err))
		}
		m.pc = pc
	}
	return m, nil
}

// Exclusive implements hosts.Exclusive: a real machine runs one job at a time.
func (m *Machine) Exclusive() bool { return true }

// TimeScale implements hosts.Machine.
func (m *Machine) TimeScale() float64 { return m.scale }

// Facts implements hosts.Machine.
func (m *Machine) Facts() map[string]string {
	f := map[string]string{"console": m.o.Describe(), "boot": m.o.Boot, "power": "manual"}
	m.devMu.Lock()
	if m.device != "" {
		f["device"] = m.device
	}
	m.devMu.Unlock()
	if m.pc != nil {
		f["power"] = m.pc.Describe()
	}
	return f
}

// dialer opens the console once.
func (m *Machine) dialer() (Dialer, string) {
	o := m.o
	switch {
	case o.Address != "":
		what := "serial " + o.Protocol + " " + o.Address
		return func(ctx context.Context) (io.ReadWriteCloser, error) {
			var d net.Dialer
			c, err := d.DialContext(ctx, "tcp", o.Address)
			if err != nil {
				return nil, err
			}
			if tc, ok := c.(*net.TCPConn); ok {
				tc.SetKeepAlive(true)
				tc.SetKeepAlivePeriod(10 * time.Second)
			}
			if o.Protocol == "raw" {
				return c, nil
			}
			t, err := newTelnet(c, o, m.log)
			if err != nil {
				c.Close()
				return nil, err
			}
			return t, nil
		}, what
	default:
		what := "serial tty " + o.Device
		if o.USBSerial != "" {
			what = "serial usb " + o.USBSerial
		}
		return func(ctx context.Context) (io.ReadWriteCloser, error) {
			path := o.Device
			if o.USBSerial != "" {
				p, err := FindUSBSerial(SysRoot, o.USBSerial)
				if err != nil {
					return nil, err
				}
				path = p
				m.devMu.Lock()
				m.device = path
				m.devMu.Unlock()
			}
			return openTTY(path, o)
		}, what
	}
}

// PowerOn implements hosts.Machine.
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := os.MkdirAll(m.env.Dir, 0o755); err != nil {
		return nil, hosts.Infra(err)
	}
	// A clean start: off (the previous run may have left it on), then the image.
	if m.pc != nil {
		if st, err := m.pc.Status(ctx); err == nil {
			fmt.Fprintf(m.log, "power: status before the run: %s\n", st)
		}
		if err := m.pc.Off(ctx); err != nil {
			return nil, hosts.Infra(err)
		}
	}
	var runner power.CommandRunner
	if m.pc != nil {
		runner = m.pc
	}
	prep, err := power.Prepare(ctx, m.o.BootOptions, m.host, m.img, m.env, runner)
	if err != nil {
		return nil, err
	}
	m.prep = prep
	if m.pc != nil {
		m.pc.SetEnv(prep.Env...)
	}
	dial, what := m.dialer()
	stream, err := NewRedial(ctx, what, dial, m.o.Reconnect, m.log)
	if err != nil {
		prep.Close()
		return nil, hosts.Infra(fmt.Errorf("console: %w", err))
	}
	m.stream = stream
	if m.pc == nil {
		fmt.Fprintf(m.log, "power: host %s has no power control; switch it on (or reset it) by hand now\n", m.host.Name)
		return stream, nil
	}
	if err := m.pc.On(ctx); err != nil {
		stream.Close()
		prep.Close()
		m.pc.Off(context.Background())
		return nil, hosts.Infra(err)
	}
	if m.o.Power.Status != "" {
		m.stopMon, m.monDone = make(chan struct{}), make(chan struct{})
		go m.monitor()
	}
	return stream, nil
}

// monitor watches the power status while the machine should be on.
func (m *Machine) monitor() {
	defer close(m.monDone)
	fails := 0
	for {
		select {
		case <-m.stopMon:
			return
		case <-time.After(5 * time.Second):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := m.pc.Status(ctx)
		cancel()
		select {
		case <-m.stopMon:
			return
		default:
		}
		switch {
		case err != nil:
			if fails++; fails >= 3 {
				m.Exit(hosts.Infra(fmt.Errorf("power status failed %d times: %w", fails, err)))
				return
			}
		case st == power.Off:
			m.Exit(errors.New("machine powered off (power status reports off)"))
			return
		default:
			fails = 0
		}
	}
}

// PowerOff implements hosts.Machine: power off, console closed, PXE server stopped.
func (m *Machine) PowerOff(ctx context.Context) error {
	var err error
	m.offOnce.Do(func() {
		if m.stopMon != nil {
			close(m.stopMon)
			<-m.monDone
		}
		if m.pc != nil && m.stream != nil {
			err = m.pc.Off(ctx)
		}
		if m.stream != nil {
			m.stream.Close()
		}
		m.prep.Close()
	})
	return err
}
