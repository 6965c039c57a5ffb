// Package suitekit is what every Ginkgo suite under suites/ shares: the -matrix flag (one
// registration, so `go test ./suites/... -matrix=hw.yaml` works for every package), loading
// and expanding the matrix, the run directory, Ginkgo labels from job labels, and turning a
// check's verdict into a spec outcome. Suites stay thin: the work is in harness/.
package suitekit

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	. "github.com/onsi/ginkgo/v2"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

var (
	matrixFlag = flag.String("matrix", "hw.yaml", "matrix file; a relative path resolves against the module root")
	filterFlag = flag.String("filter", "", "job label filter, e.g. arch:x86_64,!kind:replay (env REDOX_HWTEST_FILTER)")
	runDirFlag = flag.String("run-dir", "", "run directory for results (default <out_dir>/runs/<time>-<suite>; env REDOX_HWTEST_RUN_DIR)")
	shardFlag  = flag.String("shard", "", "run shard i of n, as i/n (0-based)")
)

var (
	loadOnce sync.Once
	loaded   *matrix.Matrix
	loadErr  error
)

// Matrix loads the matrix named by -matrix (once per process). With -ginkgo.dry-run the
// image files need not exist, so the matrix can be listed before the fixtures are built.
func Matrix() (*matrix.Matrix, error) {
	loadOnce.Do(func() {
		path, err := matrix.ResolvePath(*matrixFlag)
		if err != nil {
			loadErr = err
			return
		}
		loaded, loadErr = hosts.LoadMatrix(path, matrix.LoadOptions{SkipFileChecks: dryRun()})
	})
	return loaded, loadErr
}

func dryRun() bool {
	f := flag.Lookup("ginkgo.dry-run")
	return f != nil && f.Value.String() == "true"
}

// MustJobs returns the jobs of one suite, or exits with status 2 and the matrix error (a
// malformed matrix is bad input, not a failed test).
func MustJobs(suite string) (*matrix.Matrix, []matrix.Job) {
	m, err := Matrix()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// The environment's filter lets one `go test ./...` narrow the suites without passing
	// -filter to packages that do not define it (make test does).
	filter := *filterFlag
	if filter == "" {
		filter = os.Getenv("REDOX_HWTEST_FILTER")
	}
	f, err := matrix.ParseSelection(filter, *shardFlag)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var jobs []matrix.Job
	for _, j := range m.Jobs(f) {
		if j.Suite.Name == suite {
			jobs = append(jobs, j)
		}
	}
	return m, jobs
}

var (
	runDirOnce sync.Once
	runDir     string
)

// RunDir is the run directory this process writes results into.
func RunDir(suite string) string {
	runDirOnce.Do(func() {
		runDir = *runDirFlag
		if runDir == "" {
			runDir = os.Getenv("REDOX_HWTEST_RUN_DIR")
		}
		if runDir == "" {
			m, _ := Matrix()
			out := "out"
			if m != nil && m.Settings.OutDir != "" {
				out = m.Settings.OutDir
				if !filepath.IsAbs(out) {
					out = filepath.Join(filepath.Dir(m.Path), out)
				}
			}
			runDir = filepath.Join(out, "runs", time.Now().UTC().Format("20060102T150405Z")+"-"+suite)
		}
		if abs, err := filepath.Abs(runDir); err == nil {
			runDir = abs
		}
		os.MkdirAll(runDir, 0o755)
	})
	return runDir
}

// JobLabels turns job labels into Ginkgo labels (which may not contain &|!,()/).
func JobLabels(j matrix.Job) Labels {
	r := strings.NewReplacer("&", "-", "|", "-", "!", "-", ",", "-", "(", "-", ")", "-", "/", "-")
	var out []string
	for _, l := range j.Labels() {
		out = append(out, r.Replace(l))
	}
	return Label(out...)
}

// ExpectCheck turns a check into the spec's outcome: PASS and XPASS pass, SKIP and XFAIL
// skip with their reason, anything else fails with the verdict, the message and the
// transcript excerpt.
func ExpectCheck(c record.Check, transcript string) {
	// A report entry becomes a <property> of this spec's JUnit testcase.
	AddReportEntry("transcript", transcript)
	AddReportEntry("verdict", string(c.Verdict))
	switch c.Verdict {
	case record.Pass:
		return
	case record.XPass:
		AddReportEntry("XPASS", "declared known failure passed: "+c.Reference)
		return
	case record.Skip:
		Skip(c.Message)
	case record.XFail:
		Skip(fmt.Sprintf("XFAIL (%s): %s", c.Reference, c.Message))
	}
	msg := fmt.Sprintf("%s: %s", c.Verdict, c.Message)
	if c.Title != "" {
		msg += "\ntitle: " + c.Title
	}
	if c.Component != "" {
		msg += "\ncomponent: " + c.Component
	}
	msg += "\ntranscript: " + transcript
	if c.Excerpt != "" {
		msg += "\n--- transcript excerpt ---\n" + strings.ToValidUTF8(c.Excerpt, "?")
	}
	Fail(msg)
}
