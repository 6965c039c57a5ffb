package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
)

// A lab password printed by the console in four forms — plain, with the characters every
// encoding escapes (" \ < & '), split by a colour escape (as a driver logging in colour
// prints it), and Go-quoted as in an error message — reaches no artifact of a run: not the
// transcript, host log, result.json (event titles and components included), JUnit, the
// table or the page, in any encoding the harness applies, raw or normalised (issue 14
// item 1). The run is a real replay through a socket, the reports are the real commands.
func TestPasswordInNoArtifact(t *testing.T) {
	plain, special := "hunter2-S3cr3t", `pa"ss\w0rd<&>'x`
	t.Setenv("RHW_TEST_PDU_PASSWORD", plain)
	t.Setenv("RHW_TEST_BMC_PASSWORD", special)
	for _, env := range []string{"RHW_TEST_PDU_PASSWORD", "RHW_TEST_BMC_PASSWORD"} {
		if _, err := secrets.Load(secrets.Source{Env: env}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	log := strings.Join([]string{
		"kernel::arch::x86_shared::start:INFO -- Redox OS starting...",
		`1970-01-01T00-00-02.100Z [@pcid_spawner:84 INFO] pcid-spawner: spawn "/usr/lib/drivers/pdud"`,
		"pdud: logging in with " + plain,                                            // plain
		"pdud: logging in with hunter2-\x1b[1mS3cr3t\x1b[0m",                        // ANSI-split
		"thread 'main' panicked at 'auth hunter2-\x1b[1mS3cr3t', src/main.rs:61:10", // into an event title
		"pdud: logging in with " + special,                                          // special characters
		fmt.Sprintf("pdud: error: login %q refused", special),                       // Go-quoted in an error
		"thread 'main' panicked at 'auth " + special + "', src/bin/pdud.rs:3:5",
		"redox login: ",
	}, "\r\n") + "\r\n"
	tr := filepath.Join(dir, "pdu.log")
	if err := os.WriteFile(tr, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	mx := filepath.Join(dir, "hw.yaml")
	y := replayMatrix("{silence: 3s, boot_timeout: 30s}", "pdu", tr)
	if err := os.WriteFile(mx, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	run := filepath.Join(out, "run")
	if code := runMain([]string{"-matrix", mx, "-out", run}); code != 1 {
		t.Fatalf("run: exit %d, want 1 (the panics)", code)
	}
	for _, args := range [][]string{
		{"junit", run, "-o", filepath.Join(out, "junit.xml")},
		{"table", run, "-o", filepath.Join(out, "results.md")},
		{"site", "-o", filepath.Join(out, "site"), run},
	} {
		if code := runReport(args); code != 0 {
			t.Fatalf("report %v: exit %d", args, code)
		}
	}

	var forms []string
	for _, s := range []string{plain, special} {
		forms = append(forms, secrets.Encodings(s)...)
	}
	files := 0
	sawPanicTitle := false
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		raw, norm := string(b), console.NormalizeString(string(b))
		for _, f := range forms {
			if n := strings.Count(raw, f) + strings.Count(norm, f); n > 0 {
				t.Errorf("%s holds the password (%q) %d times", strings.TrimPrefix(p, out), f, n)
			}
		}
		if strings.HasSuffix(p, "result.json") && strings.Contains(raw, "panic at") {
			sawPanicTitle = true
		}
		return nil
	})
	if files < 6 || !sawPanicTitle {
		t.Errorf("expected a run with transcript, records and reports (%d files, panic title recorded: %v)", files, sawPanicTitle)
	}
}
