package job

import (
	"fmt"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/record"
)

// GuestState is where a booted guest is. Its Booted owns it; the transitions are methods of
// Booted, each called by the one package that knows it happened:
//
//	GuestOff -> GuestPowered   the machine started (Boot)
//	GuestPowered -> GuestAtLogin   the boot reached the profile's login or shell stage (Boot)
//	GuestPowered, GuestAtLogin -> GuestLoggedIn(user)   a session logged in (session.Open)
//	any -> GuestUnusable(why)   the machine stopped, a suite crashed it, the shell stopped
//	                            answering (the scheduler's probe, a judge); final
//
// Suites read it through Booted.Guest (a copy); a suite never writes another's state.
type GuestState int

const (
	GuestOff GuestState = iota
	GuestPowered
	GuestAtLogin
	GuestLoggedIn
	GuestUnusable
)

func (s GuestState) String() string {
	switch s {
	case GuestOff:
		return "off"
	case GuestPowered:
		return "powered"
	case GuestAtLogin:
		return "at login"
	case GuestLoggedIn:
		return "logged in"
	case GuestUnusable:
		return "unusable"
	}
	return fmt.Sprintf("GuestState(%d)", int(s))
}

// Guest is a read-only view of a booted guest's state.
type Guest struct {
	State GuestState
	// User is the account a session logged in as (GuestLoggedIn; "" for an image that
	// logged in by itself).
	User string
	// Why says why the guest is unusable (GuestUnusable).
	Why string
}

// LoggedIn reports whether a session has logged in on the guest (and it is still usable).
func (g Guest) LoggedIn() bool { return g.State == GuestLoggedIn }

// guest is the owned state behind Booted.Guest.
type guest struct {
	mu sync.Mutex
	g  Guest
}

// Guest returns the guest's state.
func (b *Booted) Guest() Guest {
	b.guest.mu.Lock()
	defer b.guest.mu.Unlock()
	return b.guest.g
}

func (b *Booted) setGuest(from []GuestState, to Guest) error {
	b.guest.mu.Lock()
	defer b.guest.mu.Unlock()
	cur := b.guest.g.State
	for _, f := range from {
		if cur == f {
			b.guest.g = to
			return nil
		}
	}
	if cur == GuestUnusable {
		return fmt.Errorf("the guest is unusable: %s", b.guest.g.Why)
	}
	return fmt.Errorf("the guest is %s, not ready to be %s", cur, to.State)
}

// SetLoggedIn records that a session logged in as user (session.Open). A guest already
// logged in keeps its account; an unusable one refuses.
func (b *Booted) SetLoggedIn(user string) error {
	return b.setGuest([]GuestState{GuestOff, GuestPowered, GuestAtLogin}, Guest{State: GuestLoggedIn, User: user})
}

// SetUnusable records why the guest cannot serve another suite; the first reason stays.
func (b *Booted) SetUnusable(why string) {
	b.guest.mu.Lock()
	defer b.guest.mu.Unlock()
	if b.guest.g.State != GuestUnusable {
		b.guest.g = Guest{State: GuestUnusable, User: b.guest.g.User, Why: why}
	}
}

// booted moves the guest along as Boot sees it: powered when the machine started, at login
// when the boot passed (reached the login or shell stage).
func (b *Booted) booted() {
	b.guest.mu.Lock()
	defer b.guest.mu.Unlock()
	if b.guest.g.State != GuestOff {
		return
	}
	b.guest.g.State = GuestPowered
	if b.Outcome.Verdict == record.Pass {
		b.guest.g.State = GuestAtLogin
	}
}
