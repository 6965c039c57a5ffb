package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/inventory"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/record"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

func init() {
	register("analyze", "analyse a serial log: stages, crashes, last component (docs/analyze.md)", runAnalyze)
}

func runAnalyze(args []string) int {
	return analyzeMain(args, os.Stdin, os.Stdout, os.Stderr)
}

func analyzeMain(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("analyze", flag.ContinueOnError)
	fs.SetOutput(stderr)
	asJSON := fs.Bool("json", false, "print the analysis as JSON (the stable format in docs/analyze.md)")
	profName := fs.String("profile", "redox", "what the log is a boot of: "+strings.Join(profile.Names(), ", "))
	known := fs.String("known", "", "add what is known about each device elsewhere: a site's devices.json, a run directory or a directory of runs")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: redox-hwtest analyze [--json] [--profile NAME] [--known DIR|FILE] FILE|-")
		fmt.Fprintln(stderr, "\nReads a serial transcript (leading '# ' comment lines ignored) and prints the stages")
		fmt.Fprintln(stderr, "reached, whether login was reached, the failure events and the component that printed")
		fmt.Fprintln(stderr, "last. Exit status: 0 login reached without crash events, 1 otherwise, 2 bad input.")
		fs.PrintDefaults()
	}
	// Flags may come before or after the file.
	var files []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return 2
			}
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		files = append(files, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(files) != 1 {
		fs.Usage()
		return 2
	}
	p, err := profile.Get(*profName)
	if err != nil {
		fmt.Fprintln(stderr, "analyze:", err)
		return 2
	}

	name := files[0]
	var r io.Reader = stdin
	if name != "-" {
		// Only a regular file (not /dev/zero, a FIFO, a directory): the log is then
		// streamed (classify.Analyze holds one line and at most classify.MaxEvents
		// events), so its size is not bounded.
		f, err := inputfile.Open(name)
		if err != nil {
			fmt.Fprintln(stderr, "analyze:", err)
			return 2
		}
		defer f.Close()
		r = f
	} else {
		name = "<stdin>"
	}
	a, devices, in, err := analyseLog(r, p)
	if err != nil {
		fmt.Fprintf(stderr, "analyze: reading %s: %v\n", name, err)
		return 2
	}
	if in.Lines == 0 {
		fmt.Fprintf(stderr, "analyze: %s holds no console output (%d comment lines)\n", name, in.HeaderLines)
		return 2
	}

	status := 0
	if !a.ReachedLogin {
		status = 1
	}
	for _, e := range a.Events {
		if profile.IsCrash(e.Kind) {
			status = 1
		}
	}

	if devices == nil {
		devices = []record.Device{}
	}
	var out any = analysisJSON{a, devices}
	var ks []knownDevice
	var idsVersion string
	if *known != "" {
		var err error
		ks, idsVersion, err = knownAbout(devices, *known)
		if err == nil && *asJSON {
			out, err = withKnown(out, ks)
		}
		if err != nil {
			fmt.Fprintln(stderr, "analyze: --known:", err)
			return 2
		}
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintln(stderr, "analyze:", err)
			return 2
		}
		return status
	}
	printAnalysis(stdout, name, a, in)
	printDevices(stdout, devices)
	if *known != "" {
		printKnown(stdout, *known, idsVersion, ks)
	}
	return status
}

// analyseLog runs the offline analysis and the device inventory over one log (analyze,
// and report --rejudge's analyser). A daemon that failed because the machine has no such
// device (judged from the PCI table: a log alone tells nothing else of the machine) is
// expected.
func analyseLog(r io.Reader, p *profile.Profile) (classify.Analysis, []record.Device, classify.Input, error) {
	an, inv := classify.New(p), inventory.New(p.Name)
	in, err := classify.FeedReaderFunc(r, func(l classify.Line) {
		an.Feed(l)
		inv.Feed(l.N, l.Text)
	})
	a := an.Finish()
	devices := inv.Finish(a)
	a.Events = inv.Excuse(a.Events, devices, inventory.Machine{})
	return a, devices, in, err
}

// analysisJSON is analyze's JSON: the analysis and the boot's device inventory.
type analysisJSON struct {
	classify.Analysis
	Devices []record.Device `json:"devices"`
}

// printDevices is the device inventory as a table, after the verdict.
func printDevices(w io.Writer, devs []record.Device) {
	if len(devs) == 0 {
		return
	}
	fmt.Fprintln(w, "\ndevices:")
	fmt.Fprintf(w, "  %-13s %-9s %-8s %-12s %-11s %s\n", "address", "id", "class", "driver", "state", "lines / note")
	for _, d := range devs {
		id := d.ID()
		if id == ":" {
			id = "-"
		}
		var ls []string
		for _, n := range d.Evidence {
			ls = append(ls, fmt.Sprint(n))
		}
		note := strings.Join(ls, ",")
		if d.Note != "" {
			note += " " + d.Note
		}
		fmt.Fprintf(w, "  %-13s %-9s %-8s %-12s %-11s %s\n", orNone(d.Address), id, orNone(d.Class), orNone(d.Driver), d.State, note)
	}
}

func printAnalysis(w io.Writer, name string, a classify.Analysis, in classify.Input) {
	fmt.Fprintf(w, "%s: %d lines", name, in.Lines)
	if in.HeaderLines > 0 {
		fmt.Fprintf(w, " after %d comment lines", in.HeaderLines)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "\nstages reached (first line):")
	if len(a.Stages) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, s := range a.Stages {
		fmt.Fprintf(w, "  %-11s line %d\n", s.Name, s.Line)
	}
	fmt.Fprintln(w)
	if a.ReachedLogin {
		fmt.Fprintln(w, "login:          reached")
	} else {
		fmt.Fprintln(w, "login:          NOT reached")
	}
	fmt.Fprintf(w, "last stage:     %s\n", orNone(a.LastStage))
	fmt.Fprintf(w, "last component: %s\n", orNone(a.LastComponent))
	fmt.Fprintln(w, "\nevents:")
	if len(a.Events) == 0 {
		fmt.Fprintln(w, "  (none)")
	}
	for _, e := range a.Events {
		count := ""
		if e.Count > 1 {
			count = fmt.Sprintf(" (x%d)", e.Count)
		}
		fmt.Fprintf(w, "  line %-6d %-12s %-14s %s%s\n", e.Line, e.Kind, orNone(e.Component), e.Title, count)
	}
	fmt.Fprintf(w, "\nverdict: %s\n", verdictOf(a))
}

// verdictOf summarises the analysis the way the boot suite's "reaches login" check sees it.
func verdictOf(a classify.Analysis) string {
	for _, e := range a.Events {
		if e.Kind == profile.KindKernelPanic {
			return "CRASH (kernel panic)"
		}
	}
	// Other fatal events end the boot too (the bootloader's own panic), as live.
	for _, e := range a.Events {
		if e.Fatal {
			return "CRASH (fatal " + e.Kind + " in " + orNone(e.Component) + ")"
		}
	}
	var crashes []string
	for _, e := range a.Events {
		if profile.IsCrash(e.Kind) {
			crashes = append(crashes, e.Kind+" in "+orNone(e.Component))
		}
	}
	switch {
	case !a.ReachedLogin:
		return "HANG (no login; stopped after stage " + orNone(a.LastStage) + ")"
	case len(crashes) > 5:
		return fmt.Sprintf("login reached, but CRASH: %s and %d more", strings.Join(crashes[:5], ", "), len(crashes)-5)
	case len(crashes) > 0:
		return "login reached, but CRASH: " + strings.Join(crashes, ", ")
	}
	return "PASS (login reached, no crash)"
}

func orNone(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
