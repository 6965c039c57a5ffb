// Package abi_test is the relibc ABI suite: for every image of the matrix's "abi" suite that
// names an abi_baseline and a sysroot, one spec per class of break (soname, symbols,
// versioned redox_*_vN exports, signatures, struct layouts, loader).
package abi_test

import (
	"testing"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/redox-hwtest/redox-hwtest/harness/abicheck"
	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/reports/results"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestABI(t *testing.T) {
	RegisterFailHandler(Fail)
	m, jobs := suitekit.MustJobs("abi")
	seen := map[string]bool{}
	for _, j := range jobs {
		// The comparison does not boot anything: one job per image is enough.
		if seen[j.Image.Name] {
			continue
		}
		seen[j.Image.Name] = true
		describeJob(m, j)
	}
	RunSpecs(t, "abi")
}

func describeJob(m *matrix.Matrix, j matrix.Job) {
	Describe(j.ID(), Ordered, suitekit.JobLabels(j), func() {
		checks := map[string]results.Check{}
		BeforeAll(func(ctx SpecContext) {
			rec, err := abicheck.Run(ctx, m, j, job.Options{RunDir: suitekit.RunDir("abi")})
			Expect(err).NotTo(HaveOccurred())
			for _, c := range rec.Checks {
				checks[c.Name] = c
			}
		})
		for _, name := range abicheck.CheckNames() {
			It(name, func() { suitekit.ExpectCheck(checks[name], j.Image.Sysroot) })
		}
	})
}
