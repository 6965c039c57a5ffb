package redoxfacts

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitIn runs git in a work tree (a real repository: the drift check reads real history).
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.invalid",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.invalid", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

// A repository whose pinned line changes, one whose file moves, one untouched: the
// report names the commit that changed the line.
func TestDriftFindsChangedAndMovedLines(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	mirrors := t.TempDir()
	work := filepath.Join(mirrors, "redox-os+kernel")
	if err := os.MkdirAll(filepath.Join(work, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(filepath.Join(work, p), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gitIn(t, work, "init", "-q")
	write("src/panic.rs", "fn p() {\n    println!(\"KERNEL PANIC: {}\", info);\n}\n")
	write("src/start.rs", "    info!(\"Redox OS starting...\");\n")
	write("src/old.rs", "    println!(\"Double fault\");\n")
	gitIn(t, work, "add", ".")
	gitIn(t, work, "commit", "-qm", "pinned")
	pin := gitIn(t, work, "rev-parse", "--short=9", "HEAD")
	write("src/panic.rs", "fn p() {\n    println!(\"KERNEL PANIC at {}\", info);\n}\n")
	gitIn(t, work, "commit", "-qam", "reword the panic")
	changer := gitIn(t, work, "rev-parse", "--short", "HEAD")
	gitIn(t, work, "mv", "src/old.rs", "src/exception.rs")
	gitIn(t, work, "commit", "-qm", "move")

	doc := strings.Join([]string{
		"| key | the line | upstream source | harness does | quoted source line |",
		"|---|---|---|---|---|",
		"| `KERNEL PANIC` | x | kernel | y | redox-os/kernel@" + pin + " src/panic.rs: ``println!(\"KERNEL PANIC: {}\", info);`` |",
		"| `Redox OS starting` | x | kernel | y | redox-os/kernel@" + pin + " src/start.rs: ``info!(\"Redox OS starting...\");`` |",
		"| `Double fault` | x | kernel | y | redox-os/kernel@" + pin + " src/old.rs: ``println!(\"Double fault\");`` |",
		"| `Nope` | x | kernel | y | redox-os/kernel@" + pin + " src/start.rs: ``not there`` |",
		"| `Other` | x | relibc | y | redox-os/relibc@" + pin + " src/a.rs: ``x`` |",
	}, "\n")
	qs, err := ParseQuotes(strings.NewReader(doc))
	if err != nil || len(qs) != 5 {
		t.Fatalf("%d quotes, %v", len(qs), err)
	}
	fs := Mirrors{Dir: mirrors}.Check(context.Background(), qs)
	want := []string{DriftChanged, DriftSame, DriftMoved, DriftBadQuote, DriftNoMirror}
	for i, w := range want {
		if fs[i].State != w {
			t.Errorf("quote %d (%s): %s, want %s (%+v)", i, fs[i].Key, fs[i].State, w, fs[i])
		}
	}
	if !strings.HasPrefix(fs[0].By, changer+" ") || !strings.Contains(fs[0].By, "reword the panic") {
		t.Errorf("changed by %q, want %s", fs[0].By, changer)
	}
	if fs[2].Where != "src/exception.rs" {
		t.Errorf("moved to %q", fs[2].Where)
	}
	var b strings.Builder
	Report(&b, fs, "today")
	for _, s := range []string{"| redox-os/kernel |", "**changed**", changer, "now in src/exception.rs", "bad-quote", "no-mirror"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("report lacks %q:\n%s", s, b.String())
		}
	}
}

// Every row of the fact table's key sections quotes a source line, or says why it has
// none; the quotes parse.
func TestFactRowsQuoteTheirSource(t *testing.T) {
	f, err := os.Open(filepath.Join(moduleRoot(t), "docs", "redox-facts.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	qs, err := ParseQuotes(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(qs) < 80 {
		t.Errorf("only %d quoted source lines", len(qs))
	}
	for _, q := range qs {
		if q.Line == "" || q.Path == "" {
			t.Errorf("row %d: empty quote %+v", q.Row, q)
		}
	}
}
