package job_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// A url image nobody fetched before the boot (the Ginkgo suites' path) is fetched by Boot;
// when its server is gone the job is INFRA with the network's reason, and no VM starts.
func TestUnfetchableImageIsInfraWithTheReason(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()
	t.Setenv("REDOX_HWTEST_FETCH_RETRIES", "0")
	y := fmt.Sprintf(`
settings: {image_cache: cache}
images:
  - {name: daily, arch: x86_64, firmware: uefi, profile: redox,
     url: "http://%s/img/x86_64/", newest: "redox_desktop_*_harddrive.img.zst"}
hosts:
  - {name: vm, kind: qemu, arch: x86_64, firmware: uefi, accel: tcg}
`, gone)
	m, err := matrix.Parse("test.yaml", []byte(y), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	j := m.Jobs(matrix.Filter{})[0]
	b := job.Boot(context.Background(), m, j, job.Options{RunDir: t.TempDir()})
	defer b.Close()
	if b.Outcome.Verdict != record.Infra || b.Machine != nil ||
		!strings.Contains(b.Outcome.Reason, "image daily could not be fetched") || !strings.Contains(b.Outcome.Reason, "connection refused") {
		t.Fatalf("want INFRA naming the fetch failure before any VM, got %s: %s", b.Outcome.Verdict, b.Outcome.Reason)
	}
	for _, c := range b.BootChecks() {
		if c.Verdict.CountsAgainstRedox() {
			t.Errorf("%s %s counts against Redox", c.Name, c.Verdict)
		}
	}
}
