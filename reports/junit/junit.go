// Package junit writes one JUnit XML file per run from the job records, with the types of
// github.com/jstemmer/go-junit-report/v2/junit, readable by GitLab and Jenkins.
//
// Mapping:
//
//	testsuites          the run (name = run ID)
//	testsuite           one job (name = job ID image@host/suite, hostname = host name,
//	                    package = suite); properties: transcript path, artifacts, image and
//	                    host facts, attempts, XPASS checks; system-out: stages reached with
//	                    their times and the crash/failure events seen in the log
//	testcase            one check (name = check name, classname = job ID with '.' written
//	                    as '_' because Jenkins reads dots as package separators)
//	FAIL, CRASH, HANG   <failure message="VERDICT: message" type="VERDICT">excerpt</failure>
//	INFRA               <error ...> (the lab failed, not the product)
//	SKIP, XFAIL         <skipped message="VERDICT: message (reference)">
//	XPASS               no failure; a testsuite property "xpass:<check>" = reference and
//	                    a system-out line on the testcase
//	screen captures     testsuite properties "artifact:screen:<name>" (every stored PNG),
//	                    "last_screen", "screen_note" (why there are none); a system-out
//	                    line per capture; on a FAIL/CRASH/HANG/INFRA testcase the last
//	                    screen as "[[ATTACHMENT|path]]" in its system-out (the form GitLab
//	                    and Jenkins' attachments plugin show as a screenshot)
//
// Everything from the console goes through text.Clean: the output is valid XML 1.0 for
// any input bytes. The testsuites element carries no skipped/disabled counts because the
// Jenkins (xunit junit-10) schema does not allow them there; each testsuite has its own.
package junit

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	gojunit "github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// Options tune Build.
type Options struct {
	// ArtifactBase is prepended to artifact paths in properties; paths are otherwise
	// relative to the run directory ("jobs/<job dir>/transcript.log").
	ArtifactBase string
}

// Build turns a run's records into JUnit testsuites, one per job, in job order.
func Build(info record.RunInfo, recs []*record.Record, opt Options) gojunit.Testsuites {
	ts := gojunit.Testsuites{Name: info.ID}
	sorted := append([]*record.Record(nil), recs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Job < sorted[j].Job })
	var total time.Duration
	for i, rec := range sorted {
		s := suite(i, rec, opt)
		if d := rec.Finished.Sub(rec.Started); d > 0 {
			total += d
		}
		ts.AddSuite(s)
	}
	if !info.Started.IsZero() && info.Finished.After(info.Started) {
		total = info.Finished.Sub(info.Started)
	}
	ts.Time = seconds(total)
	return ts
}

