// Package site builds the static support page from one or more run directories (several
// runs are the history: nightlies over a year). It answers the three questions a reader of
// a hardware support page asks: does my machine work, what exactly is broken on it, and
// since when — with the evidence one click away.
//
// Layout of the output directory:
//
//	index.html                  one row per machine: status class (the HARDWARE.md rule),
//	                            image last tested, per-device marks, what fails since which
//	                            image; filters and search (client-side); what changed since
//	                            the previous run (the gate's classes); recent runs
//	machines/<host>.html        per machine (a stable URL): the failures of its latest run
//	                            inline (message + transcript lines around it), its last
//	                            screen, devices over recent image versions, the boot stage
//	                            timeline, boot time per stage across runs, status changes
//	devices.html                one row per device ID (reports/devices): name, class,
//	                            driver, standing across machines, since when; search and
//	                            filters; the driver-work ranking (docs/devices.md)
//	devices/<key>.html          per device (a stable URL): every machine carrying it, the
//	                            evidence of its state, failure excerpts
//	devices.json, devices.csv   the export (schema in docs/devices.md, only added to)
//	runs/<run>/junit.xml        the run's JUnit file          } only for the newest
//	runs/<run>/jobs/<job>/      the job's artifacts, linked   } Options.EvidenceRuns runs:
//	                            or copied; transcript.html    } the site stays bounded
//	runs/<run>/.site-evidence   marks evidence this package wrote, with a fingerprint of
//	                            its inputs: a rebuild in place skips unchanged runs and
//	                            removes marked runs that left the window (nothing else)
//
// Everything is static and relative: no CDN, no network access, the same files work from
// file:// and from any static host (GitLab Pages). The only script is the index page's
// filter, inline and allowed by its SHA-256 in a Content Security Policy that forbids
// every other script, as a second line of defence behind the escaping: every piece of
// console text goes through text.Clean and html/template.
package site

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/devices"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
	"github.com/redox-hwtest/redox-hwtest/reports/junit"
	"github.com/redox-hwtest/redox-hwtest/reports/merge"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

//go:embed assets
var assets embed.FS

var (
	css       template.CSS
	filterJS  template.JS
	assetsSum string // SHA-256 of the page templates and the CSS
	scriptCSP string // the CSP source that allows filterJS and nothing else
	pages     *template.Template
)

func init() {
	data, err := assets.ReadFile("assets/style.css")
	if err != nil {
		panic(err)
	}
	css = template.CSS(data)
	js, err := assets.ReadFile("assets/filter.js")
	if err != nil {
		panic(err)
	}
	filterJS = template.JS(js)
	sum := sha256.Sum256(js)
	scriptCSP = "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
	pages = template.Must(template.New("pages").ParseFS(assets, "assets/pages.html"))
	tpl, _ := assets.ReadFile("assets/pages.html")
	all := sha256.Sum256(append(append(append([]byte(nil), tpl...), data...), js...))
	assetsSum = hex.EncodeToString(all[:])
}

// Options tune Build.
type Options struct {
	// Title of the index page.
	Title string
	// MaxTranscript caps the bytes of a transcript shown inline (0 = 4 MiB); the raw file
	// is always copied whole.
	MaxTranscript int
	// EvidenceRuns is how many of the newest runs get their evidence (artifacts, transcript
	// pages, JUnit) copied into the site (0 = 14: two weeks of nightlies, more than the
	// device table's RecentVersions rows). Older runs still count for status
	// history, "since" lines and trends, from their records; their evidence stays in their
	// run directories. This keeps the site's size and build time bounded over a year of
	// nightlies.
	EvidenceRuns int
	// RecentVersions bounds the rows of a machine's device table (0 = 12).
	RecentVersions int
	// IDs names devices in the Devices view; nil reads Debian's pci.ids and usb.ids
	// (devices.LoadIDs) when the site is built.
	IDs *devices.IDs
	// Analyzer names the analyser that re-derived the device inventories from the stored
	// transcripts (devices.Rejudge, before Build); "" when the states are as each run
	// recorded them. The Devices view and devices.json state it.
	Analyzer string
}

