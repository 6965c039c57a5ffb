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
// specs, one per check, read the verdicts. The runner and the names of its checks come
// from the suite's registration (job.RegisterSuite), so a suite cannot list a check its
// runner never writes; the suite's package imports the package that registers it.
type Suite struct {
	Name string
}

// Run builds the spec tree from the matrix (after flag parsing; deterministic, in matrix
// order, so every process of a parallel run builds the same tree) and runs it.
func (s Suite) Run(t *testing.T) {
	RegisterFailHandler(Fail)
	def, err := job.LookupSuite(s.Name)
	if err != nil {
		t.Fatal(err)
	}
	m, jobs := MustJobs(s.Name)
	seen := map[string]bool{}
	for _, j := range jobs {
		if def.OncePerImage {
			if seen[j.Image.Name] {
				continue
			}
			seen[j.Image.Name] = true
		}
		describe(def, m, j)
	}
	RunSpecs(t, s.Name)
}

func describe(def job.SuiteDef, m *matrix.Matrix, j matrix.Job) {
	Describe(j.ID(), Ordered, JobLabels(j), func() {
		var (
			checks     = map[string]record.Check{}
			transcript string
		)
		names := def.Checks(m, j)
		BeforeAll(func(ctx SpecContext) {
			runDir := RunDir(j.Suite.Name)
			rec, err := def.Run(ctx, m, j, job.Options{RunDir: runDir})
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
