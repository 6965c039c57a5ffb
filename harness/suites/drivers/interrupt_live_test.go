package drivers_test

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// SIGINT in the middle of the drivers suite's longest wait (e1000's ping of the gateway,
// up to 30 s in the guest): the cut-short try is INFRA, never FAIL or HANG (issue 24).
func TestLiveInterruptedTryIsNotAVerdict(t *testing.T) {
	m, j := standin.Job(t, standin.Spec{Image: standin.X86BIOS, Suite: "drivers", Devices: []string{"e1000"}})
	b := standin.Boot(t, m, j, standin.Options())
	ctx, hit := standin.InterruptAt(t, b.Console, "ping -c 3 -w 30")
	rep := drivers.Run(ctx, b, []string{"e1000"})
	c := byName(t, rep.Checks)["drivers/e1000"]
	if !hit() {
		t.Skip("the try ended before the interrupt: nothing to judge")
	}
	if c.Verdict != record.Infra {
		t.Errorf("drivers/e1000 after SIGINT: %s %q, want INFRA", c.Verdict, c.Message)
	}
}
