package redoxfacts

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Quote is one upstream source line a row of docs/redox-facts.md relies on, as the row's
// last column quotes it: "owner/repo@commit path: “the line“", or "old: owner/repo@..."
// for an older format the harness keeps matching on purpose (gone at the head by design).
type Quote struct {
	Row    int    // line of docs/redox-facts.md
	Key    string // the row's first key
	Repo   string // "redox-os/kernel"
	Commit string // the pinned commit
	Path   string
	Line   string // the quoted source line, trimmed
	Old    bool   // an older format, kept on purpose
}

// reQuote is one quote in a cell; "\|" in the line is a literal "|".
var reQuote = regexp.MustCompile("(old: )?([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)@([0-9a-f]{7,40}) (\\S+?): ``(.+?)``")

// ParseQuotes reads every quote of the fact table (rows whose first cell holds a key).
func ParseQuotes(r io.Reader) ([]Quote, error) {
	var out []Quote
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := splitCells(line)
		if len(cells) < 5 {
			continue
		}
		key := ""
		if m := reKeyCell.FindStringSubmatch(cells[0]); m != nil {
			key = strings.ReplaceAll(m[1], `\|`, "|")
		}
		for _, m := range reQuote.FindAllStringSubmatch(cells[len(cells)-1], -1) {
			out = append(out, Quote{Row: n, Key: key, Old: m[1] != "", Repo: m[2], Commit: m[3], Path: m[4],
				Line: strings.TrimSpace(strings.ReplaceAll(m[5], `\|`, "|"))})
		}
	}
	return out, sc.Err()
}

var reKeyCell = regexp.MustCompile("`([^`]+)`")

// splitCells splits a Markdown table row on "|" that are not escaped.
func splitCells(line string) []string {
	line = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(line), "|"), "|")
	var cells []string
	var b strings.Builder
	for i := 0; i < len(line); i++ {
		if line[i] == '\\' && i+1 < len(line) && line[i+1] == '|' {
			b.WriteString(`\|`)
			i++
			continue
		}
		if line[i] == '|' {
			cells = append(cells, strings.TrimSpace(b.String()))
			b.Reset()
			continue
		}
		b.WriteByte(line[i])
	}
	return append(cells, strings.TrimSpace(b.String()))
}

// Drift states of a quote at the head of its repository.
const (
	DriftSame     = "unchanged" // the line is in the same file at the head
	DriftMoved    = "moved"     // the line is at the head, in another file
	DriftChanged  = "changed"   // the file is there, the line is not
	DriftVanished = "vanished"  // the file is gone and the line is nowhere
	DriftBadQuote = "bad-quote" // the line is not in the file at the pinned commit: fix the row
	DriftNoMirror = "no-mirror" // no mirror of the repository in the directory
	DriftGitError = "git-error" // git failed (commit not in the mirror, ...)
	gitTimeout    = 2 * time.Minute
)

// Finding is the drift of one quote.
type Finding struct {
	Quote
	State string
	Head  string // the head commit compared against
	// HeadDate is the head's commit date.
	HeadDate string
	Where    string // moved: the file it is in now
	// By is the commit (and its date and subject) after the pin that changed the line's
	// file so that the line no longer appears, found with git log -S.
	By  string
	Err string
}

// Mirrors finds repositories in a directory of mirrors: "<owner>+<name>/repo" (what the
// team's fetch tool writes), "<owner>+<name>", "<owner>/<name>.git", "<owner>/<name>" or
// "<name>.git"; Heads overrides the commit compared against per repository (redox-os/base
// is read in a fork whose later commits are not upstream's), Alias maps a repository to
// another's mirror (redox-os/base -> Gh0s777tt/eos-base).
type Mirrors struct {
	Dir   string
	Heads map[string]string
	Alias map[string]string
}

// GitDir is the mirror of a repository, or "".
func (m Mirrors) GitDir(repo string) string {
	if a := m.Alias[repo]; a != "" {
		repo = a
	}
	owner, name, _ := strings.Cut(repo, "/")
	for _, c := range []string{owner + "+" + name + "/repo", owner + "+" + name, owner + "/" + name + ".git", owner + "/" + name, name + ".git"} {
		p := filepath.Join(m.Dir, c)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			if _, err := os.Stat(filepath.Join(p, "HEAD")); err == nil {
				return p
			}
			if _, err := os.Stat(filepath.Join(p, ".git")); err == nil {
				return filepath.Join(p, ".git")
			}
		}
	}
	return ""
}

