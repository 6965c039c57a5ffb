package gate

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"
)

var (
	h1  = record.Host{Name: "h1", Kind: "qemu", Arch: "x86_64", Devices: []string{"nvme", "e1000"}}
	h2  = record.Host{Name: "h2", Kind: "serial", Arch: "x86_64", Vendor: "Dell", Model: "OptiPlex"}
	h2b = record.Host{Name: "h2", Kind: "serial", Arch: "x86_64", Vendor: "Dell", Model: "OptiPlex", Devices: []string{"nvme"}}
	img = record.Image{Name: "img"}
)

func rec(job string, h record.Host, finished int, checks ...string) *record.Record {
	r := &record.Record{Job: job, Suite: job[strings.LastIndex(job, "/")+1:], Image: img, Host: h,
		Finished: time.Unix(int64(finished), 0)}
	for _, c := range checks {
		name, v, _ := strings.Cut(c, "=")
		r.Checks = append(r.Checks, record.Check{Name: name, Verdict: record.Verdict(v), Message: "msg " + name})
	}
	return r
}

// pair is a baseline/current covering every class.
func pair() (base, cur []*record.Record) {
	base = []*record.Record{
		rec("img@h1/boot", h1, 1, "a=PASS", "b=FAIL", "c=HANG", "d=PASS", "e=PASS", "f=XFAIL", "g=PASS", "h=SKIP", "i=PASS", "k=INFRA", "l=INFRA"),
		rec("img@h2/boot", h2, 1, "x=PASS", "y=PASS"),
		rec("img@h3/boot", h1, 1, "z=PASS"),
	}
	cur = []*record.Record{
		rec("img@h1/boot", h1, 2, "a=FAIL", "b=CRASH", "c=PASS", "d=PASS", "e=INFRA", "f=XPASS", "g=XFAIL", "h=SKIP", "k=FAIL", "l=PASS", "new1=PASS", "new2=HANG"),
		rec("img@h2/boot", h2b, 2, "x=FAIL", "y=PASS"),
		rec("img@h4/boot", h1, 2, "w=CRASH", "v=PASS"),
	}
	return
}

func classes(r Report) string {
	var out []string
	for _, it := range r.Items {
		host := strings.TrimSuffix(strings.TrimPrefix(it.Job, "img@"), "/boot")
		out = append(out, fmt.Sprintf("%s %s:%s", it.Class, host, it.Check))
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

func TestCompareEveryClass(t *testing.T) {
	base, cur := pair()
	r := Compare(base, cur)
	want := []string{
		"fixed h1:c", "fixed h1:f",
		"infra h1:e",
		"missing h1:i", "missing h3:z",
		"new-failure h1:a", "new-failure h1:k", "new-failure h1:new2", "new-failure h4:w",
		"new-pass h1:l", "new-pass h1:new1", "new-pass h4:v",
		"not-comparable h2:x", "not-comparable h2:y",
		"skip h1:h",
		"still-failing h1:b",
		"unchanged h1:d",
		"xfail h1:g",
	}
	if got := classes(r); got != strings.Join(want, "\n") {
		t.Errorf("classes:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
	if !r.Regression || r.ExitCode() != 1 {
		t.Errorf("regression=%v exit=%d, want true 1", r.Regression, r.ExitCode())
	}
	for _, it := range r.Of(NotComparable) {
		if !strings.Contains(it.Reason, `devices "" -> "nvme"`) {
			t.Errorf("not-comparable reason %q", it.Reason)
		}
	}
	if got := strings.Join(r.RerunJobs(), ","); got != "img@h1/boot,img@h4/boot" {
		t.Errorf("rerun jobs %s", got)
	}
	var text, js bytes.Buffer
	r.WriteText(&text, false)
	if !strings.HasPrefix(text.String(), "gate: REGRESSION: 4 new failure(s)\n") || strings.Contains(text.String(), "h1/boot d:") {
		t.Errorf("text report:\n%s", text.String())
	}
	r.WriteJSON(&js)
	var back Report
	if err := json.Unmarshal(js.Bytes(), &back); err != nil || back.Counts[NewFailure] != 4 {
		t.Errorf("json round trip: %v %v", err, back.Counts)
	}
}

func TestNoRegression(t *testing.T) {
	base, cur := pair()
	// INFRA, XFAIL, skips, missing jobs and not-comparable jobs never fail the gate.
	cur[0] = rec("img@h1/boot", h1, 2, "a=INFRA", "b=CRASH", "c=PASS", "g=XFAIL", "k=INFRA")
	cur = cur[:2]
	r := Compare(base, cur)
	if r.Regression || r.ExitCode() != 0 {
		t.Errorf("regression on:\n%s", classes(r))
	}
}

func TestApplyReruns(t *testing.T) {
	base, cur := pair()
	r := Compare(base, cur)
	reruns := []*record.Record{
		rec("img@h1/boot", h1, 3, "a=PASS", "k=FAIL", "new2=INFRA"),
		rec("img@h4/boot", h2, 3, "w=PASS"), // other hardware: decides nothing
	}
	r.ApplyReruns(reruns)
	var got []string
	for _, it := range r.Items {
		if it.Class == Flaky || it.Class == NewFailure {
			got = append(got, fmt.Sprintf("%s %s %v", it.Class, it.Check, it.Reruns))
		}
	}
	want := "flaky a [PASS]|new-failure k [FAIL]|new-failure new2 [INFRA]|new-failure w []"
	sort.Strings(got)
	if strings.Join(got, "|") != want {
		t.Errorf("after re-runs: %s\nwant: %s", strings.Join(got, "|"), want)
	}
	if !r.Regression {
		t.Error("confirmed new failures must still fail the gate")
	}
	r.ApplyReruns([]*record.Record{rec("img@h1/boot", h1, 4, "k=PASS", "new2=PASS"), rec("img@h4/boot", h1, 4, "w=XPASS")})
	if r.Regression {
		t.Errorf("all new failures passed on re-run, still a regression:\n%s", classes(r))
	}
}

func TestClassifyTable(t *testing.T) {
	all := append([]record.Verdict{""}, record.All...)
	for _, b := range all {
		for _, c := range all {
			got := Classify(b, b != "", c, c != "")
			if c == "" && got != Missing {
				t.Errorf("%s -> absent = %s", b, got)
			}
			if got.Fails() != (c.CountsAgainstRedox() && b != record.Fail && b != record.Crash && b != record.Hang && b != record.XFail) {
				t.Errorf("%q -> %q = %s (fails=%v)", b, c, got, got.Fails())
			}
		}
	}
}
