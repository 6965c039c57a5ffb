package main

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Every check name a suite registers (the specs the Ginkgo suite lists) is written by its
// runner: each suite's registered runner runs on a replayed boot that hangs before login
// (nothing judged in the guest; the boot suite also on one that reaches login), through a
// real socket, and its record must hold every registered name (issue 12 item 9). The
// judged paths are covered per suite by their own tests against the stand-in guest.
func TestRegisteredChecksAreWritten(t *testing.T) {
	for _, log := range []string{"clean-uefi-boot.log", "nvme-hang.log"} {
		path, err := filepath.Abs(filepath.Join("..", "..", "fixtures", "transcripts", log))
		if err != nil {
			t.Fatal(err)
		}
		y := fmt.Sprintf(`settings: {silence: 3s, boot_timeout: 30s}
images:
  - {name: log, arch: x86_64, variant: recorded, profile: redox, transcript: %q}
hosts:
  - {name: replay, kind: replay, arch: x86_64, time_scale: 1, devices: [nvme, e1000],
     options: {line_delay: 0s}}
suites:
  - {name: boot}
  - {name: drivers}
  - {name: network}
  - {name: guest, commands: [{name: hello, run: "echo hello"}]}
`, path)
		m, err := matrix.Parse("checks.yaml", []byte(y), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		for _, j := range m.Jobs(matrix.Filter{}) {
			if log == "clean-uefi-boot.log" && j.Suite.Name != "boot" {
				continue // in-guest work on a replay waits out the session timeout (30 s)
			}
			t.Run(log+"/"+j.Suite.Name, func(t *testing.T) {
				def, err := job.LookupSuite(j.Suite.Name)
				if err != nil {
					t.Fatal(err)
				}
				rec, err := def.Run(context.Background(), m, j, job.Options{RunDir: t.TempDir()})
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, c := range rec.Checks {
					got = append(got, c.Name)
				}
				for _, name := range def.Checks(m, j) {
					if !slices.Contains(got, name) {
						t.Errorf("suite %s registers check %s, its runner wrote %v", j.Suite.Name, name, got)
					}
				}
			})
		}
	}
	if names := job.SuiteNames(); len(names) < 5 {
		t.Errorf("registered suites: %v", names)
	}
}

// The suites a matrix may name (matrix.KnownSuites, checked when it loads, below the
// harness) are exactly the suites registered in this program (job.RegisterSuite), and
// every suite that boots has a shared form for the scheduler.
func TestMatrixSuitesAreTheRegisteredOnes(t *testing.T) {
	known := slices.Sorted(slices.Values(matrix.KnownSuites))
	if got := job.SuiteNames(); !slices.Equal(got, known) {
		t.Errorf("registered suites %v, the matrix knows %v", got, known)
	}
	for _, n := range job.SuiteNames() {
		d, _ := job.LookupSuite(n)
		if _, ok := job.Shared(n); ok == (d.Judge == nil) {
			t.Errorf("suite %s: shared form %v, judge %v", n, ok, d.Judge != nil)
		}
	}
}