func git(ctx context.Context, dir string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, gitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "git", append([]string{"--git-dir=" + dir}, args...)...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("git %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// hasLine reports whether text holds the quoted line (whitespace at either end ignored).
func hasLine(text, line string) bool {
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(strings.TrimSpace(l), line) {
			return true
		}
	}
	return false
}

// Heads is the commit each repository is compared against (resolved once).
func (m Mirrors) head(ctx context.Context, repo, dir string, cache map[string]string) (string, error) {
	if h, ok := cache[repo]; ok {
		return h, nil
	}
	ref := "HEAD"
	if h := m.Heads[repo]; h != "" {
		ref = h
	}
	out, err := git(ctx, dir, "log", "-1", "--format=%h", "--abbrev=9", ref+"^{commit}")
	if err != nil {
		return "", err
	}
	cache[repo] = strings.TrimSpace(out)
	return cache[repo], nil
}

// Check finds each quoted line at the head of its repository.
func (m Mirrors) Check(ctx context.Context, quotes []Quote) []Finding {
	heads := map[string]string{}
	var out []Finding
	for _, q := range quotes {
		f := Finding{Quote: q}
		dir := m.GitDir(q.Repo)
		if dir == "" {
			f.State = DriftNoMirror
			out = append(out, f)
			continue
		}
		head, err := m.head(ctx, q.Repo, dir, heads)
		if err != nil {
			f.State, f.Err = DriftGitError, err.Error()
			out = append(out, f)
			continue
		}
		f.Head = head
		if d, err := git(ctx, dir, "log", "-1", "--format=%ad", "--date=short", head); err == nil {
			f.HeadDate = strings.TrimSpace(d)
		}
		pinned, err := git(ctx, dir, "show", q.Commit+":"+q.Path)
		if err != nil {
			f.State, f.Err = DriftGitError, err.Error()
			out = append(out, f)
			continue
		}
		if !hasLine(pinned, q.Line) {
			f.State = DriftBadQuote
			out = append(out, f)
			continue
		}
		now, ferr := git(ctx, dir, "show", head+":"+q.Path)
		if ferr == nil && hasLine(now, q.Line) {
			f.State = DriftSame
			out = append(out, f)
			continue
		}
		// Elsewhere at the head? (a file moved, a workspace reorganised)
		if g, err := git(ctx, dir, "grep", "-F", "-l", "-e", q.Line, head); err == nil && strings.TrimSpace(g) != "" {
			f.State = DriftMoved
			f.Where = strings.TrimPrefix(strings.SplitN(strings.TrimSpace(g), "\n", 2)[0], head+":")
		} else if ferr != nil {
			f.State = DriftVanished
		} else {
			f.State = DriftChanged
		}
		if f.State != DriftMoved {
			// The commit after the pin that changed how often the line's text occurs in
			// the file: the one that changed or removed it.
			log, err := git(ctx, dir, "log", "--format=%h %ad %s", "--date=short", "-S"+q.Line, q.Commit+".."+head, "--", q.Path)
			if err != nil {
				f.Err = err.Error()
			} else if ls := strings.Split(strings.TrimSpace(log), "\n"); ls[0] != "" {
				f.By = ls[0]
			}
		}
		out = append(out, f)
	}
	return out
}

// Report writes the findings as Markdown: a summary per repository (its head), then the
// rows whose source line changed, vanished or moved, and the quotes to fix.
func Report(w io.Writer, fs []Finding, when string) {
	type repoSum struct {
		head                  string
		n, same, moved, drift int
		old, other            int
	}
	sums := map[string]*repoSum{}
	for _, f := range fs {
		s := sums[f.Repo]
		if s == nil {
			s = &repoSum{}
			sums[f.Repo] = s
		}
		if f.Head != "" {
			s.head = f.Head + " (" + f.HeadDate + ")"
		}
		s.n++
		switch f.State {
		case DriftSame:
			s.same++
		case DriftMoved:
			s.moved++
		case DriftChanged, DriftVanished:
			if f.Old {
				s.old++
			} else {
				s.drift++
			}
		default:
			s.other++
		}
	}
	repos := make([]string, 0, len(sums))
	for r := range sums {
		repos = append(repos, r)
	}
	sort.Strings(repos)
	fmt.Fprintf(w, "# Redox facts drift report\n\nWritten by `make facts-drift` (%s): every source line docs/redox-facts.md quotes, looked up\nat the newest commit of its repository in the mirror directory.\n\n", when)
	fmt.Fprintln(w, "| repo | compared against | quotes | unchanged | moved | changed or vanished | older formats, gone as expected | not checked |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range repos {
		s := sums[r]
		fmt.Fprintf(w, "| %s | %s | %d | %d | %d | %d | %d | %d |\n", r, orDash(s.head), s.n, s.same, s.moved, s.drift, s.old, s.other)
	}
	section := func(title string, keep func(Finding) bool, line func(Finding) string) {
		var rows []string
		for _, f := range fs {
			if keep(f) {
				rows = append(rows, line(f))
			}
		}
		fmt.Fprintf(w, "\n## %s\n\n", title)
		if len(rows) == 0 {
			fmt.Fprintln(w, "None.")
			return
		}
		for _, r := range rows {
			fmt.Fprintln(w, r)
		}
	}
	q := func(f Finding) string {
		return fmt.Sprintf("docs/redox-facts.md:%d `%s`: %s@%s %s: `%s`", f.Row, f.Key, f.Repo, f.Commit, f.Path, f.Line)
	}
	drifted := func(f Finding) bool { return f.State == DriftChanged || f.State == DriftVanished }
	section("Changed or vanished since the pinned commit", func(f Finding) bool { return drifted(f) && !f.Old },
		func(f Finding) string {
			by := f.By
			if by == "" {
				by = "no commit found by git log -S"
			}
			return fmt.Sprintf("- %s — **%s** at %s; by %s", q(f), f.State, f.Head, by)
		})
	section("Older formats the harness keeps matching (gone at the head, as expected)", func(f Finding) bool { return drifted(f) && f.Old },
		func(f Finding) string {
			return fmt.Sprintf("- %s — %s at %s; by %s", q(f), f.State, f.Head, orDash(f.By))
		})
	section("Moved to another file", func(f Finding) bool { return f.State == DriftMoved },
		func(f Finding) string { return fmt.Sprintf("- %s — now in %s at %s", q(f), f.Where, f.Head) })
	section("Quotes that could not be checked", func(f Finding) bool {
		return f.State == DriftBadQuote || f.State == DriftNoMirror || f.State == DriftGitError
	}, func(f Finding) string {
		s := fmt.Sprintf("- %s — %s", q(f), f.State)
		if f.Err != "" {
			s += ": " + f.Err
		}
		return s
	})
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
