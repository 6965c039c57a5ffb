package site

import (
	"encoding/base64"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
		}
		// A host and an image named with markup (names come from the matrix, not the
		// console, but must be escaped all the same).
		evil := *recs[len(recs)-1]
		evil.Host.Name, evil.Image.Name = fakerun.Hostile, "img-"+fakerun.Hostile
		evil.Job = evil.Image.Name + "@" + evil.Host.Name + "/boot"
		recs = append(recs, &evil)
		dir := filepath.Join(base, fmt.Sprint("night", i))
		if err := fakerun.WriteRun(dir, fakerun.Info(i), recs); err != nil {
			t.Fatal(err)
		}
		r, err := runs.Load(dir)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	return out
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
	// No page carries a script element or a raw hostile string; links stay inside the site.
	err := filepath.Walk(out, func(p string, info os.FileInfo, err error) error {
		if err != nil || !strings.HasSuffix(p, ".html") {
			return err
		}
		data, _ := os.ReadFile(p)
		s := string(data)
		if strings.Contains(strings.ToLower(s), "<script") {
			t.Errorf("%s: contains <script", p)
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
			target := strings.SplitN(href, "#", 2)[0]
			if target == "" || strings.HasPrefix(target, "data:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(p), filepath.FromSlash(target))); err != nil {
				t.Errorf("%s: broken link %s", p, href)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := os.ReadFile(filepath.Join(out, "machines", "optiplex.html"))
	for _, want := range []string{"<svg class=\"trend\"", "<polyline", "Boot stages", "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt;"} {
		if !strings.Contains(string(idx), want) {
			t.Errorf("machine page lacks %q", want)
		}
	}
}

// TestLastScreen: a job with screen captures shows its last screen on its page, inline (the
// page's CSP allows only data: images) and linked to the copied PNG.
func TestLastScreen(t *testing.T) {
	dir := t.TempDir()
	recs := fakerun.Records(0)
	r := recs[0]
	png := []byte("\x89PNG\r\n\x1a\nnot really a picture")
	r.Screens = []record.ScreenCapture{{File: "screens/01-HANG.png", Why: "HANG"}}
	if err := fakerun.WriteRun(dir, fakerun.Info(0), recs); err != nil {
		t.Fatal(err)
	}
	run, err := runs.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	jd := run.JobDir(r)
	os.MkdirAll(filepath.Join(jd, "screens"), 0o755)
	if err := os.WriteFile(filepath.Join(jd, "screens", "01-HANG.png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "site")
	if err := Build(out, []*runs.Run{run}, Options{}); err != nil {
		t.Fatal(err)
	}
	found := false
	filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, "transcript.html") {
			page, _ := os.ReadFile(p)
			if strings.Contains(string(page), `<img src="data:image/png;base64,`+base64.StdEncoding.EncodeToString(png)+`"`) {
				found = true
				if _, err := os.Stat(filepath.Join(filepath.Dir(p), "screens", "01-HANG.png")); err != nil {
					t.Errorf("the PNG was not copied beside the page: %v", err)
				}
			}
		}
		return nil
	})
	if !found {
		t.Error("no transcript page shows the last screen")
	}
}
