// Package drivers_test is the drivers suite: for every job of the matrix's "drivers" suite,
// one spec per device (drivers/<device>): enumerated, driver spawned and initialised,
// working (a try from the shell), nothing hung or crashed on the way. The boot and the
// tries run once per job (BeforeAll); the specs read their verdicts. Redox driver logs
// (/scheme/logging) are collected into the job directory.
package drivers_test

import (
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/redox-hwtest/redox-hwtest/harness/drivers"
	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/reports/results"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestDrivers(t *testing.T) {
	RegisterFailHandler(Fail)
	m, jobs := suitekit.MustJobs("drivers")
	// Every job reports the same devices (those some host lists, and the core three), so
	// a host without one shows a SKIP rather than nothing.
	devices := drivers.Devices(m)
	for _, j := range jobs {
		describeJob(m, j, devices)
	}
	RunSpecs(t, "drivers")
}

func describeJob(m *matrix.Matrix, j matrix.Job, devices []string) {
	Describe(j.ID(), Ordered, suitekit.JobLabels(j), func() {
		var (
			checks     map[string]results.Check
			transcript string
		)
		BeforeAll(func(ctx SpecContext) {
			runDir := suitekit.RunDir("drivers")
			rec, err := drivers.RunJob(ctx, m, j, job.Options{RunDir: runDir})
			Expect(err).NotTo(HaveOccurred())
			transcript = filepath.Join(runDir, results.JobsDir, results.JobDirName(rec.Job), job.Transcript)
			checks = map[string]results.Check{}
			for _, c := range rec.Checks {
				checks[c.Name] = c
			}
		}, NodeTimeout(30*time.Minute))
		for _, d := range devices {
			name := drivers.CheckName(d)
			It(name, func() {
				c, ok := checks[name]
				Expect(ok).To(BeTrue(), "check %s was not produced", name)
				suitekit.ExpectCheck(c, transcript)
			})
		}
	})
}
