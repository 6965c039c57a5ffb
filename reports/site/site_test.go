package site

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/fakerun"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// nights writes n synthetic nightly runs with hostile console text everywhere.
func nights(t *testing.T, n int) []*runs.Run {
	t.Helper()
	base := t.TempDir()
	var out []*runs.Run
	for i := 0; i < n; i++ {
		recs := fakerun.Records(i)
		for _, r := range recs {
			for k := range r.Checks {
				r.Checks[k].Message += " " + fakerun.Hostile
			}
			r.Events = append(r.Events, record.Event{Kind: "panic", Component: fakerun.Hostile, Title: fakerun.Nasty, Line: 3, Count: 1})
			inventory(r)
		}
		// A host and an image named with markup (names come from the matrix, not the
		// console, but must be escaped all the same).
		evil := *recs[len(recs)-1]
		evil.Host.Name, evil.Image.Name = fakerun.Hostile, "img-"+fakerun.Hostile
		evil.Job = evil.Image.Name + "@" + evil.Host.Name + "/boot"
		recs = append(recs, &evil)
		// The newest night: the ThinkPad's DHCP fails and its UEFI network job passes when
		// the gate re-runs it (flaky); the BIOS one stays failed (a new failure).
		var rerun []*record.Record
		if i == n-1 && n > 1 {
			for _, r := range recs {
				if r.Host.Name == fakerun.ThinkPad.Name && r.Suite == "network" {
					again := *r
					again.Checks = append([]record.Check(nil), r.Checks...)
					rerun = append(rerun, &again)
					r.Checks[0].Verdict, r.Checks[0].Message = record.Fail, "no lease "+fakerun.Hostile
					if r.Image.Name == fakerun.BIOS.Name {
						again.Checks[0].Verdict = record.Fail
					}
				}
			}
		}
		dir := filepath.Join(base, fmt.Sprint("night", i))
		if err := fakerun.WriteRun(dir, fakerun.Info(i), recs); err != nil {
			t.Fatal(err)
		}
		if rerun != nil {
			if err := fakerun.WriteRun(filepath.Join(dir, "reruns", "1"), fakerun.Info(i), rerun); err != nil {
				t.Fatal(err)
			}
		}
		// A screen capture artifact on the OptiPlex's drivers job (the record's artifact
		// list is open: any PNG named like a screen capture is shown).
		for _, r := range recs {
			if r.Host.Name == fakerun.OptiPlex.Name && r.Suite == "drivers" {
				r.Artifacts["screen"] = "screens/last screen.png"
				jd := filepath.Join(dir, record.JobsDir, record.JobDirName(r.Job))
				os.MkdirAll(filepath.Join(jd, "screens"), 0o755)
				if err := os.WriteFile(filepath.Join(jd, "screens", "last screen.png"), screenPNG(), 0o644); err != nil {
					t.Fatal(err)
				}
				if _, err := record.Write(dir, r); err != nil {
					t.Fatal(err)
				}
			}
		}
		r, err := runs.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
}

// screenPNG is a small picture standing in for a captured screen.
func screenPNG() []byte {
	img := image.NewRGBA(image.Rect(0, 0, 64, 40))
	for y := 0; y < 40; y++ {
		for x := 0; x < 64; x++ {
			img.Set(x, y, color.RGBA{uint8(x * 4), uint8(y * 6), 120, 255})
		}
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

func build(t *testing.T, n int) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "site")
	if err := Build(out, nights(t, n), Options{}); err != nil {
		t.Fatal(err)
	}
	if dir := os.Getenv("SITE_KEEP"); dir != "" {
		os.RemoveAll(dir)
		os.CopyFS(dir, os.DirFS(out))
	}
	return out
}

func TestSiteFiles(t *testing.T) {
	out := build(t, 3)
	for _, f := range []string{
		"index.html", "machines/optiplex.html", "machines/x220.html", "machines/qemu-q35.html",
		"runs/nightly-2026-03-19/junit.xml",
		"runs/nightly-2026-03-19/jobs/redox-0.9.0-desktop-uefi_at_optiplex__drivers/transcript.html",
		"runs/nightly-2026-03-19/jobs/redox-0.9.0-desktop-uefi_at_optiplex__drivers/transcript.log",
	} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	checkLinks(t, out)
	idx, _ := os.ReadFile(filepath.Join(out, "machines", "optiplex.html"))
	for _, want := range []string{"<svg class=\"trend\"", "<polyline", "Boot stages", "What fails in the newest run", "HDA: crashes in ihdad", "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"} {
		if !strings.Contains(string(idx), want) {
			t.Errorf("machine page lacks %q", want)
		}
	}
}

// checkLinks: no page carries a script other than the filter or control characters;
// links stay inside the site and point at files that exist.
func checkLinks(t *testing.T, out string) {
	t.Helper()
	err := filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".html") {
			return err
		}
		data, _ := os.ReadFile(p)
		s := string(data)
		// The one script allowed is the filter of the index and Devices pages, byte for byte.
		if n := strings.Count(strings.ToLower(s), "<script"); n > 1 || n == 1 && (!(strings.HasSuffix(p, "index.html") || strings.HasSuffix(p, "devices.html")) ||
			!strings.Contains(s, "<script>"+string(filterJS)+"</script>")) {
			t.Errorf("%s: a script other than the filter", p)
		}
		if strings.ContainsAny(s, "\x00\x1b") {
			t.Errorf("%s: control characters", p)
		}
		for _, l := range strings.Split(s, `href="`)[1:] {
			href := l[:strings.Index(l, `"`)]
			if strings.Contains(href, "://") || strings.HasPrefix(href, "/") {
				t.Errorf("%s: link leaves the site: %s", p, href)
				continue
			}
			target, frag, _ := strings.Cut(href, "#")
			if u, err := url.PathUnescape(target); err == nil {
				target = u
			}
			if target == "" || strings.HasPrefix(target, "data:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), filepath.FromSlash(target))); err != nil {
				t.Errorf("%s: broken link %s", p, href)
			} else if frag != "" {
				// An anchor (a device row, a transcript line) must exist in its page.
				if page, _ := os.ReadFile(filepath.Join(filepath.Dir(p), filepath.FromSlash(target))); !strings.Contains(string(page), `id="`+frag+`"`) {
					t.Errorf("%s: link %s: no such anchor", p, href)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestFrontPage: the classes and lines a reader relies on, from the synthetic runs.
func TestFrontPage(t *testing.T) {
	out := build(t, 3)
	data, err := os.ReadFile(filepath.Join(out, "index.html"))
	if err != nil {
		t.Fatal(err)
	}
	idx := string(data)
	row := func(host string) string {
		i := strings.Index(idx, `<tr id="m-`+host+`"`)
		if i < 0 {
			t.Fatalf("no row for %s", host)
		}
		return idx[i : i+strings.Index(idx[i:], "</tr>")]
	}
	for host, want := range map[string][]string{
		"rpi3": {`data-status="booting"`, "display, sound, input and Ethernet not tested", "nothing fails"},
		// Same rule as report hardware-md: login hangs = Broken, with the culprit.
		"aspire": {`data-status="broken"`, "Hangs after kernel start (last output from acpid)",
			"boot: hangs after stage kernel (last output from acpid), since 2026-03-17"},
		// Login passes, HDA crashes and NVMe hangs: Booting; device marks; since when.
		"optiplex": {`data-status="booting"`, `class="mk fails"`, `class="mk hangs"`,
			"HDA: crashes in ihdad (panic at src/hda/device.rs: timeout on CORB command), since 2026-03-17",
			"NVMe: hangs while nvmed starts, since 2026-03-17"},
		// A VM is judged by the same rule.
		"qemu-q35": {`data-status="booting"`, `data-kind="qemu"`, "QEMU q35 · x86_64 · UEFI"},
		// DHCP failed in the newest run only, with the image that passed before.
		"x220": {`data-status="booting"`, "Lenovo ThinkPad X220", "Boots to login, cannot connect to the internet, DHCP fails",
			"DHCP: fails: no lease", "since the run of 2026-03-19 (same image as before)"},
	} {
		r := row(host)
		for _, w := range want {
			if !strings.Contains(r, template.HTMLEscapeString(w)) && !strings.Contains(r, w) {
				t.Errorf("%s row lacks %q:\n%s", host, w, r)
			}
		}
	}
	// What changed: the gate's classes against the previous run, with both runs' evidence;
	// the re-run recorded under reruns/1 makes one of the two new failures flaky.
	for _, w := range []string{"New failures", "Flaky", "network/dhcp", `href="runs/nightly-2026-03-18/jobs/redox-0.9.0-desktop-uefi_at_x220__network/transcript.html">before`,
		`href="runs/nightly-2026-03-19/jobs/redox-0.9.0-desktop-uefi_at_x220__network/transcript.html">now`} {
		if !strings.Contains(idx, w) {
			t.Errorf("what changed lacks %q", w)
		}
	}
	ch := idx[strings.Index(idx, `id="changes"`):]
	nf := ch[strings.Index(ch, "New failures"):strings.Index(ch, "Flaky")]
	if !strings.Contains(nf, "redox-0.9.0-desktop-bios") || strings.Contains(nf, "redox-0.9.0-desktop-uefi ·") {
		t.Errorf("new failures should be the BIOS job only (the UEFI one passed its re-run):\n%s", nf)
	}
}

// TestMachinePage: the failure inline with transcript lines, the last screen, the device
// table newest first, status changes.
func TestMachinePage(t *testing.T) {
	out := build(t, 3)
	data, err := os.ReadFile(filepath.Join(out, "machines", "optiplex.html"))
	if err != nil {
		t.Fatal(err)
	}
	mp := string(data)
	for _, w := range []string{
		"What fails in the newest run", "the last 4 lines of the transcript", "redox login:",
		`<img src="../runs/nightly-2026-03-19/jobs/redox-0.9.0-desktop-uefi_at_optiplex__drivers/screens/last%20screen.png"`,
		"Devices over recent image versions", "Boot time per stage across runs", "Status changes",
	} {
		if !strings.Contains(mp, w) {
			t.Errorf("machine page lacks %q", w)
		}
	}
	x220, _ := os.ReadFile(filepath.Join(out, "machines", "x220.html"))
	if !strings.Contains(string(x220), `Recommended</span> → <span class="st booting">Booting`) {
		t.Errorf("x220's change Recommended → Booting (DHCP failed in the newest run) not listed")
	}
}

// TestEvidenceWindow: only the newest runs' evidence is copied; older runs still count
// (status history, since dates) and no link points at evidence that is not there.
func TestEvidenceWindow(t *testing.T) {
	out := filepath.Join(t.TempDir(), "site")
	if err := Build(out, nights(t, 5), Options{EvidenceRuns: 2}); err != nil {
		t.Fatal(err)
	}
	runsDirs, _ := os.ReadDir(filepath.Join(out, "runs"))
	if len(runsDirs) != 2 {
		t.Errorf("%d runs with evidence, want 2", len(runsDirs))
	}
	checkLinks(t, out)
	idx, _ := os.ReadFile(filepath.Join(out, "index.html"))
	if !strings.Contains(string(idx), "since 2026-03-17") || !strings.Contains(string(idx), "3 older run(s)") {
		t.Errorf("older runs do not count for since dates / are not mentioned")
	}
	// A rebuild in place with a smaller window drops the evidence that left it, and only
	// that: a directory the site did not copy stays.
	os.MkdirAll(filepath.Join(out, "runs", "not-ours"), 0o755)
	if err := Build(out, nights(t, 5), Options{EvidenceRuns: 1}); err != nil {
		t.Fatal(err)
	}
	if runsDirs, _ = os.ReadDir(filepath.Join(out, "runs")); len(runsDirs) != 2 {
		t.Errorf("after a rebuild with 1 evidence run: %d run directories, want it and not-ours", len(runsDirs))
	}
	checkLinks(t, out)
}

// TestAround: a failure shows the 20 transcript lines around the event the check names,
// else the last 20 lines.
func TestAround(t *testing.T) {
	dir := t.TempDir()
	var sb strings.Builder
	for i := 1; i <= 100; i++ {
		fmt.Fprintf(&sb, "line %d <b>\r\n", i)
	}
	p := filepath.Join(dir, "transcript.log")
	os.WriteFile(p, []byte(sb.String()), 0o644)
	b := &builder{opt: Options{MaxTranscript: 1 << 20}}
	rec := &record.Record{Events: []record.Event{{Kind: "panic", Component: "ihdad", Title: "x", Line: 50}}}
	lines, from := b.around(p, issue{c: record.Check{Component: "ihdad"}, rec: rec})
	if !strings.HasPrefix(lines, "   40  line 40 <b>\n") || !strings.HasSuffix(lines, "   59  line 59 <b>\n") || strings.Count(lines, "\n") != 20 {
		t.Errorf("around line 50:\n%s", lines)
	}
	if !strings.Contains(from, "lines 40–59 (the event is on line 50)") {
		t.Errorf("from = %q", from)
	}
	lines, _ = b.around(p, issue{c: record.Check{Component: "nvmed", Verdict: record.Hang}, rec: rec})
	if !strings.HasPrefix(lines, "   81  line 81") || !strings.HasSuffix(lines, "  100  line 100 <b>\n") {
		t.Errorf("hang, no matching event: want the last 20 lines:\n%s", lines)
	}
}

// TestOutputOverlap: an output directory inside a run directory, or holding one under its
// runs/, is refused before anything is written.
func TestOutputOverlap(t *testing.T) {
	rs := nights(t, 1)
	for _, out := range []string{rs[0].Dir, filepath.Join(rs[0].Dir, "site")} {
		if err := Build(out, rs, Options{}); err == nil || !strings.Contains(err.Error(), "overlaps") {
			t.Errorf("Build(%s): %v, want an overlap error", out, err)
		}
	}
	// `make run` keeps runs in out/runs/<time>/: `report site -o out out/runs/*/` is refused.
	out := t.TempDir()
	dir := filepath.Join(out, "runs", "night0")
	if err := fakerun.WriteRun(dir, fakerun.Info(0), fakerun.Records(0)); err != nil {
		t.Fatal(err)
	}
	r, err := runs.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := Build(out, []*runs.Run{r}, Options{}); err == nil || !strings.Contains(err.Error(), "overlaps") {
		t.Errorf("Build(%s) over %s: %v, want an overlap error", out, dir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "run.json")); err != nil {
		t.Errorf("the run directory was touched: %v", err)
	}
}

// TestRebuildInPlace: a rebuild into the same directory skips the runs whose inputs did not
// change and rewrites the one whose transcript did.
func TestRebuildInPlace(t *testing.T) {
	rs := nights(t, 3)
	out := filepath.Join(t.TempDir(), "site")
	if err := Build(out, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	page := func(run string) string {
		return filepath.Join(out, "runs", run, "jobs", "redox-0.9.0-desktop-uefi_at_optiplex__drivers", "transcript.html")
	}
	old := time.Unix(1, 0)
	for _, r := range []string{"nightly-2026-03-17", "nightly-2026-03-19"} {
		if err := os.Chtimes(page(r), old, old); err != nil {
			t.Fatal(err)
		}
	}
	// The newest run's transcript changes (as when a run directory is re-merged).
	tr := filepath.Join(rs[2].JobDir(rs[2].Records[0]), "transcript.log")
	if err := os.WriteFile(tr, []byte("a new transcript\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := Build(out, rs, Options{}); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(page("nightly-2026-03-17")); !st.ModTime().Equal(old) {
		t.Errorf("an unchanged run was written again")
	}
	if st, _ := os.Stat(page("nightly-2026-03-19")); st.ModTime().Equal(old) {
		t.Errorf("the run whose transcript changed was not written again")
	}
	checkLinks(t, out)
}
