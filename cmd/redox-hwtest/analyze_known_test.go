package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/devices"
)

// knownRuns writes two nights in which two machines carry an e1000 (8086:100e) that the
// drivers suite exercised: it works on both.
func knownRuns(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for n := 0; n < 2; n++ {
		var recs []*record.Record
		for _, h := range []record.Host{fakerun.ThinkPad, fakerun.OptiPlex} {
			img := fakerun.UEFI
			img.Date = fakerun.Base.Add(time.Duration(n) * 24 * time.Hour).Format("2006-01-02")
			recs = append(recs,
				&record.Record{Format: record.FormatVersion, Job: img.Name + "@" + h.Name + "/boot", Suite: "boot", Host: h, Image: img,
					Checks:  []record.Check{{Name: "boot/login", Verdict: record.Pass}},
					Devices: []record.Device{{Bus: "pci", Address: "0000:00:03.0", VendorID: "8086", DeviceID: "100e", Class: "02.00.00", Driver: "e1000d", State: record.DeviceInit, Evidence: []int{2}}}},
				&record.Record{Format: record.FormatVersion, Job: img.Name + "@" + h.Name + "/drivers", Suite: "drivers", Host: h, Image: img,
					Checks: []record.Check{{Name: "drivers/e1000", Verdict: record.Pass, Message: "lease and ping"}}})
		}
		if err := fakerun.WriteRun(filepath.Join(dir, "night"+string(rune('0'+n))), fakerun.Info(n), recs); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestKnownAbout(t *testing.T) {
	hist := knownRuns(t)
	devs := []record.Device{
		{Bus: "pci", Address: "00-00:03.0", VendorID: "8086", DeviceID: "100e", Class: "02.00.00", Driver: "e1000d", State: record.DeviceInit},
		{Bus: "pci", Address: "00-00:05.0", VendorID: "10ec", DeviceID: "8168", Class: "02.00.00", State: record.DeviceNoDriver},
	}
	// From a directory of runs, and from the devices.json a site would publish.
	ks, _, err := knownAbout(devs, hist)
	if err != nil {
		t.Fatal(err)
	}
	if ks[0].Known != "works on 2 tested machines, last 2026-03-18" || ks[1].Known != "" {
		t.Errorf("known from runs: %q, %q", ks[0].Known, ks[1].Known)
	}
	ids, _ := devices.LoadIDs()
	x, err := devices.LoadKnown(hist, ids)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	devices.WriteJSON(&buf, x)
	file := filepath.Join(t.TempDir(), "devices.json")
	os.WriteFile(file, buf.Bytes(), 0o644)
	ks2, _, err := knownAbout(devs, file)
	if err != nil || ks2[0].Known != ks[0].Known {
		t.Errorf("known from devices.json: %v %q", err, ks2[0].Known)
	}
	// The JSON form keeps the analysis's fields and adds "known".
	out, err := withKnown(map[string]any{"reached_login": true}, ks)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(out)
	if !strings.Contains(string(data), `"reached_login":true`) || !strings.Contains(string(data), `"known":"works on 2 tested machines`) {
		t.Errorf("json: %s", data)
	}
	var tb bytes.Buffer
	printKnown(&tb, "hist", "pci.ids x", ks)
	if !strings.Contains(tb.String(), "here: no-driver, driver -; elsewhere: not seen on a tested machine") {
		t.Errorf("text:\n%s", tb.String())
	}
}

// analyze --known runs end to end on a log; a --known path that is neither a devices
// export nor runs is bad input (exit 2).
func TestAnalyzeKnownFlag(t *testing.T) {
	hist := knownRuns(t)
	code, out, errs := run([]string{"--known", hist, fixture(t, "clean-uefi-boot.log")}, "")
	if code != 0 || !strings.Contains(out, "what is known elsewhere") {
		t.Errorf("exit %d, stderr %q, out:\n%s", code, errs, out)
	}
	code, out, _ = run([]string{"--json", "--known", hist, fixture(t, "clean-uefi-boot.log")}, "")
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil || v["known"] == nil {
		t.Errorf("json with --known: %v %v", err, out)
	}
	bad := filepath.Join(t.TempDir(), "x.json")
	os.WriteFile(bad, []byte(`{"devices": []}`), 0o644)
	if code, _, errs := run([]string{"--known", bad, fixture(t, "clean-uefi-boot.log")}, ""); code != 2 || !strings.Contains(errs, "format") {
		t.Errorf("bad export: exit %d, %q", code, errs)
	}
}

// report site --rejudge re-derives the inventories with this build's analyser and says
// so in devices.json.
func TestReportSiteRejudge(t *testing.T) {
	hist := knownRuns(t)
	out := filepath.Join(t.TempDir(), "site")
	if code := reportSite([]string{"-o", out, "--rejudge", filepath.Join(hist, "night0"), filepath.Join(hist, "night1")}); code != 0 {
		t.Fatalf("exit %d", code)
	}
	data, err := os.ReadFile(filepath.Join(out, "devices.json"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := devices.ReadExport(bytes.NewReader(data))
	if err != nil || !strings.HasPrefix(x.Analyzer, "redox-hwtest analyze ") {
		t.Errorf("devices.json analyzer %q (%v)", x.Analyzer, err)
	}
}

// The real Redox transcripts give device rows: every log of ../shared/redox-logs and
// redox-logs-2 stored as the transcript of a run's boot record (no inventory recorded),
// `report site --rejudge` reads the inventories out of them with this build's analyser,
// and the 2026-08 capture's e1000 is named from pci.ids and graded detected (e1000d was
// spawned; no suite exercised it in a pasted log). analyze --known on that log then says
// what the site knows.
func TestRealTranscriptsDevices(t *testing.T) {
	var logs []string
	for _, sub := range []string{"redox-logs", "redox-logs-2"} {
		l, _ := filepath.Glob(filepath.Join(fixtures.SharedDir(t, sub), "*.log"))
		logs = append(logs, l...)
	}
	if len(logs) == 0 {
		t.Fatal("no logs in ../shared")
	}
	runDir := filepath.Join(t.TempDir(), "run")
	var recs []*record.Record
	for _, l := range logs {
		name := strings.TrimSuffix(filepath.Base(l), ".log")
		recs = append(recs, &record.Record{Format: record.FormatVersion, Job: "redox@" + name + "/boot", Suite: "boot",
			Host:  record.Host{Name: name, Kind: "replay", Arch: "x86_64"},
			Image: record.Image{Name: "redox", Profile: "redox"}, Artifacts: map[string]string{"transcript": "transcript.log"},
			Checks: []record.Check{{Name: "boot/login", Verdict: record.Pass}}})
	}
	if err := fakerun.WriteRun(runDir, fakerun.Info(0), recs); err != nil {
		t.Fatal(err)
	}
	for i, l := range logs { // the real bytes as each record's transcript
		data, err := os.ReadFile(l)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runDir, record.JobsDir, record.JobDirName(recs[i].Job), "transcript.log"), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(t.TempDir(), "site")
	if code := reportSite([]string{"-o", out, "--rejudge", runDir}); code != 0 {
		t.Fatalf("report site exit %d", code)
	}
	data, err := os.ReadFile(filepath.Join(out, "devices.json"))
	if err != nil {
		t.Fatal(err)
	}
	x, err := devices.ReadExport(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	var e1000 *devices.ExportDevice
	for i, d := range x.Devices {
		if d.Key == "pci:8086:100e" {
			e1000 = &x.Devices[i]
		}
	}
	if e1000 == nil {
		t.Fatalf("no 8086:100e among %d devices", len(x.Devices))
	}
	if _, err := os.Stat(devices.PCIIDsPath); err == nil && e1000.Name != "82540EM Gigabit Ethernet Controller" {
		t.Errorf("8086:100e named %q", e1000.Name)
	}
	if c := e1000.OnMachines[0]; c.Grade != devices.Detected || c.Driver != "e1000d" || len(c.Evidence.Lines) == 0 {
		t.Errorf("e1000 on %s: %+v", c.Machine, c)
	}
	capture := filepath.Join(fixtures.SharedDir(t, "redox-logs-2"), "flashos-x86_64-qemu-nvme-ahci-rebranded-login-2026.log")
	code, text, errs := run([]string{"--known", filepath.Join(out, "devices.json"), capture}, "")
	if code == 2 || !strings.Contains(text, "8086:100e") || !strings.Contains(text, "elsewhere: driver bound but not exercised on 1 tested machine") {
		t.Errorf("analyze --known: exit %d, %s\n%s", code, errs, text)
	}
}
