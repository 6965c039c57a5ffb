package site

import (
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

type kv struct{ K, V string }

type link struct{ Href, Text string }

// failureView is one failure of the machine's newest run, shown inline.
type failureView struct {
	Image, Check, Verdict, Class, Summary, Message, Where string
	Lines                                                 string // ~20 transcript lines around it
	LinesFrom                                             string // where they come from
	Transcript, Raw                                       string
}

// screenView is a screen capture artifact.
type screenView struct{ Image, Job, Href, Alt string }

// deviceCol and deviceRow make the device table: rows are image versions, newest first.
type deviceCell struct {
	Present                      bool
	State, Symbol, Verdict, Href string
	Title                        string
}

type deviceRow struct {
	Image, Version, Run, Date string
	Status                    status
	Cells                     []deviceCell
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

type statusChange struct {
	Date, Run, Image string
	From, To         status
}

type stageChart struct {
	Image string
	Chart trend
}

type machinePage struct {
	page
	Host, Label string
	Status      status
	Image       string
	Tested      string
	Facts       []kv
	Marks       []mark
	Failures    []failureView
	Screens     []screenView
	Columns     []string
	Devices     []deviceRow
	Found       []devMachineRow // the devices of its boots' inventories (the Devices view)
	Timings     []timing
	StageCharts []stageChart
	Trend       trend
	Changes     []statusChange
	MoreChanges int
	Tested0     string // first run of the machine
	Runs        int
}

// maxStatusChanges bounds the list of status class changes on a machine page.
const maxStatusChanges = 20

func (b *builder) writeMachine(m *machine) error {
	root := "../"
	mp := machinePage{page: newPage(m.name+" — Redox OS hardware support", root), Host: m.name, Label: label(m.host), Runs: len(m.runs)}
	last := len(m.runs) - 1
	hr := m.runs[last]
	mp.Status, mp.Image, mp.Tested = hr.best.status, hr.best.image.Name+" ("+imageFacts(hr.best.image)+")", fmtDay(hr.run.Info.Started)
	mp.Tested0 = fmtDay(m.runs[0].run.Info.Started)
	h := m.host
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
	mp.Marks = b.marks(hr.best, h, root)

	// The failures of the newest run, every image, inline.
	for _, ir := range hr.images {
		for _, is := range m.issues(last, ir) {
			mp.Failures = append(mp.Failures, b.failure(ir, is, root))
		}
		for _, rec := range ir.recs {
			mp.Screens = append(mp.Screens, b.screens(rec, root)...)
		}
	}

	b.deviceTable(m, &mp)
	mp.Found = b.machineDevices(m, root)
	b.timings(m, &mp)

	// Status class changes, newest first.
	for i := len(m.runs) - 1; i > 0; i-- {
		a, c := m.runs[i-1].best, m.runs[i].best
		if a.status.Name == c.status.Name {
			continue
		}
		if len(mp.Changes) == maxStatusChanges {
			mp.MoreChanges++
			continue
		}
		mp.Changes = append(mp.Changes, statusChange{Date: fmtDay(m.runs[i].run.Info.Started), Run: m.runs[i].run.Info.ID,
			Image: c.image.Name + " (" + imageVersion(c.image) + ")", From: a.status, To: c.status})
	}
	return b.render("machines/"+m.slug+".html", "machine", mp)
}

// failure builds the inline view of one failing check.
func (b *builder) failure(ir *imageRun, is issue, root string) failureView {
	j := b.jobs[is.rec]
	fv := failureView{Image: ir.image.Name, Check: is.check, Verdict: string(is.c.Verdict), Class: class(is.c.Verdict),
		Summary: fmt.Sprintf("%s: %s, since %s", subject(is.check), phrase(is.check, is.c), is.since),
		Message: text.Clean(is.c.Message), Where: where(is.c)}
	if p := j.page(); p != "" {
		fv.Transcript = root + p
	}
	if t, ok := is.rec.Artifacts["transcript"]; ok {
		if a := j.artifact(t); a != "" {
			fv.Raw = root + a
		}
		fv.Lines, fv.LinesFrom = b.around(filepath.Join(j.run.JobDir(is.rec), filepath.FromSlash(t)), is)
	}
	if fv.Lines == "" && is.c.Excerpt != "" {
		fv.Lines, fv.LinesFrom = lastLines(text.Clean(is.c.Excerpt), contextLines), "the end of the check's excerpt"
	}
	return fv
}

// contextLines is how many transcript lines a failure shows.
const contextLines = 20

// around returns ~20 lines of the transcript around the failure: around the line of the
// event the check names (same component or crash title), else the end of the transcript
// (a hang is where the output stopped; other failures are judged at the end).
func (b *builder) around(path string, is issue) (string, string) {
	data, err := readHead(path, b.opt.MaxTranscript)
	if err != nil || len(data) == 0 {
		return "", ""
	}
	lines := strings.Split(strings.TrimRight(text.Clean(string(data)), "\n"), "\n")
	at := 0
	for _, e := range is.rec.Events {
		if e.Line > 0 && ((is.c.Title != "" && e.Title == is.c.Title) || (is.c.Component != "" && e.Component == is.c.Component)) {
			at = e.Line
			break
		}
	}
	if at > 0 && at <= len(lines) {
		from := max(0, at-1-contextLines/2)
		to := min(len(lines), from+contextLines)
		return numbered(lines[from:to], from+1), fmt.Sprintf("transcript lines %d–%d (the event is on line %d)", from+1, to, at)
	}
	from := max(0, len(lines)-contextLines)
	return numbered(lines[from:], from+1), fmt.Sprintf("the last %d lines of the transcript", len(lines)-from)
}

func readHead(path string, n int) ([]byte, error) {
	f, err := inputfile.Open(path) // regular files only, never blocks on a FIFO
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, int64(n)))
}

