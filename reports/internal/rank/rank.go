// Package rank orders verdicts by how much a reader needs to see them, so a cell that
// summarises several checks shows the most important one.
package rank

import "github.com/redox-hwtest/redox-hwtest/harness/verdict"

// Of returns the severity of v: SKIP < PASS < XPASS < XFAIL < INFRA < FAIL < HANG < CRASH.
// Unknown verdicts rank highest (something is wrong and must be seen).
func Of(v verdict.Verdict) int {
	switch v {
	case verdict.Skip:
		return 0
	case verdict.Pass:
		return 1
	case verdict.XPass:
		return 2
	case verdict.XFail:
		return 3
	case verdict.Infra:
		return 4
	case verdict.Fail:
		return 5
	case verdict.Hang:
		return 6
	case verdict.Crash:
		return 7
	}
	return 8
}

// Worst returns the most severe of vs ("" for none).
func Worst(vs ...verdict.Verdict) verdict.Verdict {
	var w verdict.Verdict
	for _, v := range vs {
		if w == "" || Of(v) > Of(w) {
			w = v
		}
	}
	return w
}

// Passed reports whether v is a success for reporting purposes (PASS or XPASS).
func Passed(v verdict.Verdict) bool { return v == verdict.Pass || v == verdict.XPass }
