package hardwaremd

import (
	"bytes"
	"flag"
	"fmt"
	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
)

var update = flag.Bool("update", false, "rewrite golden files")

const fixture = "../testdata/HARDWARE.md"

// upstreamPath is <module root>/../shared/redox-hardware/HARDWARE.md.
func upstreamPath(t *testing.T) string {
	t.Helper()
	dir, err := matrix.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "..", "shared", "redox-hardware", "HARDWARE.md")
	if _, err := os.Stat(p); err != nil {
		fixtures.MissingShared(t, "upstream HARDWARE.md not present at <module root>/../shared/redox-hardware/HARDWARE.md (%v); the round trip on the real file is not checked", err)
	}
	return p
}

func read(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func parse(t *testing.T, data []byte) *Doc {
	t.Helper()
	d, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func problemLines(d *Doc, kinds ...string) map[int]bool {
	m := map[int]bool{}
	for _, p := range d.Problems {
		for _, k := range kinds {
			if p.Kind == k {
				m[p.Line] = true
			}
		}
	}
	return m
}

// checkRoundTrip is the acceptance check: writing the parsed file reproduces it byte for
// byte, and rendering every row from its cells differs from the file exactly on the rows
// listed as malformed or irregularly spaced.
func checkRoundTrip(t *testing.T, data []byte) *Doc {
	t.Helper()
	d := parse(t, data)
	if got := d.Bytes(); !bytes.Equal(got, data) {
		t.Fatalf("round trip changed the file (%d bytes in, %d out)", len(data), len(got))
	}
	listed := problemLines(d, "malformed")
	for _, p := range d.Problems {
		if p.Kind == "nonstandard" && strings.HasPrefix(p.Msg, "spacing") {
			listed[p.Line] = true
		}
	}
	for _, st := range Statuses {
		for _, ln := range d.Rows(st) {
			differs := !ln.OK || ln.Row.Markdown() != strings.TrimSuffix(ln.Raw, "\r")
			if differs != listed[ln.N] {
				t.Errorf("line %d: rendering differs=%v but listed=%v: %s", ln.N, differs, listed[ln.N], ln.Raw)
			}
		}
	}
	return d
}

func TestUpstreamRoundTrip(t *testing.T) {
	p := upstreamPath(t)
	data := read(t, p)
	d := checkRoundTrip(t, data)
	n := 0
	for _, st := range Statuses {
		n += len(d.Rows(st))
	}
	if n < 10 {
		t.Fatalf("only %d rows parsed from the upstream file", n)
	}
	for _, pr := range d.Problems {
		t.Logf("upstream %s", pr)
	}
	if len(d.Malformed()) == 0 {
		t.Error("the upstream copy is known to have malformed rows; none found")
	}
	// The same file with CRLF line ends round-trips too.
	crlf := bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
	checkRoundTrip(t, crlf)
}

func TestFixtureProblems(t *testing.T) {
	d := checkRoundTrip(t, read(t, fixture))
	var got []string
	for _, p := range d.Problems {
		got = append(got, fmt.Sprintf("%d %s %s", p.Line, p.Kind, p.Msg))
	}
	want := []string{
		`42 order Lenovo IdeaPad 100 is out of vendor/model order; it belongs before line 41 (Lenovo ThinkPad X220)`,
		`44 malformed row does not end with |`,
		`45 nonstandard spacing differs from "| cell | cell |"`,
		`45 nonstandard Image Date "2025-02-30" is not an ISO 8601 date (YYYY-MM-DD)`,
		`45 nonstandard CPU Architecture "x86_64" is not one of x86-64, ARM64, i686, i586`,
		`51 malformed row has 7 cells, want 8`,
		`52 nonstandard Image Date "2026-1-25" is not an ISO 8601 date (YYYY-MM-DD)`,
		`53 nonstandard Motherboard Firmware "BIOS (CSM mode?)" is not one of BIOS, UEFI, U-Boot`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The fenced template with "## Broken" inside is not a section.
	if h := d.Sections[Broken].Heading; h != 46 {
		t.Errorf("Broken heading at line %d, want 47", h+1)
	}
	// An escaped pipe stays inside its cell.
	if r := d.Rows(Booting)[1].Row.Report; r != `Boots to Orbital, No touchpad support \| requires I2C HID` {
		t.Errorf("escaped pipe: report cell %q", r)
	}
}

func TestParseErrors(t *testing.T) {
	if _, err := Parse([]byte("# nothing\n")); err == nil {
		t.Error("a file without sections parsed")
	}
	data := read(t, fixture)
	if _, err := Parse(append(append([]byte{}, data...), "\n## Broken\n"...)); err == nil || !strings.Contains(err.Error(), "second") {
		t.Errorf("duplicate section: %v", err)
	}
}

func TestEntriesFromResults(t *testing.T) {
	entries, notes := DefaultRule.Entries(fakerun.Records(0))
	var got []string
	for _, e := range entries {
		got = append(got, e.Status.String()+" "+e.Row.Markdown())
	}
	want := []string{
		"Broken | Acer | Aspire One (D270) | 0.9.0 | 2026-03-17 | desktop | x86-64 | UEFI | Hangs after kernel start (last output from acpid) |",
		"Booting | Dell | OptiPlex 7010 | 0.9.0 | 2026-03-17 | desktop | x86-64 | UEFI | Boots to login, HDA audio driver crashes (panic at src/hda/device.rs: timeout on CORB command), NVMe driver hangs, DHCP not tested (lab error) |",
		"Booting | Raspberry Pi | 3 Model B+ | 0.9.0 | 2026-03-17 | server | ARM64 | U-Boot | Boots to login, display, sound, input and Ethernet not tested |",
		"Recommended | Lenovo | ThinkPad X220 | 0.9.0 | 2026-03-17 | desktop | x86-64 | BIOS, UEFI | Boots to login, display, sound, input and Ethernet work |",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	var ns []string
	for _, n := range notes {
		ns = append(ns, n.String())
	}
	if len(notes) != 3 || !strings.Contains(ns[0], "not a real machine") {
		t.Errorf("notes: %q", ns)
	}
}

func TestRuleStatuses(t *testing.T) {
	host := record.Host{Name: "m", Kind: "serial", Vendor: "V", Model: "M"}
	img := record.Image{Name: "i", Arch: "x86_64", Variant: "desktop", Version: "0.9.0", Date: "2026-01-02", Firmware: "uefi"}
	all := func(v record.Verdict) []record.Check {
		return []record.Check{{Name: "drivers/vesa", Verdict: v}, {Name: "drivers/hda", Verdict: v}, {Name: "drivers/ps2", Verdict: v}, {Name: "drivers/e1000", Verdict: v}}
	}
	login := func(v record.Verdict, stage string) record.Check {
		return record.Check{Name: "boot/login", Verdict: v, Stage: stage, Title: "kernel panic at src/x.rs: oops", Message: "wrong"}
	}
	for _, tc := range []struct {
		name   string
		checks []record.Check
		status string
		report string
	}{
		{"all pass", append(all(record.Pass), login(record.Pass, "")), "Recommended", "Boots to login, display, sound, input and Ethernet work"},
		{"xpass counts as pass", append(all(record.XPass), login(record.Pass, "")), "Recommended", "Boots to login, display, sound, input and Ethernet work"},
		{"xfail driver", append(append(all(record.Pass), record.Check{Name: "drivers/nvme", Verdict: record.XFail}), login(record.Pass, "")), "Booting", "Boots to login, NVMe driver fails (known issue)"},
		{"skip sound", append([]record.Check{{Name: "drivers/vesa", Verdict: record.Pass}, {Name: "drivers/hda", Verdict: record.Skip}, {Name: "drivers/ps2", Verdict: record.Pass}, {Name: "network/dhcp", Verdict: record.Pass}}, login(record.Pass, "")), "Booting", "Boots to login, sound not tested"},
		{"driver fails", append(all(record.Fail), login(record.Pass, "")), "Booting", "Boots to login, VESA display driver fails, HDA audio driver fails, PS/2 driver fails, e1000 Ethernet driver fails"},
		{"kernel panic", []record.Check{login(record.Crash, "kernel")}, "Broken", "Crashes after kernel start: kernel panic at src/x.rs: oops"},
		{"bootloader hang", []record.Check{login(record.Hang, "bootloader")}, "Broken", "Hangs after the bootloader"},
		{"fail", []record.Check{login(record.Fail, "init")}, "Broken", "Does not reach login: wrong"},
		{"known broken", []record.Check{login(record.XFail, "init")}, "Broken", "Does not reach login (known issue)"},
		{"infra login", []record.Check{login(record.Infra, "")}, "", ""},
		{"no login check", all(record.Pass), "", ""},
		{"virtual host", append(all(record.Pass), login(record.Pass, "")), "virtual", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := host
			if tc.status == "virtual" {
				h.Kind, tc.status = "qemu", ""
			}
			es, notes := DefaultRule.Entries([]*record.Record{{Job: "j", Image: img, Host: h, Checks: tc.checks}})
			if tc.status == "" {
				if len(es) != 0 || len(notes) != 1 {
					t.Fatalf("want no row and a note, got %v %v", es, notes)
				}
				return
			}
			if len(es) != 1 {
				t.Fatalf("entries %v notes %v", es, notes)
			}
			if es[0].Status.String() != tc.status || es[0].Row.Report != tc.report {
				t.Errorf("got %s %q, want %s %q", es[0].Status, es[0].Row.Report, tc.status, tc.report)
			}
		})
	}
}

func TestCellEscapes(t *testing.T) {
	c := Cell("a|b\\|c\n<script>\x00")
	if c != `a\|b\\\|c &lt;script&gt;\\x00` {
		t.Errorf("Cell = %q", c)
	}
	cells, closed := splitCells("| " + c + " | x |")
	if !closed || len(cells) != 2 || cells[0] != c {
		t.Errorf("escaped cell splits as %q", cells)
	}
}

func mergeFixture(t *testing.T, data []byte) ([]byte, []Change) {
	t.Helper()
	d := parse(t, data)
	entries, _ := DefaultRule.Entries(fakerun.Records(0))
	changes, err := d.Merge(entries)
	if err != nil {
		t.Fatal(err)
	}
	return d.Bytes(), changes
}

func TestMergeGolden(t *testing.T) {
	data := read(t, fixture)
	out, changes := mergeFixture(t, data)
	golden := "../testdata/HARDWARE.merged.md"
	if *update {
		if err := os.WriteFile(golden, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if want := read(t, golden); !bytes.Equal(out, want) {
		t.Errorf("merged file differs from %s (run with -update to accept):\n%s", golden, out)
	}
	var cs []string
	for _, c := range changes {
		cs = append(cs, c.Kind+" "+c.Section+" "+fmt.Sprint(c.Line))
	}
	want := "superseded Booting 41|added Recommended 0|added Booting 0|added Booting 0|added Broken 0"
	if strings.Join(cs, "|") != want {
		t.Errorf("changes %q, want %q", strings.Join(cs, "|"), want)
	}
	// Idempotent: merging the same results into the output changes nothing.
	again, _ := mergeFixture(t, out)
	if !bytes.Equal(again, out) {
		t.Errorf("second merge changed the file:\n%s", again)
	}
	// The merged file parses, and our rows are in order and well-formed.
	d := parse(t, out)
	for _, p := range d.Problems {
		for _, st := range Statuses {
			for _, ln := range d.Rows(st) {
				if ln.N == p.Line && strings.Contains(ln.Raw, "2026-03-17") {
					t.Errorf("our row has a problem: %s", p)
				}
			}
		}
	}
}

// TestMergeUpstream: merging into the real file keeps every upstream line (but the
// superseded ones) in order, and adds exactly our rows.
func TestMergeUpstream(t *testing.T) {
	data := read(t, upstreamPath(t))
	out, changes := mergeFixture(t, data)
	superseded := map[int]bool{}
	added := map[string]bool{}
	for _, c := range changes {
		if c.Kind == "superseded" {
			superseded[c.Line] = true
		} else {
			added[c.Row] = true
		}
	}
	in := strings.Split(string(data), "\n")
	got := strings.Split(string(out), "\n")
	j := 0
	for i, l := range in {
		if superseded[i+1] {
			continue
		}
		for j < len(got) && got[j] != l {
			if !added[got[j]] {
				t.Fatalf("output line %d is neither upstream nor ours: %q", j+1, got[j])
			}
			delete(added, got[j])
			j++
		}
		if j == len(got) {
			t.Fatalf("upstream line %d lost: %q", i+1, l)
		}
		j++
	}
	for ; j < len(got); j++ {
		delete(added, got[j])
	}
	if len(added) != 0 {
		t.Errorf("rows not written: %v", added)
	}
	for _, c := range changes {
		t.Log(c)
	}
}

// A downloaded daily image: its git describe tag gives the release it follows and its name
// the date, as upstream's rows for dailies read.
func TestDailyImageVersionAndDate(t *testing.T) {
	img := record.Image{Name: "desktop", Version: "0.9.0-123-g1a2b3c4", Date: "2026-12-04",
		File: "redox_desktop_0.9.0-123-g1a2b3c4_harddrive.img.zst"}
	if v := version(img); v != "0.9.0" {
		t.Errorf("version %q", v)
	}
	if d := imageDate(img); d != "2026-12-04" {
		t.Errorf("date %q", d)
	}
	img.Version = "2026-12-04_2"
	if v := version(img); v != "Unknown" {
		t.Errorf("version %q", v)
	}
}
