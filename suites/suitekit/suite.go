package suitekit

import (
	"context"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	. "github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/types"
	. "github.com/onsi/gomega"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/lab/schedule"
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
	var picked []matrix.Job
	for _, j := range jobs {
		if def.OncePerImage {
			if seen[j.Image.Name] {
				continue
			}
			seen[j.Image.Name] = true
		}
		picked = append(picked, j)
	}
	ctx, cancel := context.WithCancel(context.Background())
	sched := &scheduled{def: def, m: m, ctx: ctx}
	// On an interrupt Ginkgo still runs AfterSuite: the scheduler stops and powers its
	// machines off.
	AfterSuite(func() { cancel() })
	for _, j := range picked {
		describe(def, m, j, sched)
	}
	if cfg, _ := GinkgoConfiguration(); !cfg.DryRun && cfg.ParallelTotal <= 1 {
		// Which jobs the label filter and focus leave: only those are scheduled.
		sched.plan(picked, PreviewSpecs(s.Name))
	}
	RunSpecs(t, s.Name)
}

// scheduled runs a package's jobs through harness/lab/schedule, so jobs on different hosts
// boot at once, as `redox-hwtest run` does; each job's container waits for its record.
// Under ginkgo -p (several processes, each with a share of the specs) every job runs on
// its own in its process instead.
type scheduled struct {
	def     job.SuiteDef
	m       *matrix.Matrix
	ctx     context.Context
	jobs    []matrix.Job
	once    sync.Once
	mu      sync.Mutex
	results map[string]chan schedule.Result
}

// plan keeps the jobs with at least one spec that will run.
func (sc *scheduled) plan(jobs []matrix.Job, preview types.Report) {
	run := map[string]bool{}
	for _, sp := range preview.SpecReports {
		if sp.State.Is(types.SpecStatePassed) && len(sp.ContainerHierarchyTexts) > 0 {
			run[sp.ContainerHierarchyTexts[0]] = true
		}
	}
	sc.results = map[string]chan schedule.Result{}
	for _, j := range jobs {
		if run[j.ID()] {
			sc.jobs = append(sc.jobs, j)
			sc.results[j.ID()] = make(chan schedule.Result, 1)
		}
	}
}

// result runs the job: through the scheduler (started by the first job that asks) when
// the package's jobs were planned, else on its own.
func (sc *scheduled) result(ctx SpecContext, j matrix.Job, runDir string) (*record.Record, error) {
	ch := sc.results[j.ID()]
	if ch == nil {
		return sc.def.Run(ctx, sc.m, j, job.Options{RunDir: runDir})
	}
	sc.once.Do(func() {
		go schedule.Run(sc.ctx, schedule.Config{Matrix: sc.m, Options: job.Options{RunDir: runDir},
			Runner: func(string) (job.SuiteRunner, error) { return sc.def.Run, nil },
			Events: func(e schedule.Event) {
				if e.Kind == schedule.Finished {
					sc.results[e.Job.ID()] <- schedule.Result{Job: e.Job, Rec: e.Rec, Err: e.Err}
				}
			}}, schedule.Plan(sc.jobs, nil))
	})
	select {
	case r := <-ch:
		return r.Rec, r.Err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func describe(def job.SuiteDef, m *matrix.Matrix, j matrix.Job, sched *scheduled) {
	Describe(j.ID(), Ordered, JobLabels(j), func() {
		var (
			checks     = map[string]record.Check{}
			transcript string
		)
		names := def.Checks(m, j)
		BeforeAll(func(ctx SpecContext) {
			runDir := RunDir(j.Suite.Name)
			rec, err := sched.result(ctx, j, runDir)
			Expect(err).NotTo(HaveOccurred())
			transcript = filepath.Join(runDir, record.JobsDir, record.JobDirName(rec.Job), job.Transcript)
			if t, ok := rec.Artifacts["transcript"]; ok {
				transcript = filepath.Join(runDir, record.JobsDir, record.JobDirName(rec.Job), t)
			}
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
