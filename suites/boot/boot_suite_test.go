// Package boot_test is the boot suite: for every image x host job of the matrix's "boot"
// suite, one spec per boot stage, one for login, and one for "no crash signature in the
// whole log". The boot itself runs once per job (BeforeAll); the specs read its verdicts.
package boot_test

import (
	"path/filepath"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/reports/results"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestBoot(t *testing.T) {
	RegisterFailHandler(Fail)
	// The tree is built here, after flag parsing, from the matrix: deterministic (matrix
	// order), so every process of a parallel run builds the same tree.
	m, jobs := suitekit.MustJobs("boot")
	for _, j := range jobs {
		describeJob(m, j)
	}
	RunSpecs(t, "boot")
}

func checkNames(j matrix.Job) []string {
	p, err := profile.Get(j.Image.Profile)
	if err != nil {
		return []string{"boot/login"}
	}
	var names []string
	for _, st := range p.Stages {
		if st.Name != p.Login.Stage {
			names = append(names, "boot/"+st.Name)
		}
	}
	return append(names, "boot/login", "boot/no-crash")
}

func describeJob(m *matrix.Matrix, j matrix.Job) {
	Describe(j.ID(), Ordered, suitekit.JobLabels(j), func() {
		var (
			checks     map[string]results.Check
			transcript string
		)
		BeforeAll(func(ctx SpecContext) {
			runDir := suitekit.RunDir("boot")
			rec, err := job.RunBoot(ctx, m, j, job.Options{RunDir: runDir})
			Expect(err).NotTo(HaveOccurred())
			transcript = filepath.Join(runDir, results.JobsDir, results.JobDirName(rec.Job), job.Transcript)
			checks = map[string]results.Check{}
			for _, c := range rec.Checks {
				checks[c.Name] = c
			}
		}, NodeTimeout(30*time.Minute))
		for _, name := range checkNames(j) {
			It(name, func() {
				c, ok := checks[name]
				Expect(ok).To(BeTrue(), "check %s was not produced", name)
				suitekit.ExpectCheck(c, transcript)
			})
		}
	})
}
