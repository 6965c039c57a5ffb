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
	"fmt"
	"io"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/hosts/serial"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// checkOptions is the ipmi kind's options check at matrix load.
func checkOptions(h *matrix.Host) error { _, err := DecodeOptions(h); return err }

func init() {
	hosts.Register(hosts.Kind{Name: "ipmi", New: New, Options: checkOptions, Endpoints: Endpoints})
}

// Endpoints is the BMC an ipmi host is reached through: one BMC, one machine.
func Endpoints(h *matrix.Host) ([]string, error) {
	o, err := DecodeOptions(h)
	if err != nil {
		return nil, err
	}
	return []string{hosts.NetEndpoint("bmc", o.Address)}, nil
}

// Machine is one boot of a BMC-managed machine: the real-machine lifecycle
// (power.Lifecycle) with the BMC as the power and SOL as the console.
type Machine struct {
	*power.Lifecycle
	o   Options
	bmc *BMC
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
	m := &Machine{Lifecycle: power.NewLifecycle(h, img, env), o: o}
	m.bmc = NewBMC(o, pw, m.Log)
	m.Power, m.Boot, m.Watch, m.ConsoleName = m.bmc, o.BootOptions, o.Poll.Duration, "SOL"
	if o.Boot == power.BootCommand {
		m.Runner = power.NewRunner(0, m.Log)
	}
	m.Connect = func(ctx context.Context) error {
		t0 := time.Now()
		if err := m.bmc.Connect(ctx); err != nil {
			return err
		}
		fmt.Fprintf(m.Log, "ipmi: %s: session in %s\n", m.bmc.Describe(), time.Since(t0).Round(time.Millisecond))
		return nil
	}
	m.BeforeConsole = func(ctx context.Context, _ *power.Prepared) error {
		if o.BootDevice == "none" {
			return nil
		}
		if err := m.bmc.SetBootDevice(ctx, o.BootDevice, o.BootEFI); err != nil {
			return err
		}
		fmt.Fprintf(m.Log, "ipmi: next boot device %s (efi %v)\n", o.BootDevice, o.BootEFI)
		return nil
	}
	rc := o.Reconnect
	if rc.GiveUp.Duration == 0 {
		// A BMC that is gone for good: give up after about as long as the retries take.
		rc.GiveUp.Duration = time.Duration(o.Retries) * 10 * time.Second
	}
	m.Console = func(ctx context.Context) (io.ReadWriteCloser, error) {
		dial := func(ctx context.Context) (io.ReadWriteCloser, error) {
			return m.bmc.dialSOL(ctx, o.SOLInstance, o.SOLPoll.Duration, o.Keepalive.Duration)
		}
		return serial.NewRedial(ctx, "ipmi sol", dial, rc, m.Log)
	}
	m.Release = m.bmc.Close
	return m, nil
}

// BMC is the chassis controller (for tests and tools).
func (m *Machine) BMC() *BMC { return m.bmc }

// Facts implements hosts.Machine.
func (m *Machine) Facts() map[string]string {
	return map[string]string{"bmc": m.bmc.Describe(), "console": fmt.Sprintf("sol instance %d", m.o.SOLInstance),
		"boot": m.o.Boot, "boot_device": m.o.BootDevice, "power": "ipmi"}
}
