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
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	check := func(h *matrix.Host) error { _, err := DecodeOptions(h); return err }
	for _, kind := range []string{"serial", "power"} {
		hosts.Register(hosts.Kind{Name: kind, New: New, Options: check, Endpoints: Endpoints})
	}
}

// Endpoints are what a serial host must have to itself: its console (the tty device with
// links resolved, the adapter's serial number, or the ser2net address) and its power
// outlet when the on command names one.
func Endpoints(h *matrix.Host) ([]string, error) {
	o, err := DecodeOptions(h)
	if err != nil {
		return nil, err
	}
	var eps []string
	switch {
	case o.Address != "":
		eps = append(eps, hosts.NetEndpoint("tcp", o.Address))
	case o.USBSerial != "":
		eps = append(eps, "usb-serial:"+o.USBSerial)
		// Plugged in here: the tty it is now, which a device: host could name too.
		if p, err := FindUSBSerial(SysRoot, o.USBSerial); err == nil {
			eps = append(eps, hosts.TTYEndpoint(p))
		}
	default:
		eps = append(eps, hosts.TTYEndpoint(o.Device))
	}
	if e := o.Power.Endpoint(); e != "" {
		eps = append(eps, e)
	}
	return eps, nil
}

// SysRoot is where FindUSBSerial looks (tests point it at a fake tree).
var SysRoot = "/sys"

// Machine is one boot of a real machine on a serial line: the real-machine lifecycle
// (power.Lifecycle) with a serial console and power by command.
type Machine struct {
	*power.Lifecycle
	o  Options
	pc *power.Command // nil: powered by hand

	devMu  sync.Mutex
	device string // the tty a usb_serial resolved to
}

// New is the serial and power host Factory.
func New(h matrix.Host, img matrix.Image, env hosts.Env) (hosts.Machine, error) {
	o, err := DecodeOptions(&h)
	if err != nil {
		return nil, err
	}
	m := &Machine{Lifecycle: power.NewLifecycle(h, img, env), o: o}
	m.Boot = o.BootOptions
	if o.Power != nil {
		pc, err := power.NewCommand(*o.Power, m.Log)
		if err != nil {
			return nil, hosts.Infra(fmt.Errorf("host %s: %w", h.Name, err))
		}
		m.pc, m.Power, m.Runner = pc, pc, pc
		if o.Power.Status != "" {
			m.Watch = 5 * time.Second // only a status command can tell
		}
		// The power commands get what the image needs ($RHW_PXE_URL) in their environment.
		m.BeforeConsole = func(_ context.Context, p *power.Prepared) error {
			pc.SetEnv(p.Env...)
			return nil
		}
	}
	dial, what := m.dialer()
	m.Console = func(ctx context.Context) (io.ReadWriteCloser, error) {
		return NewRedial(ctx, what, dial, o.Reconnect, m.Log)
	}
	return m, nil
}

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
			t, err := newTelnet(c, o, m.Log)
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
