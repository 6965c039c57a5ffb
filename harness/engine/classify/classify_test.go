package classify

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

func feedAll(an *Analyzer, text string) {
	for i, l := range strings.Split(text, "\n") {
		an.Feed(Line{N: i + 1, Text: l})
	}
}

func TestStandinPanicIsFatalCrashWithNormalisedTitle(t *testing.T) {
	an := New(profile.Standin)
	feedAll(an, `[    0.000000] Linux version 6.1.0-56-amd64 (debian-kernel@lists.debian.org)
FX: init started (x86_64 6.1.0-56-amd64)
FX: stage modules
FX: stage nvme
FX: triggering panic
[    9.123456] Kernel panic - not syncing: sysrq triggered crash
[    9.123999] CPU: 0 PID: 1 Comm: init Not tainted 6.1.0-56-amd64 #1`)
	a := an.Finish()
	if a.ReachedLogin || a.LastStage != "drivers" {
		t.Fatalf("analysis %+v", a)
	}
	if len(a.Events) != 1 || a.Events[0].Kind != profile.KindKernelPanic || a.Events[0].Title != "Kernel panic - not syncing: sysrq triggered crash" {
		t.Fatalf("events %+v", a.Events)
	}
}

func TestRedoxMultilinePanicAndDedup(t *testing.T) {
	an := New(profile.Redox)
	feedAll(an, `kernel::arch::x86_shared::start:INFO -- Redox OS starting...
thread 'main' (1) panicked at src/bin/getty.rs:121:6:
called Result::unwrap() on an Err value: 0x1f
relibc: abort() called
thread 'main' (7) panicked at src/bin/getty.rs:121:6:
called Result::unwrap() on an Err value: 0x2e
getty failed with exit status: 134
redox login: `)
	a := an.Finish()
	if !a.ReachedLogin {
		t.Fatal("login not reached")
	}
	if len(a.Events) != 2 || a.Events[0].Kind != "panic" || a.Events[0].Count != 2 || a.Events[1].Component != "getty" {
		t.Fatalf("events %+v", a.Events)
	}
}
