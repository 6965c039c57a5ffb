package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/lab/schedule"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/abicheck"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/guest"
	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/network"
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

// Exit statuses of run (harness/lab/schedule.ExitStatus, combined by severity in this order):
// 2 bad input or a harness error, 4 interrupted (SIGINT/SIGTERM), 1 a check failed against
// the image (FAIL, CRASH, HANG), 3 only lab failures (INFRA) kept some checks from being
// judged, 0 every check passed (or was skipped / a declared known failure).
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
	ctx, stop := interruptible()
	defer stop()
	go exitIfShutdownStalls(ctx)
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
	recs, errs := r.runJobs(r.runDir, r.jobs)
	r.info.Finished = time.Now().UTC()
	r.info.Interrupted = ctx.Err() != nil
	writeRunInfo(r.runDir, r.info)
	if err := writeRunReports(r.runDir, r.info, recs); err != nil {
		fmt.Fprintln(os.Stderr, "reports:", err)
	}
	fmt.Printf("results: %s\n", r.runDir)
	status = schedule.ExitStatus(recs, errs, r.info.Interrupted)
	if r.info.Interrupted {
		fmt.Fprintln(os.Stderr, "run interrupted: the jobs that did not run are recorded as not run")
	}
	if r.gateBase != "" && status != schedule.StatusBadInput && status != schedule.StatusInterrupted {
		return gateAfterRun(r.gateBase, recs, r.gateReruns, r.rerun)
	}
	return status
}

// shutdownBound bounds an interrupted run's shutdown (powering its machines off, writing
// the records of the jobs that never ran): well over what it takes (VMs are stopped in
// parallel, at most 15 s each), and short enough that an interrupted harness never runs on.
const shutdownBound = 60 * time.Second

// exitIfShutdownStalls ends the process with status 4 when a second SIGINT/SIGTERM comes
// after the first, or when the shutdown the first one started takes over shutdownBound,
// whatever the run is blocked on. VMMs die with the harness (vmproc: Pdeathsig).
func exitIfShutdownStalls(ctx context.Context) {
	<-ctx.Done()
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	select {
	case s := <-again:
		fmt.Fprintf(os.Stderr, "run interrupted again (%s): exiting at once, the run directory is incomplete\n", s)
	case <-time.After(shutdownBound):
		fmt.Fprintf(os.Stderr, "run interrupted: the shutdown took over %s; exiting, the run directory is incomplete\n", shutdownBound)
	}
	os.Exit(schedule.StatusInterrupted)
}

// runCmd is one `redox-hwtest run`: its flags, then what each step of runMain sets up.
type runCmd struct {
	matrixPath, filter, shard, out, bootArgs, runID string
	gateBase                                        string
	gateReruns                                      int
	vms                                             int
	images                                          []matrix.ImageOverride // -image, the MR gate's build

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
	fs.IntVar(&r.vms, "j", 0, "VM jobs at once (default: the matrix's settings.jobs, else the controller's cores and memory)")
	fs.Func("image", "NAME=PATH|URL[@sha256:HEX]: boot this file or URL as the matrix's image NAME, e.g. a merge request's build (repeatable; a URL needs its digest, a path's is checked)", func(s string) error {
		o, err := matrix.ParseImageOverride(s)
		r.images = append(r.images, o)
		return err
	})
	if err := fs.Parse(args); err != nil {
		return nil, 2
	}
	// Counts in range, as the matrix's (matrix/ranges.go): a re-run count or a VM count
	// no lab has is a typo, not a plan.
	if r.gateReruns < 0 || r.gateReruns > maxGateReruns {
		fmt.Fprintf(os.Stderr, "-gate-reruns: want 0 to %d, got %d\n", maxGateReruns, r.gateReruns)
		return nil, 2
	}
	if r.vms < 0 || r.vms > matrix.MaxJobs {
		fmt.Fprintf(os.Stderr, "-j: want 0 (automatic) to %d, got %d\n", matrix.MaxJobs, r.vms)
		return nil, 2
	}
	return r, 0
}

// maxGateReruns bounds -gate-reruns: each re-run is a whole job again.
const maxGateReruns = 10

