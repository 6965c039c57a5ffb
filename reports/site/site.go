// Package site builds the static support page from one or more run directories (several
// runs are the history used for trends): html/template, the CSS embedded in the binary
// and inlined into every page, no JavaScript, no external resources (a Content Security
// Policy forbids scripts outright, as a second line of defence behind the escaping).
//
// Layout of the output directory:
//
//	index.html                       latest run: hosts x images, verdict cells; run history
//	machines/<host>.html             per machine: status per run and image (every check cell
//	                                 links to its transcript page and the run's JUnit), an
//	                                 inline SVG trend of time to login, boot stage timings
//	runs/<run>/junit.xml             the run's JUnit file
//	runs/<run>/jobs/<job>/           the job's artifacts, copied; transcript.html shows the
//	                                 checks, excerpts and transcript, escaped
//
// Every piece of console text is passed through text.Clean and html/template escaping.
package site

import (
	"bytes"
	"embed"
	"fmt"
	"hash/fnv"
	"html/template"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/rank"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
	"github.com/redox-hwtest/redox-hwtest/reports/junit"
	"github.com/redox-hwtest/redox-hwtest/reports/merge"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

//go:embed assets
var assets embed.FS

var (
	css   template.CSS
	pages *template.Template
)

func init() {
	data, err := assets.ReadFile("assets/style.css")
	if err != nil {
		panic(err)
	}
	css = template.CSS(data)
	pages = template.Must(template.New("pages").ParseFS(assets, "assets/pages.html"))
}

// Options tune Build.
type Options struct {
	// Title of the index page.
	Title string
	// MaxTranscript caps the bytes of a transcript shown inline (0 = 4 MiB); the raw file
	// is always copied whole.
	MaxTranscript int
}

// run is one run with the names it has in the site.
type run struct {
	*runs.Run
	slug string
}

// job is one record of a run.
type job struct {
	run  *run
	rec  *record.Record
	slug string // runs/<run>/jobs/<job>
}

func (j *job) page() string  { return j.slug + "/transcript.html" }
func (j *job) junit() string { return "runs/" + j.run.slug + "/junit.xml" }

type builder struct {
	out  string
	opt  Options
	runs []*run
	jobs map[*record.Record]*job
}

// Build writes the site for runs into out (created if needed; files are overwritten).
func Build(out string, in []*runs.Run, opt Options) error {
	if opt.Title == "" {
		opt.Title = "Redox OS hardware support"
	}
	if opt.MaxTranscript == 0 {
		opt.MaxTranscript = 4 << 20
	}
	b := &builder{out: out, opt: opt, jobs: map[*record.Record]*job{}}
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
	for _, r := range b.runs {
		jused := map[string]bool{}
		for _, rec := range r.Records {
			js := slug(record.JobDirName(rec.Job))
			for n := 2; jused[js]; n++ {
				js = fmt.Sprintf("%s-%d", slug(record.JobDirName(rec.Job)), n)
			}
			jused[js] = true
			b.jobs[rec] = &job{run: r, rec: rec, slug: "runs/" + r.slug + "/jobs/" + js}
		}
	}
	for _, d := range []string{out, filepath.Join(out, "machines"), filepath.Join(out, "runs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	for _, r := range b.runs {
		if err := b.writeRun(r); err != nil {
			return err
		}
	}
	if err := b.writeIndex(); err != nil {
		return err
	}
	for _, h := range b.hosts() {
		if err := b.writeMachine(h); err != nil {
			return err
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
}

type legend struct{ Class, Name, Meaning string }

var legends = []legend{
	{"pass", "PASS", "worked"}, {"fail", "FAIL", "wrong result"}, {"fail", "CRASH", "crash seen"},
	{"fail", "HANG", "stopped making progress"}, {"infra", "INFRA", "lab failure, not Redox"},
	{"skip", "SKIP", "host lacks the feature"}, {"xfail", "XFAIL", "known failure"}, {"xfail", "XPASS", "known failure passed"},
}

func newPage(title, root string) page {
	return page{Title: title, Root: root, CSS: css, Legend: legends}
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

// ---- runs: artifacts, JUnit, transcript pages ----

type checkView struct {
	Name, Verdict, Class, Message, Where, Excerpt string
}

type transcriptPage struct {
	page
	Job, Run, Host, HostPage, Image, Raw, JUnit string
	Checks                                      []checkView
	Events                                      []string
	Transcript                                  string
}

func (b *builder) writeRun(r *run) error {
	var buf bytes.Buffer
	if err := junit.WriteRun(&buf, r.Run, junit.Options{}); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(b.out, "runs", r.slug), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(b.out, "runs", r.slug, "junit.xml"), buf.Bytes(), 0o644); err != nil {
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
	return nil
}

// copyArtifacts copies the job directory's regular files (artifacts and result.json).
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
			return merge.CopyFile(p, filepath.Join(dst, rel))
		}
		return nil
	})
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
		cv := checkView{Name: text.Clean(c.Name), Verdict: text.Clean(string(c.Verdict)), Class: class(c.Verdict),
			Message: text.Clean(c.Message), Excerpt: text.Clean(c.Excerpt)}
		var where []string
		for _, kv := range [][2]string{{"stage", c.Stage}, {"component", c.Component}, {"title", c.Title}, {"known", c.Reference}} {
			if kv[1] != "" {
				where = append(where, kv[0]+" "+text.OneLine(kv[1], 200))
			}
		}
		cv.Where = strings.Join(where, ", ")
		tp.Checks = append(tp.Checks, cv)
	}
	for _, e := range rec.Events {
		tp.Events = append(tp.Events, text.OneLine(fmt.Sprintf("%s [%s] %s (line %d, %d times)", e.Kind, e.Component, e.Title, e.Line, e.Count), 300))
	}
	if t, ok := rec.Artifacts["transcript"]; ok {
		raw := filepath.Join(j.run.JobDir(rec), filepath.FromSlash(t))
		data, more, err := readHead(raw, b.opt.MaxTranscript)
		if err == nil {
			tp.Raw = escapeRel(t)
			note := ""
			if more > 0 {
				note = fmt.Sprintf("\n[... %d more bytes: see the raw transcript]\n", more)
			}
			tp.Transcript = text.Clean(string(data)) + note
		}
	}
	return b.render(j.page(), "transcript", tp)
}

