package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/devices"
	"github.com/redox-hwtest/redox-hwtest/reports/hardwaremd"
	"github.com/redox-hwtest/redox-hwtest/reports/junit"
	"github.com/redox-hwtest/redox-hwtest/reports/merge"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
	"github.com/redox-hwtest/redox-hwtest/reports/site"
	"github.com/redox-hwtest/redox-hwtest/reports/tables"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

func init() {
	register("report", "merge runs; write JUnit, tables, HARDWARE.md rows, the support page", runReport)
}

// reportCommands are the subcommands of `report`.
var reportCommands = []struct {
	name, args, summary string
	run                 func(args []string) int
}{
	{"merge", "-o OUT RUNDIR...", "combine run directories from shards/controllers into OUT", reportMerge},
	{"junit", "RUNDIR [-o FILE]", "one JUnit XML file for the run", reportJUnit},
	{"table", "RUNDIR... [-o FILE]", "Markdown table: hosts x checks per image, linked evidence", reportTable},
	{"hardware-md", "--upstream FILE [RUNDIR...] [-o FILE]", "HARDWARE.md with our rows merged in; lists malformed upstream rows", reportHardwareMD},
	{"site", "-o DIR RUNDIR...", "static support page (several runs = history)", reportSite},
}

func reportUsage() {
	fmt.Fprintln(os.Stderr, "usage: redox-hwtest report <subcommand> [flags]\n\nsubcommands:")
	for _, c := range reportCommands {
		fmt.Fprintf(os.Stderr, "  %-12s %-40s %s\n", c.name, c.args, c.summary)
	}
}

func runReport(args []string) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		reportUsage()
		return 2
	}
	for _, c := range reportCommands {
		if c.name == args[0] {
			return c.run(args[1:])
		}
	}
	fmt.Fprintf(os.Stderr, "redox-hwtest report: unknown subcommand %q\n", args[0])
	reportUsage()
	return 2
}

// parseInterleaved parses flags that may come before or after positional arguments
// ("report junit RUNDIR -o FILE").
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// flagSet makes a FlagSet whose usage line names the subcommand.
func flagSet(name, args string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: redox-hwtest %s %s\n", name, args)
		fs.PrintDefaults()
	}
	return fs
}

// parseRunDirs parses a report command's flags and its run directories (in any order).
// valid says whether the call is complete (a required flag given, run directories named);
// when the parse fails or it is not, ok is false and code is the command's exit status
// (after the usage; 0 for -h).
func parseRunDirs(fs *flag.FlagSet, args []string, valid func(dirs []string) bool) (dirs []string, code int, ok bool) {
	dirs, err := parseInterleaved(fs, args)
	if err != nil {
		return nil, parseExit(err), false
	}
	if !valid(dirs) {
		fs.Usage()
		return nil, 2, false
	}
	return dirs, 0, true
}

// parseExit turns a flag error into an exit status (0 for -h).
func parseExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	return 2
}

func fail(format string, a ...any) int {
	fmt.Fprintf(os.Stderr, "redox-hwtest: "+format+"\n", a...)
	return 2
}

// output opens -o (stdout for "" or "-"); close writes the file atomically.
func output(path string) (io.Writer, func() error) {
	if path == "" || path == "-" {
		w := bufio.NewWriter(os.Stdout)
		return w, w.Flush
	}
	var buf bytes.Buffer
	return &buf, func() error {
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, buf.Bytes(), 0o644); err != nil {
			return err
		}
		return os.Rename(tmp, path)
	}
}

// writeOutput writes -o with write (output) and reports a failure of either as cmd's error
// (exit 2); 0 when both succeeded.
func writeOutput(path, cmd string, write func(io.Writer) error) int {
	w, done := output(path)
	err := write(w)
	if err == nil {
		err = done()
	}
	if err != nil {
		return fail("%s: %v", cmd, err)
	}
	return 0
}