// run is one run with the names it has in the site.
type run struct {
	*runs.Run
	slug     string
	evidence bool // its artifacts and pages are in the site
}

// job is one record of a run.
type job struct {
	run  *run
	rec  *record.Record
	slug string // runs/<run>/jobs/<job>
}

// page is the job's transcript page relative to the site root, "" when the run's
// evidence is not in the site.
func (j *job) page() string {
	if j == nil || !j.run.evidence {
		return ""
	}
	return j.slug + "/transcript.html"
}

// artifact is the site path of one of the job's artifacts ("" without evidence).
func (j *job) artifact(rel string) string {
	if j == nil || !j.run.evidence || rel == "" {
		return ""
	}
	return j.slug + "/" + escapeRel(rel)
}

func (j *job) junit() string {
	if j == nil || !j.run.evidence {
		return ""
	}
	return "runs/" + j.run.slug + "/junit.xml"
}

type builder struct {
	out  string
	opt  Options
	runs []*run
	jobs map[*record.Record]*job

	ids          *devices.IDs
	devs         []*devices.Entry            // every device ID, in the Devices view's order
	devByMachine map[string][]*devices.Entry // machine name -> the devices it carries
}

// Build writes the site for runs into out (created if needed; files are overwritten).
func Build(out string, in []*runs.Run, opt Options) error {
	if opt.Title == "" {
		opt.Title = "Redox OS hardware support"
	}
	if opt.MaxTranscript == 0 {
		opt.MaxTranscript = 4 << 20
	}
	if opt.EvidenceRuns <= 0 {
		opt.EvidenceRuns = 14
	}
	if opt.RecentVersions <= 0 {
		opt.RecentVersions = 12
	}
	if err := checkOutside(out, in); err != nil {
		return err
	}
	b := &builder{out: out, opt: opt, jobs: map[*record.Record]*job{}, ids: opt.IDs}
	if b.ids == nil {
		ids, err := devices.LoadIDs()
		if err != nil {
			return err
		}
		b.ids = ids
	}
	used := map[string]bool{}
	for _, r := range in {
		s := slug(r.Info.ID)
		for n := 2; used[s]; n++ {
			s = fmt.Sprintf("%s-%d", slug(r.Info.ID), n)
		}
		used[s] = true
		b.runs = append(b.runs, &run{Run: r, slug: s})
	}
	sort.SliceStable(b.runs, func(i, j int) bool { return b.runs[i].Info.Started.Before(b.runs[j].Info.Started) })
	for i, r := range b.runs {
		r.evidence = i >= len(b.runs)-opt.EvidenceRuns
		jused := map[string]bool{}
		for _, rec := range r.Records {
			j := &job{run: r, rec: rec}
			b.jobs[rec] = j
			if !r.evidence {
				continue // no pages: no names needed
			}
			base := slug(record.JobDirName(rec.Job))
			js := base
			for n := 2; jused[js]; n++ {
				js = fmt.Sprintf("%s-%d", base, n)
			}
			jused[js] = true
			j.slug = "runs/" + r.slug + "/jobs/" + js
		}
	}
	for _, d := range []string{out, filepath.Join(out, "machines"), filepath.Join(out, "runs"), filepath.Join(out, "devices")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	var evidence []*run
	for _, r := range b.runs {
		if r.evidence {
			evidence = append(evidence, r)
		}
	}
	if err := parallel(evidence, b.writeRun); err != nil {
		return err
	}
	if err := b.pruneRuns(evidence); err != nil {
		return err
	}
	ms := b.machines()
	b.collectDevices()
	if err := b.writeDevices(); err != nil {
		return err
	}
	if err := b.writeIndex(ms); err != nil {
		return err
	}
	return parallel(ms, b.writeMachine)
}

// evidenceMark is the file that says a runs/<run>/ directory is evidence this package
// copied (and may remove again).
const evidenceMark = ".site-evidence"

// pruneRuns removes the evidence of runs that left the window from an earlier build into
// the same directory (a nightly rebuilds in place; the site must stay bounded). Only
// directories carrying evidenceMark are touched: `-o` pointed at a directory of real run
// directories loses nothing.
func (b *builder) pruneRuns(keep []*run) error {
	want := map[string]bool{}
	for _, r := range keep {
		want[r.slug] = true
	}
	ents, err := os.ReadDir(filepath.Join(b.out, "runs"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(b.out, "runs", e.Name(), evidenceMark)); err != nil {
			continue
		}
		if e.IsDir() && !want[e.Name()] {
			if err := os.RemoveAll(filepath.Join(b.out, "runs", e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// LoadRuns loads run directories for Build, a few at once (a year of nightlies is tens of
// thousands of small files; on a busy machine the overlap matters), in the order given;
// the first error in that order is returned.
func LoadRuns(dirs []string) ([]*runs.Run, error) {
	out := make([]*runs.Run, len(dirs))
	errs := make([]error, len(dirs))
	idx := make([]int, len(dirs))
	for i := range idx {
		idx[i] = i
	}
	var in devices.Interner
	parallel(idx, func(i int) error {
		out[i], errs[i] = runs.Load(dirs[i])
		if errs[i] == nil {
			// A year of inventories repeats the same few strings hundreds of thousands
			// of times: one copy each keeps the held records small.
			for _, rec := range out[i].Records {
				in.Devices(rec.Devices)
			}
		}
		return nil
	})
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// workers is how many pages or runs are written at once: the work is mostly small file
// writes, which overlap well even on two cores.
const workers = 4

// parallel calls f on every item with a few goroutines and returns the first error.
func parallel[T any](items []T, f func(T) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan T)
	)
	for range min(workers, len(items)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				if err := f(it); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	return first
}

// checkOutside refuses an output directory that overlaps an input run directory: the
// site replaces files under out/runs/ and must never touch the evidence it reads.
func checkOutside(out string, in []*runs.Run) error {
	o, err := filepath.Abs(out)
	if err != nil {
		return err
	}
	within := func(p, dir string) bool {
		rel, err := filepath.Rel(dir, p)
		return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
	}
	for _, r := range in {
		d, err := filepath.Abs(r.Dir)
		if err != nil {
			return err
		}
		if within(o, d) || within(d, filepath.Join(o, "runs")) {
			return fmt.Errorf("output directory %s overlaps the run directory %s: choose another", out, r.Dir)
		}
	}
	return nil
}

// slug turns a name into one safe path segment; names that had to change get a hash of
// the original so two names never collide.
func slug(s string) string {
	var b strings.Builder
	changed := false
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte('_')
			changed = true
		}
	}
	out := b.String()
	if out == "" || strings.Trim(out, ".") == "" || len(out) > 120 {
		changed = true
		if len(out) > 120 {
			out = out[:120]
		}
	}
	if changed {
		h := fnv.New32a()
		h.Write([]byte(s))
		out = fmt.Sprintf("%s-%08x", strings.Trim(out, "."), h.Sum32())
	}
	return out
}

func (b *builder) render(rel, name string, data any) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("%s: %w", rel, err)
	}
	p := filepath.Join(b.out, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	return os.WriteFile(p, buf.Bytes(), 0o644)
}

// page is what every page template gets.
type page struct {
	Title  string
	Root   string
	CSS    template.CSS
	Legend []legend
	// Script is the page's one script (the index filter), CSP allows it by hash.
	Script template.JS
	CSP    string
}

type legend struct{ Class, Name, Meaning string }

var legends = []legend{
	{"pass", "PASS", "worked"}, {"fail", "FAIL", "wrong result"}, {"fail", "CRASH", "crash seen"},
	{"fail", "HANG", "stopped making progress"}, {"infra", "INFRA", "lab failure, not Redox"},
	{"skip", "SKIP", "host lacks the feature"}, {"xfail", "XFAIL", "known failure"}, {"xfail", "XPASS", "known failure passed"},
}

const baseCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"

func newPage(title, root string) page {
	return page{Title: title, Root: root, CSS: css, Legend: legends, CSP: baseCSP + "; script-src 'none'"}
}

// withScript gives the page the filter script and a CSP that allows exactly it.
func (p page) withScript() page {
	p.Script = filterJS
	p.CSP = baseCSP + "; script-src " + scriptCSP
	return p
}

// class is the CSS class of a verdict (a fixed set: record content never reaches it).
func class(v record.Verdict) string {
	switch v {
	case record.Pass:
		return "pass"
	case record.Fail, record.Crash, record.Hang:
		return "fail"
	case record.Infra:
		return "infra"
	case record.Skip:
		return "skip"
	case record.XFail, record.XPass:
		return "xfail"
	}
	return "fail"
}

func short(s string, n int) string { return text.OneLine(s, n) }

func fmtTime(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func fmtDay(t time.Time) string {
	if t.IsZero() {
		return "unknown"
	}
	return t.UTC().Format("2006-01-02")
}

// ---- runs: artifacts, JUnit, transcript pages ----

type checkView struct {
	Name, Verdict, Class, Message, Where, Excerpt string
}

type transcriptPage struct {
	page
	Job, Run, Host, HostPage, Image, Raw, JUnit string
	// Screen is the last capture of the machine's screen, as a data: URL (the page's
	// content security policy allows no other image source).
	Screen template.URL
	Checks []checkView
	Events []string
	// Transcript is the escaped transcript, each line an element with id "L<n>" (1-based,
	// as the analyser counts them) so evidence links can point at the deciding lines.
	Transcript template.HTML
}

func (b *builder) writeRun(r *run) error {
	dir := filepath.Join(b.out, "runs", r.slug)
	fp, err := b.fingerprint(r)
	if err != nil {
		return err
	}
	if old, err := os.ReadFile(filepath.Join(dir, evidenceMark)); err == nil && string(old) == fp {
		return nil // written by an earlier build from the same inputs
	}
	var buf bytes.Buffer
	if err := junit.WriteRun(&buf, r.Run, junit.Options{}); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "junit.xml"), buf.Bytes(), 0o644); err != nil {
		return err
	}
	for _, rec := range r.Records {
		j := b.jobs[rec]
		if err := b.copyArtifacts(j); err != nil {
			return err
		}
		if err := b.writeTranscript(j); err != nil {
			return err
		}
	}
	// Last: the mark says the directory is complete, and from which inputs.
	return os.WriteFile(filepath.Join(dir, evidenceMark), []byte(fp), 0o644)
}

// evidenceFormat changes whenever the code changes what a run's evidence pages contain,
// so a rebuild does not keep pages an older version wrote.
const evidenceFormat = "site evidence 1"

// fingerprint identifies everything a run's evidence is made from: this code's format and
// assets, the options that shape it, the run's records and site names, and every file of
// its job directories (name, size, modification time). A nightly rebuilds the site in
// place; runs whose fingerprint is unchanged are not written again.
func (b *builder) fingerprint(r *run) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%s\x00%d\x00%s\x00", evidenceFormat, assetsSum, b.opt.MaxTranscript, r.slug)
	enc := json.NewEncoder(h)
	if err := enc.Encode(r.Info); err != nil {
		return "", err
	}
	for _, rec := range r.Records {
		j := b.jobs[rec]
		fmt.Fprintf(h, "%s\x00", j.slug)
		if err := enc.Encode(rec); err != nil {
			return "", err
		}
		src := j.run.JobDir(rec)
		err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d %d\n", p[len(src):], info.Size(), info.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)) + "\n", nil
}

// copyArtifacts copies the job directory's regular files (artifacts and result.json):
// hard links when the site is on the same file system (run directories are not
// modified after their run; a link costs one system call where a copy costs six), else
// copies.
func (b *builder) copyArtifacts(j *job) error {
	src := j.run.JobDir(j.rec)
	dst := filepath.Join(b.out, filepath.FromSlash(j.slug))
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		switch {
		case d.IsDir():
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		case d.Type().IsRegular() && rel != "transcript.html":
			to := filepath.Join(dst, rel)
			os.Remove(to) // a link never writes through an older copy or link
			if os.Link(p, to) == nil {
				return nil
			}
			return merge.CopyFile(p, to)
		}
		return nil
	})
}

