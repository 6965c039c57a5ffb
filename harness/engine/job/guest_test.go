package job

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/record"
)

// The guest's state moves only along its transitions: powered and at login from the boot,
// logged in once (the account stays), unusable for good with the first reason.
func TestGuestStateTransitions(t *testing.T) {
	b := &Booted{}
	if g := b.Guest(); g.State != GuestOff || g.LoggedIn() {
		t.Fatalf("new: %+v", g)
	}
	b.Outcome.Verdict = record.Pass
	b.booted()
	if g := b.Guest(); g.State != GuestAtLogin {
		t.Fatalf("after a boot that passed: %v", g.State)
	}
	if err := b.SetLoggedIn("user"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetLoggedIn("root"); err == nil {
		t.Fatal("a second login replaced the first account")
	}
	if g := b.Guest(); !g.LoggedIn() || g.User != "user" {
		t.Fatalf("logged in: %+v", g)
	}
	b.SetUnusable("session lost")
	b.SetUnusable("later reason")
	g := b.Guest()
	if g.State != GuestUnusable || g.Why != "session lost" || g.LoggedIn() {
		t.Fatalf("unusable: %+v", g)
	}
	if err := b.SetLoggedIn("user"); err == nil || !strings.Contains(err.Error(), "session lost") {
		t.Fatalf("login on an unusable guest: %v", err)
	}

	hung := &Booted{}
	hung.Outcome.Verdict = record.Hang
	hung.booted()
	if g := hung.Guest(); g.State != GuestPowered {
		t.Fatalf("after a boot that hung: %v", g.State)
	}
}