func suite(id int, rec *record.Record, opt Options) gojunit.Testsuite {
	s := gojunit.Testsuite{
		Name:     rec.Job,
		ID:       id,
		Hostname: rec.Host.Name,
		Package:  rec.Suite,
	}
	if !rec.Started.IsZero() {
		s.SetTimestamp(rec.Started.UTC())
	}
	s.Time = seconds(rec.Finished.Sub(rec.Started))
	jobRel := opt.ArtifactBase + runs.JobRel(rec) + "/"
	if t, ok := rec.Artifacts["transcript"]; ok {
		s.AddProperty("transcript", jobRel+t)
	}
	for _, name := range sortedKeys(rec.Artifacts) {
		if name != "transcript" {
			s.AddProperty("artifact:"+name, jobRel+rec.Artifacts[name])
		}
	}
	img, h := rec.Image, rec.Host
	for _, p := range [][2]string{
		{"image.name", img.Name}, {"image.version", img.Version}, {"image.date", img.Date},
		{"image.arch", img.Arch}, {"image.variant", img.Variant}, {"image.firmware", img.Firmware},
		{"image.profile", img.Profile}, {"image.file", img.File}, {"image.sha256", img.SHA256}, {"image.url", img.URL},
		{"host.name", h.Name}, {"host.kind", h.Kind}, {"host.arch", h.Arch}, {"host.firmware", h.Firmware},
		{"host.machine", h.Machine}, {"host.cpu", h.CPU}, {"host.memory", h.Memory},
		{"host.accel", h.Accel}, {"host.devices", strings.Join(h.Devices, ",")},
		{"host.vendor", h.Vendor}, {"host.model", h.Model},
	} {
		if p[1] != "" {
			s.AddProperty(p[0], p[1])
		}
	}
	if h.SMP > 0 {
		s.AddProperty("host.smp", fmt.Sprint(h.SMP))
	}
	s.AddProperty("host.facts", h.Facts())
	if rec.Attempts > 0 {
		s.AddProperty("attempts", fmt.Sprint(rec.Attempts))
	}
	if rec.LastComponent != "" {
		s.AddProperty("last_component", rec.LastComponent)
	}
	if rec.Boot != nil {
		// The boot this suite ran in, shared with the image x host's other suites.
		s.AddProperty("boot", rec.Boot.ID)
		if rec.Boot.Fresh != "" {
			s.AddProperty("boot.fresh", rec.Boot.Fresh)
		}
	}
	if rec.NotRun != "" {
		s.AddTestcase(gojunit.Testcase{Name: "not-run", Classname: strings.ReplaceAll(rec.Job, ".", "_"),
			Skipped: &gojunit.Result{Message: "not run: " + rec.NotRun}})
	}
	lastScreen := ""
	if f := rec.LastScreen(); f != "" {
		lastScreen = jobRel + f
		s.AddProperty("last_screen", lastScreen)
	}
	if rec.ScreenNote != "" {
		s.AddProperty("screen_note", rec.ScreenNote)
	}
	for _, c := range rec.Checks {
		if c.Verdict == record.XPass {
			s.AddProperty("xpass:"+c.Name, c.Reference)
		}
	}
	for _, c := range rec.Checks {
		tc := testcase(rec, c)
		if lastScreen != "" && (tc.Failure != nil || tc.Error != nil) {
			tc.SystemOut = &gojunit.Output{Data: "[[ATTACHMENT|" + lastScreen + "]]\n"}
		}
		s.AddTestcase(tc)
	}
	if out := systemOut(rec); out != "" {
		s.SystemOut = &gojunit.Output{Data: out}
	}
	return s
}

func testcase(rec *record.Record, c record.Check) gojunit.Testcase {
	tc := gojunit.Testcase{
		Name:      c.Name,
		Classname: strings.ReplaceAll(rec.Job, ".", "_"),
		Time:      seconds(c.Duration),
	}
	msg := string(c.Verdict)
	if c.Message != "" {
		msg += ": " + c.Message
	}
	switch c.Verdict {
	case record.Pass:
	case record.Fail, record.Crash, record.Hang:
		tc.Failure = &gojunit.Result{Message: msg, Type: string(c.Verdict), Data: detail(c)}
	case record.Infra:
		tc.Error = &gojunit.Result{Message: msg, Type: string(c.Verdict), Data: detail(c)}
	case record.Skip, record.XFail:
		if c.Reference != "" {
			msg += " (" + c.Reference + ")"
		}
		tc.Skipped = &gojunit.Result{Message: msg, Type: string(c.Verdict), Data: detail(c)}
	case record.XPass:
		tc.SystemOut = &gojunit.Output{Data: "XPASS: declared known failure passed" + refSuffix(c.Reference) + "\n"}
	default:
		tc.Error = &gojunit.Result{Message: "unknown verdict " + msg, Type: "UNKNOWN", Data: detail(c)}
	}
	return tc
}

func refSuffix(ref string) string {
	if ref == "" {
		return ""
	}
	return " (" + ref + ")"
}

