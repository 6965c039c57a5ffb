package schedule

import (
	"testing"
	"time"

	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/guest"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/network"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func mkJob(img, host, kind, suite string) matrix.Job {
	return matrix.Job{Image: matrix.Image{Name: img}, Host: matrix.Host{Name: host, Kind: kind}, Suite: matrix.Suite{Name: suite}}
}

func TestPlanOneUnitPerPairInSuiteOrder(t *testing.T) {
	jobs := []matrix.Job{
		mkJob("a", "h1", "qemu", "guest"), mkJob("a", "h1", "qemu", "network"),
		mkJob("a", "h1", "qemu", "abi"), mkJob("a", "h1", "qemu", "boot"),
		mkJob("a", "h1", "qemu", "drivers"), mkJob("b", "h1", "qemu", "boot"),
	}
	units := Plan(jobs, map[string]time.Duration{"a@h1/boot": time.Minute, "a@h1/guest": time.Second})
	if len(units) != 3 {
		t.Fatalf("%d units", len(units))
	}
	var order []string
	for _, j := range units[0].Jobs {
		order = append(order, j.Suite.Name)
	}
	if got := order; len(got) != 4 || got[0] != "boot" || got[1] != "drivers" || got[2] != "network" || got[3] != "guest" {
		t.Errorf("shared order %v, want boot drivers network guest", got)
	}
	if units[0].Expected != time.Minute+time.Second {
		t.Errorf("expected %s", units[0].Expected)
	}
	// abi has no shared form (it boots nothing): a unit of its own.
	if units[1].Shared || units[1].Jobs[0].Suite.Name != "abi" {
		t.Errorf("abi unit %+v", units[1])
	}
	// A suite the matrix declares fresh_boot gets a boot of its own, and says so.
	fresh := mkJob("a", "h1", "qemu", "network")
	fresh.Suite.FreshBoot = true
	units = Plan([]matrix.Job{mkJob("a", "h1", "qemu", "boot"), fresh}, nil)
	if len(units) != 2 || !units[1].Shared || units[1].Fresh != "network declares a fresh boot" {
		t.Errorf("fresh_boot plan: %+v", units)
	}
}

func TestOrderLongestFirst(t *testing.T) {
	u := func(name string, d time.Duration, n int) *Unit {
		x := &Unit{Expected: d}
		for i := 0; i < n; i++ {
			x.Jobs = append(x.Jobs, mkJob(name, "h", "qemu", "boot"))
		}
		return x
	}
	short, long, unknown := u("short", time.Second, 1), u("long", time.Hour, 1), u("unknown", 0, 1)
	got := Order([]*Unit{short, unknown, long})
	if got[0] != long || got[1] != unknown || got[2] != short {
		t.Errorf("order %s %s %s, want long, unknown (the mean), short", got[0].Jobs[0].Image.Name, got[1].Jobs[0].Image.Name, got[2].Jobs[0].Image.Name)
	}
	// Nothing known: more suites first.
	one, three := u("one", 0, 1), u("three", 0, 3)
	if got := Order([]*Unit{one, three}); got[0] != three {
		t.Error("with no durations, the unit with more suites should go first")
	}
}

func TestJoinArgsDropsDuplicates(t *testing.T) {
	if got := joinArgs("a b", "", "b c", "fx.net=dhcp", "fx.net=dhcp"); got != "a b c fx.net=dhcp" {
		t.Errorf("%q", got)
	}
}
