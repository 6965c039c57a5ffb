// Package ipmi is the host kind for a machine with a BMC: chassis power over IPMI v2.0
// lanplus (github.com/bougou/go-ipmi, cipher suite 17 by default, 3 for older BMCs) and the
// console over Serial-over-LAN.
//
// PowerOn: open a session (bounded retries: a dead BMC is INFRA in seconds, not minutes),
// switch the chassis off if it is on and wait until it really is, get the image there
// (boot: preinstalled, command, or pxe with the next boot device set to PXE), attach SOL
// (a stale payload is deactivated first) and only then power on, so the console sees the
// machine's first byte. SOL runs on its own session with a keepalive, under a Redial that
// reconnects when the BMC drops SOL (some do on power transitions) and marks the gap. The
// chassis is polled while the machine runs: a machine that goes off by itself ends the boot.
package ipmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/hosts/serial"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	hosts.Register("ipmi", New)
	matrix.RegisterOptions("ipmi", func(h *matrix.Host) error { _, err := DecodeOptions(h); return err })
}

// Machine is one boot of a BMC-managed machine.
type Machine struct {
	host  matrix.Host
	img   matrix.Image
	env   hosts.Env
	o     Options
	log   io.Writer
	scale float64
	bmc   *BMC

	stream *serial.Redial
	prep   *power.Prepared
	on     bool
	hosts.ExitState
	stopMon chan struct{}
	monDone chan struct{}
	offOnce sync.Once
}

// New is the ipmi host Factory: options are checked and the password is loaded (and
// registered for redaction) now.
func New(h matrix.Host, img matrix.Image, env hosts.Env) (hosts.Machine, error) {
	o, err := DecodeOptions(&h)
	if err != nil {
		return nil, err
	}
	pw, err := secrets.Load(o.Source)
	if err != nil {
		return nil, hosts.Infra(fmt.Errorf("host %s: BMC password (%s): %w", h.Name, o.Source, err))
	}
	log := env.Log
	if log == nil {
		log = io.Discard
	}
	m := &Machine{host: h, img: img, env: env, o: o, log: log, bmc: NewBMC(o, pw, log)}
	m.scale = h.TimeScale
	if m.scale <= 0 {
		m.scale = 1
	}
	return m, nil
}

// BMC is the chassis controller (for tests and tools).
func (m *Machine) BMC() *BMC { return m.bmc }

// Exclusive implements hosts.Exclusive: a real machine runs one job at a time.
func (m *Machine) Exclusive() bool { return true }

// TimeScale implements hosts.Machine.
func (m *Machine) TimeScale() float64 { return m.scale }

// Facts implements hosts.Machine.
func (m *Machine) Facts() map[string]string {
	return map[string]string{"bmc": m.bmc.Describe(), "console": fmt.Sprintf("sol instance %d", m.o.SOLInstance),
		"boot": m.o.Boot, "boot_device": m.o.BootDevice, "power": "ipmi"}
}

// PowerOn implements hosts.Machine.
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := os.MkdirAll(m.env.Dir, 0o755); err != nil {
		return nil, hosts.Infra(err)
	}
	t0 := time.Now()
	if err := m.bmc.Connect(ctx); err != nil {
		return nil, hosts.Infra(err)
	}
	st, err := m.bmc.Status(ctx)
	if err != nil {
		return nil, hosts.Infra(err)
	}
	fmt.Fprintf(m.log, "ipmi: %s, chassis power %s (session in %s)\n", m.bmc.Describe(), st, time.Since(t0).Round(time.Millisecond))
	if st != power.Off {
		if err := m.bmc.Off(ctx); err != nil {
			return nil, hosts.Infra(err)
		}
	}
	var runner power.CommandRunner
	if m.o.Boot == power.BootCommand {
		runner = power.NewRunner(0, m.log)
	}
	prep, err := power.Prepare(ctx, m.o.BootOptions, m.host, m.img, m.env, runner)
	if err != nil {
		return nil, err
	}
	m.prep = prep
	if m.o.BootDevice != "none" {
		if err := m.bmc.SetBootDevice(ctx, m.o.BootDevice, m.o.BootEFI); err != nil {
			prep.Close()
			return nil, hosts.Infra(err)
		}
		fmt.Fprintf(m.log, "ipmi: next boot device %s (efi %v)\n", m.o.BootDevice, m.o.BootEFI)
	}
	dial := func(ctx context.Context) (io.ReadWriteCloser, error) {
		return m.bmc.dialSOL(ctx, m.o.SOLInstance, m.o.SOLPoll.Duration, m.o.Keepalive.Duration)
	}
	rc := m.o.Reconnect
	if rc.GiveUp.Duration == 0 {
		// A BMC that is gone for good: give up after about as long as the retries take.
		rc.GiveUp.Duration = time.Duration(m.o.Retries) * 10 * time.Second
	}
	stream, err := serial.NewRedial(ctx, "ipmi sol", dial, rc, m.log)
	if err != nil {
		prep.Close()
		return nil, hosts.Infra(err)
	}
	m.stream = stream
	fmt.Fprintf(m.log, "ipmi: SOL attached; powering on\n")
	if err := m.bmc.On(ctx); err != nil {
		stream.Close()
		prep.Close()
		m.bmc.Off(context.Background())
		return nil, hosts.Infra(err)
	}
	m.on = true
	m.stopMon, m.monDone = make(chan struct{}), make(chan struct{})
	go m.monitor()
	return stream, nil
}

// monitor polls the chassis while the machine should be on.
func (m *Machine) monitor() {
	defer close(m.monDone)
	for {
		select {
		case <-m.stopMon:
			return
		case <-time.After(m.o.Poll.Duration):
		}
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-m.stopMon:
				cancel()
			case <-ctx.Done():
			}
		}()
		st, err := m.bmc.Status(ctx)
		cancel()
		select {
		case <-m.stopMon:
			return
		default:
		}
		switch {
		case err != nil:
			// Status already went through the bounded session retries.
			m.Exit(hosts.Infra(fmt.Errorf("BMC: %w", err)))
			return
		case st == power.Off:
			m.Exit(errors.New("chassis power went off by itself (BMC reports off)"))
			return
		}
	}
}

// PowerOff implements hosts.Machine: SOL deactivated, chassis off (and confirmed off),
// session closed, PXE server stopped.
func (m *Machine) PowerOff(ctx context.Context) error {
	var err error
	m.offOnce.Do(func() {
		if m.stopMon != nil {
			close(m.stopMon)
			<-m.monDone
		}
		if m.stream != nil {
			m.stream.Close()
		}
		if m.on {
			err = m.bmc.Off(ctx)
		}
		m.prep.Close()
		m.bmc.Close()
	})
	return err
}
