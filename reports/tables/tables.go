// Package tables writes the Markdown compatibility table of a run: for each image, one
// row per host and one column per check, each cell a verdict symbol linking to the job's
// transcript, plus an evidence column (transcripts, JUnit) and a list of the failures
// with their messages. The output depends only on the records (never on run IDs, times or
// paths), so a run merged from shards renders exactly like the same run unsharded.
package tables

import (
	"fmt"
	"io"
	"net/url"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/rank"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// Symbols are the cell marks, one per verdict.
var Symbols = map[record.Verdict]string{
	record.Pass:  "✅",
	record.Fail:  "❌",
	record.Crash: "💥",
	record.Hang:  "⏳",
	record.Infra: "🔧",
	record.Skip:  "➖",
	record.XFail: "⚠️",
	record.XPass: "❗",
}

// Symbol returns the mark of v ("?" for an unknown verdict).
func Symbol(v record.Verdict) string {
	if s, ok := Symbols[v]; ok {
		return s
	}
	return "?"
}

// Options tune Markdown.
type Options struct {
	// LinkBase is prepended to every link; links are otherwise relative to the run
	// directory (write the table into the run directory, or set LinkBase to its URL).
	LinkBase string
	// JUnit is the run's JUnit file, relative to LinkBase ("" = no JUnit link).
	JUnit string
}

// cell is what one (image, host, check) shows: usually one job, several when two suites
// ran the same check.
type cell struct {
	entries []entry
}

type entry struct {
	rec   *record.Record
	check record.Check
}

// Markdown writes the table of recs to w.
func Markdown(w io.Writer, recs []*record.Record, opt Options) error {
	var b strings.Builder
	b.WriteString("# Redox hardware test results\n\n")
	b.WriteString("Legend: ")
	for i, v := range record.All {
		if i > 0 {
			b.WriteString(" · ")
		}
		fmt.Fprintf(&b, "%s %s", Symbol(v), v)
	}
	b.WriteString(". Each mark links to the transcript of its job.\n\n")
	writeTotals(&b, recs)

	byImage := map[string][]*record.Record{}
	images := map[string]record.Image{}
	for _, r := range recs {
		byImage[r.Image.Name] = append(byImage[r.Image.Name], r)
		images[r.Image.Name] = r.Image
	}
	for _, name := range sortedKeys(byImage) {
		writeImage(&b, images[name], byImage[name], opt)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTotals(b *strings.Builder, recs []*record.Record) {
	counts := map[record.Verdict]int{}
	n := 0
	for _, r := range recs {
		for _, c := range r.Checks {
			counts[c.Verdict]++
			n++
		}
	}
	var parts []string
	for _, v := range record.All {
		if counts[v] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[v], v))
		}
	}
	fmt.Fprintf(b, "%d jobs, %d checks: %s.\n\n", len(recs), n, strings.Join(parts, ", "))
}

func writeImage(b *strings.Builder, img record.Image, recs []*record.Record, opt Options) {
	fmt.Fprintf(b, "## %s\n\n", text.MarkdownCell(img.Name, 0))
	var facts []string
	for _, f := range []string{img.Version, img.Date, img.Variant, img.Arch, img.Firmware} {
		if f != "" {
			facts = append(facts, text.MarkdownCell(f, 0))
		}
	}
	if img.File != "" {
		// Which published file was tested (an image downloaded by url).
		// Code spans show their text literally (no escapes), so only backticks are dropped.
		code := strings.NewReplacer("`", "", "\n", " ", "\r", " ")
		facts = append(facts, "`"+code.Replace(img.File)+"`", "sha256 `"+code.Replace(img.SHA256)+"`")
	}
	if len(facts) > 0 {
		b.WriteString(strings.Join(facts, " · ") + "\n\n")
	}

	checkSet := map[string]bool{}
	hosts := map[string]record.Host{}
	grid := map[string]map[string]*cell{} // host -> check -> cell
	jobs := map[string][]*record.Record{} // host -> jobs
	for _, r := range recs {
		hosts[r.Host.Name] = r.Host
		jobs[r.Host.Name] = append(jobs[r.Host.Name], r)
		if grid[r.Host.Name] == nil {
			grid[r.Host.Name] = map[string]*cell{}
		}
		for _, c := range r.Checks {
			checkSet[c.Name] = true
			cl := grid[r.Host.Name][c.Name]
			if cl == nil {
				cl = &cell{}
				grid[r.Host.Name][c.Name] = cl
			}
			cl.entries = append(cl.entries, entry{r, c})
		}
	}
	checks := sortedKeys(checkSet)
	hostNames := sortedKeys(hosts)

	b.WriteString("| Host |")
	for _, c := range checks {
		fmt.Fprintf(b, " %s |", text.MarkdownCell(c, 0))
	}
	b.WriteString(" Evidence |\n|---|")
	for range checks {
		b.WriteString(":---:|")
	}
	b.WriteString("---|\n")
	for _, hn := range hostNames {
		h := hosts[hn]
		label := text.MarkdownCell(hn, 0)
		if h.Vendor != "" || h.Model != "" {
			label += " (" + text.MarkdownCell(strings.TrimSpace(h.Vendor+" "+h.Model), 0) + ")"
		}
		fmt.Fprintf(b, "| %s |", label)
		for _, c := range checks {
			cl := grid[hn][c]
			if cl == nil {
				b.WriteString(" |")
				continue
			}
			var marks []string
			for _, e := range cl.entries {
				marks = append(marks, mark(e, opt))
			}
			fmt.Fprintf(b, " %s |", strings.Join(marks, " "))
		}
		fmt.Fprintf(b, " %s |\n", evidence(jobs[hn], opt))
	}
	b.WriteString("\n")

	var fails []string
	for _, hn := range hostNames {
		for _, c := range checks {
			cl := grid[hn][c]
			if cl == nil {
				continue
			}
			for _, e := range cl.entries {
				if e.check.Verdict == record.Pass || e.check.Verdict == record.Skip {
					continue
				}
				fails = append(fails, failureLine(hn, e, opt))
			}
		}
	}
	if len(fails) > 0 {
		b.WriteString("Needs attention:\n\n")
		for _, f := range fails {
			b.WriteString(f)
		}
		b.WriteString("\n")
	}
}

