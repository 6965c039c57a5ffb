package ipmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/chassis"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/redox-hwtest/redox-hwtest/hosts/power"
)

// cipherSuite maps the matrix's number to go-ipmi's suite (suites with an integrity and a
// confidentiality algorithm go-ipmi implements).
func cipherSuite(n int) (types.CipherSuiteID, bool) {
	if n < 0 || n > 255 {
		return 0, false
	}
	id := types.CipherSuiteID(n)
	_, _, _, ok := types.GetCipherSuiteAlgorithms(id)
	return id, ok
}

// BMC is a lanplus connection to a board management controller for chassis control. It
// keeps one session and re-establishes it when a request fails (the BMC rebooted, the
// session timed out), up to Retries times, then reports the BMC unreachable. It is a
// power.Controller.
type BMC struct {
	host, user, pass string
	port             int
	cipher           types.CipherSuiteID
	priv             types.PrivilegeLevel
	timeout          time.Duration
	retries          int
	powerTimeout     time.Duration
	minOff           time.Duration
	log              io.Writer

	mu      sync.Mutex // one request at a time on the session
	c       *client.Client
	lastOff time.Time
}

// NewBMC makes a BMC from the host's options; password is the loaded secret.
func NewBMC(o Options, password string, log io.Writer) *BMC {
	host, port, _ := splitAddress(o.Address)
	id, _ := cipherSuite(o.Cipher)
	priv := types.PrivilegeLevelAdministrator
	if o.Privilege == "operator" {
		priv = types.PrivilegeLevelOperator
	}
	if log == nil {
		log = io.Discard
	}
	return &BMC{host: host, port: port, user: o.User, pass: password, cipher: id, priv: priv,
		timeout: o.Timeout.Duration, retries: o.Retries, powerTimeout: o.PowerTimeout.Duration,
		minOff: o.MinOff.Duration, log: log}
}

// newClient opens one lanplus session (no retries beyond go-ipmi's resends).
func (b *BMC) newClient(ctx context.Context) (*client.Client, error) {
	c, err := client.NewClient(b.host, b.port, b.user, b.pass)
	if err != nil {
		return nil, err
	}
	c.WithInterface(client.InterfaceLanplus).WithCipherSuiteID(b.cipher).WithMaxPrivilegeLevel(b.priv).
		WithTimeout(b.timeout).WithRetry(2)
	if err := c.Connect(ctx); err != nil {
		closeQuick(c)
		return nil, fmt.Errorf("BMC %s:%d (lanplus, cipher suite %d): %w", b.host, b.port, b.cipher, err)
	}
	return c, nil
}

// connectWithRetries opens a session, retrying with backoff; the bound on a dead BMC.
func (b *BMC) connectWithRetries(ctx context.Context) (*client.Client, error) {
	var last error
	delay := 500 * time.Millisecond
	for attempt := 1; attempt <= b.retries; attempt++ {
		c, err := b.newClient(ctx)
		if err == nil {
			return c, nil
		}
		last = err
		fmt.Fprintf(b.log, "ipmi: session attempt %d/%d failed: %v\n", attempt, b.retries, err)
		if attempt == b.retries {
			break
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(delay):
		}
		delay *= 2
	}
	return nil, fmt.Errorf("BMC unreachable after %d session attempts: %w", b.retries, last)
}

// do runs f on the session, re-establishing it after a failure (up to Retries times).
func (b *BMC) do(ctx context.Context, what string, f func(*client.Client) error) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var last error
	for attempt := 0; attempt <= b.retries; attempt++ {
		if b.c == nil {
			c, err := b.connectWithRetries(ctx)
			if err != nil {
				return err
			}
			b.c = c
		}
		err := f(b.c)
		if err == nil {
			return nil
		}
		if _, ok := types.IsResponseError(err); ok {
			// The BMC answered: the session is fine, the request was refused.
			return fmt.Errorf("%s: %w", what, err)
		}
		last = err
		fmt.Fprintf(b.log, "ipmi: %s failed (%v); re-establishing the session\n", what, err)
		closeQuick(b.c)
		b.c = nil
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	return fmt.Errorf("%s: %w", what, last)
}

// Connect opens the session (fails after the bounded retries).
func (b *BMC) Connect(ctx context.Context) error {
	return b.do(ctx, "connect", func(*client.Client) error { return nil })
}

// Close ends the session.
func (b *BMC) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.c != nil {
		closeQuick(b.c)
		b.c = nil
	}
}

