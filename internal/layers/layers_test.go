// Package layers holds the test that keeps the module's data flow one way:
// matrix -> hosts -> harness -> reports -> cmd/suites, with record/ (the verdict and the
// job record) and transcript/ (the console transcript and its .times file) as leaves every
// layer reads; abi/ and internal/ below the rooms; inside harness/ the engine, then the
// suites, then the scheduler and bisection (harnessTiers). It reads the import graph from
// `go list`, so a new package is covered (a new harness/ package must be given its tier).
package layers

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/redox-hwtest/redox-hwtest"

type pkg struct {
	path    string   // relative to the module: "hosts/ipmi"
	imports []string // direct, non-test imports of the module, relative
	deps    []string // transitive, non-test dependencies of the module, relative
}

// graph lists every package of the module with its imports and dependencies (test files
// excluded: a test may drive a lower layer through a higher one, e.g. a host's
// integration test boots through harness/engine/job).
func graph(t *testing.T) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		// CI (which sets REDOX_HWTEST_REQUIRE_SHARED=1, .ci/run) must check the layers.
		if os.Getenv("REDOX_HWTEST_REQUIRE_SHARED") == "1" || os.Getenv("CI") != "" {
			t.Fatal("go command not in PATH: the layers cannot be checked")
		}
		t.Skip("go command not in PATH")
	}
	touchSources(t, "../..")
	cmd := exec.Command("go", "list", "-f", "{{.ImportPath}}|{{join .Imports \" \"}}|{{join .Deps \" \"}}", module+"/...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("go list: %v\n%s", err, stderr)
	}
	own := func(list string) []string {
		var r []string
		for _, p := range strings.Fields(list) {
			if rel, ok := strings.CutPrefix(p, module+"/"); ok {
				r = append(r, rel)
			}
		}
		return r
	}
	var ps []pkg
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		f := strings.Split(sc.Text(), "|")
		if len(f) != 3 {
			t.Fatalf("go list: unexpected line %q", sc.Text())
		}
		ps = append(ps, pkg{path: strings.TrimPrefix(f[0], module+"/"), imports: own(f[1]), deps: own(f[2])})
	}
	if len(ps) < 10 {
		t.Fatalf("go list found only %d packages", len(ps))
	}
	return ps
}

// touchSources reads every Go file and directory of the module, so `go test` caches this
// test's result only while none of them changed (the go list it runs is not tracked).
func touchSources(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && p != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "out") {
			return filepath.SkipDir
		}
		if !d.IsDir() && strings.HasSuffix(p, ".go") || d.Name() == "go.mod" {
			_, err = os.ReadFile(p)
		}
		return err
	})
	if err != nil {
		t.Fatalf("reading the module's sources: %v", err)
	}
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// The top-level rooms: packages under `from` may not depend (transitively) on packages
// under any of `not`.
var rooms = []struct {
	from string
	not  []string
}{
	{"matrix", []string{"hosts", "harness", "reports", "cmd", "suites"}},
	{"hosts", []string{"harness", "reports", "cmd", "suites"}},
	{"harness", []string{"reports", "cmd", "suites"}},
	{"reports", []string{"cmd", "suites"}},
	// abi reads ELF files and baselines; harness/suites/abicheck runs it on a job.
	{"abi", []string{"matrix", "hosts", "harness", "reports", "cmd", "suites"}},
	// internal/ holds the module's small shared helpers (bounded reads, heap peaks, bench
	// ratios): leaves beside record/ and transcript/. internal/fakerun (synthetic run
	// directories, test-only: TestFakerunOnlyInTests) writes them through reports/runs.
	{"internal", []string{"matrix", "hosts", "harness", "reports", "cmd", "suites", "abi"}},
}

// harnessTiers orders the packages inside harness/: the engine (profiles, the console and
// its matcher, the boot state machine, a job's boot, the in-guest session), then the
// suites' runners, then what drives whole runs (the scheduler, bisection), then the audit
// of the Redox facts they all hold (harness/redoxfacts). A package may import only packages of a lower tier: the engine never reaches
// into a suite, a suite never into the scheduler. A new harness package is added to its
// tier here (docs/extending.md).
var harnessTiers = [][]string{
	{"harness/engine/profile", "harness/engine/lock", "harness/engine/sockdir", "harness/engine/console"},
	{"harness/engine/classify", "harness/engine/screen"},
	{"harness/engine/boot", "harness/engine/inventory"},
	{"harness/engine/job"},
	{"harness/engine/session"},
	// the suites
	{"harness/suites/drivers", "harness/suites/network", "harness/suites/guest", "harness/suites/abicheck"},
	// the scheduler and bisection
	{"harness/lab/schedule", "harness/lab/bisect"},
	// the audit of every Redox fact the packages above hold
	{"harness/redoxfacts"},
}

// testOnly are packages no package's own code may import (tests only).
var testOnly = []string{"internal/fakerun", "internal/consolebench", "internal/testfiles", "hosts/qemu/qemutest", "harness/internal/standin"}

