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
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
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
func runMain(args []string) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	matrixPath := fs.String("matrix", "hw.yaml", "matrix file")
	filter := fs.String("filter", "", "job label filter, e.g. arch:x86_64,!kind:replay")
	shard := fs.String("shard", "", "run shard i/n (0-based)")
	out := fs.String("out", "", "run directory (default <out_dir>/runs/<time>)")
	bootArgs := fs.String("boot-args", "", "extra guest switches for every boot")
	runID := fs.String("run-id", "", "run id recorded in run.json (default: the run directory's name); shards of one nightly share it")
	gateBase := fs.String("gate", "", "baseline run directory: after the run, compare with it and exit 1 only on a regression")
	gateReruns := fs.Int("gate-reruns", 2, "with -gate: re-run a job with a new failure up to N times before calling it a regression")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	m, err := matrix.Load(*matrixPath)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	f, err := matrix.ParseFilter(*filter)
	if err != nil {
		fmt.Fprintln(os.Stderr, "-filter:", err)
		return 2
	}
	if *shard != "" {
		if _, err := fmt.Sscanf(*shard, "%d/%d", &f.Shard, &f.Shards); err != nil || f.Validate() != nil {
			fmt.Fprintln(os.Stderr, "-shard: want i/n with 0 <= i < n")
			return 2
		}
	}
	jobs := m.Jobs(f)
	runners := make([]job.SuiteRunner, len(jobs))
	for i, j := range jobs {
		if runners[i], err = job.Suite(j.Suite.Name); err != nil {
			fmt.Fprintf(os.Stderr, "%s: %v\n", j.ID(), err)
			return 2
		}
	}
	runDir := *out
	if runDir == "" {
		runDir = filepath.Join(m.Settings.OutDir, "runs", time.Now().UTC().Format("20060102T150405Z"))
		if !filepath.IsAbs(runDir) {
			runDir = filepath.Join(m.Dir, runDir)
		}
	}
	if err := os.MkdirAll(runDir, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	hostname, _ := os.Hostname()
	id := *runID
	if id == "" {
		id = filepath.Base(runDir)
	}
	info := record.RunInfo{Format: record.FormatVersion, ID: id, Started: time.Now().UTC(),
		Matrix: m.Path, Shard: f.Shard, Shards: f.Shards, Host: hostname}
	writeRunInfo(runDir, info)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runJobs := func(dir string, jobs []matrix.Job, runners []job.SuiteRunner) (recs []*record.Record, worst int) {
		prog := newProgress(os.Stdout, jobs)
		for i, j := range jobs {
			if ctx.Err() != nil {
				return recs, 2
			}
			prog.set(i, "starting", "")
			rec, err := runners[i](ctx, m, j, job.Options{RunDir: dir, BootArgs: *bootArgs,
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
	recs, worst := runJobs(runDir, jobs, runners)
	info.Finished = time.Now().UTC()
	writeRunInfo(runDir, info)
	if err := writeRunReports(runDir, info, recs); err != nil {
		fmt.Fprintln(os.Stderr, "reports:", err)
	}
	fmt.Printf("results: %s\n", runDir)
	if *gateBase != "" && worst != 2 {
		return gateAfterRun(*gateBase, recs, *gateReruns, func(round int, ids []string) []*record.Record {
			var rj []matrix.Job
			var rr []job.SuiteRunner
			for _, id := range ids {
				for i, j := range jobs {
					if j.ID() == id {
						rj, rr = append(rj, j), append(rr, runners[i])
					}
				}
			}
			fmt.Printf("gate: re-running %d job(s) with a new failure (round %d)\n", len(rj), round)
			again, _ := runJobs(filepath.Join(runDir, "reruns", fmt.Sprint(round)), rj, rr)
			return again
		})
	}
	if worst == 2 {
		return 2
	}
	return worst
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