// closeQuick ends a session without waiting long for a BMC that may be gone (the UDP
// socket is closed whatever the BMC answers).
func closeQuick(c *client.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	c.Close(ctx)
}

// Describe implements power.Controller.
func (b *BMC) Describe() string {
	return fmt.Sprintf("ipmi lanplus %s:%d cipher %d", b.host, b.port, b.cipher)
}

// Status implements power.Controller.
func (b *BMC) Status(ctx context.Context) (power.State, error) {
	var on bool
	err := b.do(ctx, "chassis status", func(c *client.Client) error {
		st, err := c.GetChassisStatus(ctx)
		if err != nil {
			return err
		}
		on = st.PowerIsOn
		return nil
	})
	if err != nil {
		return power.Unknown, err
	}
	if on {
		return power.On, nil
	}
	return power.Off, nil
}

func (b *BMC) control(ctx context.Context, what string, ctl chassis.ChassisControl) error {
	return b.do(ctx, "chassis power "+what, func(c *client.Client) error {
		_, err := c.ChassisControl(ctx, ctl)
		return err
	})
}

// waitFor polls the chassis until it reports want, or PowerTimeout passes.
func (b *BMC) waitFor(ctx context.Context, want power.State, after string) error {
	deadline := time.Now().Add(b.powerTimeout)
	start := time.Now()
	for {
		st, err := b.Status(ctx)
		if err == nil && st == want {
			fmt.Fprintf(b.log, "ipmi: chassis power %s %s after %s\n", want, after, time.Since(start).Round(time.Millisecond))
			return nil
		}
		if err != nil && time.Now().After(deadline) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chassis power still %s %s after %s (want %s)", st, after, b.powerTimeout, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// On implements power.Controller: power up (after the minimum off time) and wait until the
// chassis reports on.
func (b *BMC) On(ctx context.Context) error {
	b.mu.Lock()
	wait := time.Until(b.lastOff.Add(b.minOff))
	b.mu.Unlock()
	if wait > 0 {
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := b.control(ctx, "on", chassis.ChassisControlPowerUp); err != nil {
		return err
	}
	return b.waitFor(ctx, power.On, "after power on")
}

// Off implements power.Controller: power down and wait until the chassis reports off.
func (b *BMC) Off(ctx context.Context) error {
	err := b.control(ctx, "off", chassis.ChassisControlPowerDown)
	b.mu.Lock()
	b.lastOff = time.Now()
	b.mu.Unlock()
	if err != nil {
		return err
	}
	return b.waitFor(ctx, power.Off, "after power off")
}

// Cycle implements power.Controller: a chassis power cycle, confirmed by seeing the chassis
// off and then on again (a machine that is off is just powered on).
func (b *BMC) Cycle(ctx context.Context) error {
	st, err := b.Status(ctx)
	if err != nil {
		return err
	}
	if st == power.Off {
		return b.On(ctx)
	}
	if err := b.control(ctx, "cycle", chassis.ChassisControlPowerCycle); err != nil {
		return err
	}
	deadline := time.Now().Add(b.powerTimeout)
	sawOff := false
	for time.Now().Before(deadline) {
		st, err := b.Status(ctx)
		switch {
		case err != nil:
		case st == power.Off:
			sawOff = true
		case st == power.On && sawOff:
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
	if !sawOff {
		return errors.New("chassis power cycle: the chassis never reported off")
	}
	return fmt.Errorf("chassis power cycle: not on again after %s", b.powerTimeout)
}

// Reset is a hard reset (the power state does not change; success is the BMC's answer).
func (b *BMC) Reset(ctx context.Context) error {
	return b.control(ctx, "reset", chassis.ChassisControlHardReset)
}

// SetBootDevice sets the next boot device (this boot only).
func (b *BMC) SetBootDevice(ctx context.Context, dev string, efi bool) error {
	sel := map[string]types.BootDeviceSelector{
		"none": types.BootDeviceSelectorNoOverride, "pxe": types.BootDeviceSelectorForcePXE,
		"disk": types.BootDeviceSelectorForceHardDrive, "cdrom": types.BootDeviceSelectorForceCDROM,
		"bios": types.BootDeviceSelectorForceBIOSSetup,
	}[dev]
	bt := types.BIOSBootTypeLegacy
	if efi {
		bt = types.BIOSBootTypeEFI
	}
	return b.do(ctx, "set boot device "+dev, func(c *client.Client) error {
		return c.SetBootDevice(ctx, sel, bt, false)
	})
}
