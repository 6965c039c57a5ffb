package pikvm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/power"
)

// atx is PiKVM's ATX power as a power.Controller, so a pikvm host switches its machine
// the same way whether the power is PiKVM's ATX board or one of hosts/power's methods:
// the buttons through kvmd's API, the state read back from the power LED.
type atx struct {
	c       *Client
	timeout time.Duration // for the LED to show the state asked for
	minOff  power.MinOff
}

// Describe implements power.Controller.
func (a *atx) Describe() string { return "pikvm-atx (" + a.c.Base + ")" }

// Status implements power.Controller: the power LED.
func (a *atx) Status(ctx context.Context) (power.State, error) {
	st, err := a.c.ATX(ctx)
	if err != nil {
		return power.Unknown, err
	}
	if !st.Enabled {
		return power.Unknown, errors.New("ATX is disabled on this PiKVM")
	}
	if st.LEDs.Power {
		return power.On, nil
	}
	return power.Off, nil
}

// press asks for action and reads the power LED back until it shows want.
func (a *atx) press(ctx context.Context, action string, want bool) error {
	if err := a.c.ATXPower(ctx, action); err != nil {
		return fmt.Errorf("%s: %w", action, err)
	}
	ok, err := a.c.WaitPower(ctx, want, a.timeout, 500*time.Millisecond)
	if err != nil {
		return fmt.Errorf("reading the power LED after %s: %w", action, err)
	}
	if !ok {
		state := map[bool]string{true: "on", false: "off"}
		return fmt.Errorf("the machine did not change state: power LED still %s %s after %s", state[!want], a.timeout, action)
	}
	return nil
}

// On implements power.Controller; it waits out the minimum off time first.
func (a *atx) On(ctx context.Context) error {
	if err := a.minOff.Wait(ctx, nil); err != nil {
		return err
	}
	return a.press(ctx, "on", true)
}

// Off implements power.Controller: a hard off (the long press), as a hung machine needs.
func (a *atx) Off(ctx context.Context) error {
	err := a.press(ctx, "off_hard", false)
	a.minOff.Off()
	return err
}

// Cycle implements power.Controller.
func (a *atx) Cycle(ctx context.Context) error {
	if err := a.Off(ctx); err != nil {
		return err
	}
	return a.On(ctx)
}

var _ power.Controller = (*atx)(nil)
