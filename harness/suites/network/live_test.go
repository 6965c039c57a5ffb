package network_test

import (
	"context"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/network"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// bootWithServer boots the stand-in image with an e1000 for the network suite, its HTTP
// server listening on loopback until the test ends.
func bootWithServer(t *testing.T, img string) (*job.Booted, *network.Server, network.Config) {
	t.Helper()
	m, j := standin.Job(t, standin.Spec{Image: img, Suite: "network", Devices: []string{"e1000"}})
	cfg := network.ConfigFor(&j.Host)
	srv, err := network.Start(cfg.Listen+":0", cfg.Size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return standin.Boot(t, m, j, job.Options{BootArgs: network.BootArgs("standin")}), srv, cfg
}

// DHCP lease, gateway ping and a 16 MiB HTTP download with a matching checksum, on the
// x86_64 and aarch64 stand-ins (QEMU user networking: the guest reaches our loopback
// server as 10.0.2.2).
func TestLiveNetwork(t *testing.T) {
	for _, img := range []string{standin.X86BIOS, standin.A64UEFI} {
		t.Run(img, func(t *testing.T) {
			b, srv, cfg := bootWithServer(t, img)
			ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
			defer cancel()
			rep := network.Run(ctx, b, srv, cfg)
			for _, c := range rep.Checks {
				t.Logf("%-14s %-5s %s %v", c.Name, c.Verdict, c.Message, c.Metrics)
				if c.Verdict != record.Pass {
					t.Errorf("%s = %s", c.Name, c.Verdict)
				}
			}
			if len(rep.Checks) != 3 {
				t.Fatalf("%d checks", len(rep.Checks))
			}
			if rep.Checks[2].Metrics["http_bytes_per_s"] <= 0 {
				t.Errorf("no throughput measured")
			}
		})
	}
}
