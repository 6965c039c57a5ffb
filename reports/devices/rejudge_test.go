package devices

import (
	"io"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// Rejudge replaces recorded inventories with the analyser's reading of each stored
// transcript, once per file. The analyser here is a function of the transcript's text
// (the real one, classify.Analyze, is wired in cmd/redox-hwtest and tested there).
func TestRejudge(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run")
	recs := fakerun.Records(0)
	for _, r := range recs {
		r.Devices = []record.Device{{Bus: "pci", Address: "old", VendorID: "dead", DeviceID: "beef", State: record.DeviceNoDriver}}
	}
	recs[0].Image.Profile = "" // no profile: kept as recorded
	if err := fakerun.WriteRun(dir, fakerun.Info(0), recs); err != nil {
		t.Fatal(err)
	}
	r, err := runs.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	a := Analyser{Version: "test analyser 1", Inventory: func(tr io.Reader, profile string) ([]record.Device, error) {
		calls.Add(1)
		data, _ := io.ReadAll(tr)
		if !strings.Contains(string(data), "transcript of") || profile != "redox" {
			t.Errorf("read %q with profile %q", data, profile)
		}
		return []record.Device{{Bus: "pci", Address: "0000:00:03.0", VendorID: "8086", DeviceID: "100e", State: record.DeviceInit}}, nil
	}}
	n, errs := Rejudge([]*runs.Run{r}, a)
	if len(errs) != 0 || n != len(recs)-1 || int(calls.Load()) != n {
		t.Errorf("read %d transcripts (%d calls), errors %v", n, calls.Load(), errs)
	}
	for _, rec := range r.Records {
		want := "8086"
		if rec.Image.Profile == "" {
			want = "dead"
		}
		if len(rec.Devices) != 1 || rec.Devices[0].VendorID != want {
			t.Errorf("%s: %+v", rec.Job, rec.Devices)
		}
	}
}
