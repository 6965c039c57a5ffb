package site

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The benchmark's synthetic history: nightly runs of 20 machines x 4 suites, made from
// the fake-run helper's records (internal/fakerun) by cloning its six hosts and giving every
// night a freshly built image. A few machines change over the year so the status history,
// the "since" lines and the gate's classes have something to show:
//
//   - machine 1 (a ThinkPad clone): HDA hangs while ihdad starts from night 200 on;
//   - machine 4 (a QEMU virt clone): its network check fails on every third night (a new
//     failure, then fixed: the "what changed" section);
//   - machine 7 (a ThinkPad clone): boot/login hangs in acpid from night 300 to 320.
const historyMachines = 20

var historySuites = []string{"boot", "drivers", "network", "guest"}

// historyNight returns the records of one night.
func historyNight(night int) []*record.Record {
	base := fakerun.Records(night)
	byHostSuite := map[string]*record.Record{}
	var hosts []record.Host
	for _, r := range base {
		if r.Image.Name == fakerun.BIOS.Name {
			continue // one image per machine
		}
		k := r.Host.Name + "/" + r.Suite
		if byHostSuite[k] == nil {
			byHostSuite[k] = r
		}
		if byHostSuite[r.Host.Name+"/"] == nil {
			byHostSuite[r.Host.Name+"/"] = r
			hosts = append(hosts, r.Host)
		}
	}
	day := fakerun.Base.Add(time.Duration(night) * 24 * time.Hour).Format("2006-01-02")
	var out []*record.Record
	for m := 0; m < historyMachines; m++ {
		h := hosts[m%len(hosts)]
		tmpl := byHostSuite[h.Name+"/"]
		h.Name = fmt.Sprintf("%s-%02d", h.Name, m)
		if h.Model != "" {
			h.Model = fmt.Sprintf("%s #%d", h.Model, m)
		}
		img := tmpl.Image
		img.Date = day
		img.Name = img.Name + "-nightly"
		for _, s := range historySuites {
			src := byHostSuite[tmpl.Host.Name+"/"+s]
			var r record.Record
			if src != nil {
				r = *src
				r.Checks = append([]record.Check(nil), src.Checks...)
			} else {
				r = *tmpl
				r.Stages = nil
				// The helper has no such job for this host: a guest smoke check stands in
				// (named so that it is no device and no network check).
				r.Checks = []record.Check{{Name: "guest/" + s + "-smoke", Verdict: record.Pass, Duration: time.Second}}
			}
			r.Suite, r.Host, r.Image = s, h, img
			r.Job = img.Name + "@" + h.Name + "/" + s
			r.Artifacts = map[string]string{"transcript": "transcript.log"}
			for i, c := range r.Checks {
				switch {
				case m == 1 && night >= 200 && c.Name == "drivers/hda":
					c.Verdict, c.Message, c.Component, c.Stage, c.Title = record.Hang, "no output for 30s while ihdad starts", "ihdad", "drivers", ""
				case m == 4 && night%3 == 0 && s == "network":
					c.Verdict, c.Message = record.Fail, "no DHCP lease within 20s"
				case m == 7 && night >= 300 && night <= 320 && c.Name == "boot/login":
					c.Verdict, c.Message, c.Stage, c.Component = record.Hang, "no output for 30s after stage kernel (last: acpid)", "kernel", "acpid"
				}
				r.Checks[i] = c
			}
			out = append(out, &r)
		}
	}
	return out
}

// writeHistory writes nights nightly run directories under dir and returns them.
func writeHistory(tb testing.TB, dir string, nights int) []string {
	tb.Helper()
	var dirs []string
	for n := 0; n < nights; n++ {
		d := filepath.Join(dir, fmt.Sprintf("night-%03d", n))
		if err := fakerun.WriteRun(d, fakerun.Info(n), historyNight(n)); err != nil {
			tb.Fatal(err)
		}
		dirs = append(dirs, d)
	}
	return dirs
}

// TestWriteHistory writes the benchmark's history for timing the command itself:
// SITE_HISTORY_OUT=DIR SITE_HISTORY_NIGHTS=365 go test ./reports/site -run TestWriteHistory
// then bin/redox-hwtest report site -o SITE DIR/night-*/.
func TestWriteHistory(t *testing.T) {
	dir := os.Getenv("SITE_HISTORY_OUT")
	if dir == "" {
		t.Skip("SITE_HISTORY_OUT not set: nothing to write")
	}
	n, err := strconv.Atoi(os.Getenv("SITE_HISTORY_NIGHTS"))
	if err != nil {
		n = 30
	}
	writeHistory(t, dir, n)
}
