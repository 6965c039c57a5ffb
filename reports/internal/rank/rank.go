// Package rank orders verdicts by how much a reader needs to see them, so a cell that
// summarises several checks shows the most important one.
package rank

import "github.com/redox-hwtest/redox-hwtest/record"

// Of returns the severity of v: SKIP < PASS < XPASS < XFAIL < INFRA < FAIL < HANG < CRASH.
// Unknown verdicts rank highest (something is wrong and must be seen).
func Of(v record.Verdict) int {
	switch v {
	case record.Skip:
		return 0
	case record.Pass:
		return 1
	case record.XPass:
		return 2
	case record.XFail:
		return 3
	case record.Infra:
		return 4
	case record.Fail:
		return 5
	case record.Hang:
		return 6
	case record.Crash:
		return 7
	}
	return 8
}

// Worst returns the most severe of vs ("" for none).
func Worst(vs ...record.Verdict) record.Verdict {
	var w record.Verdict
	for _, v := range vs {
		if w == "" || Of(v) > Of(w) {
			w = v
		}
	}
	return w
}

// Passed reports whether v is a success for reporting purposes (PASS or XPASS).
func Passed(v record.Verdict) bool { return v == record.Pass || v == record.XPass }
