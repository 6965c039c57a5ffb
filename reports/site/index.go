package site

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/gate"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// machineRow is one machine on the front page.
type machineRow struct {
	Name, Anchor, Page, Label   string
	Kind, Arch, Firmware        string // filter values
	Status                      status
	Image, Version, Tested, Run string
	Marks                       []mark
	Fails, Search               string
}

type option struct{ Value, Text string }

type filter struct {
	Name, Label string
	Options     []option
}

type runRow struct {
	ID, Started, Counts, JUnit string
	Jobs                       int
}

// changeItem is one gate item on the front page, with both runs' evidence.
type changeItem struct {
	Class, Host, HostPage, Image, Check, Was, Now, Message string
	Before, After                                          string // transcript pages, "" when absent
}

type changeGroup struct {
	Class, Name, Meaning string
	Items                []changeItem
	More                 int
}

type changes struct {
	Prev, Cur string
	Groups    []changeGroup
	Counts    string
}

type indexPage struct {
	page
	Latest    *runRow
	Machines  []machineRow
	Filters   []filter
	Changes   *changes
	Runs      []runRow
	OlderRuns int
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

func (b *builder) writeIndex(ms []*machine) error {
	ip := indexPage{page: newPage(b.opt.Title, "").withScript()}
	for i := len(b.runs) - 1; i >= 0; i-- {
		r := b.runs[i]
		if !r.evidence {
			ip.OlderRuns = i + 1
			break
		}
		ip.Runs = append(ip.Runs, runRow{ID: r.Info.ID, Started: fmtTime(r.Info.Started), Jobs: len(r.Records),
			Counts: countChecks(r.Records), JUnit: "runs/" + r.slug + "/junit.xml"})
	}
	if len(b.runs) == 0 {
		return b.render("index.html", "index", ip)
	}
	ip.Latest = &ip.Runs[0]
	sets := map[string]map[string]bool{"arch": {}, "firmware": {}, "kind": {}}
	for _, m := range ms {
		i := len(m.runs) - 1
		hr := m.runs[i]
		ir := hr.best
		row := machineRow{
			Name: m.name, Anchor: "m-" + m.slug, Page: "machines/" + m.slug + ".html", Label: label(m.host),
			Kind: m.host.Kind, Arch: m.host.Arch, Firmware: m.host.Firmware,
			Status: ir.status, Image: ir.image.Name, Version: imageVersion(ir.image),
			Tested: fmtDay(hr.run.Info.Started), Run: hr.run.Info.ID,
			Marks: b.marks(ir, m.host, ""),
			Fails: summary(m.issues(i, ir)),
		}
		sets["arch"][row.Arch] = true
		sets["firmware"][row.Firmware] = true
		sets["kind"][row.Kind] = true
		var words []string
		for _, s := range []string{m.name, row.Label, row.Kind, row.Arch, row.Firmware, row.Status.Name, row.Status.Report, row.Image, row.Version, row.Fails} {
			words = append(words, s)
		}
		for _, mk := range row.Marks {
			words = append(words, mk.Name, mk.Device)
		}
		row.Search = strings.ToLower(text.OneLine(strings.Join(words, " "), 4000))
		ip.Machines = append(ip.Machines, row)
	}
	for _, f := range []struct{ name, label string }{{"arch", "Architecture"}, {"firmware", "Firmware"}, {"kind", "Kind"}} {
		fl := filter{Name: f.name, Label: f.label}
		for _, v := range keys(sets[f.name]) {
			if v != "" {
				fl.Options = append(fl.Options, option{v, v})
			}
		}
		ip.Filters = append(ip.Filters, fl)
	}
	st := filter{Name: "status", Label: "Status"}
	for _, s := range []string{"Recommended", "Booting", "Broken", "Untested"} {
		st.Options = append(st.Options, option{strings.ToLower(s), s})
	}
	ip.Filters = append(ip.Filters, st)
	if len(b.runs) >= 2 {
		ip.Changes = b.whatChanged(b.runs[len(b.runs)-2], b.runs[len(b.runs)-1])
	}
	return b.render("index.html", "index", ip)
}

// classInfo is how the front page presents each gate class.
var classInfo = map[gate.Class]struct{ name, meaning string }{
	gate.NewFailure:    {"New failures", "failed now, passed (or was not run) in the previous run"},
	gate.Flaky:         {"Flaky", "failed, then passed when the job was re-run"},
	gate.Fixed:         {"Fixed", "failed in the previous run, passes now"},
	gate.NewPass:       {"New passes", "passes now, was not run (or skipped, or a lab error) before"},
	gate.Infra:         {"Lab errors", "not judged: the lab failed, not Redox"},
	gate.Missing:       {"Missing", "in the previous run, not in this one"},
	gate.NotComparable: {"Not comparable", "the machine's hardware facts changed"},
}

// maxChangeItems bounds each class's list (the counts stay exact).
const maxChangeItems = 50

// whatChanged compares the two newest runs as the nightly gate does (reports/gate), with
// the re-runs the gate recorded under <run>/reruns/<round>/ applied (flaky).
func (b *builder) whatChanged(prev, cur *run) *changes {
	rep := gate.Compare(prev.Records, cur.Records)
	rounds, _ := filepath.Glob(filepath.Join(cur.Dir, "reruns", "*"))
	sort.Strings(rounds)
	for _, d := range rounds {
		if recs, err := record.ReadRun(d); err == nil && len(recs) > 0 {
			rep.ApplyReruns(recs)
		}
	}
	byJob := func(r *run) map[string]*record.Record {
		m := map[string]*record.Record{}
		for _, rec := range r.Records {
			m[rec.Job] = rec
		}
		return m
	}
	pj, cj := byJob(prev), byJob(cur)
	ch := &changes{Prev: prev.Info.ID, Cur: cur.Info.ID}
	var counts []string
	for _, cl := range gate.Classes {
		if n := rep.Counts[cl]; n > 0 {
			counts = append(counts, fmt.Sprintf("%d %s", n, cl))
		}
		info, shown := classInfo[cl]
		if !shown {
			continue
		}
		items := rep.Of(cl)
		if len(items) == 0 {
			continue
		}
		g := changeGroup{Class: string(cl), Name: info.name, Meaning: info.meaning}
		for k, it := range items {
			if k == maxChangeItems {
				g.More = len(items) - k
				break
			}
			ci := changeItem{Class: string(cl), Host: it.Host, HostPage: "machines/" + slug(it.Host) + ".html",
				Image: it.Image, Check: it.Check, Was: orDash(it.Baseline), Now: orDash(it.Current),
				Message: text.OneLine(it.Message, 200)}
			if it.Reason != "" {
				ci.Message = text.OneLine(it.Reason, 200)
			}
			if rec, ok := pj[it.Job]; ok {
				ci.Before = b.jobs[rec].page()
			}
			if rec, ok := cj[it.Job]; ok {
				ci.After = b.jobs[rec].page()
			}
			g.Items = append(g.Items, ci)
		}
		ch.Groups = append(ch.Groups, g)
	}
	ch.Counts = strings.Join(counts, ", ")
	return ch
}

func orDash(v record.Verdict) string {
	if v == "" {
		return "—"
	}
	return text.OneLine(string(v), 20)
}