// where names a check's stage, component, crash title and xfail reference.
func where(c record.Check) string {
	var w []string
	for _, kv := range [][2]string{{"stage", c.Stage}, {"component", c.Component}, {"title", c.Title}, {"known", c.Reference}} {
		if kv[1] != "" {
			w = append(w, kv[0]+" "+text.OneLine(kv[1], 200))
		}
	}
	return strings.Join(w, ", ")
}

func (b *builder) writeTranscript(j *job) error {
	rec := j.rec
	root := strings.Repeat("../", strings.Count(j.slug, "/")+1)
	tp := transcriptPage{
		page: newPage(short(rec.Job, 200)+" — transcript", root),
		Job:  rec.Job, Run: j.run.Info.ID, Host: rec.Host.Name, Image: rec.Image.Name,
		HostPage: root + "machines/" + slug(rec.Host.Name) + ".html",
		JUnit:    root + j.junit(),
	}
	for _, c := range rec.Checks {
		tp.Checks = append(tp.Checks, checkView{Name: text.Clean(c.Name), Verdict: text.Clean(string(c.Verdict)), Class: class(c.Verdict),
			Message: text.Clean(c.Message), Excerpt: text.Clean(c.Excerpt), Where: where(c)})
	}
	for _, e := range rec.Events {
		tp.Events = append(tp.Events, text.OneLine(fmt.Sprintf("%s [%s] %s (line %d, %d times)", e.Kind, e.Component, e.Title, e.Line, e.Count), 300))
	}
	if f := rec.LastScreen(); f != "" {
		if data, err := readHead(filepath.Join(j.run.JobDir(rec), filepath.FromSlash(f)), 8<<20); err == nil && bytes.HasPrefix(data, []byte("\x89PNG")) {
			tp.Screen = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(data))
		}
	}
	if t, ok := rec.Artifacts["transcript"]; ok {
		raw := filepath.Join(j.run.JobDir(rec), filepath.FromSlash(t))
		// Only the head is read: a transcript of any size, or a FIFO or device put in its
		// place, cannot stall or fill the page builder.
		data, err := readHead(raw, b.opt.MaxTranscript)
		if err == nil {
			tp.Raw = escapeRel(t)
			note := ""
			if st, err := os.Stat(raw); err == nil && st.Size() > int64(len(data)) {
				note = fmt.Sprintf("\n[... %d more bytes: see the raw transcript]\n", st.Size()-int64(len(data)))
			}
			tp.Transcript = anchoredLines(text.Clean(string(data))) + template.HTML(template.HTMLEscapeString(note))
		}
	}
	return b.render(j.page(), "transcript", tp)
}

// anchoredLines escapes the (cleaned) transcript and gives every line an id "L<n>".
func anchoredLines(s string) template.HTML {
	var sb strings.Builder
	sb.Grow(len(s) + len(s)/4)
	n := 0
	for len(s) > 0 {
		line, rest, found := strings.Cut(s, "\n")
		n++
		fmt.Fprintf(&sb, `<span id="L%d">`, n)
		template.HTMLEscape(&sb, []byte(line))
		sb.WriteString("</span>")
		if found {
			sb.WriteByte('\n')
		}
		s = rest
	}
	return template.HTML(sb.String())
}

// escapeRel escapes the segments of a relative artifact path for an href.
func escapeRel(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.NewReplacer("%", "%25", "#", "%23", "?", "%3F", " ", "%20").Replace(s)
	}
	return strings.Join(segs, "/")
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }
