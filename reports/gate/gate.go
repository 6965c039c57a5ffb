// Package gate compares tonight's results with a baseline and decides whether the night
// regressed. It is the library behind `redox-hwtest gate` and, later, `run --gate`.
//
// # Classes
//
// Every (job, check) of the current run — a job is image@host/suite, so this is every
// (image, host, check) — gets exactly one class, and every (job, check) of the baseline
// that the current run lacks gets "missing". Verdicts are first reduced to a state:
//
//	pass   PASS, XPASS          fail  FAIL, CRASH, HANG      known  XFAIL
//	skip   SKIP                 infra INFRA                  none   no such check
//
// Only like is compared with like: when the baseline has the same job but its host's
// hardware facts (record.Host.Facts) differ, every check of that job is
// "not-comparable". Otherwise, with b the baseline state and c the current one:
//
//	c infra                      infra           (the lab failed; never fails the gate)
//	c known                      xfail           (declared known failure; never fails)
//	c skip                       skip            (host lacks the feature)
//	c fail, b fail or known      still-failing
//	c fail, b pass/none/skip/infra   new-failure (the only class that fails the gate)
//	c pass, b fail or known      fixed
//	c pass, b pass               unchanged
//	c pass, b none/skip/infra    new-pass
//	c none, b anything           missing         (listed: a job that did not report)
//
// A new failure that passes when its job is re-run (Report.ApplyReruns) becomes "flaky",
// which does not fail the gate either.
package gate

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// Class is the outcome of one (job, check) comparison.
type Class string

const (
	NewFailure    Class = "new-failure"
	Flaky         Class = "flaky"
	StillFailing  Class = "still-failing"
	Fixed         Class = "fixed"
	NewPass       Class = "new-pass"
	Unchanged     Class = "unchanged"
	Infra         Class = "infra"
	XFail         Class = "xfail"
	Skip          Class = "skip"
	Missing       Class = "missing"
	NotComparable Class = "not-comparable"
)

// Classes lists every class in report order.
var Classes = []Class{NewFailure, Flaky, Infra, NotComparable, Missing, Fixed, NewPass, StillFailing, XFail, Skip, Unchanged}

// Fails reports whether the class fails the gate.
func (c Class) Fails() bool { return c == NewFailure }

// Item is one classified (job, check).
type Item struct {
	Class Class  `json:"class"`
	Job   string `json:"job"`
	Image string `json:"image"`
	Host  string `json:"host"`
	Suite string `json:"suite"`
	Check string `json:"check"`
	// Baseline and Current are the verdicts ("" when the check is absent).
	Baseline record.Verdict `json:"baseline,omitempty"`
	Current  record.Verdict `json:"current,omitempty"`
	// Message is the current check's message (the baseline's for missing).
	Message string `json:"message,omitempty"`
	// Reason explains not-comparable (which facts differ).
	Reason string `json:"reason,omitempty"`
	// Excerpt is the current check's transcript excerpt (record.Check.Excerpt).
	Excerpt string `json:"excerpt,omitempty"`
	// Reruns are the verdicts of re-runs of this check (ApplyReruns).
	Reruns []record.Verdict `json:"reruns,omitempty"`

	facts string // the current record's hardware facts
}

// Report is the result of a comparison.
type Report struct {
	Items  []Item        `json:"items"`
	Counts map[Class]int `json:"counts"`
	// Regression is true when at least one item is a new failure.
	Regression bool `json:"regression"`
}

type state int

const (
	sNone state = iota
	sPass
	sFail
	sKnown
	sSkip
	sInfra
)

func stateOf(v record.Verdict, present bool) state {
	if !present {
		return sNone
	}
	switch v {
	case record.Pass, record.XPass:
		return sPass
	case record.XFail:
		return sKnown
	case record.Skip:
		return sSkip
	case record.Infra:
		return sInfra
	}
	return sFail // FAIL, CRASH, HANG and anything unknown
}

// Classify applies the table in the package documentation to one pair of verdicts
// (present=false for an absent check).
func Classify(base record.Verdict, inBase bool, cur record.Verdict, inCur bool) Class {
	b, c := stateOf(base, inBase), stateOf(cur, inCur)
	switch c {
	case sNone:
		return Missing
	case sInfra:
		return Infra
	case sKnown:
		return XFail
	case sSkip:
		return Skip
	case sFail:
		if b == sFail || b == sKnown {
			return StillFailing
		}
		return NewFailure
	}
	switch b { // c == sPass
	case sFail, sKnown:
		return Fixed
	case sPass:
		return Unchanged
	}
	return NewPass
}