// plan loads the matrix, applies the filter and shard, and finds each job's suite runner.
func (r *runCmd) plan() int {
	m, f, err := loadMatrix(r.matrixPath, r.filter, r.shard)
	if err == nil {
		err = overrideImages(m, r.images)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
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

// runJobs runs jobs into dir through the scheduler (one boot per image x host, hosts in
// parallel), showing progress; errs counts the jobs that could not run (harness error).
func (r *runCmd) runJobs(dir string, jobs []matrix.Job) (recs []*record.Record, errs int) {
	prog := newProgress(os.Stdout, jobs)
	vms := r.vms
	if vms <= 0 {
		vms = r.m.Settings.Jobs
	}
	units := schedule.Plan(jobs, lastDurations(dir))
	res := schedule.Run(r.ctx, schedule.Config{Matrix: r.m, VMs: vms, Events: prog.event,
		Options: job.Options{RunDir: dir, BootArgs: r.bootArgs}}, units)
	prog.finish()
	for _, x := range res {
		if x.Err != nil {
			errs++
			continue
		}
		recs = append(recs, x.Rec)
	}
	return recs, errs
}

// lastDurations are the job durations of the newest other run beside dir (the runs
// directory), for longest-first ordering; nil when there is none.
func lastDurations(dir string) map[string]time.Duration {
	parent, self := filepath.Dir(filepath.Clean(dir)), filepath.Base(filepath.Clean(dir))
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil
	}
	for i := len(entries) - 1; i >= 0; i-- { // names are start times: newest last
		e := entries[i]
		if !e.IsDir() || e.Name() == self {
			continue
		}
		recs, err := record.ReadRun(filepath.Join(parent, e.Name()))
		if err != nil || len(recs) == 0 {
			continue
		}
		out := map[string]time.Duration{}
		for _, rec := range recs {
			if d := rec.Finished.Sub(rec.Started); rec.NotRun == "" && d > 0 {
				out[rec.Job] = d
			}
		}
		return out
	}
	return nil
}

// rerun runs the jobs with these ids again for the gate, into <run>/reruns/<round>.
func (r *runCmd) rerun(round int, ids []string) []*record.Record {
	var rj []matrix.Job
	for _, id := range ids {
		for _, j := range r.jobs {
			if j.ID() == id {
				rj = append(rj, j)
			}
		}
	}
	fmt.Printf("gate: re-running %d job(s) with a new failure (round %d)\n", len(rj), round)
	again, _ := r.runJobs(filepath.Join(r.runDir, "reruns", fmt.Sprint(round)), rj)
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
	for _, c := range rec.Checks {
		counts[c.Verdict]++
		if c.Verdict.Failed() {
			bad = append(bad, fmt.Sprintf("%s %s", c.Name, c.Verdict))
		}
	}
	var parts []string
	for _, v := range record.All {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	s := strings.Join(parts, ", ")
	if rec.Boot != nil && rec.Boot.Fresh != "" && !strings.HasPrefix(rec.Boot.Fresh, "first suite") {
		s += " [fresh boot: " + rec.Boot.Fresh + "]"
	}
	if len(bad) > 0 {
		s += " — " + strings.Join(bad, "; ")
	}
	return s, schedule.JobStatus(rec)
}

// overrideImages applies the -image flags. A local file's digest is computed (and checked
// against the one given), so every record names exactly what was booted; a URL's is checked
// by the download.
func overrideImages(m *matrix.Matrix, overrides []matrix.ImageOverride) error {
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	for _, o := range overrides {
		if !o.IsURL() {
			sum, err := fileSHA256(o.Location)
			if err != nil {
				return fmt.Errorf("-image %s: %w", o.Name, err)
			}
			if o.SHA256 != "" && o.SHA256 != sum {
				return fmt.Errorf("-image %s: %s has sha256 %s, not %s", o.Name, o.Location, sum, o.SHA256)
			}
			o.SHA256 = sum
		}
		if err := m.Override(o, cwd); err != nil {
			return err
		}
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return "", fmt.Errorf("%s is not a regular file", path)
	}
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
