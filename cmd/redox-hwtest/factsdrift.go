package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/redoxfacts"
	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

func init() {
	register("facts-drift", "find docs/redox-facts.md's quoted upstream lines at the newest commits of local mirrors (docs/redox-drift.md)", runFactsDrift)
}

func runFactsDrift(args []string) int { return factsDriftMain(args, os.Stdout, os.Stderr) }

// repoFlags is a repeatable "owner/repo=value" flag.
type repoFlags map[string]string

func (r repoFlags) String() string { return fmt.Sprint(map[string]string(r)) }
func (r repoFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" || val == "" {
		return fmt.Errorf("want owner/repo=value, got %q", v)
	}
	r[k] = val
	return nil
}

func factsDriftMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("facts-drift", flag.ContinueOnError)
	fs.SetOutput(stderr)
	facts := fs.String("facts", "docs/redox-facts.md", "the fact table")
	mirrors := fs.String("mirrors", "", "directory of bare git mirrors (<owner>+<name>/repo, <owner>/<name>.git, ...)")
	out := fs.String("out", "", "write the report here (default: standard output)")
	heads, alias := repoFlags{}, repoFlags{}
	fs.Var(heads, "head", "owner/repo=commit: compare that repository against this commit, not its HEAD (repeatable)")
	fs.Var(alias, "alias", "owner/repo=owner/fork: read that repository in this mirror (repeatable)")
	if err := fs.Parse(args); err != nil || *mirrors == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "usage: redox-hwtest facts-drift -mirrors DIR [-facts FILE] [-out FILE] [-head repo=commit] [-alias repo=fork]")
		return 2
	}
	f, err := inputfile.Open(*facts)
	if err != nil {
		fmt.Fprintln(stderr, "facts-drift:", err)
		return 2
	}
	quotes, err := redoxfacts.ParseQuotes(f)
	f.Close()
	if err != nil || len(quotes) == 0 {
		fmt.Fprintf(stderr, "facts-drift: %s: no quoted source lines (%v)\n", *facts, err)
		return 2
	}
	m := redoxfacts.Mirrors{Dir: *mirrors, Heads: heads, Alias: alias}
	findings := m.Check(context.Background(), quotes)
	w := stdout
	if *out != "" {
		of, err := os.Create(*out)
		if err != nil {
			fmt.Fprintln(stderr, "facts-drift:", err)
			return 2
		}
		defer of.Close()
		w = of
	}
	redoxfacts.Report(w, findings, time.Now().UTC().Format("2006-01-02"))
	for _, fd := range findings {
		if fd.State != redoxfacts.DriftSame {
			return 1
		}
	}
	return 0
}