// index keeps the latest-finished record per job.
func index(recs []*record.Record) map[string]*record.Record {
	m := map[string]*record.Record{}
	for _, r := range recs {
		if old, ok := m[r.Job]; !ok || !r.Finished.Before(old.Finished) {
			m[r.Job] = r
		}
	}
	return m
}

func checks(r *record.Record) map[string]record.Check {
	m := map[string]record.Check{}
	for _, c := range r.Checks {
		m[c.Name] = c
	}
	return m
}

// Compare classifies every (job, check) of cur against base.
func Compare(base, cur []*record.Record) Report {
	bi, ci := index(base), index(cur)
	var items []Item
	for job, cr := range ci {
		br, inBase := bi[job]
		cc := checks(cr)
		if inBase && br.Host.Facts() != cr.Host.Facts() {
			reason := factsDiff(br.Host, cr.Host)
			for _, c := range cr.Checks {
				items = append(items, item(NotComparable, cr, c.Name, "", c, reason))
			}
			continue
		}
		var bc map[string]record.Check
		if inBase {
			bc = checks(br)
		}
		for _, c := range cr.Checks {
			b, ok := bc[c.Name]
			it := item(Classify(b.Verdict, ok, c.Verdict, true), cr, c.Name, b.Verdict, c, "")
			items = append(items, it)
		}
		for name, b := range bc {
			if _, ok := cc[name]; !ok {
				it := item(Missing, br, name, b.Verdict, record.Check{}, "")
				it.Message = "check not in the current run"
				items = append(items, it)
			}
		}
	}
	for job, br := range bi {
		if _, ok := ci[job]; ok {
			continue
		}
		for _, b := range br.Checks {
			it := item(Missing, br, b.Name, b.Verdict, record.Check{}, "")
			it.Message = "job not in the current run"
			items = append(items, it)
		}
	}
	r := Report{Items: items}
	r.finish()
	return r
}

func item(cl Class, r *record.Record, check string, base record.Verdict, cur record.Check, reason string) Item {
	return Item{Class: cl, Job: r.Job, Image: r.Image.Name, Host: r.Host.Name, Suite: r.Suite, Check: check,
		Baseline: base, Current: cur.Verdict, Message: cur.Message, Reason: reason, Excerpt: cur.Excerpt, facts: r.Host.Facts()}
}

// factsDiff names the hardware facts that differ.
func factsDiff(a, b record.Host) string {
	var d []string
	add := func(name, x, y string) {
		if x != y {
			d = append(d, fmt.Sprintf("%s %q -> %q", name, x, y))
		}
	}
	add("kind", a.Kind, b.Kind)
	add("arch", a.Arch, b.Arch)
	add("firmware", a.Firmware, b.Firmware)
	add("machine", a.Machine, b.Machine)
	add("cpu", a.CPU, b.CPU)
	add("memory", a.Memory, b.Memory)
	add("smp", fmt.Sprint(a.SMP), fmt.Sprint(b.SMP))
	as, bs := append([]string(nil), a.Devices...), append([]string(nil), b.Devices...)
	sort.Strings(as)
	sort.Strings(bs)
	add("devices", strings.Join(as, ","), strings.Join(bs, ","))
	add("vendor", a.Vendor, b.Vendor)
	add("model", a.Model, b.Model)
	if len(d) == 0 {
		return "hardware facts differ"
	}
	return "hardware facts differ: " + strings.Join(d, ", ")
}

func classRank(c Class) int {
	for i, k := range Classes {
		if k == c {
			return i
		}
	}
	return len(Classes)
}

// finish sorts the items and recomputes counts and the verdict.
func (r *Report) finish() {
	sort.Slice(r.Items, func(i, j int) bool {
		a, b := r.Items[i], r.Items[j]
		if a.Class != b.Class {
			return classRank(a.Class) < classRank(b.Class)
		}
		if a.Job != b.Job {
			return a.Job < b.Job
		}
		return a.Check < b.Check
	})
	r.Counts = map[Class]int{}
	r.Regression = false
	for _, it := range r.Items {
		r.Counts[it.Class]++
		if it.Class.Fails() {
			r.Regression = true
		}
	}
}

