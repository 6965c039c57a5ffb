package record

import (
	"encoding/json"
	"testing"
)

func TestUnknownVerdictIsRejectedOnLoad(t *testing.T) {
	var c struct {
		V Verdict `json:"verdict"`
	}
	if err := json.Unmarshal([]byte(`{"verdict":"HANG"}`), &c); err != nil || c.V != Hang {
		t.Fatalf("HANG: %v %q", err, c.V)
	}
	for _, bad := range []string{`"OK"`, `"pass"`, `""`, `"PASS "`} {
		if err := json.Unmarshal([]byte(`{"verdict":`+bad+`}`), &c); err == nil {
			t.Errorf("verdict %s was accepted", bad)
		}
	}
}
