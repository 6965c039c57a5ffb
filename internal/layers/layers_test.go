// Package layers holds the test that keeps the module's data flow one way:
// matrix -> hosts -> harness -> reports -> cmd/suites, with record/ (the verdict and the
// job record) and transcript/ (the console transcript and its .times file) as leaves every
// layer reads. It reads the import graph from `go list`, so a new package is covered
// without editing this file.
package layers

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
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
// integration test boots through harness/job).
func graph(t *testing.T) []pkg {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
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

func TestLayers(t *testing.T) {
	// rule: packages under `from` may not depend (transitively) on packages under any of `not`.
	rules := []struct {
		from string
		not  []string
	}{
		{"matrix", []string{"hosts", "harness", "reports", "cmd", "suites"}},
		{"hosts", []string{"harness", "reports", "cmd", "suites"}},
		{"harness", []string{"reports", "cmd", "suites"}},
		{"reports", []string{"cmd", "suites"}},
	}
	for _, p := range graph(t) {
		for _, r := range rules {
			if !under(p.path, r.from) {
				continue
			}
			for _, d := range p.deps {
				for _, n := range r.not {
					if under(d, n) {
						t.Errorf("%s depends on %s: %s may not import %s (layers: matrix -> hosts -> harness -> reports -> cmd/suites)", p.path, d, r.from, n)
					}
				}
			}
		}
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

// The synthetic run directories are for tests only: no package's own code imports them.
func TestFakerunOnlyInTests(t *testing.T) {
	for _, p := range graph(t) {
		for _, i := range p.imports {
			if under(i, "internal/fakerun") {
				t.Errorf("%s imports %s outside its tests", p.path, i)
			}
		}
	}
}
