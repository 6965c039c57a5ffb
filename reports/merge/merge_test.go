package merge

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojunit "github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/hardwaremd"
	"github.com/redox-hwtest/redox-hwtest/reports/junit"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
	"github.com/redox-hwtest/redox-hwtest/reports/tables"
)

// shards writes the synthetic matrix once unsharded and once as two shards; shard 0 also
// holds an older, failing attempt of a job that shard 1 finished later.
func shards(t *testing.T) (whole, s0, s1 string) {
	t.Helper()
	base := t.TempDir()
	whole, s0, s1 = filepath.Join(base, "whole"), filepath.Join(base, "s0"), filepath.Join(base, "s1")
	recs := fakerun.Records(0)
	if err := fakerun.WriteRun(whole, fakerun.Info(0), recs); err != nil {
		t.Fatal(err)
	}
	var a, b []*record.Record
	for i, r := range fakerun.Records(0) {
		if i%2 == 0 {
			a = append(a, r)
		} else {
			b = append(b, r)
		}
	}
	stale := *b[0]
	stale.Finished = stale.Finished.Add(-time.Hour)
	stale.Checks = []record.Check{{Name: "boot/login", Verdict: record.Hang, Message: "stale first attempt"}}
	a = append(a, &stale)
	i0, i1 := fakerun.Info(0), fakerun.Info(0)
	i0.Shard, i0.Shards, i1.Shard, i1.Shards = 0, 2, 1, 2
	if err := fakerun.WriteRun(s0, i0, a); err != nil {
		t.Fatal(err)
	}
	if err := fakerun.WriteRun(s1, i1, b); err != nil {
		t.Fatal(err)
	}
	return whole, s0, s1
}

func load(t *testing.T, dir string) *runs.Run {
	t.Helper()
	r, err := runs.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func markdown(t *testing.T, r *runs.Run) string {
	var b strings.Builder
	if err := tables.Markdown(&b, r.Records, tables.Options{JUnit: "junit.xml"}); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func hwRows(r *runs.Run) string {
	es, notes := hardwaremd.DefaultRule.Entries(r.Records)
	var b strings.Builder
	for _, e := range es {
		b.WriteString(e.Status.String() + " " + e.Row.Markdown() + "\n")
	}
	for _, n := range notes {
		b.WriteString(n.String() + "\n")
	}
	return b.String()
}

func junitSuites(t *testing.T, r *runs.Run) string {
	var buf bytes.Buffer
	if err := junit.WriteRun(&buf, r, junit.Options{}); err != nil {
		t.Fatal(err)
	}
	var ts gojunit.Testsuites
	if err := xml.Unmarshal(buf.Bytes(), &ts); err != nil {
		t.Fatal(err)
	}
	out, _ := xml.Marshal(ts.Suites) // the run's name and total time legitimately differ
	return string(out)
}

// TestShardsMergeLikeOneRun is the acceptance check: merging two shard directories gives
// the same tables (Markdown, HARDWARE.md rows, JUnit) as one unsharded run.
func TestShardsMergeLikeOneRun(t *testing.T) {
	whole, s0, s1 := shards(t)
	out := filepath.Join(t.TempDir(), "merged")
	rep, err := Merge(out, []string{s0, s1})
	if err != nil {
		t.Fatal(err)
	}
	w, m := load(t, whole), load(t, out)
	if len(m.Records) != len(w.Records) || rep.Jobs != len(w.Records) {
		t.Fatalf("merged %d jobs (report %d), want %d", len(m.Records), rep.Jobs, len(w.Records))
	}
	if a, b := markdown(t, w), markdown(t, m); a != b {
		t.Errorf("Markdown tables differ:\n--- unsharded\n%s\n--- merged\n%s", a, b)
	}
	if a, b := hwRows(w), hwRows(m); a != b {
		t.Errorf("HARDWARE.md rows differ:\n%s\n---\n%s", a, b)
	}
	if a, b := junitSuites(t, w), junitSuites(t, m); a != b {
		t.Error("JUnit suites differ")
	}
	// Artifacts came along.
	for _, rec := range m.Records {
		if _, err := os.Stat(filepath.Join(m.JobDir(rec), "transcript.log")); err != nil {
			t.Error(err)
		}
	}
	// The conflict is reported, the later attempt kept.
	if len(rep.Conflicts) != 1 || rep.Conflicts[0].Kept.Index != 1 || rep.Conflicts[0].Dropped[0].Index != 0 {
		t.Fatalf("conflicts: %+v", rep.Conflicts)
	}
	if !strings.Contains(rep.Conflicts[0].String(), "finished later") {
		t.Errorf("conflict text: %s", rep.Conflicts[0])
	}
	if m.Info.ID != fakerun.Info(0).ID || len(m.Info.Merged) != 2 || m.Info.Merged[1] != fakerun.Info(0).ID+" shard 1/2" {
		t.Errorf("merged run.json: %+v", m.Info)
	}
	if len(rep.Warnings) != 0 {
		t.Errorf("warnings: %v", rep.Warnings)
	}
	// Merging is the same as combining in memory.
	if a, b := len(runs.Combine([]*runs.Run{load(t, s0), load(t, s1)})), len(m.Records); a != b {
		t.Errorf("Combine gives %d records, merge %d", a, b)
	}
}

func TestMergeRules(t *testing.T) {
	_, s0, s1 := shards(t)
	// Output must be new or empty.
	out := t.TempDir()
	os.WriteFile(filepath.Join(out, "x"), nil, 0o644)
	if _, err := Merge(out, []string{s0}); err == nil {
		t.Error("merged into a non-empty directory")
	}
	// A missing input is an error, not an empty run.
	if _, err := Merge(filepath.Join(t.TempDir(), "m"), []string{s0, filepath.Join(t.TempDir(), "nope")}); err == nil {
		t.Error("merged a missing directory")
	}
	// One shard of two: warned.
	rep, err := Merge(filepath.Join(t.TempDir(), "m"), []string{s1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || !strings.Contains(rep.Warnings[0], "1 of 2 shards") {
		t.Errorf("warnings %v", rep.Warnings)
	}
	// Equal finish times: the later argument wins, and says so.
	rep, err = Merge(filepath.Join(t.TempDir(), "m"), []string{s1, s1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Conflicts) == 0 || !rep.Conflicts[0].Tie || rep.Conflicts[0].Kept.Index != 1 {
		t.Errorf("tie: %+v", rep.Conflicts)
	}
	// An unfinished job directory (no result.json) is carried over as evidence.
	os.MkdirAll(filepath.Join(s0, "jobs", "img_at_h__boot"), 0o755)
	os.WriteFile(filepath.Join(s0, "jobs", "img_at_h__boot", "transcript.log"), []byte("partial"), 0o644)
	out = filepath.Join(t.TempDir(), "m")
	rep, err = Merge(out, []string{s0, s1})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Incomplete) != 1 {
		t.Errorf("incomplete: %v", rep.Incomplete)
	}
	if _, err := os.Stat(filepath.Join(out, "jobs", "img_at_h__boot", "transcript.log")); err != nil {
		t.Error(err)
	}
}
