package schedule

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/record"
)

func rec(vs ...record.Verdict) *record.Record {
	r := &record.Record{}
	for _, v := range vs {
		r.Checks = append(r.Checks, record.Check{Name: "c", Verdict: v})
	}
	return r
}

func TestExitStatusBySeverity(t *testing.T) {
	for _, tc := range []struct {
		name        string
		recs        []*record.Record
		errs        int
		interrupted bool
		want        int
	}{
		{"all pass", []*record.Record{rec(record.Pass, record.Skip, record.XFail)}, 0, false, 0},
		{"nothing ran", nil, 0, false, 0},
		{"infra only", []*record.Record{rec(record.Pass), rec(record.Infra)}, 0, false, 3},
		// The bug of issue 12: a CRASH job with an INFRA job after it exited 3.
		{"crash then infra", []*record.Record{rec(record.Crash), rec(record.Infra)}, 0, false, 1},
		{"infra then crash", []*record.Record{rec(record.Infra), rec(record.Crash)}, 0, false, 1},
		{"hang and fail", []*record.Record{rec(record.Hang, record.Fail)}, 0, false, 1},
		// A harness error is never hidden by a lab failure or a product failure.
		{"harness error with infra", []*record.Record{rec(record.Infra)}, 1, false, 2},
		{"harness error with crash", []*record.Record{rec(record.Crash)}, 1, false, 2},
		{"interrupted clean", []*record.Record{rec(record.Pass)}, 0, true, 4},
		{"interrupted with fail", []*record.Record{rec(record.Fail)}, 0, true, 4},
		{"interrupted with bad input", nil, 1, true, 2},
		{"xpass is not a failure", []*record.Record{rec(record.XPass)}, 0, false, 0},
	} {
		if got := ExitStatus(tc.recs, tc.errs, tc.interrupted); got != tc.want {
			t.Errorf("%s: ExitStatus = %d, want %d", tc.name, got, tc.want)
		}
	}
}
