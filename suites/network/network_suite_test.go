// Package network_test is the network suite: for every job of the matrix's "network"
// suite, a DHCP lease (network/dhcp), a ping of the gateway (network/ping) and an HTTP GET
// of a file with a known checksum from a server the harness starts for the job
// (network/http, with the throughput in the check's message and metrics). Under QEMU user
// networking the guest reaches the server on the controller's loopback as 10.0.2.2; for a
// real machine set the host features net.listen=<controller address> and
// net.server=<the address the machine reaches it at> (and net.gateway=<address to ping>).
package network_test

import (
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/harness/netcheck"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/reports/results"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestNetwork(t *testing.T) {
	RegisterFailHandler(Fail)
	m, jobs := suitekit.MustJobs("network")
	for _, j := range jobs {
		describeJob(m, j)
	}
	RunSpecs(t, "network")
}

func describeJob(m *matrix.Matrix, j matrix.Job) {
	Describe(j.ID(), Ordered, suitekit.JobLabels(j), func() {
		var (
			checks     map[string]results.Check
			transcript string
		)
		BeforeAll(func(ctx SpecContext) {
			runDir := suitekit.RunDir("network")
			rec, err := netcheck.RunJob(ctx, m, j, job.Options{RunDir: runDir})
			Expect(err).NotTo(HaveOccurred())
			transcript = filepath.Join(runDir, results.JobsDir, results.JobDirName(rec.Job), job.Transcript)
			checks = map[string]results.Check{}
			for _, c := range rec.Checks {
				checks[c.Name] = c
				if len(c.Metrics) > 0 {
					AddReportEntry(c.Name+" metrics", c.Metrics)
				}
			}
		}, NodeTimeout(30*time.Minute))
		for _, name := range netcheck.Checks {
			It(name, func() {
				c, ok := checks[name]
				Expect(ok).To(BeTrue(), "check %s was not produced", name)
				suitekit.ExpectCheck(c, transcript)
			})
		}
	})
}
