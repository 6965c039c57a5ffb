package ci

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"

	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

var pipelineDir = flag.String("pipeline", "", "a `make pipeline` output directory (out/pipeline): compare its merged run with its single run")

// gitlabKeywords are the top-level keys of a GitLab pipeline that are not jobs.
var gitlabKeywords = map[string]bool{"stages": true, "variables": true, "workflow": true, "default": true, "include": true, "image": true, "services": true, "cache": true, "before_script": true, "after_script": true}

// TestGitLabExampleNamesWhatExists: the example pipeline parses; its stages, needs and
// extends point at things it defines; and every `bin/redox-hwtest` command line and every
// `make` target in its scripts exists, with flags the command really has (asked from the
// built binary's -h). The pipeline itself runs under `make pipeline` (docs/pipeline.md).
func TestGitLabExampleNamesWhatExists(t *testing.T) {
	raw, err := os.ReadFile("gitlab-nightly.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("gitlab-nightly.example.yml: %v", err)
	}
	stages := map[string]bool{}
	for _, s := range list(doc["stages"]) {
		stages[fmt.Sprint(s)] = true
	}
	var lines []string
	if d, ok := doc["default"].(map[string]any); ok {
		lines = append(lines, scripts(d)...)
	}
	jobs := 0
	for name, v := range doc {
		if gitlabKeywords[name] {
			continue
		}
		job, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: not a job", name)
			continue
		}
		if e, ok := job["extends"]; ok {
			if _, ok := doc[fmt.Sprint(e)]; !ok {
				t.Errorf("%s extends %v, which the file does not define", name, e)
			}
		}
		if strings.HasPrefix(name, ".") {
			lines = append(lines, scripts(job)...)
			continue
		}
		jobs++
		if st, ok := job["stage"]; ok && !stages[fmt.Sprint(st)] {
			t.Errorf("%s: stage %v is not in stages", name, st)
		}
		for _, n := range list(job["needs"]) {
			dep := n
			if m, ok := n.(map[string]any); ok {
				dep = m["job"]
			}
			if _, ok := doc[fmt.Sprint(dep)]; !ok {
				t.Errorf("%s needs %v, which the file does not define", name, dep)
			}
		}
		if len(scripts(job)) == 0 {
			t.Errorf("%s: no script", name)
		}
		lines = append(lines, scripts(job)...)
	}
	if jobs < 5 {
		t.Fatalf("only %d jobs found", jobs)
	}
	checkScripts(t, "gitlab-nightly.example.yml", lines)
}

// checkScripts checks every redox-hwtest command line and make target in script lines.
func checkScripts(t *testing.T, file string, lines []string) {
	t.Helper()
	bin := buildCLI(t)
	targets := makeTargets(t)
	calls := 0
	for _, l := range lines {
		for _, m := range regexp.MustCompile(`\bmake\s+([a-z][a-z0-9_-]*)`).FindAllStringSubmatch(l, -1) {
			if !targets[m[1]] {
				t.Errorf("%s: `make %s`: no such target in the Makefile", file, m[1])
			}
		}
		for _, call := range cliCalls(l) {
			calls++
			flags, ok := cliFlags(t, bin, call.cmd)
			if !ok {
				t.Errorf("%s: `redox-hwtest %s`: no such command\n  %s", file, strings.Join(call.cmd, " "), l)
				continue
			}
			for _, f := range call.flags {
				if !flags[f] {
					t.Errorf("%s: `redox-hwtest %s` has no flag -%s\n  %s", file, strings.Join(call.cmd, " "), f, l)
				}
			}
		}
	}
	if calls == 0 {
		t.Fatalf("%s: no redox-hwtest command line found", file)
	}
}

type cliCall struct {
	cmd   []string // "run", or "report", "merge"
	flags []string // names, without dashes
}

// cliCalls finds the `bin/redox-hwtest ...` calls in one shell line (up to a pipe, ;, && or ||).
func cliCalls(line string) []cliCall {
	var out []cliCall
	for _, part := range regexp.MustCompile(`\|\||&&|[|;]`).Split(line, -1) {
		f := strings.Fields(part)
		i := -1
		for k, s := range f {
			if strings.HasSuffix(s, "bin/redox-hwtest") && (k == 0 || f[k-1] != "-o") { // not `go build -o bin/...`
				i = k
				break
			}
		}
		if i < 0 || i+1 >= len(f) {
			continue
		}
		c := cliCall{cmd: []string{f[i+1]}}
		rest := f[i+2:]
		if f[i+1] == "report" && len(rest) > 0 {
			c.cmd, rest = append(c.cmd, rest[0]), rest[1:]
		}
		for _, a := range rest {
			if len(a) > 1 && a[0] == '-' && a != "-" {
				name := strings.TrimLeft(a, "-")
				name, _, _ = strings.Cut(name, "=")
				c.flags = append(c.flags, name)
			}
		}
		out = append(out, c)
	}
	return out
}

