package network_test

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/network"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// SIGINT in the middle of the network suite's longest wait (the HTTP download): every
// check the interrupt cut short is INFRA, never FAIL or HANG (issue 24).
func TestLiveInterruptedDownloadIsNotAVerdict(t *testing.T) {
	b, srv, cfg := bootWithServer(t, standin.X86BIOS)
	ctx, hit := standin.InterruptAt(t, b.Console, "-S; t0=$(cut") // the typed download (a long command line wraps further on)
	rep := network.Run(ctx, b, srv, cfg)
	for _, c := range rep.Checks {
		t.Logf("%-16s %-5s %s", c.Name, c.Verdict, c.Message)
	}
	if !hit() {
		t.Skip("the download ended before the interrupt: nothing to judge")
	}
	for _, c := range rep.Checks {
		if c.Name == network.CheckHTTP && c.Verdict != record.Infra {
			t.Errorf("%s after SIGINT: %s, want INFRA", c.Name, c.Verdict)
		}
		if c.Verdict == record.Fail || c.Verdict == record.Hang {
			t.Errorf("%s after SIGINT: %s", c.Name, c.Verdict)
		}
	}
}