func mark(e entry, opt Options) string {
	sym := Symbol(e.check.Verdict)
	if t, ok := e.rec.Artifacts["transcript"]; ok {
		return fmt.Sprintf("[%s](%s \"%s\")", sym, link(opt, e.rec, t), e.check.Verdict)
	}
	return sym
}

func failureLine(host string, e entry, opt Options) string {
	c := e.check
	var b strings.Builder
	fmt.Fprintf(&b, "- %s %s, %s: **%s**", Symbol(c.Verdict), text.MarkdownCell(host, 0), text.MarkdownCell(c.Name, 0), c.Verdict)
	if c.Message != "" {
		b.WriteString(": " + text.MarkdownCell(c.Message, 200))
	}
	var where []string
	if c.Stage != "" {
		where = append(where, "stage "+text.MarkdownCell(c.Stage, 40))
	}
	if c.Component != "" {
		where = append(where, "component "+text.MarkdownCell(c.Component, 40))
	}
	if c.Reference != "" {
		where = append(where, "known: "+text.MarkdownCell(c.Reference, 120))
	}
	if len(where) > 0 {
		b.WriteString(" (" + strings.Join(where, ", ") + ")")
	}
	if t, ok := e.rec.Artifacts["transcript"]; ok {
		fmt.Fprintf(&b, " [transcript](%s)", link(opt, e.rec, t))
	}
	b.WriteString("\n")
	return b.String()
}

func evidence(recs []*record.Record, opt Options) string {
	sort.Slice(recs, func(i, j int) bool { return recs[i].Job < recs[j].Job })
	var parts []string
	for _, r := range recs {
		if t, ok := r.Artifacts["transcript"]; ok {
			parts = append(parts, fmt.Sprintf("[%s](%s)", text.MarkdownCell(r.Suite, 40), link(opt, r, t)))
		}
		if j, ok := r.Artifacts["junit"]; ok {
			parts = append(parts, fmt.Sprintf("[%s JUnit](%s)", text.MarkdownCell(r.Suite, 40), link(opt, r, j)))
		}
	}
	if opt.JUnit != "" {
		parts = append(parts, fmt.Sprintf("[JUnit](%s)", escapePath(opt.LinkBase+opt.JUnit)))
	}
	return strings.Join(parts, " ")
}

// link is the URL of an artifact of a record, path segments escaped.
func link(opt Options, r *record.Record, artifact string) string {
	return escapePath(opt.LinkBase + runs.JobRel(r) + "/" + artifact)
}

func escapePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if i == 0 && strings.Contains(s, ":") {
			continue // scheme of an absolute URL in LinkBase
		}
		segs[i] = strings.NewReplacer("(", "%28", ")", "%29").Replace(url.PathEscape(s))
	}
	return strings.Join(segs, "/")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Worst is the most severe verdict among recs' checks (for summaries).
func Worst(recs []*record.Record) record.Verdict {
	var vs []record.Verdict
	for _, r := range recs {
		for _, c := range r.Checks {
			vs = append(vs, c.Verdict)
		}
	}
	return rank.Worst(vs...)
}
