package junit

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gojunit "github.com/jstemmer/go-junit-report/v2/junit"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/testenv"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// allBytes is every byte value, in a string that is mostly invalid UTF-8.
func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b) + "\xef\xbf\xbe\xef\xbf\xbf" // U+FFFE, U+FFFF: valid UTF-8, not XML
}

func writeRun(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	recs := fakerun.Records(0)
	recs[0].Checks[0].Excerpt = allBytes()
	recs[0].Checks[0].Message = allBytes()
	recs[0].Checks[0].Verdict = record.Fail
	recs[0].Host.Name = "host" + allBytes()
	if err := fakerun.WriteRun(dir, fakerun.Info(0), recs); err != nil {
		t.Fatal(err)
	}
	r, err := runs.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := WriteRun(&buf, r, Options{}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "junit.xml")
	if err := os.WriteFile(out, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestCounts(t *testing.T) {
	recs := fakerun.Records(0)
	ts := Build(fakerun.Info(0), recs, Options{})
	var fail, errs, skip, n int
	for _, r := range recs {
		for _, c := range r.Checks {
			n++
			switch c.Verdict {
			case record.Fail, record.Crash, record.Hang:
				fail++
			case record.Infra:
				errs++
			case record.Skip, record.XFail:
				skip++
			}
		}
	}
	if ts.Tests != n || ts.Failures != fail || ts.Errors != errs || ts.Skipped != skip {
		t.Errorf("totals tests=%d failures=%d errors=%d skipped=%d, want %d %d %d %d", ts.Tests, ts.Failures, ts.Errors, ts.Skipped, n, fail, errs, skip)
	}
	if len(ts.Suites) != len(recs) {
		t.Fatalf("%d suites for %d jobs", len(ts.Suites), len(recs))
	}
	// XPASS: a property on the suite, no failure.
	found := false
	for _, s := range ts.Suites {
		for _, p := range *s.Properties {
			if p.Name == "xpass:drivers/virtio-blk" && strings.Contains(p.Value, "issues/2") {
				found = true
			}
		}
		for _, tc := range s.Testcases {
			if tc.Name == "drivers/virtio-blk" && (tc.Failure != nil || tc.Error != nil || tc.Skipped != nil) {
				t.Error("XPASS testcase has a failure/error/skipped element")
			}
		}
	}
	if !found {
		t.Error("no xpass property")
	}
}

func TestTranscriptAndFactsProperties(t *testing.T) {
	ts := Build(fakerun.Info(0), fakerun.Records(0), Options{ArtifactBase: "runs/n1/"})
	props := map[string]string{}
	for _, p := range *ts.Suites[0].Properties {
		props[p.Name] = p.Value
	}
	if props["transcript"] != "runs/n1/jobs/redox-0.9.0-desktop-bios_at_qemu-q35__boot/transcript.log" {
		t.Errorf("transcript property %q", props["transcript"])
	}
	if props["host.facts"] == "" || props["host.devices"] != "nvme,e1000,hda,xhci" || props["image.date"] != "2026-03-17" {
		t.Errorf("facts properties %v", props)
	}
}

// TestValidAgainstJenkinsSchema validates a run with every byte value in the console
// text against the Jenkins JUnit schema with xmllint.
func TestValidAgainstJenkinsSchema(t *testing.T) {
	xmllint := testenv.Need(t, "xmllint", "libxml2-utils")
	file := writeRun(t)
	out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/jenkins-junit.xsd", file).CombinedOutput()
	if err != nil {
		t.Fatalf("xmllint rejects the JUnit file: %v\n%s", err, out)
	}
	// The schema really constrains: a skipped count on <testsuites> is rejected.
	bad := filepath.Join(t.TempDir(), "bad.xml")
	os.WriteFile(bad, []byte(`<?xml version="1.0"?><testsuites skipped="1"><testsuite name="a" tests="0" failures="0" errors="0"/></testsuites>`), 0o644)
	if out, err := exec.Command(xmllint, "--noout", "--schema", "testdata/jenkins-junit.xsd", bad).CombinedOutput(); err == nil {
		t.Errorf("the schema accepted an invalid file:\n%s", out)
	}
}

// TestConsoleBytesSurvive: the XML parses (strictly) and the excerpt reads back as the
// cleaned console text.
func TestConsoleBytesSurvive(t *testing.T) {
	data, err := os.ReadFile(writeRun(t))
	if err != nil {
		t.Fatal(err)
	}
	var ts gojunit.Testsuites
	if err := xml.Unmarshal(data, &ts); err != nil {
		t.Fatalf("output does not parse: %v", err)
	}
	var suite gojunit.Testsuite
	for _, s := range ts.Suites {
		if s.Name == fakerun.Records(0)[0].Job {
			suite = s
		}
	}
	// result.json is JSON: invalid UTF-8 already became U+FFFD there.
	var stored string
	js, _ := json.Marshal(allBytes())
	json.Unmarshal(js, &stored)
	tc := suite.Testcases[0]
	if tc.Failure == nil || !strings.Contains(tc.Failure.Data, text.Clean(stored)) {
		t.Errorf("excerpt did not survive: %+v", tc.Failure)
	}
	if tc.Failure.Message != "FAIL: "+text.Clean(stored) {
		t.Errorf("message = %q", tc.Failure.Message)
	}
	if !strings.HasPrefix(suite.Hostname, "host\\x00") {
		t.Errorf("hostname %q", suite.Hostname)
	}
}

// FuzzWrite: for any console strings the output parses with encoding/xml and the texts
// read back as text.Clean of the input.
func FuzzWrite(f *testing.F) {
	f.Add("msg", "excerpt", "boot/login", "host")
	f.Add(fakerun.Nasty, allBytes(), "a]]>b", "\x00")
	f.Add("\x1b[31m", "]]]]>]]>", "<x>", "\r\n\r")
	f.Fuzz(func(t *testing.T, msg, excerpt, check, host string) {
		rec := &record.Record{
			Job: "img@" + host + "/boot", Suite: "boot",
			Image: record.Image{Name: "img", Version: msg}, Host: record.Host{Name: host, Devices: []string{check}},
			Checks: []record.Check{
				{Name: check, Verdict: record.Crash, Message: msg, Excerpt: excerpt, Title: msg},
				{Name: check + "2", Verdict: record.Infra, Message: excerpt},
				{Name: check + "3", Verdict: record.XFail, Reference: msg},
				{Name: check + "4", Verdict: record.XPass, Reference: excerpt},
			},
			Events:    []record.Event{{Kind: "panic", Title: excerpt, Component: msg}},
			Artifacts: map[string]string{"transcript": msg},
		}
		var buf bytes.Buffer
		if err := Write(&buf, Build(record.RunInfo{ID: msg}, []*record.Record{rec}, Options{})); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		for {
			_, err := dec.Token()
			if err != nil {
				if err.Error() == "EOF" {
					break
				}
				t.Fatalf("output does not parse: %v\n%q", err, buf.String())
			}
		}
		var ts gojunit.Testsuites
		if err := xml.Unmarshal(buf.Bytes(), &ts); err != nil {
			t.Fatal(err)
		}
		tc := ts.Suites[0].Testcases[0]
		if tc.Name != text.Clean(check) || tc.Failure == nil || !strings.Contains(tc.Failure.Data, text.Clean(excerpt)) {
			t.Fatalf("round trip lost data: %+v", tc)
		}
		if want := text.Clean("CRASH: " + msg); msg != "" && tc.Failure.Message != want {
			t.Fatalf("message %q, want %q", tc.Failure.Message, want)
		}
	})
}

// TestScreenCaptures: the captures are listed on the suite and the last screen is attached
// to a failing testcase, in the form GitLab and Jenkins show as a screenshot.
func TestScreenCaptures(t *testing.T) {
	recs := fakerun.Records(0)
	r := recs[0]
	r.Screens = []record.ScreenCapture{
		{File: "screens/01-stage-kernel.png", Why: "stage kernel", At: time.Second},
		{File: "screens/02-HANG.png", Why: "HANG", At: 3 * time.Second},
	}
	r.Artifacts["screen:01-stage-kernel"] = "screens/01-stage-kernel.png"
	r.Artifacts["screen:02-HANG"] = "screens/02-HANG.png"
	r.Checks = append(r.Checks, record.Check{Name: "boot/desktop", Verdict: record.Hang, Message: "no output"})
	ts := Build(fakerun.Info(0), recs, Options{ArtifactBase: "runs/n1/"})
	var s gojunit.Testsuite
	for _, x := range ts.Suites {
		if x.Name == r.Job {
			s = x
		}
	}
	props := map[string]string{}
	for _, p := range *s.Properties {
		props[p.Name] = p.Value
	}
	base := "runs/n1/" + runs.JobRel(r) + "/"
	if props["last_screen"] != base+"screens/02-HANG.png" || props["artifact:screen:01-stage-kernel"] != base+"screens/01-stage-kernel.png" {
		t.Errorf("screen properties: %v", props)
	}
	if s.SystemOut == nil || !strings.Contains(s.SystemOut.Data, "screen HANG at 3.000s: screens/02-HANG.png") {
		t.Errorf("suite system-out lacks the captures: %+v", s.SystemOut)
	}
	attached := false
	for _, tc := range s.Testcases {
		if tc.Name == "boot/desktop" {
			attached = tc.SystemOut != nil && tc.SystemOut.Data == "[[ATTACHMENT|"+base+"screens/02-HANG.png]]\n"
		}
		if tc.Failure == nil && tc.Error == nil && tc.SystemOut != nil && strings.Contains(tc.SystemOut.Data, "ATTACHMENT") {
			t.Errorf("passing testcase %s has an attachment", tc.Name)
		}
	}
	if !attached {
		t.Error("the failing testcase does not attach the last screen")
	}
}

// Suites that shared a boot name it (and a fresh boot says why); a job that never ran is
// one skipped testcase with the reason.
func TestBootAndNotRun(t *testing.T) {
	recs := fakerun.Records(0)[:2]
	recs[0].Boot = &record.Boot{ID: "img@host#2", Dir: "img_at_host__drivers", Fresh: "guest unusable after drivers: session lost"}
	recs[1].Checks, recs[1].NotRun = nil, "the run was interrupted before this job started"
	ts := Build(fakerun.Info(0), recs, Options{})
	props := map[string]string{}
	for _, p := range *ts.Suites[0].Properties {
		props[p.Name] = p.Value
	}
	if props["boot"] != "img@host#2" || props["boot.fresh"] != "guest unusable after drivers: session lost" {
		t.Errorf("boot properties: %v", props)
	}
	nr := ts.Suites[1]
	if nr.Tests != 1 || nr.Skipped != 1 || nr.Testcases[0].Skipped == nil || !strings.Contains(nr.Testcases[0].Skipped.Message, "interrupted") {
		t.Errorf("not-run suite: %+v", nr)
	}
}
