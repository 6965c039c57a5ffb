// Package guest_test is the in-guest suite: for every job of the matrix's "guest" suite,
// one spec per command of the suite (guest/<name>: its stdout compared with its expected
// file), one for the FUNC_TEST protocol of images that test themselves (guest/func), and on
// hosts with the isa-debug-exit feature one for redoxer's exit status (guest/exit-status:
// 51 success, 53 failure). Each FUNC_TEST is its own check in the job's results record
// (guest/func/<name>), hence its own testcase in the JUnit the reports build from records;
// here they are report entries of the guest/func spec (a Ginkgo tree is fixed before the
// guest has said which tests it has).
package guest_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/redox-hwtest/redox-hwtest/harness/guest"
	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/reports/results"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestGuest(t *testing.T) {
	RegisterFailHandler(Fail)
	m, jobs := suitekit.MustJobs("guest")
	for _, j := range jobs {
		describeJob(m, j)
	}
	RunSpecs(t, "guest")
}

func describeJob(m *matrix.Matrix, j matrix.Job) {
	Describe(j.ID(), Ordered, suitekit.JobLabels(j), func() {
		var (
			checks     map[string]results.Check
			funcs      []results.Check
			transcript string
		)
		BeforeAll(func(ctx SpecContext) {
			runDir := suitekit.RunDir("guest")
			rec, err := guest.RunJob(ctx, m, j, job.Options{RunDir: runDir})
			Expect(err).NotTo(HaveOccurred())
			transcript = filepath.Join(runDir, results.JobsDir, results.JobDirName(rec.Job), job.Transcript)
			checks = map[string]results.Check{}
			for _, c := range rec.Checks {
				checks[c.Name] = c
				if strings.HasPrefix(c.Name, guest.CheckFunc+"/") {
					funcs = append(funcs, c)
				}
			}
		}, NodeTimeout(30*time.Minute))
		for _, c := range j.Suite.Commands {
			name := guest.CommandCheck(c.Name)
			It(name, func() {
				c, ok := checks[name]
				Expect(ok).To(BeTrue(), "check %s was not produced", name)
				suitekit.ExpectCheck(c, transcript)
			})
		}
		It(guest.CheckFunc, func() {
			c, ok := checks[guest.CheckFunc]
			Expect(ok).To(BeTrue(), "check %s was not produced", guest.CheckFunc)
			for _, f := range funcs {
				AddReportEntry(f.Name, string(f.Verdict)+": "+f.Message)
			}
			suitekit.ExpectCheck(c, transcript)
		})
		if j.Host.HasFeature("isa-debug-exit") {
			It(guest.CheckExitStatus, func() {
				c, ok := checks[guest.CheckExitStatus]
				Expect(ok).To(BeTrue(), "check %s was not produced", guest.CheckExitStatus)
				suitekit.ExpectCheck(c, transcript)
			})
		}
	})
}