func loadRuns(dirs []string) ([]*runs.Run, error) {
	var out []*runs.Run
	for _, d := range dirs {
		r, err := runs.Load(d)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, nil
}

func reportMerge(args []string) int {
	fs := flagSet("report merge", "-o OUT RUNDIR...")
	out := fs.String("o", "", "output run directory (must not exist or be empty)")
	asJSON := fs.Bool("json", false, "print the merge report as JSON on stdout")
	dirs, code, ok := parseRunDirs(fs, args, func(d []string) bool { return *out != "" && len(d) > 0 })
	if !ok {
		return code
	}
	rep, err := merge.Merge(*out, dirs)
	if err != nil {
		return fail("report merge: %v", err)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(rep)
	}
	fmt.Fprintf(os.Stderr, "merged %d job(s) from %d run(s) into %s (run %q)\n", rep.Jobs, len(dirs), *out, rep.Info.ID)
	for _, c := range rep.Conflicts {
		fmt.Fprintf(os.Stderr, "conflict: %s\n", c)
	}
	for _, j := range rep.Incomplete {
		fmt.Fprintf(os.Stderr, "incomplete job directory (no %s) copied as evidence: %s\n", record.ResultFile, j)
	}
	for _, w := range rep.Warnings {
		fmt.Fprintf(os.Stderr, "warning: %s\n", w)
	}
	return 0
}

func reportJUnit(args []string) int {
	fs := flagSet("report junit", "RUNDIR [-o FILE]")
	out := fs.String("o", "", "output file (default stdout)")
	base := fs.String("artifact-base", "", "prefix for artifact paths in properties (default: relative to RUNDIR)")
	dirs, code, ok := parseRunDirs(fs, args, func(d []string) bool { return len(d) == 1 })
	if !ok {
		return code
	}
	r, err := runs.Load(dirs[0])
	if err != nil {
		return fail("report junit: %v", err)
	}
	return writeOutput(*out, "report junit", func(w io.Writer) error {
		return junit.WriteRun(w, r, junit.Options{ArtifactBase: *base})
	})
}

func reportTable(args []string) int {
	fs := flagSet("report table", "RUNDIR... [-o FILE]")
	out := fs.String("o", "", "output file (default stdout)")
	ju := fs.String("junit", "junit.xml", "path of the run's JUnit file for the evidence links, relative to the link base (\"\" = none)")
	base := fs.String("link-base", "", "prefix of every link (default: links relative to RUNDIR)")
	dirs, code, ok := parseRunDirs(fs, args, func(d []string) bool { return len(d) > 0 })
	if !ok {
		return code
	}
	rs, err := loadRuns(dirs)
	if err != nil {
		return fail("report table: %v", err)
	}
	return writeOutput(*out, "report table", func(w io.Writer) error {
		return tables.Markdown(w, runs.Combine(rs), tables.Options{LinkBase: *base, JUnit: *ju})
	})
}

func reportHardwareMD(args []string) int {
	fs := flagSet("report hardware-md", "--upstream FILE [RUNDIR...] [-o FILE]")
	upstream := fs.String("upstream", "", "the upstream HARDWARE.md to merge into (required)")
	out := fs.String("o", "", "output file (default stdout)")
	problemsJSON := fs.String("problems-json", "", "also write the upstream problems (malformed rows etc.) as JSON to this file")
	strict := fs.Bool("strict", false, "exit 1 when the upstream file has malformed rows")
	rejudge := fs.Bool("rejudge", false, "re-derive every boot's device inventory (the Report's device phrases) from its stored transcript with this build's analyser")
	dirs, code, ok := parseRunDirs(fs, args, func(_ []string) bool { return *upstream != "" })
	if !ok {
		return code
	}
	data, err := inputfile.ReadFile(*upstream, inputfile.HardwareMDLimit, "upstream's HARDWARE.md")
	if err != nil {
		return fail("report hardware-md: %v", err)
	}
	doc, err := hardwaremd.Parse(data)
	if err != nil {
		return fail("report hardware-md: %s: %v", *upstream, err)
	}
	counts := map[string]int{}
	for _, p := range doc.Problems {
		counts[p.Kind]++
		fmt.Fprintf(os.Stderr, "%s:%s\n", *upstream, strings.TrimPrefix(p.String(), "line "))
	}
	if len(doc.Problems) > 0 {
		var ks []string
		for k, n := range counts {
			ks = append(ks, fmt.Sprintf("%d %s", n, k))
		}
		sort.Strings(ks)
		fmt.Fprintf(os.Stderr, "upstream problems: %s (kept verbatim)\n", strings.Join(ks, ", "))
	}
	if *problemsJSON != "" {
		js, _ := json.MarshalIndent(doc.Problems, "", "  ")
		if err := os.WriteFile(*problemsJSON, append(js, '\n'), 0o644); err != nil {
			return fail("report hardware-md: %v", err)
		}
	}
	if len(dirs) > 0 {
		rs, err := loadRuns(dirs)
		if err != nil {
			return fail("report hardware-md: %v", err)
		}
		if *rejudge {
			rejudgeDevices("report hardware-md", rs)
		}
		entries, notes := hardwaremd.DefaultRule.Entries(runs.Combine(rs))
		for _, n := range notes {
			fmt.Fprintf(os.Stderr, "no row: %s\n", n)
		}
		for _, e := range entries {
			if e.Capture != "" {
				// The screen a screen fact ("Boots to Orbital") was decided on, relative
				// to the run directory.
				fmt.Fprintf(os.Stderr, "screen evidence: %s: %s: %s\n", e.From, e.Row.Report, e.Capture)
			}
		}
		changes, err := doc.Merge(entries)
		if err != nil {
			return fail("report hardware-md: %v", err)
		}
		for _, c := range changes {
			fmt.Fprintln(os.Stderr, c)
		}
	}
	if st := writeOutput(*out, "report hardware-md", func(w io.Writer) error {
		_, err := w.Write(doc.Bytes())
		return err
	}); st != 0 {
		return st
	}
	if *strict && len(doc.Malformed()) > 0 {
		return 1
	}
	return 0
}

// rejudgeDevices re-derives the device inventory of every stored transcript of rs with
// this build's analyser (reports/devices.Rejudge), says so on stderr, and returns the
// analyser's name.
func rejudgeDevices(cmd string, rs []*runs.Run) string {
	a := deviceAnalyser()
	n, errs := devices.Rejudge(rs, a)
	for _, err := range errs {
		fmt.Fprintf(os.Stderr, "%s: --rejudge: %v (kept the recorded inventory)\n", cmd, err)
	}
	fmt.Fprintf(os.Stderr, "re-judged the device inventory of %d transcript(s) with %s\n", n, a.Version)
	return a.Version
}

func reportSite(args []string) int {
	fs := flagSet("report site", "-o DIR RUNDIR...")
	out := fs.String("o", "", "output directory")
	title := fs.String("title", "", "title of the index page")
	evidence := fs.Int("evidence-runs", 0, "copy the evidence (transcripts, artifacts, JUnit) of the newest N runs (0 = 14); older runs count for history and trends only")
	rejudge := fs.Bool("rejudge", false, "re-derive every boot's device inventory from its stored transcript with this build's analyser (docs/devices.md)")
	dirs, code, ok := parseRunDirs(fs, args, func(d []string) bool { return *out != "" && len(d) > 0 })
	if !ok {
		return code
	}
	rs, err := site.LoadRuns(dirs)
	if err != nil {
		return fail("report site: %v", err)
	}
	opt := site.Options{Title: *title, EvidenceRuns: *evidence}
	if *rejudge {
		opt.Analyzer = rejudgeDevices("report site", rs)
	}
	if err := site.Build(*out, rs, opt); err != nil {
		return fail("report site: %v", err)
	}
	fmt.Fprintf(os.Stderr, "wrote the support page for %d run(s) to %s/index.html\n", len(rs), *out)
	return 0
}