func numbered(lines []string, first int) string {
	var sb strings.Builder
	for i, l := range lines {
		fmt.Fprintf(&sb, "%5d  %s\n", first+i, l)
	}
	return sb.String()
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// screens lists a record's screen captures: any PNG artifact whose name or path says
// "screen" (the record's artifact map is open-ended; capture writers name theirs so).
func (b *builder) screens(rec *record.Record, root string) []screenView {
	j := b.jobs[rec]
	var out []screenView
	for _, name := range keys(rec.Artifacts) {
		p := rec.Artifacts[name]
		if !strings.HasSuffix(strings.ToLower(p), ".png") || !strings.Contains(strings.ToLower(name+" "+p), "screen") {
			continue
		}
		if a := j.artifact(p); a != "" {
			out = append(out, screenView{Image: rec.Image.Name, Job: rec.Job, Href: root + a,
				Alt: text.OneLine("last screen of "+rec.Job+" ("+name+")", 200)})
		}
	}
	return out
}

// deviceTable fills the device table: one row per recent image version (newest first,
// bounded by Options.RecentVersions), one column per device plus login.
func (b *builder) deviceTable(m *machine, mp *machinePage) {
	type pick struct {
		hr *hostRun
		ir *imageRun
	}
	var picks []pick
	seen := map[string]bool{}
	for i := len(m.runs) - 1; i >= 0 && len(picks) < b.opt.RecentVersions; i-- {
		for _, ir := range m.runs[i].images {
			k := ir.image.Name + "\x00" + ir.image.Version + "\x00" + ir.image.Date
			if len(picks) == b.opt.RecentVersions {
				break
			}
			if ir.image.Version == "" && ir.image.Date == "" {
				k += "\x00" + m.runs[i].run.slug // unversioned images: one row per run
			}
			if seen[k] {
				continue
			}
			seen[k] = true
			picks = append(picks, pick{m.runs[i], ir})
		}
	}
	cols := map[string]bool{}
	for _, p := range picks {
		for n := range p.ir.checks {
			if n == "boot/login" || !strings.HasPrefix(n, "boot/") {
				cols[n] = true
			}
		}
	}
	names := keys(cols)
	sort.SliceStable(names, func(a, c int) bool { return colOrder(names[a]) < colOrder(names[c]) })
	for _, n := range names {
		if n == "boot/login" {
			mp.Columns = append(mp.Columns, "login")
			continue
		}
		mp.Columns = append(mp.Columns, subject(n))
	}
	for _, p := range picks {
		row := deviceRow{Image: p.ir.image.Name, Version: imageVersion(p.ir.image), Run: p.hr.run.Info.ID, Date: fmtDay(p.hr.run.Info.Started), Status: p.ir.status}
		for _, n := range names {
			c, ok := p.ir.checks[n]
			if !ok {
				row.Cells = append(row.Cells, deviceCell{})
				continue
			}
			st := stateOf(c.Verdict)
			cell := deviceCell{Present: true, State: st, Symbol: symbols[st], Verdict: text.OneLine(string(c.Verdict), 10),
				Title: text.OneLine(n+" "+string(c.Verdict)+": "+c.Message, 200)}
			if pg := b.jobs[p.ir.from[n]].page(); pg != "" {
				cell.Href = "../" + pg
			}
			row.Cells = append(row.Cells, cell)
		}
		mp.Devices = append(mp.Devices, row)
	}
}

func colOrder(n string) int {
	switch {
	case n == "boot/login":
		return 0
	case strings.HasPrefix(n, "drivers/"):
		return 1
	case strings.HasPrefix(n, "network/"):
		return 2
	}
	return 3
}

// timings fills the stage timeline of the newest boot per image, the chart of time to
// login across runs, and per image the chart of the time each stage was reached.
func (b *builder) timings(m *machine, mp *machinePage) {
	seen := map[string]bool{}
	for i := len(m.runs) - 1; i >= 0; i-- {
		for _, ir := range m.runs[i].images {
			if seen[ir.image.Name] {
				continue
			}
			seen[ir.image.Name] = true
			rec := bootRecord(ir.recs)
			if rec == nil || len(rec.Stages) == 0 {
				continue
			}
			t := timing{Image: ir.image.Name, Run: m.runs[i].run.Info.ID}
			var top time.Duration
			for _, s := range rec.Stages {
				top = max(top, s.At)
			}
			var prev time.Duration
			for _, s := range rec.Stages {
				pct := 0.0
				if top > 0 {
					pct = round(100 * float64(s.At) / float64(top))
				}
				t.Stages = append(t.Stages, stageRow{Name: text.Clean(s.Name), At: secs(s.At), Delta: "+" + secs(s.At-prev), Line: s.Line, Pct: pct})
				prev = s.At
			}
			mp.Timings = append(mp.Timings, t)
		}
	}
	sort.Slice(mp.Timings, func(i, j int) bool { return mp.Timings[i].Image < mp.Timings[j].Image })

	var runIDs []string
	var login []trendPoint
	stagePts := map[string][]trendPoint{}
	stageOrder := map[string][]string{}
	for _, hr := range m.runs {
		runIDs = append(runIDs, hr.run.Info.ID)
		for _, ir := range hr.images {
			rec := bootRecord(ir.recs)
			if rec == nil {
				continue
			}
			if at, ok := loginAt(rec); ok {
				login = append(login, trendPoint{series: ir.image.Name, run: hr.run.Info.ID, secs: at.Seconds()})
			}
			for _, s := range rec.Stages {
				if !contains(stageOrder[ir.image.Name], s.Name) {
					stageOrder[ir.image.Name] = append(stageOrder[ir.image.Name], s.Name)
				}
				stagePts[ir.image.Name] = append(stagePts[ir.image.Name], trendPoint{series: s.Name, run: hr.run.Info.ID, secs: s.At.Seconds()})
			}
		}
	}
	mp.Trend = makeTrend(runIDs, login, nil, "to login")
	for _, img := range keys(stagePts) {
		mp.StageCharts = append(mp.StageCharts, stageChart{Image: img, Chart: makeTrend(runIDs, stagePts[img], stageOrder[img], "stage reached")})
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// bootRecord is the record whose stage times describe the boot: the boot suite's, else
// the first (by job) that has stages.
func bootRecord(recs []*record.Record) *record.Record {
	var best *record.Record
	for _, r := range recs {
		if len(r.Stages) == 0 {
			continue
		}
		if best == nil || (r.Suite == "boot") != (best.Suite == "boot") && r.Suite == "boot" ||
			(r.Suite == "boot") == (best.Suite == "boot") && r.Job < best.Job {
			best = r
		}
	}
	return best
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
