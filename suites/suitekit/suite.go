package suitekit

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Suite is one Ginkgo suite over the matrix: each job of the suite is an Ordered container
// whose BeforeAll runs the job once (the same runner `redox-hwtest run` uses) and whose
// specs, one per check, read the verdicts.
type Suite struct {
	Name string
	Job  job.SuiteRunner
	// Checks names a job's checks; the tree is built before anything boots, so they must
	// be known from the matrix alone. Checks a runner adds below one of them
	// ("guest/func/<test>") are reported as entries of that spec.
	Checks func(matrix.Job) []string
	// OncePerImage runs one job per image (suites that boot nothing, like abi).
	OncePerImage bool
}

// Run builds the spec tree from the matrix (after flag parsing; deterministic, in matrix
// order, so every process of a parallel run builds the same tree) and runs it.
func (s Suite) Run(t *testing.T) {
	RegisterFailHandler(Fail)
	m, jobs := MustJobs(s.Name)
	seen := map[string]bool{}
	for _, j := range jobs {
		if s.OncePerImage {
			if seen[j.Image.Name] {
				continue
			}
			seen[j.Image.Name] = true
		}
		s.describe(m, j)
	}
	RunSpecs(t, s.Name)
}

func (s Suite) describe(m *matrix.Matrix, j matrix.Job) {
	Describe(j.ID(), Ordered, JobLabels(j), func() {
		var (
			checks     = map[string]record.Check{}
			transcript string
		)
		names := s.Checks(j)
		BeforeAll(func(ctx SpecContext) {
			runDir := RunDir(s.Name)
			rec, err := s.Job(ctx, m, j, job.Options{RunDir: runDir})
			Expect(err).NotTo(HaveOccurred())
			transcript = filepath.Join(runDir, record.JobsDir, record.JobDirName(rec.Job), job.Transcript)
			for _, c := range rec.Checks {
				checks[c.Name] = c
			}
		}, NodeTimeout(30*time.Minute))
		for _, name := range names {
			It(name, func() {
				c, ok := checks[name]
				Expect(ok).To(BeTrue(), "check %s was not produced", name)
				for _, sub := range subChecks(checks, names, name) {
					AddReportEntry(sub.Name, string(sub.Verdict)+": "+sub.Message)
				}
				if len(c.Metrics) > 0 {
					AddReportEntry("metrics", c.Metrics)
				}
				ExpectCheck(c, transcript)
			})
		}
	})
}

// subChecks are the checks below name that have no spec of their own.
func subChecks(checks map[string]record.Check, specs []string, name string) []record.Check {
	own := map[string]bool{}
	for _, n := range specs {
		own[n] = true
	}
	var out []record.Check
	for n, c := range checks {
		if strings.HasPrefix(n, name+"/") && !own[n] {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, k int) bool { return out[i].Name < out[k].Name })
	return out
}
