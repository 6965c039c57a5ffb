package drivers_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func byName(t *testing.T, cs []record.Check) map[string]record.Check {
	t.Helper()
	m := map[string]record.Check{}
	for _, c := range cs {
		m[c.Name] = c
		t.Logf("%-18s %-5s %s", c.Name, c.Verdict, c.Message)
	}
	return m
}

func want(t *testing.T, cs map[string]record.Check, name string, v record.Verdict) record.Check {
	t.Helper()
	c, ok := cs[name]
	if !ok {
		t.Fatalf("no check %s", name)
	}
	if c.Verdict != v {
		t.Errorf("%s = %s, want %s: %s", name, c.Verdict, v, c.Message)
	}
	return c
}

func run(t *testing.T, s standin.Spec) (drivers.Report, map[string]record.Check) {
	m, j := standin.Job(t, s)
	b := standin.Boot(t, m, j, standin.Options())
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	rep := drivers.Run(ctx, b, drivers.Known)
	return rep, byName(t, rep.Checks)
}

// x86_64 with NVMe, e1000, HDA and the PS/2 controller: every driver bound and working;
// devices the host lacks SKIP. The same boot judged under an xfail entry for e1000 is XPASS.
func TestLiveAllDriversPassOnX86(t *testing.T) {
	rep, cs := run(t, standin.Spec{Image: standin.X86BIOS, Suite: "drivers", Devices: []string{"nvme", "e1000", "hda", "ps2"}})
	for _, d := range []string{"nvme", "e1000", "hda", "ps2"} {
		want(t, cs, "drivers/"+d, record.Pass)
	}
	for _, d := range []string{"xhci", "ahci", "virtio-blk", "virtio-net"} {
		want(t, cs, "drivers/"+d, record.Skip)
	}
	if c := cs["drivers/nvme"]; !strings.Contains(c.Message, "read it back") {
		t.Errorf("nvme message does not say it wrote and read: %s", c.Message)
	}
	if c := cs["drivers/e1000"]; !strings.Contains(c.Message, "ICMP echo replies") {
		t.Errorf("e1000 message does not say traffic went through: %s", c.Message)
	}
	in := rep.Input
	in.Host.XFail = []matrix.XFail{{Check: "drivers/e1000", Reference: "https://example.invalid/e1000"}}
	c := in.Judge("e1000")
	if v := c.Verdict; v != record.Pass {
		t.Fatalf("raw e1000 %s", v)
	}
	h := in.Host
	if x := h.XFailFor(c.Name, ""); x == nil || c.Verdict.ApplyXFail() != record.XPass {
		t.Errorf("an xfail entry on a passing check does not give XPASS")
	}
}

// aarch64 UEFI without HDA (the boot disk is on the NVMe controller): hda SKIPs, the other
// two pass.
func TestLiveWithoutHDASkipsOnAarch64(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	_, cs := run(t, standin.Spec{Image: standin.A64UEFI, Suite: "drivers", Devices: []string{"nvme", "e1000"}})
	c := want(t, cs, "drivers/hda", record.Skip)
	if !strings.Contains(c.Message, "has no hda") {
		t.Errorf("hda skip message: %s", c.Message)
	}
	want(t, cs, "drivers/nvme", record.Pass)
	want(t, cs, "drivers/e1000", record.Pass)
}

// A stall before the NVMe driver starts (fx.hang=nvme): drivers/nvme is HANG naming nvme;
// with the host's xfail entry for it, the reported verdict is XFAIL.
func TestLiveStallInNVMeIsHangNamingNVMeAndXFail(t *testing.T) {
	t.Parallel() // mostly waits (a silence window, a boot under TCG): overlaps the others
	rep, cs := run(t, standin.Spec{Image: standin.X86BIOS, Suite: "drivers", Devices: []string{"nvme", "e1000", "hda"},
		BootArgs: "fx.hang=nvme",
		XFail:    []matrix.XFail{{Check: "drivers/nvme", Reference: "https://example.invalid/nvme-stall"}}})
	raw := rep.Input.Judge("nvme")
	if raw.Verdict != record.Hang || raw.Component != "nvme" || !strings.Contains(raw.Message, "stalled while nvme started") {
		t.Fatalf("raw drivers/nvme = %s (%s): %s", raw.Verdict, raw.Component, raw.Message)
	}
	t.Logf("raw drivers/nvme: %s component %s: %s", raw.Verdict, raw.Component, raw.Message)
	c := want(t, cs, "drivers/nvme", record.XFail)
	if c.Reference != "https://example.invalid/nvme-stall" {
		t.Errorf("xfail reference %q", c.Reference)
	}
	// The others were not judged: the boot hung in nvme, and they say so.
	for _, d := range []string{"e1000", "hda"} {
		c := want(t, cs, "drivers/"+d, record.Hang)
		if c.Component != "nvme" || !strings.Contains(c.Message, "hung while nvme started") {
			t.Errorf("drivers/%s blames %q: %s", d, c.Component, c.Message)
		}
	}
}
