package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	_ "github.com/redox-hwtest/redox-hwtest/harness/abicheck"
	_ "github.com/redox-hwtest/redox-hwtest/harness/drivers"
	_ "github.com/redox-hwtest/redox-hwtest/harness/guest"
	"github.com/redox-hwtest/redox-hwtest/harness/job"
	_ "github.com/redox-hwtest/redox-hwtest/harness/netcheck"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/gate"
	"github.com/redox-hwtest/redox-hwtest/reports/junit"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
	"github.com/redox-hwtest/redox-hwtest/reports/tables"
)

func init() {
	register("run", "run the matrix's suites, write results under out/runs/<id>", runMain)
}

// Exit statuses of run: 0 every check passed (or was skipped / a declared known failure),
// 1 a check failed against the image (FAIL, CRASH, HANG), 2 bad input, 3 only lab failures
// (INFRA) kept some checks from being judged.
//
// A run goes through the steps of runCmd in order: flags, plan (matrix, filter, jobs and
// their runners), run directory, jobs, reports, gate; a step that fails returns its exit
// status.
func runMain(args []string) int {
	r, status := parseRunFlags(args)
	if r == nil {
		return status
	}
	if status := r.plan(); status != 0 {
		return status
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r.ctx = ctx
	// url: images are downloaded and verified before the first boot: a digest mismatch is bad
	// input (exit 2, nothing written); an image the network does not deliver makes its jobs
	// INFRA and the others run.
	if status := fetchImages(ctx, r.m, r.jobs, false); status == 2 {
		return status
	}
	if status := r.openRunDir(); status != 0 {
		return status
	}
	recs, worst := r.runJobs(r.runDir, r.jobs, r.runners)
	r.info.Finished = time.Now().UTC()
	writeRunInfo(r.runDir, r.info)
	if err := writeRunReports(r.runDir, r.info, recs); err != nil {
		fmt.Fprintln(os.Stderr, "reports:", err)
	}
	fmt.Printf("results: %s\n", r.runDir)
	if r.gateBase != "" && worst != 2 {
		return gateAfterRun(r.gateBase, recs, r.gateReruns, r.rerun)
	}
	return worst
}

// runCmd is one `redox-hwtest run`: its flags, then what each step of runMain sets up.
type runCmd struct {
	matrixPath, filter, shard, out, bootArgs, runID string
	gateBase                                        string
	gateReruns                                      int

	ctx     context.Context
	m       *matrix.Matrix
	f       matrix.Filter
	jobs    []matrix.Job
	runners []job.SuiteRunner // runners[i] runs jobs[i]
	runDir  string
	info    record.RunInfo
}

// parseRunFlags reads the command line; on an error it returns nil and exit status 2.
func parseRunFlags(args []string) (*runCmd, int) {
	r := &runCmd{}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.StringVar(&r.matrixPath, "matrix", "hw.yaml", "matrix file")
	fs.StringVar(&r.filter, "filter", "", "job label filter, e.g. arch:x86_64,!kind:replay")
	fs.StringVar(&r.shard, "shard", "", "run shard i/n (0-based)")
	fs.StringVar(&r.out, "out", "", "run directory (default <out_dir>/runs/<time>)")
	fs.StringVar(&r.bootArgs, "boot-args", "", "extra guest switches for every boot")
	fs.StringVar(&r.runID, "run-id", "", "run id recorded in run.json (default: the run directory's name); shards of one nightly share it")
	fs.StringVar(&r.gateBase, "gate", "", "baseline run directory: after the run, compare with it and exit 1 only on a regression")
	fs.IntVar(&r.gateReruns, "gate-reruns", 2, "with -gate: re-run a job with a new failure up to N times before calling it a regression")
	if err := fs.Parse(args); err != nil {
		return nil, 2
	}
	return r, 0
}

// plan loads the matrix, applies the filter and shard, and finds each job's suite runner.
func (r *runCmd) plan() int {
	m, err := matrix.Load(r.matrixPath)
	if err == nil {
		err = hosts.CheckEndpoints(m) // two hosts on one console, BMC or outlet
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	f, err := matrix.ParseFilter(r.filter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-filter:", err)
		return 2
	}
	if r.shard != "" {
		if _, err := fmt.Sscanf(r.shard, "%d/%d", &f.Shard, &f.Shards); err != nil || f.Validate() != nil {
			fmt.Fprintln(os.Stderr, "-shard: want i/n with 0 <= i < n")
			return 2
		}
	}
	r.m, r.f, r.jobs = m, f, m.Jobs(f)
	r.runners = make([]job.SuiteRunner, len(r.jobs))
	for i, j := range r.jobs {
		if r.runners[i], err = job.Suite(j.Suite.Name); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", j.ID(), err)
			return 2
		}
	}
	return 0
}

// openRunDir creates the run directory and writes its run.json.
func (r *runCmd) openRunDir() int {
	r.runDir = r.out
	if r.runDir == "" {
		r.runDir = filepath.Join(r.m.Settings.OutDir, "runs", time.Now().UTC().Format("20060102T150405Z"))
		if !filepath.IsAbs(r.runDir) {
			r.runDir = filepath.Join(r.m.Dir, r.runDir)
		}
	}
	if err := os.MkdirAll(r.runDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	hostname, _ := os.Hostname()
	id := r.runID
	if id == "" {
		id = filepath.Base(r.runDir)
	}
	r.info = record.RunInfo{Format: record.FormatVersion, ID: id, Started: time.Now().UTC(),
		Matrix: r.m.Path, Shard: r.f.Shard, Shards: r.f.Shards, Host: hostname}
	writeRunInfo(r.runDir, r.info)
	return 0
}

// runJobs runs jobs one after the other into dir, showing progress; worst is the highest
// exit status contribution of a job (2 for a job that could not run, or a cancelled run).
func (r *runCmd) runJobs(dir string, jobs []matrix.Job, runners []job.SuiteRunner) (recs []*record.Record, worst int) {
	prog := newProgress(os.Stdout, jobs)
	for i, j := range jobs {
		if r.ctx.Err() != nil {
			return recs, 2
		}
		prog.set(i, "starting", "")
		rec, err := runners[i](r.ctx, r.m, j, job.Options{RunDir: dir, BootArgs: r.bootArgs,
			OnProgress: func(stage, comp string) { prog.set(i, stage, comp) }})
		if err != nil {
			prog.done(i, "ERROR "+err.Error())
			worst = max(worst, 2)
			continue
		}
		summary, status := summarize(rec)
		prog.done(i, summary)
		worst = max(worst, status)
		recs = append(recs, rec)
	}
	return recs, worst
}

// rerun runs the jobs with these ids again for the gate, into <run>/reruns/<round>.
func (r *runCmd) rerun(round int, ids []string) []*record.Record {
	var rj []matrix.Job
	var rr []job.SuiteRunner
	for _, id := range ids {
		for i, j := range r.jobs {
			if j.ID() == id {
				rj, rr = append(rj, j), append(rr, r.runners[i])
			}
		}
	}
	fmt.Printf("gate: re-running %d job(s) with a new failure (round %d)\n", len(rj), round)
	again, _ := r.runJobs(filepath.Join(r.runDir, "reruns", fmt.Sprint(round)), rj, rr)
	return again
}

// writeRunReports puts the merged JUnit file and the Markdown table into the run directory,
// so a run is readable on its own (the site and HARDWARE.md rows are `report` subcommands).
func writeRunReports(runDir string, info record.RunInfo, recs []*record.Record) error {
	f, err := os.Create(filepath.Join(runDir, "junit.xml"))
	if err != nil {
		return err
	}
	if err := junit.Write(f, junit.Build(info, recs, junit.Options{})); err != nil {
		f.Close()
		return err
	}
	f.Close()
	t, err := os.Create(filepath.Join(runDir, "results.md"))
	if err != nil {
		return err
	}
	defer t.Close()
	return tables.Markdown(t, recs, tables.Options{JUnit: "junit.xml"})
}

// gateAfterRun compares the run with a baseline; a new failure is re-run up to reruns times, and
// only one that fails every time is a regression. Exit 0 / 1 (regression) / 2 (harness error).
func gateAfterRun(baseDir string, cur []*record.Record, reruns int, rerun func(round int, jobs []string) []*record.Record) int {
	base, err := runs.Load(baseDir)
	if err != nil {
		fmt.Fprintln(os.Stderr, "gate: baseline:", err)
		return 2
	}
	rep := gate.Compare(base.Records, cur)
	for round := 1; round <= reruns && len(rep.RerunJobs()) > 0; round++ {
		rep.ApplyReruns(rerun(round, rep.RerunJobs()))
	}
	rep.WriteText(os.Stdout, false)
	return rep.ExitCode()
}

func writeRunInfo(dir string, info record.RunInfo) {
	if err := record.WriteRunInfo(dir, info); err != nil {
		fmt.Fprintln(os.Stderr, "run.json:", err)
	}
}

// summarize gives the one-line verdict of a job and its exit status contribution.
func summarize(rec *record.Record) (string, int) {
	counts := map[record.Verdict]int{}
	var bad []string
	status := 0
	for _, c := range rec.Checks {
		counts[c.Verdict]++
		switch {
		case c.Verdict.CountsAgainstRedox():
			status = 1
			bad = append(bad, fmt.Sprintf("%s %s", c.Name, c.Verdict))
		case c.Verdict == record.Infra && status == 0:
			status = 3
			bad = append(bad, fmt.Sprintf("%s INFRA", c.Name))
		}
	}
	var parts []string
	for _, v := range record.All {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	s := strings.Join(parts, ", ")
	if len(bad) > 0 {
		s += " — " + strings.Join(bad, "; ")
	}
	return s, status
}

// progress shows one line per job: redrawn in place on a terminal, plain lines otherwise
// (CI logs).
type progress struct {
	mu    sync.Mutex
	w     io.Writer
	tty   bool
	ids   []string
	state []string
	drawn bool
}

func newProgress(w *os.File, jobs []matrix.Job) *progress {
	p := &progress{w: w, tty: term.IsTerminal(int(w.Fd())) && os.Getenv("TERM") != "dumb"}
	for _, j := range jobs {
		p.ids = append(p.ids, j.ID())
		p.state = append(p.state, "waiting")
	}
	if p.tty {
		p.redraw()
	}
	return p
}

func (p *progress) set(i int, stage, comp string) {
	s := "stage " + stage
	if comp != "" {
		s += " (" + comp + ")"
	}
	p.update(i, s)
}

func (p *progress) done(i int, summary string) { p.update(i, "done: "+summary) }

func (p *progress) update(i int, s string) {
	s = secrets.Redact(s) // a stage or component name could carry console text
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.state[i] == s {
		return
	}
	p.state[i] = s
	if p.tty {
		p.redraw()
		return
	}
	fmt.Fprintf(p.w, "%s %s: %s\n", time.Now().UTC().Format("15:04:05"), p.ids[i], s)
}

func (p *progress) redraw() {
	width := 120
	if w, _, err := term.GetSize(1); err == nil && w > 20 {
		width = w
	}
	var b strings.Builder
	if p.drawn {
		fmt.Fprintf(&b, "\x1b[%dA", len(p.ids))
	}
	for i, id := range p.ids {
		line := id + ": " + p.state[i]
		if len(line) > width-1 {
			line = line[:width-1]
		}
		b.WriteString("\r\x1b[2K" + line + "\n")
	}
	p.drawn = true
	io.WriteString(p.w, b.String())
}
