package redoxfacts

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// factFiles are the tables that document Redox strings.
var factFiles = []string{"redox-facts.md"}

// hostSide marks the heading of a section whose rows document facts the host side relies on
// (ports, QEMU flags, init units, bootloader keys): they are not strings the line analyser
// matches, so the stale-row check does not hold them to the list of matched strings.
const hostSide = "(host side)"

// reKey is a backtick-quoted key; "\|" in a key is a literal "|" (Markdown table cells).
var reKey = regexp.MustCompile("`([^`]+)`")

// documentedKeys reads the first column of every table row of the fact files.
func documentedKeys(t *testing.T) map[string]string {
	t.Helper()
	keys := map[string]string{}
	read := 0
	for _, name := range factFiles {
		path := filepath.Join(moduleRoot(t), "docs", name)
		f, err := os.Open(path)
		if os.IsNotExist(err) && name != factFiles[0] {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		read++
		sc := bufio.NewScanner(f)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		n, section := 0, ""
		for sc.Scan() {
			n++
			line := sc.Text()
			if strings.HasPrefix(line, "## ") {
				section = line
			}
			if !strings.HasPrefix(line, "|") {
				continue
			}
			cells := splitCells(line)
			if len(cells) < 4 {
				continue
			}
			for _, m := range reKey.FindAllStringSubmatch(cells[0], -1) {
				k := strings.ReplaceAll(m[1], `\|`, "|")
				keys[k] = name + ":" + itoa(n)
				if strings.Contains(section, hostSide) {
					keys[k] += " " + hostSide
				}
			}
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if read == 0 {
		t.Fatal("no fact file read")
	}
	return keys
}

func itoa(n int) string {
	var d []byte
	for n > 0 || len(d) == 0 {
		d = append([]byte{byte('0' + n%10)}, d...)
		n /= 10
	}
	return string(d)
}

// Every Redox string the harness relies on has a row naming its upstream source.
func TestEveryRedoxStringHasAFactRow(t *testing.T) {
	keys := documentedKeys(t)
	facts := Facts()
	if len(facts) < 50 {
		t.Fatalf("only %d Redox strings found: the lister lost a table", len(facts))
	}
	for _, f := range facts {
		if _, ok := keys[f.Key]; !ok {
			t.Errorf("%s: %q has no row in docs/redox-facts.md (key column, backtick-quoted, \"|\" written as \"\\|\"): add the upstream file that prints it", f.Where, f.Key)
		}
	}
}

// Rows of docs/redox-facts.md document strings the harness uses: a row for a string no
// longer used is stale. (The host-side section documents ports, flags and keys too, and is
// not held to this list.)
func TestNoStaleFactRow(t *testing.T) {
	used := map[string]bool{}
	for _, f := range Facts() {
		used[f.Key] = true
	}
	for k, where := range documentedKeys(t) {
		if !strings.HasSuffix(where, hostSide) && !used[k] && !strings.Contains(k, "\n") {
			// Only the sections that list harness strings: the snapshot table's keys
			// (none are backtick-quoted there) cannot collide.
			t.Errorf("%s: row for %q, which the harness no longer uses", where, k)
		}
	}
}

// moduleRoot is the repository root (matrix.ModuleRoot), failing the test without one.
func moduleRoot(t testing.TB) string {
	t.Helper()
	root, err := matrix.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