// detail is the text of a failure element: where, what, and the transcript excerpt.
func detail(c record.Check) string {
	var b strings.Builder
	for _, kv := range [][2]string{{"stage", c.Stage}, {"component", c.Component}, {"title", c.Title}, {"reference", c.Reference}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "%s: %s\n", kv[0], kv[1])
		}
	}
	if c.Excerpt != "" {
		if b.Len() > 0 {
			b.WriteString("\n")
		}
		b.WriteString(c.Excerpt)
		if !strings.HasSuffix(c.Excerpt, "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

func systemOut(rec *record.Record) string {
	var b strings.Builder
	for _, st := range rec.Stages {
		fmt.Fprintf(&b, "stage %s at %.3fs (line %d)\n", st.Name, st.At.Seconds(), st.Line)
	}
	for _, e := range rec.Events {
		fmt.Fprintf(&b, "event %s", e.Kind)
		if e.Component != "" {
			fmt.Fprintf(&b, " [%s]", e.Component)
		}
		fmt.Fprintf(&b, ": %s (line %d, seen %d times)\n", e.Title, e.Line, e.Count)
	}
	for _, c := range rec.Screens {
		fmt.Fprintf(&b, "screen %s at %.3fs: %s\n", c.Why, c.At.Seconds(), c.File)
	}
	return b.String()
}

func seconds(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	return fmt.Sprintf("%.3f", d.Seconds())
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Write writes ts as an XML document. Every string is cleaned first (text.Clean), so the
// output is well-formed XML whatever bytes the console produced.
func Write(w io.Writer, ts gojunit.Testsuites) error {
	ts = sanitize(ts)
	if _, err := io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"); err != nil {
		return err
	}
	return ts.WriteXML(w)
}

// WriteRun builds and writes the JUnit file of a loaded run.
func WriteRun(w io.Writer, r *runs.Run, opt Options) error {
	return Write(w, Build(r.Info, r.Records, opt))
}

func sanitize(ts gojunit.Testsuites) gojunit.Testsuites {
	c := text.Clean
	out := ts
	out.Name, out.Time = c(ts.Name), c(ts.Time)
	out.Skipped, out.Disabled = 0, 0 // not allowed on <testsuites> by the Jenkins schema
	out.Suites = make([]gojunit.Testsuite, len(ts.Suites))
	for i, s := range ts.Suites {
		s.Name, s.Hostname, s.Package, s.Time, s.Timestamp, s.File =
			c(s.Name), c(s.Hostname), c(s.Package), c(s.Time), c(s.Timestamp), c(s.File)
		if s.Properties != nil {
			props := make([]gojunit.Property, len(*s.Properties))
			for j, p := range *s.Properties {
				props[j] = gojunit.Property{Name: c(p.Name), Value: c(p.Value)}
			}
			s.Properties = &props
		}
		s.SystemOut, s.SystemErr = cleanOutput(s.SystemOut), cleanOutput(s.SystemErr)
		tcs := make([]gojunit.Testcase, len(s.Testcases))
		for j, tc := range s.Testcases {
			tc.Name, tc.Classname, tc.Time, tc.Status = c(tc.Name), c(tc.Classname), c(tc.Time), c(tc.Status)
			tc.Skipped, tc.Error, tc.Failure = cleanResult(tc.Skipped), cleanResult(tc.Error), cleanResult(tc.Failure)
			tc.SystemOut, tc.SystemErr = cleanOutput(tc.SystemOut), cleanOutput(tc.SystemErr)
			tcs[j] = tc
		}
		s.Testcases = tcs
		out.Suites[i] = s
	}
	return out
}

func cleanResult(r *gojunit.Result) *gojunit.Result {
	if r == nil {
		return nil
	}
	return &gojunit.Result{Message: text.Clean(r.Message), Type: text.Clean(r.Type), Data: text.Clean(r.Data)}
}

func cleanOutput(o *gojunit.Output) *gojunit.Output {
	if o == nil {
		return nil
	}
	return &gojunit.Output{Data: text.Clean(o.Data)}
}
