package record

import "fmt"

// Verdict is the outcome of one check: how one (image, host, check) ended (README.md,
// "Verdicts"). The set is closed and small on purpose: every report, table and gate decision
// is a function of these values.
type Verdict string

const (
	Pass  Verdict = "PASS"  // the check's success condition was seen
	Fail  Verdict = "FAIL"  // the product did the wrong thing
	Crash Verdict = "CRASH" // a crash signature was seen
	Hang  Verdict = "HANG"  // no progress for the silence window, or a stage deadline passed
	Infra Verdict = "INFRA" // the lab failed; never counted against Redox
	Skip  Verdict = "SKIP"  // the host lacks the feature
	XFail Verdict = "XFAIL" // a known failure declared in the matrix
	XPass Verdict = "XPASS" // a declared known failure that passed
)

// All lists the verdicts in report order.
var All = []Verdict{Pass, Fail, Crash, Hang, Infra, Skip, XFail, XPass}

// CountsAgainstRedox reports whether the verdict is a product failure.
func (v Verdict) CountsAgainstRedox() bool { return v == Fail || v == Crash || v == Hang }

// Failed reports whether the check did not pass for any reason, product or lab.
func (v Verdict) Failed() bool { return v.CountsAgainstRedox() || v == Infra }

// Valid reports whether v is one of the known verdicts.
func (v Verdict) Valid() bool {
	for _, k := range All {
		if v == k {
			return true
		}
	}
	return false
}

// ApplyXFail turns a result on a check declared as a known failure into XFAIL (a product
// failure) or XPASS (it passed); other verdicts (INFRA, SKIP) are left alone.
func (v Verdict) ApplyXFail() Verdict {
	switch {
	case v.CountsAgainstRedox():
		return XFail
	case v == Pass:
		return XPass
	}
	return v
}

// UnmarshalText accepts only the known verdicts, so a result file with a misspelt or foreign
// verdict ("OK", "pass") is rejected when it is loaded instead of being counted as neither a
// pass nor a failure by every report that reads it.
func (v *Verdict) UnmarshalText(b []byte) error {
	if k := Verdict(b); k.Valid() {
		*v = k
		return nil
	}
	return fmt.Errorf("unknown verdict %q (known: %v)", b, All)
}
