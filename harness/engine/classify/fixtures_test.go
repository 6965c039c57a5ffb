package classify

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

var updateFixtures = flag.Bool("update-fixtures", false, "rewrite fixtures/transcripts/*.expect.json from the analysis (review the diff!)")

// Each hand-written transcript in fixtures/transcripts has its expected analysis beside it
// (NAME.expect.json, the `analyze --json` format); its header states the intent in words.
func TestFixtureTranscripts(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(fixtureDir(t), "*.log"))
	if len(logs) < 10 {
		t.Fatalf("expected at least 10 fixture transcripts, found %d", len(logs))
	}
	for _, path := range logs {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			a, _ := analyzeFile(t, path)
			got, err := json.MarshalIndent(a, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			exp := strings.TrimSuffix(path, ".log") + ".expect.json"
			if *updateFixtures {
				if err := os.WriteFile(exp, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(exp)
			if err != nil {
				t.Fatalf("no expected analysis: %v", err)
			}
			var wa Analysis
			if err := json.Unmarshal(want, &wa); err != nil {
				t.Fatalf("%s: %v", exp, err)
			}
			canon, _ := json.MarshalIndent(wa, "", "  ")
			if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(canon)) {
				t.Errorf("analysis differs from %s\n--- got\n%s\n--- want\n%s", filepath.Base(exp), got, canon)
			}
		})
	}
}

// Every signature row of the Redox profile is exercised by at least one fixture, so a row
// that stops matching (or never did) is noticed.
func TestFixturesCoverEverySignatureRow(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(fixtureDir(t), "*.log"))
	hit := make([]bool, len(profile.Redox.Signatures))
	for _, path := range logs {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		_, body, _ := transcript.SplitHeader(b)
		for _, line := range strings.Split(console.NormalizeString(string(body)), "\n") {
			for i, sig := range profile.Redox.Signatures {
				if _, ok := sig.Match.Match(line); ok {
					hit[i] = true
				}
			}
		}
	}
	for i, h := range hit {
		if !h {
			s := profile.Redox.Signatures[i]
			t.Errorf("signature row %d (%s, %q) is matched by no fixture", i, s.Kind, s.Title)
		}
	}
}

// No false alarm on the clean fixtures: no events at all.
func TestCleanFixturesHaveNoEvents(t *testing.T) {
	for _, name := range []string{"clean-uefi-boot.log", "clean-cloud-hypervisor.log"} {
		a, _ := analyzeFile(t, filepath.Join(fixtureDir(t), name))
		if !a.ReachedLogin || len(a.Events) != 0 {
			t.Errorf("%s: %+v", name, a)
		}
	}
}