// ExitCode is 1 on a regression, else 0 (2, a harness error, is the caller's to return
// when it could not read the runs).
func (r Report) ExitCode() int {
	if r.Regression {
		return 1
	}
	return 0
}

// Of returns the items of one class.
func (r Report) Of(c Class) []Item {
	var out []Item
	for _, it := range r.Items {
		if it.Class == c {
			out = append(out, it)
		}
	}
	return out
}

// RerunJobs lists the jobs with a new failure, sorted: what `run --gate` boots again.
func (r Report) RerunJobs() []string {
	seen := map[string]bool{}
	var jobs []string
	for _, it := range r.Items {
		if it.Class == NewFailure && !seen[it.Job] {
			seen[it.Job] = true
			jobs = append(jobs, it.Job)
		}
	}
	sort.Strings(jobs)
	return jobs
}

// ApplyReruns records re-runs of jobs with new failures: each new failure whose check
// passed in a re-run of the same job on the same hardware becomes flaky; one that failed
// again stays a new failure (now confirmed). Re-runs on different hardware facts, and
// INFRA/SKIP re-run verdicts, decide nothing. Call it once per round of re-runs.
func (r *Report) ApplyReruns(reruns []*record.Record) {
	for i := range r.Items {
		it := &r.Items[i]
		if it.Class != NewFailure {
			continue
		}
		for _, rec := range reruns {
			if rec.Job != it.Job || rec.Host.Facts() != it.facts {
				continue
			}
			for _, c := range rec.Checks {
				if c.Name != it.Check {
					continue
				}
				it.Reruns = append(it.Reruns, c.Verdict)
				if stateOf(c.Verdict, true) == sPass {
					it.Class = Flaky
				}
			}
		}
	}
	r.finish()
}

// WriteJSON writes the report as indented JSON.
func (r Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a summary and every item except unchanged ones (all with verbose).
func (r Report) WriteText(w io.Writer, verbose bool) error {
	var b strings.Builder
	if r.Regression {
		fmt.Fprintf(&b, "gate: REGRESSION: %d new failure(s)\n", r.Counts[NewFailure])
	} else {
		b.WriteString("gate: ok: no new failures\n")
	}
	var parts []string
	for _, c := range Classes {
		if r.Counts[c] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, r.Counts[c]))
		}
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(parts, ", "))
	last := Class("")
	for _, it := range r.Items {
		if it.Class == Unchanged && !verbose {
			continue
		}
		if it.Class != last {
			fmt.Fprintf(&b, "\n%s:\n", it.Class)
			last = it.Class
		}
		fmt.Fprintf(&b, "  %s %s: %s -> %s", oneLine(it.Job), oneLine(it.Check), orNone(it.Baseline), orNone(it.Current))
		if len(it.Reruns) > 0 {
			var rs []string
			for _, v := range it.Reruns {
				rs = append(rs, string(v))
			}
			fmt.Fprintf(&b, " (re-runs: %s)", strings.Join(rs, ", "))
		}
		if it.Message != "" {
			fmt.Fprintf(&b, ": %s", oneLine(it.Message))
		}
		if it.Reason != "" {
			fmt.Fprintf(&b, " [%s]", it.Reason)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func orNone(v record.Verdict) string {
	if v == "" {
		return "(none)"
	}
	return oneLine(string(v))
}

// oneLine keeps console text from steering the terminal the gate prints to.
func oneLine(s string) string { return text.OneLine(s, 160) }

// Promotable says whether a run may become the next baseline: it judged at least one check
// (a run of nothing but SKIPs compares as "everything vanished" the next night) and no check
// is INFRA (a lab fault hides what the image does, and a baseline must record what it does).
// The error names why not.
func Promotable(recs []*record.Record) error {
	judged, infra := 0, []string{}
	for _, r := range recs {
		for _, c := range r.Checks {
			switch c.Verdict {
			case record.Infra:
				infra = append(infra, r.Job+" "+c.Name)
			case record.Skip:
			default:
				judged++
			}
		}
	}
	switch {
	case len(infra) > 0:
		n, more := len(infra), ""
		if n > 3 {
			more = fmt.Sprintf(" and %d more", n-3)
			infra = infra[:3]
		}
		return fmt.Errorf("%d check(s) were not judged because of a lab fault (INFRA): %s%s", n, strings.Join(infra, ", "), more)
	case judged == 0:
		return fmt.Errorf("the run judged no check (every check SKIP, or no check at all)")
	}
	return nil
}