var flagLine = regexp.MustCompile(`^\s+-([A-Za-z0-9][A-Za-z0-9_-]*)`)

// cliFlags asks the command for its flags (-h); ok is false when the command does not exist.
func cliFlags(t *testing.T, bin string, cmd []string) (map[string]bool, bool) {
	out, _ := exec.Command(bin, append(slices.Clone(cmd), "-h")...).CombinedOutput()
	s := string(out)
	if strings.Contains(s, "unknown command") || strings.Contains(s, "unknown subcommand") {
		return nil, false
	}
	flags := map[string]bool{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if m := flagLine.FindStringSubmatch(sc.Text()); m != nil {
			flags[m[1]] = true
		}
	}
	if len(flags) == 0 {
		t.Fatalf("redox-hwtest %s -h listed no flags:\n%s", strings.Join(cmd, " "), s)
	}
	return flags, true
}

func buildCLI(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "redox-hwtest")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/redox-hwtest").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func makeTargets(t *testing.T) map[string]bool {
	t.Helper()
	raw, err := os.ReadFile("../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	targets := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^([a-z][a-z0-9_-]*)\s*:`).FindAllStringSubmatch(string(raw), -1) {
		targets[m[1]] = true
	}
	return targets
}

// scripts returns a job's before_script, script and after_script lines.
func scripts(job map[string]any) []string {
	var out []string
	for _, k := range []string{"before_script", "script", "after_script"} {
		for _, l := range list(job[k]) {
			out = append(out, fmt.Sprint(l))
		}
	}
	return out
}

func list(v any) []any {
	switch v := v.(type) {
	case []any:
		return v
	case nil:
		return nil
	default:
		return []any{v}
	}
}

// TestPipelineMatchesOneRun compares what `make pipeline` merged from its jobs with one `run`
// of the same matrix on one machine: the same jobs, the same checks, the same verdicts.
// `make pipeline` runs it with -pipeline out/pipeline; without that flag it skips.
func TestPipelineMatchesOneRun(t *testing.T) {
	if *pipelineDir == "" {
		t.Skip("no -pipeline directory (make pipeline runs this test on its output)")
	}
	merged, err := runs.Load(filepath.Join(*pipelineDir, "merged"))
	if err != nil {
		t.Fatal(err)
	}
	single, err := runs.Load(filepath.Join(*pipelineDir, "single"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := verdicts(merged), verdicts(single)
	if len(b) == 0 {
		t.Fatal("the single run has no checks")
	}
	for _, k := range union(a, b) {
		if a[k] != b[k] {
			t.Errorf("%s: pipeline %q, one run %q", k, a[k], b[k])
		}
	}
	t.Logf("%d jobs, %d checks: the pipeline's merged run and one run agree", len(merged.Records), len(a))
}

// verdicts maps "job check" to its verdict.
func verdicts(r *runs.Run) map[string]string {
	m := map[string]string{}
	for _, rec := range r.Records {
		m[rec.Job+" (job)"] = "recorded"
		for _, c := range rec.Checks {
			m[rec.Job+" "+c.Name] = string(c.Verdict)
		}
	}
	return m
}

func union(a, b map[string]string) []string {
	var ks []string
	for k := range a {
		ks = append(ks, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			ks = append(ks, k)
		}
	}
	sort.Strings(ks)
	return ks
}

// TestGitHubExampleLints runs actionlint (a Go tool pinned in ci/actionlint/go.mod, its own
// module) on the GitHub Actions example: workflow syntax, expressions, action inputs, job
// needs and runner labels (the lab's, in ci/actionlint/actionlint.yaml). shellcheck and
// pyflakes are off so the result does not depend on what else the machine has installed;
// the scripts' redox-hwtest and make lines are checked as the GitLab example's are.
func TestGitHubExampleLints(t *testing.T) {
	cmd := exec.Command("go", "tool", "actionlint", "-config-file", "actionlint.yaml", "-shellcheck=", "-pyflakes=", "-no-color", "../github-nightly.example.yml")
	cmd.Dir = "actionlint"
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("actionlint: %v\n%s", err, out)
	}
	raw, err := os.ReadFile("github-nightly.example.yml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Jobs map[string]struct {
			Steps []struct {
				Run string `yaml:"run"`
			} `yaml:"steps"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, j := range doc.Jobs {
		for _, s := range j.Steps {
			lines = append(lines, strings.Split(s.Run, "\n")...)
		}
	}
	checkScripts(t, "github-nightly.example.yml", lines)
}
