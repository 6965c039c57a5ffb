package schedule

import "github.com/redox-hwtest/redox-hwtest/record"

// Exit statuses of a run, combined from its jobs by severity: the first that applies wins.
//
//	2 bad input or a harness error: a job could not run as written (its answer is missing)
//	4 interrupted (SIGINT/SIGTERM): the run is incomplete; what ran is recorded, the rest
//	  is recorded as not run. It outranks 1 and 3 so a partial run never reads as a full one.
//	1 a check failed against the image (FAIL, CRASH, HANG)
//	3 only lab failures (INFRA) kept checks from being judged
//	0 every check passed, was skipped, or is a declared known failure
const (
	StatusOK          = 0
	StatusProduct     = 1
	StatusBadInput    = 2
	StatusLab         = 3
	StatusInterrupted = 4
)

// severity orders the statuses: higher wins.
var severity = map[int]int{StatusOK: 0, StatusLab: 1, StatusProduct: 2, StatusInterrupted: 3, StatusBadInput: 4}

// Worse returns the more severe of two statuses.
func Worse(a, b int) int {
	if severity[b] > severity[a] {
		return b
	}
	return a
}

// JobStatus is one job's contribution: 1 for a check against the image, 3 for INFRA, else 0.
func JobStatus(rec *record.Record) int {
	st := StatusOK
	for _, c := range rec.Checks {
		switch {
		case c.Verdict.CountsAgainstRedox():
			st = Worse(st, StatusProduct)
		case c.Verdict == record.Infra:
			st = Worse(st, StatusLab)
		}
	}
	return st
}

// ExitStatus combines a run's outcome: its records, how many jobs could not run because of
// bad input or a harness error, and whether it was interrupted.
func ExitStatus(recs []*record.Record, harnessErrors int, interrupted bool) int {
	st := StatusOK
	for _, r := range recs {
		st = Worse(st, JobStatus(r))
	}
	if interrupted {
		st = Worse(st, StatusInterrupted)
	}
	if harnessErrors > 0 {
		st = Worse(st, StatusBadInput)
	}
	return st
}
