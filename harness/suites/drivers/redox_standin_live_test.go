package drivers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/network"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The stand-in speaking Redox (fixtures/redox, fx.redox=1) judged with the Redox profile:
// one boot, its boot checks, the drivers suite and the network suite, as `redox-hwtest run`
// judges a shared boot. It returns every check by name.
func redoxStandin(t *testing.T, bootArgs string) (map[string]record.Check, []classify.Event) {
	t.Helper()
	m, j := standin.Job(t, standin.Spec{Image: standin.X86BIOS, Suite: "drivers", Profile: "redox",
		Devices: []string{"nvme", "e1000", "hda", "ps2"}, BootArgs: "fx.redox=1 " + bootArgs})
	cfg := network.ConfigFor(&j.Host)
	srv, err := network.Start(cfg.Listen+":0", 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	b := standin.Boot(t, m, j, standin.Options())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	checks := b.BootChecks()
	checks = append(checks, drivers.Run(ctx, b, drivers.Known).Checks...)
	checks = append(checks, network.Run(ctx, b, srv, cfg).Checks...)
	return byName(t, checks), b.Outcome.Analysis.Events
}

// A healthy boot in today's format, and in the pcid address form of images before
// 2026-02-07 (fx.redox.pci=old): every stage, every device and the network PASS.
func TestLiveRedoxStandinPasses(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	for _, args := range []string{"", "fx.redox.pci=old"} {
		t.Run("args="+args, func(t *testing.T) {
			cs, _ := redoxStandin(t, args)
			if args != "" && !strings.Contains(cs["drivers/nvme"].Message, "00-00:") {
				t.Errorf("drivers/nvme does not name the old address form: %s", cs["drivers/nvme"].Message)
			}
			for name, c := range cs {
				switch {
				case strings.HasPrefix(name, "drivers/") && !isOneOf(name, "drivers/nvme", "drivers/e1000", "drivers/hda", "drivers/ps2"):
					want(t, cs, name, record.Skip) // devices this host lacks
				case isOneOf(name, "boot/bootloader", "boot/firmware", "boot/network", "boot/shell"):
					// optional stages: the BIOS loader prints on VGA only, dhcpd is silent,
					// the boot ends at the login prompt
				default:
					if c.Verdict != record.Pass {
						t.Errorf("%s = %s: %s", name, c.Verdict, c.Message)
					}
				}
			}
		})
	}
}

// The stand-in told to break as a Redox would: nvmed spawned but never initialised and no
// DHCP lease FAIL drivers/nvme and network/dhcp (and drivers/e1000, whose try needs the
// route a lease brings); a panicking e1000d (in upstream's panic format) is a CRASH of
// drivers/e1000 and boot/no-crash naming it.
func TestLiveRedoxStandinBreaks(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	t.Run("nvme-nolease", func(t *testing.T) {
		cs, _ := redoxStandin(t, "fx.redox.break=nvme,nolease")
		c := want(t, cs, "drivers/nvme", record.Fail)
		if !strings.Contains(c.Message, "never came up") {
			t.Errorf("drivers/nvme message: %s", c.Message)
		}
		want(t, cs, "network/dhcp", record.Fail)
		// e1000d's try needs netstack's default route, which only a lease brings
		if c := want(t, cs, "drivers/e1000", record.Fail); !strings.Contains(c.Message, "no default route") {
			t.Errorf("drivers/e1000 message: %s", c.Message)
		}
		want(t, cs, "drivers/hda", record.Pass)
		want(t, cs, "boot/no-crash", record.Pass)
		want(t, cs, "boot/login", record.Pass)
	})
	t.Run("panic", func(t *testing.T) {
		cs, evs := redoxStandin(t, "fx.redox.break=panic")
		c := want(t, cs, "drivers/e1000", record.Crash)
		if c.Component != "e1000d" {
			t.Errorf("drivers/e1000 blames %q: %s", c.Component, c.Message)
		}
		want(t, cs, "boot/no-crash", record.Crash)
		want(t, cs, "drivers/nvme", record.Pass)
		want(t, cs, "boot/login", record.Pass)
		found := false
		for _, e := range evs {
			if e.Kind == profile.KindPanic && e.Component == "e1000d" && strings.Contains(e.Title, "no legacy interrupts supported") {
				found = true
			}
		}
		if !found {
			t.Errorf("no panic event of e1000d in %+v", evs)
		}
	})
}

func isOneOf(s string, set ...string) bool {
	for _, x := range set {
		if s == x {
			return true
		}
	}
	return false
}
