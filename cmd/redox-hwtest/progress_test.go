package main

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/lab/schedule"
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

// Longest-first ordering reads the newest other run beside the new run directory.
func TestLastDurationsFromPreviousRun(t *testing.T) {
	runsDir := t.TempDir()
	mk := func(name string, d time.Duration) {
		r := &record.Record{Job: "img@h/boot", Suite: "boot", Started: time.Unix(1000, 0), Finished: time.Unix(1000, 0).Add(d),
			Checks: []record.Check{{Name: "boot/login", Verdict: record.Pass}}}
		if _, err := record.Write(filepath.Join(runsDir, name), r); err != nil {
			t.Fatal(err)
		}
	}
	mk("20261201T000000Z", time.Minute)
	mk("20261202T000000Z", 2*time.Minute)
	got := lastDurations(filepath.Join(runsDir, "20261203T000000Z"))
	if got["img@h/boot"] != 2*time.Minute {
		t.Errorf("durations %v, want the newest run's 2m", got)
	}
	if lastDurations(filepath.Join(t.TempDir(), "only")) != nil {
		t.Error("durations from nowhere")
	}
}
