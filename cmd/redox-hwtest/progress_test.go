package main

import (
	"io"
	"os"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/schedule"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Outside a terminal (CI), every event is one plain line, and the summary ends the run.
func TestProgressPlainLines(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	j := func(img string) matrix.Job {
		return matrix.Job{Image: matrix.Image{Name: img}, Host: matrix.Host{Name: "h"}, Suite: matrix.Suite{Name: "boot"}}
	}
	a, b, c := j("a"), j("b"), j("c")
	p := newProgress(w, []matrix.Job{a, b, c})
	p.event(schedule.Event{Kind: schedule.Started, Job: a})
	p.event(schedule.Event{Kind: schedule.Progress, Job: a, Stage: "kernel"})
	p.event(schedule.Event{Kind: schedule.Progress, Job: a, Stage: "kernel"}) // no change: no line
	p.event(schedule.Event{Kind: schedule.Finished, Job: a, Rec: &record.Record{Checks: []record.Check{{Name: "boot/login", Verdict: record.Hang}}}})
	p.event(schedule.Event{Kind: schedule.Started, Job: b})
	p.event(schedule.Event{Kind: schedule.NotRun, Job: c, Rec: &record.Record{NotRun: "interrupted"}})
	p.finish()
	w.Close()
	out, _ := io.ReadAll(r)
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	want := []string{"a@h/boot: started", "a@h/boot: stage kernel", "a@h/boot: done in", "b@h/boot: started",
		"c@h/boot: not run (interrupted)", "1/3 done, 1 running, 0 waiting, 1 failed, 1 not run"}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), out)
	}
	for i, l := range lines {
		if !strings.Contains(l, want[i]) {
			t.Errorf("line %d %q, want %q", i, l, want[i])
		}
	}
}