// violations lists every import in ps that breaks the rooms, the harness tiers or the
// test-only rule.
func violations(ps []pkg) []string {
	var bad []string
	tier := map[string]int{}
	for i, t := range harnessTiers {
		for _, p := range t {
			tier[p] = i
		}
	}
	for _, p := range ps {
		for _, r := range rooms {
			if !under(p.path, r.from) {
				continue
			}
			for _, d := range p.deps {
				for _, n := range r.not {
					if under(d, n) && !(p.path == "internal/fakerun" && under(d, "reports")) {
						bad = append(bad, fmt.Sprintf("%s depends on %s: %s may not import %s (layers: matrix -> hosts -> harness -> reports -> cmd/suites; abi and internal below them)", p.path, d, r.from, n))
					}
				}
			}
		}
		if under(p.path, "harness") && !slices.Contains(testOnly, p.path) {
			ti, ok := tier[p.path]
			if !ok {
				bad = append(bad, fmt.Sprintf("%s is in no tier of harness/: add it to harnessTiers (engine, suites, or scheduler and bisection)", p.path))
			}
			for _, d := range p.imports {
				if !under(d, "harness") || slices.Contains(testOnly, d) {
					continue
				}
				if di, known := tier[d]; ok && known && di >= ti {
					bad = append(bad, fmt.Sprintf("%s imports %s: inside harness/ a package imports only lower tiers (engine, then suites, then scheduler and bisection)", p.path, d))
				}
			}
		}
		for _, i := range p.imports {
			for _, o := range testOnly {
				if under(i, o) {
					bad = append(bad, fmt.Sprintf("%s imports %s outside its tests", p.path, i))
				}
			}
		}
	}
	return bad
}

func TestLayers(t *testing.T) {
	for _, v := range violations(graph(t)) {
		t.Error(v)
	}
}

// The check fails on a planted back-arrow in each room it guards: the top level, inside
// harness/ (the engine reaching a suite, a suite reaching the scheduler, two packages of
// one tier), abi and internal/.
func TestLayersCatchPlantedBackArrows(t *testing.T) {
	for _, c := range []struct {
		name string
		p    pkg
		want string
	}{
		{"top level", pkg{path: "hosts/qemu", deps: []string{"harness/engine/job"}}, "hosts may not import harness"},
		{"engine to a suite", pkg{path: "harness/engine/job", imports: []string{"harness/suites/drivers"}}, "harness/engine/job imports harness/suites/drivers"},
		{"session to job is fine, job to session is not", pkg{path: "harness/engine/job", imports: []string{"harness/engine/session"}}, "harness/engine/job imports harness/engine/session"},
		{"suite to the scheduler", pkg{path: "harness/suites/network", imports: []string{"harness/lab/schedule"}}, "harness/suites/network imports harness/lab/schedule"},
		{"one suite to another", pkg{path: "harness/suites/guest", imports: []string{"harness/suites/drivers"}}, "harness/suites/guest imports harness/suites/drivers"},
		{"a harness package in no tier", pkg{path: "harness/newthing"}, "harness/newthing is in no tier"},
		{"abi to a host kind", pkg{path: "abi", deps: []string{"hosts/qemu"}}, "abi may not import hosts"},
		{"internal to reports", pkg{path: "internal/heappeak", deps: []string{"reports/site"}}, "internal/heappeak depends on reports/site"},
		{"a test-only package in production", pkg{path: "harness/lab/schedule", imports: []string{"harness/internal/standin"}}, "outside its tests"},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := violations([]pkg{c.p})
			if !slices.ContainsFunc(v, func(s string) bool { return strings.Contains(s, c.want) }) {
				t.Errorf("planted %+v: got %q, want a violation saying %q", c.p, v, c.want)
			}
		})
	}
	// The real direction passes.
	if v := violations([]pkg{{path: "harness/engine/session", imports: []string{"harness/engine/job"}},
		{path: "harness/lab/schedule", imports: []string{"harness/suites/drivers", "harness/engine/job"}}}); len(v) != 0 {
		t.Errorf("a forward arrow was refused: %q", v)
	}
}

// The leaves import nothing of the module, so every layer can read them.
func TestLeaves(t *testing.T) {
	for _, p := range graph(t) {
		// internal/inputfile (bounded reads of regular files) is itself a leaf, and so is
		// record/redact (the secrets every record is redacted of, by the writer).
		var deps []string
		for _, d := range p.deps {
			if under(d, "internal/inputfile") && !under(p.path, "internal/inputfile") {
				continue
			}
			if d == "record/redact" && p.path == "record" {
				continue
			}
			deps = append(deps, d)
		}
		if (under(p.path, "record") || under(p.path, "transcript") || under(p.path, "internal/inputfile")) && len(deps) > 0 {
			t.Errorf("%s is a leaf but depends on %v", p.path, deps)
		}
	}
}
