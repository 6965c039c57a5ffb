package main

import (
	"fmt"
	"os"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/gate"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

func init() {
	register("gate", "compare a run with a baseline: exit 0 ok, 1 regression, 2 harness error; --promotable RUN: may RUN become the baseline (exit 0 yes, 1 no)", runGate)
}

func runGate(args []string) int {
	fs := flagSet("gate", "--baseline DIR --current DIR [--json] [-v] [--markdown FILE] [--current-jobs] | --promotable DIR")
	baseline := fs.String("baseline", "", "baseline run directory (e.g. last night's merged run)")
	current := fs.String("current", "", "current run directory")
	asJSON := fs.Bool("json", false, "print the classification as JSON")
	verbose := fs.Bool("v", false, "list unchanged checks too")
	markdown := fs.String("markdown", "", "also write the summary a bot posts as the merge request comment (Markdown) to this file")
	title := fs.String("title", "redox-hwtest gate", "the --markdown summary's heading")
	currentJobs := fs.Bool("current-jobs", false, "compare only the jobs the current run has (a merge-request gate runs part of the nightly's matrix)")
	promotable := fs.String("promotable", "", "only say whether this run may become the baseline (no INFRA, at least one check judged)")
	rest, err := parseInterleaved(fs, args)
	if err != nil {
		return parseExit(err)
	}
	if *promotable != "" {
		run, err := runs.Load(*promotable)
		if err != nil {
			return fail("gate: %v", err)
		}
		if err := gate.Promotable(run.Records); err != nil {
			fmt.Fprintf(os.Stderr, "gate: %s is not a baseline: %v\n", *promotable, err)
			return 1
		}
		return 0
	}
	if *baseline == "" || *current == "" || len(rest) > 0 {
		fs.Usage()
		return 2
	}
	base, err := runs.Load(*baseline)
	if err != nil {
		return fail("gate: baseline: %v", err)
	}
	cur, err := runs.Load(*current)
	if err != nil {
		return fail("gate: current: %v", err)
	}
	if len(cur.Records) == 0 {
		return fail("gate: current run %s has no results", *current)
	}
	if len(base.Records) == 0 {
		fmt.Fprintf(os.Stderr, "gate: warning: the baseline has no results; every check is new\n")
	}
	baseRecs := base.Records
	if *currentJobs {
		baseRecs = sameJobs(baseRecs, cur.Records)
	}
	rep := gate.Compare(baseRecs, cur.Records)
	if *markdown != "" {
		if err := writeMarkdown(*markdown, rep, *title); err != nil {
			return fail("gate: %v", err)
		}
	}
	if *asJSON {
		err = rep.WriteJSON(os.Stdout)
	} else {
		err = rep.WriteText(os.Stdout, *verbose)
	}
	if err != nil {
		return fail("gate: %v", err)
	}
	return rep.ExitCode()
}

// sameJobs keeps the baseline records of the jobs the current run has.
func sameJobs(base, cur []*record.Record) []*record.Record {
	have := map[string]bool{}
	for _, r := range cur {
		have[r.Job] = true
	}
	var out []*record.Record
	for _, r := range base {
		if have[r.Job] {
			out = append(out, r)
		}
	}
	return out
}

func writeMarkdown(path string, rep gate.Report, title string) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := rep.WriteMarkdown(f, title); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
