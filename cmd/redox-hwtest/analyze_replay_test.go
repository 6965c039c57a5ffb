package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	_ "github.com/redox-hwtest/redox-hwtest/hosts/all"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// docs/analyze.md promises that `analyze` on a log and the boot suite on the same log replayed
// through a real socket (the replay host) give the same verdicts. This checks it on every
// hand-written fixture transcript and every real Redox log in ../shared/redox-logs:
// login reached <=> boot/login PASS; a crash event (profile.IsCrash) <=> boot/no-crash
// CRASH, with the first crash's title; every stage analyze saw <=> its boot/<stage> PASS;
// analyze's exit 0 <=> both boot/login and boot/no-crash PASS.
func TestAnalyzeAgreesWithReplayedBoot(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join("..", "..", "fixtures", "transcripts", "*.log"))
	if len(logs) < 10 {
		t.Fatalf("expected at least 10 fixture transcripts, found %d", len(logs))
	}
	real, _ := filepath.Glob(filepath.Join(fixtures.SharedDir(t, "redox-logs"), "*.log"))
	logs = append(logs, real...)
	for _, path := range logs {
		path, err := filepath.Abs(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			compareAnalyzeWithReplay(t, path)
		})
	}
}

func compareAnalyzeWithReplay(t *testing.T, path string) {
	code, out, errs := run([]string{"--json", path}, "")
	if code == 2 {
		t.Fatalf("analyze: exit 2: %s", errs)
	}
	var a classify.Analysis
	if err := json.Unmarshal([]byte(out), &a); err != nil {
		t.Fatalf("analyze --json: %v", err)
	}

	// The silence window (3 s: room for a loaded machine) ends the replay once the log has
	// been played (the replay host keeps the stream open, as a real console does);
	// line_delay 0 plays it at once.
	y := replayMatrix("{silence: 3s, boot_timeout: 60s}", "log", path)
	m, err := matrix.Parse("compare.yaml", []byte(y), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	jobs := m.Jobs(matrix.Filter{})
	if len(jobs) != 1 {
		t.Fatalf("%d jobs", len(jobs))
	}
	b := job.Boot(context.Background(), m, jobs[0], job.Options{RunDir: t.TempDir()})
	defer b.Close()
	if b.Err != nil {
		t.Fatalf("replay: %v", b.Err)
	}
	checks := map[string]record.Check{}
	for _, c := range b.BootChecks() {
		checks[c.Name] = c
	}

	if got := checks["boot/login"].Verdict; (got == record.Pass) != a.ReachedLogin {
		t.Errorf("analyze: reached_login %v; replayed boot/login %s (%s)", a.ReachedLogin, got, checks["boot/login"].Message)
	}
	var firstCrash *classify.Event
	for i, e := range a.Events {
		if profile.IsCrash(e.Kind) {
			firstCrash = &a.Events[i]
			break
		}
	}
	nc := checks["boot/no-crash"]
	switch {
	case firstCrash == nil && nc.Verdict != record.Pass:
		t.Errorf("analyze: no crash event; replayed boot/no-crash %s: %s %s", nc.Verdict, nc.Title, nc.Message)
	case firstCrash != nil && nc.Verdict != record.Crash:
		t.Errorf("analyze: %s %q; replayed boot/no-crash %s", firstCrash.Kind, firstCrash.Title, nc.Verdict)
	case firstCrash != nil && nc.Title != firstCrash.Title:
		t.Errorf("first crash: analyze %q, replayed boot/no-crash %q", firstCrash.Title, nc.Title)
	}
	var seen []string
	for _, s := range a.Stages {
		seen = append(seen, s.Name)
	}
	for name, c := range checks {
		st, ok := strings.CutPrefix(name, "boot/")
		if !ok || st == "login" || st == "no-crash" {
			continue
		}
		if (c.Verdict == record.Pass) != slices.Contains(seen, st) {
			t.Errorf("stage %s: analyze saw it: %v; replayed %s %s (%s)", st, slices.Contains(seen, st), name, c.Verdict, c.Message)
		}
	}
	bootOK := checks["boot/login"].Verdict == record.Pass && nc.Verdict == record.Pass
	if (code == 0) != bootOK {
		t.Errorf("analyze exit %d; replayed boot/login %s, boot/no-crash %s", code, checks["boot/login"].Verdict, nc.Verdict)
	}
}

// replayMatrix is a matrix that replays transcript at once (no line delay, no time
// scaling) as the image named image, through the boot suite, with the settings given.
func replayMatrix(settings, image, transcript string) string {
	return fmt.Sprintf(`settings: %s
images:
  - {name: %s, arch: x86_64, variant: recorded, profile: redox, transcript: %q}
hosts:
  - {name: replay, kind: replay, arch: x86_64, time_scale: 1, options: {line_delay: 0s}}
suites:
  - {name: boot}
`, settings, image, transcript)
}
