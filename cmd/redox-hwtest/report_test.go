package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "redox-hwtest-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "redox-hwtest")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// cli runs the binary and returns stdout, stderr and the exit status.
func cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// started is the binary running in the background, for tests that signal it mid-run:
// its stdout read line by line (lines), its stderr collected.
type started struct {
	cmd    *exec.Cmd
	out    io.ReadCloser
	lines  *bufio.Scanner
	stderr *strings.Builder
}

// startCLI starts the binary with args without waiting for it.
func startCLI(t *testing.T, args ...string) *started {
	t.Helper()
	cmd := exec.Command(binary, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return &started{cmd: cmd, out: out, lines: bufio.NewScanner(out), stderr: &stderr}
}

func writeRun(t *testing.T, dir string, info record.RunInfo, recs []*record.Record) string {
	t.Helper()
	if err := fakerun.WriteRun(dir, info, recs); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestReportMergeThenTable(t *testing.T) {
	base := t.TempDir()
	whole := writeRun(t, filepath.Join(base, "whole"), fakerun.Info(0), fakerun.Records(0))
	var a, b []*record.Record
	for i, r := range fakerun.Records(0) {
		if i < 7 {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	i0, i1 := fakerun.Info(0), fakerun.Info(0)
	i0.Shard, i0.Shards, i1.Shard, i1.Shards = 0, 2, 1, 2
	s0 := writeRun(t, filepath.Join(base, "s0"), i0, a)
	s1 := writeRun(t, filepath.Join(base, "s1"), i1, b)
	merged := filepath.Join(base, "merged")
	_, stderr, code := cli(t, "report", "merge", "-o", merged, s0, s1)
	if code != 0 || !strings.Contains(stderr, "merged 17 job(s) from 2 run(s)") {
		t.Fatalf("merge: %d %s", code, stderr)
	}
	t1, _, c1 := cli(t, "report", "table", whole)
	t2, _, c2 := cli(t, "report", "table", merged)
	if c1 != 0 || c2 != 0 || t1 != t2 || !strings.Contains(t1, "| Host |") {
		t.Errorf("tables differ or failed (%d %d):\n%s\n---\n%s", c1, c2, t1, t2)
	}
	// Flags after the positional argument, output to a file.
	out := filepath.Join(merged, "results.md")
	if _, stderr, code := cli(t, "report", "table", merged, "-o", out); code != 0 {
		t.Fatalf("table -o: %s", stderr)
	}
	if data, _ := os.ReadFile(out); string(data) != t1 {
		t.Error("table -o wrote something else")
	}
}

func TestReportJUnit(t *testing.T) {
	run := writeRun(t, t.TempDir(), fakerun.Info(0), fakerun.Records(0))
	out := filepath.Join(run, "junit.xml")
	if _, stderr, code := cli(t, "report", "junit", run, "-o", out); code != 0 {
		t.Fatalf("junit: %s", stderr)
	}
	xmllint, err := exec.LookPath("xmllint")
	if err != nil {
		t.Skip("xmllint not installed (Debian libxml2-utils); the reports/junit tests install it when root")
	}
	if out, err := exec.Command(xmllint, "--noout", "--schema", "../../reports/junit/testdata/jenkins-junit.xsd", out).CombinedOutput(); err != nil {
		t.Errorf("invalid JUnit: %v\n%s", err, out)
	}
}

func TestReportHardwareMD(t *testing.T) {
	fixture := "../../reports/testdata/HARDWARE.md"
	in, _ := os.ReadFile(fixture)
	// Without results: the file comes back unchanged, problems listed with line numbers.
	stdout, stderr, code := cli(t, "report", "hardware-md", "--upstream", fixture)
	if code != 0 || stdout != string(in) {
		t.Errorf("round trip changed the file (exit %d)", code)
	}
	if !strings.Contains(stderr, "HARDWARE.md:44 (Booting): malformed: row does not end with |") {
		t.Errorf("problems not listed:\n%s", stderr)
	}
	if _, _, code := cli(t, "report", "hardware-md", "--upstream", fixture, "--strict"); code != 1 {
		t.Errorf("--strict with malformed rows: exit %d, want 1", code)
	}
	// With results: our rows merged in, as the golden file says.
	run := writeRun(t, t.TempDir(), fakerun.Info(0), fakerun.Records(0))
	stdout, stderr, code = cli(t, "report", "hardware-md", "--upstream", fixture, run)
	want, _ := os.ReadFile("../../reports/testdata/HARDWARE.merged.md")
	if code != 0 || stdout != string(want) {
		t.Errorf("merged output differs from the golden file (exit %d):\n%s", code, stdout)
	}
	for _, s := range []string{"superseded line 41 (Booting)", "added (Broken): | Acer |", "no row: qemu-q35 / "} {
		if !strings.Contains(stderr, s) {
			t.Errorf("stderr lacks %q:\n%s", s, stderr)
		}
	}
}

func TestReportSite(t *testing.T) {
	base := t.TempDir()
	r0 := writeRun(t, filepath.Join(base, "n0"), fakerun.Info(0), fakerun.Records(0))
	r1 := writeRun(t, filepath.Join(base, "n1"), fakerun.Info(1), fakerun.Records(1))
	out := filepath.Join(base, "site")
	if _, stderr, code := cli(t, "report", "site", "-o", out, r0, r1); code != 0 {
		t.Fatalf("site: %s", stderr)
	}
	for _, f := range []string{"index.html", "machines/x220.html", "runs/nightly-2026-03-18/junit.xml"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
}

func TestGateExitCodes(t *testing.T) {
	base := t.TempDir()
	night0 := writeRun(t, filepath.Join(base, "n0"), fakerun.Info(0), fakerun.Records(0))
	night1 := writeRun(t, filepath.Join(base, "n1"), fakerun.Info(1), fakerun.Records(1))
	// Same verdicts: exit 0.
	stdout, stderr, code := cli(t, "gate", "--baseline", night0, "--current", night1)
	if code != 0 || !strings.HasPrefix(stdout, "gate: ok") {
		t.Errorf("gate on equal nights: exit %d\n%s%s", code, stdout, stderr)
	}
	// One check regresses, one lab error, one fix: exit 1, JSON lists the classes.
	recs := fakerun.Records(2)
	for _, r := range recs {
		for k, c := range r.Checks {
			switch {
			case r.Job == "redox-0.9.0-desktop-uefi@x220/drivers" && c.Name == "drivers/e1000":
				r.Checks[k].Verdict, r.Checks[k].Message = record.Crash, "e1000d panicked"
			case r.Job == "redox-0.9.0-desktop-uefi@x220/network":
				r.Checks[k].Verdict = record.Infra
			case r.Job == "redox-0.9.0-desktop-uefi@optiplex/drivers" && c.Name == "drivers/nvme":
				r.Checks[k].Verdict = record.Pass
			}
		}
	}
	night2 := writeRun(t, filepath.Join(base, "n2"), fakerun.Info(2), recs)
	stdout, _, code = cli(t, "gate", "--baseline", night1, "--current", night2, "--json")
	if code != 1 {
		t.Errorf("regression: exit %d, want 1", code)
	}
	var rep struct {
		Counts     map[string]int
		Regression bool
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("--json output: %v\n%s", err, stdout)
	}
	if !rep.Regression || rep.Counts["new-failure"] != 1 || rep.Counts["infra"] != 2 || rep.Counts["fixed"] != 1 {
		t.Errorf("counts %v", rep.Counts)
	}
	// Harness errors: exit 2.
	if _, _, code := cli(t, "gate", "--baseline", filepath.Join(base, "missing"), "--current", night2); code != 2 {
		t.Errorf("missing baseline: exit %d, want 2", code)
	}
	empty := filepath.Join(base, "empty")
	os.MkdirAll(filepath.Join(empty, "jobs"), 0o755)
	if _, _, code := cli(t, "gate", "--baseline", night0, "--current", empty); code != 2 {
		t.Errorf("empty current run: exit %d, want 2", code)
	}
	// jobs/ that cannot be listed, and a corrupt record: exit 2, not an empty run.
	notDir := filepath.Join(base, "notdir")
	os.MkdirAll(notDir, 0o755)
	os.WriteFile(filepath.Join(notDir, "jobs"), nil, 0o644)
	if _, _, code := cli(t, "gate", "--baseline", notDir, "--current", night2); code != 2 {
		t.Errorf("unlistable jobs/: exit %d, want 2", code)
	}
	corrupt := writeRun(t, filepath.Join(base, "corrupt"), fakerun.Info(0), fakerun.Records(0)[:1])
	os.WriteFile(filepath.Join(corrupt, "jobs", record.JobDirName(fakerun.Records(0)[0].Job), "result.json"), []byte("{"), 0o644)
	if _, stderr, code := cli(t, "gate", "--baseline", corrupt, "--current", night2); code != 2 {
		t.Errorf("corrupt record: exit %d, want 2 (%s)", code, stderr)
	}
	if os.Geteuid() != 0 { // root reads everything
		locked := filepath.Join(base, "locked")
		os.MkdirAll(filepath.Join(locked, "jobs"), 0o000)
		if _, _, code := cli(t, "gate", "--baseline", locked, "--current", night2); code != 2 {
			t.Errorf("unreadable baseline: exit %d, want 2", code)
		}
	}
	if _, _, code := cli(t, "gate", "--current", night2); code != 2 {
		t.Errorf("no --baseline: exit %d, want 2", code)
	}
}

// Only a clean run may become the nightly baseline: a run with an INFRA check or one that
// judged nothing keeps the old baseline (ci/nightly.sh asks `gate --promotable`).
func TestGatePromotable(t *testing.T) {
	base := t.TempDir()
	with := func(name string, v record.Verdict, only string) string {
		recs := fakerun.Records(0)
		for _, r := range recs {
			for k := range r.Checks {
				if only == "" || r.Job == only {
					r.Checks[k].Verdict = v
				} else if r.Checks[k].Verdict == record.Infra {
					r.Checks[k].Verdict = record.Pass
				}
			}
		}
		return writeRun(t, filepath.Join(base, name), fakerun.Info(0), recs)
	}
	clean := with("clean", record.Pass, "")
	if _, stderr, code := cli(t, "gate", "--promotable", clean); code != 0 {
		t.Errorf("clean run: exit %d %s", code, stderr)
	}
	infra := with("infra", record.Infra, "redox-0.9.0-desktop-uefi@x220/network")
	if _, stderr, code := cli(t, "gate", "--promotable", infra); code != 1 || !strings.Contains(stderr, "INFRA") {
		t.Errorf("run with INFRA: exit %d %q", code, stderr)
	}
	skipped := with("skipped", record.Skip, "")
	if _, stderr, code := cli(t, "gate", "--promotable", skipped); code != 1 || !strings.Contains(stderr, "judged no check") {
		t.Errorf("run that judged nothing: exit %d %q", code, stderr)
	}
}

// An interrupted run (records of jobs that never ran, run.json interrupted) goes through
// every report: merge, table, JUnit (valid against the schema), site, HARDWARE.md, gate.
func TestReportsOnInterruptedRun(t *testing.T) {
	base := t.TempDir()
	recs := fakerun.Records(0)
	for _, r := range recs[len(recs)-3:] {
		r.Checks, r.Stages, r.Events, r.Artifacts, r.NotRun = nil, nil, nil, nil, "the run was interrupted before this job started"
	}
	info := fakerun.Info(0)
	info.Interrupted = true
	run := writeRun(t, filepath.Join(base, "run"), info, recs)
	if _, stderr, code := cli(t, "report", "merge", "-o", filepath.Join(base, "merged"), run); code != 0 {
		t.Fatalf("merge: %s", stderr)
	}
	table, stderr, code := cli(t, "report", "table", run)
	if code != 0 || !strings.Contains(table, "3 job(s) not run") {
		t.Errorf("table (%d %s):\n%s", code, stderr, table)
	}
	out := filepath.Join(base, "junit.xml")
	if _, stderr, code := cli(t, "report", "junit", run, "-o", out); code != 0 {
		t.Fatalf("junit: %s", stderr)
	}
	if data, _ := os.ReadFile(out); strings.Count(string(data), `name="not-run"`) != 3 {
		t.Errorf("junit lists %d not-run cases, want 3", strings.Count(string(data), `name="not-run"`))
	}
	if xmllint, err := exec.LookPath("xmllint"); err == nil {
		if o, err := exec.Command(xmllint, "--noout", "--schema", "../../reports/junit/testdata/jenkins-junit.xsd", out).CombinedOutput(); err != nil {
			t.Errorf("junit not valid: %v\n%s", err, o)
		}
	}
	if _, stderr, code := cli(t, "report", "site", "-o", filepath.Join(base, "site"), run); code != 0 {
		t.Errorf("site: %s", stderr)
	}
	if _, stderr, code := cli(t, "report", "hardware-md", "--upstream", "../../reports/testdata/HARDWARE.md", run, "-o", filepath.Join(base, "HW.md")); code != 0 {
		t.Errorf("hardware-md: %s", stderr)
	}
	if _, stderr, code := cli(t, "gate", "--baseline", run, "--current", run); code == 2 {
		t.Errorf("gate: %s", stderr)
	}
}