// escapeRel escapes the segments of a relative artifact path for an href.
func escapeRel(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = strings.NewReplacer("%", "%25", "#", "%23", "?", "%3F", " ", "%20").Replace(s)
	}
	return strings.Join(segs, "/")
}

// ---- index ----

type imageHead struct{ Name, Facts string }

type indexCell struct {
	Present                                          bool
	Verdict, Class, Count, Summary, Page, Transcript string
	JUnit                                            string
}

type indexRow struct {
	Host, Label, Page string
	Cells             []indexCell
}

type runRow struct {
	ID, Started, Counts, JUnit string
	Jobs                       int
}

type indexPage struct {
	page
	Latest *runRow
	Images []imageHead
	Rows   []indexRow
	Runs   []runRow
}

func imageFacts(img record.Image) string {
	var f []string
	for _, s := range []string{img.Version, img.Date, img.Variant, img.Arch, img.Firmware} {
		if s != "" {
			f = append(f, s)
		}
	}
	return strings.Join(f, " · ")
}

func hostLabel(h record.Host) string {
	if h.Vendor != "" || h.Model != "" {
		return strings.TrimSpace(h.Vendor + " " + h.Model)
	}
	return strings.TrimSpace(h.Kind + " " + h.Machine)
}

func countChecks(recs []*record.Record) string {
	counts := map[record.Verdict]int{}
	for _, r := range recs {
		for _, c := range r.Checks {
			counts[c.Verdict]++
		}
	}
	var parts []string
	for _, v := range record.All {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	return strings.Join(parts, ", ")
}

func (b *builder) writeIndex() error {
	ip := indexPage{page: newPage(b.opt.Title, "")}
	for i := len(b.runs) - 1; i >= 0; i-- {
		r := b.runs[i]
		ip.Runs = append(ip.Runs, runRow{ID: r.Info.ID, Started: fmtTime(r.Info.Started), Jobs: len(r.Records),
			Counts: countChecks(r.Records), JUnit: "runs/" + r.slug + "/junit.xml"})
	}
	if len(b.runs) == 0 {
		return b.render("index.html", "index", ip)
	}
	ip.Latest = &ip.Runs[0]
	latest := b.runs[len(b.runs)-1]
	images := map[string]record.Image{}
	hosts := map[string]record.Host{}
	cells := map[[2]string][]*record.Record{}
	for _, rec := range latest.Records {
		images[rec.Image.Name] = rec.Image
		hosts[rec.Host.Name] = rec.Host
		k := [2]string{rec.Host.Name, rec.Image.Name}
		cells[k] = append(cells[k], rec)
	}
	imgNames := keys(images)
	for _, n := range imgNames {
		ip.Images = append(ip.Images, imageHead{Name: n, Facts: imageFacts(images[n])})
	}
	for _, hn := range keys(hosts) {
		row := indexRow{Host: hn, Label: hostLabel(hosts[hn]), Page: "machines/" + slug(hn) + ".html"}
		for _, in := range imgNames {
			recs := cells[[2]string{hn, in}]
			if len(recs) == 0 {
				row.Cells = append(row.Cells, indexCell{})
				continue
			}
			row.Cells = append(row.Cells, b.indexCell(latest, recs, row.Page))
		}
		ip.Rows = append(ip.Rows, row)
	}
	return b.render("index.html", "index", ip)
}

func (b *builder) indexCell(r *run, recs []*record.Record, hostPage string) indexCell {
	var vs []record.Verdict
	pass, n := 0, 0
	var worstRec *record.Record
	var worst record.Verdict
	for _, rec := range recs {
		for _, c := range rec.Checks {
			vs = append(vs, c.Verdict)
			n++
			if rank.Passed(c.Verdict) {
				pass++
			}
			if worstRec == nil || rank.Of(c.Verdict) > rank.Of(worst) {
				worstRec, worst = rec, c.Verdict
			}
		}
	}
	if worstRec == nil {
		worstRec = recs[0]
	}
	w := rank.Worst(vs...)
	j := b.jobs[worstRec]
	return indexCell{
		Present: true, Verdict: text.Clean(string(w)), Class: class(w),
		Count:   fmt.Sprintf("%d/%d", pass, n),
		Summary: countChecks(recs),
		Page:    hostPage + "#" + anchor(r, recs[0].Image.Name),
		// The log link goes to the job with the worst verdict: the one to read first.
		Transcript: j.page(),
		JUnit:      j.junit(),
	}
}

func anchor(r *run, image string) string { return "r-" + r.slug + "-" + slug(image) }

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ---- machine pages ----

type kv struct{ K, V string }

type checkCell struct {
	Present                                    bool
	Verdict, Class, Message, Transcript, JUnit string
}

type link struct{ Href, Text string }

type statusRow struct {
	Anchor, Run, Date, Image, Version string
	Cells                             []checkCell
	Evidence                          []link
}

type stageRow struct {
	Name, At, Delta string
	Line            int
	Pct             float64
}

type timing struct {
	Image, Run string
	Stages     []stageRow
}

type machinePage struct {
	page
	Host, Label string
	Facts       []kv
	Checks      []string
	Rows        []statusRow
	Timings     []timing
	Trend       trend
}

// hosts returns every host name seen, sorted.
func (b *builder) hosts() []string {
	m := map[string]bool{}
	for _, r := range b.runs {
		for _, rec := range r.Records {
			m[rec.Host.Name] = true
		}
	}
	return keys(m)
}

func (b *builder) writeMachine(host string) error {
	mp := machinePage{page: newPage(host+" — Redox OS hardware support", "../"), Host: host}
	checkSet := map[string]bool{}
	var latestHost record.Host
	type pair struct {
		r    *run
		img  string
		recs []*record.Record
	}
	var pairs []pair
	for _, r := range b.runs {
		byImg := map[string][]*record.Record{}
		for _, rec := range r.Records {
			if rec.Host.Name != host {
				continue
			}
			latestHost = rec.Host
			byImg[rec.Image.Name] = append(byImg[rec.Image.Name], rec)
			for _, c := range rec.Checks {
				checkSet[c.Name] = true
			}
		}
		for _, in := range keys(byImg) {
			pairs = append(pairs, pair{r, in, byImg[in]})
		}
	}
	mp.Label = hostLabel(latestHost)
	h := latestHost
	for _, f := range []kv{{"kind", h.Kind}, {"architecture", h.Arch}, {"firmware", h.Firmware}, {"machine", h.Machine},
		{"CPU", h.CPU}, {"memory", h.Memory}, {"accelerator", h.Accel}, {"devices", strings.Join(h.Devices, ", ")},
		{"vendor", h.Vendor}, {"model", h.Model}} {
		if f.V != "" {
			mp.Facts = append(mp.Facts, f)
		}
	}
	if h.SMP > 0 {
		mp.Facts = append(mp.Facts, kv{"CPUs", fmt.Sprint(h.SMP)})
	}
	mp.Checks = keys(checkSet)

	// Status rows, newest run first.
	for i := len(pairs) - 1; i >= 0; i-- {
		p := pairs[i]
		img := p.recs[0].Image
		row := statusRow{Anchor: anchor(p.r, p.img), Run: p.r.Info.ID, Date: fmtTime(p.r.Info.Started), Image: p.img, Version: imageFacts(img)}
		for _, cn := range mp.Checks {
			cell := checkCell{}
			for _, rec := range p.recs {
				for _, c := range rec.Checks {
					if c.Name == cn && (!cell.Present || rank.Of(c.Verdict) > rank.Of(record.Verdict(cell.Verdict))) {
						j := b.jobs[rec]
						cell = checkCell{Present: true, Verdict: text.Clean(string(c.Verdict)), Class: class(c.Verdict),
							Message: short(c.Message, 300), Transcript: "../" + j.page(), JUnit: "../" + j.junit()}
					}
				}
			}
			row.Cells = append(row.Cells, cell)
		}
		sort.Slice(p.recs, func(a, c int) bool { return p.recs[a].Job < p.recs[c].Job })
		for _, rec := range p.recs {
			j := b.jobs[rec]
			row.Evidence = append(row.Evidence, link{"../" + j.page(), rec.Suite + " log"})
			if t, ok := rec.Artifacts["transcript"]; ok {
				row.Evidence = append(row.Evidence, link{"../" + j.slug + "/" + escapeRel(t), rec.Suite + " raw"})
			}
			if ju, ok := rec.Artifacts["junit"]; ok {
				row.Evidence = append(row.Evidence, link{"../" + j.slug + "/" + escapeRel(ju), rec.Suite + " JUnit"})
			}
		}
		row.Evidence = append(row.Evidence, link{"../runs/" + p.r.slug + "/junit.xml", "run JUnit"})
		mp.Rows = append(mp.Rows, row)
	}

	// Boot stage timings: the latest run of each image.
	seen := map[string]bool{}
	for i := len(pairs) - 1; i >= 0; i-- {
		p := pairs[i]
		if seen[p.img] {
			continue
		}
		seen[p.img] = true
		rec := bootRecord(p.recs)
		if rec == nil || len(rec.Stages) == 0 {
			continue
		}
		t := timing{Image: p.img, Run: p.r.Info.ID}
		max := rec.Stages[len(rec.Stages)-1].At
		for _, s := range rec.Stages {
			if s.At > max {
				max = s.At
			}
		}
		var prev time.Duration
		for _, s := range rec.Stages {
			pct := 0.0
			if max > 0 {
				pct = 100 * float64(s.At) / float64(max)
			}
			t.Stages = append(t.Stages, stageRow{Name: text.Clean(s.Name), At: secs(s.At), Delta: "+" + secs(s.At-prev), Line: s.Line, Pct: pct})
			prev = s.At
		}
		mp.Timings = append(mp.Timings, t)
	}
	sort.Slice(mp.Timings, func(i, j int) bool { return mp.Timings[i].Image < mp.Timings[j].Image })

	var pts []trendPoint
	for _, p := range pairs {
		rec := bootRecord(p.recs)
		if rec == nil {
			continue
		}
		if at, ok := loginAt(rec); ok {
			pts = append(pts, trendPoint{series: p.img, run: p.r.Info.ID, when: p.r.Info.Started, secs: at.Seconds()})
		}
	}
	var runIDs []string
	for _, r := range b.runs {
		runIDs = append(runIDs, r.Info.ID)
	}
	mp.Trend = makeTrend(runIDs, pts)
	return b.render("machines/"+slug(host)+".html", "machine", mp)
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

// bootRecord is the record whose stage times describe the boot: the boot suite's, else
// the first (by job) that has stages.
func bootRecord(recs []*record.Record) *record.Record {
	sorted := append([]*record.Record(nil), recs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Job < sorted[j].Job })
	for _, r := range sorted {
		if r.Suite == "boot" && len(r.Stages) > 0 {
			return r
		}
	}
	for _, r := range sorted {
		if len(r.Stages) > 0 {
			return r
		}
	}
	return nil
}

// loginAt is the time the login stage was reached ("login", or "shell" for profiles whose
// login stage is the shell).
func loginAt(r *record.Record) (time.Duration, bool) {
	for _, name := range []string{"login", "shell"} {
		for _, s := range r.Stages {
			if s.Name == name {
				return s.At, true
			}
		}
	}
	return 0, false
}

// readHead reads at most max bytes of a regular file and reports how many more it holds:
// a transcript of any size, or a FIFO or device put in its place, cannot stall or fill
// the page builder.
func readHead(path string, max int) (data []byte, more int64, err error) {
	f, err := inputfile.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	data, err = io.ReadAll(io.LimitReader(f, int64(max)))
	if err != nil {
		return nil, 0, err
	}
	return data, max64(st.Size()-int64(len(data)), 0), nil
}

func max64(a, b int64) int64 {
	if a > b {
		return a
	}
	return b
}
