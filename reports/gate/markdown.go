package gate

import (
	"fmt"
	"io"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// Markdown bounds: a merge-request comment must stay readable and far below GitLab's note
// limit (1,000,000 characters) whatever the run did.
const (
	mdMaxItems        = 50 // items listed per class
	mdMaxExcerptLines = 30 // last lines of each excerpt
	mdMaxExcerptBytes = 4 << 10
)

// WriteMarkdown writes the summary a bot posts as a merge request's comment: the verdict,
// the new failures with their transcript excerpts, what the change fixed, what is unchanged,
// and the lab's failures (INFRA) apart, since they say nothing about the change. Console
// text is escaped (no HTML, links or mentions from a transcript); excerpts are in fences
// longer than any backtick run inside them.
func (r Report) WriteMarkdown(w io.Writer, title string) error {
	var b strings.Builder
	if r.Regression {
		fmt.Fprintf(&b, "### %s: :x: %d new failure(s)\n\n", md(title), r.Counts[NewFailure])
	} else {
		fmt.Fprintf(&b, "### %s: :white_check_mark: no new failure\n\n", md(title))
	}
	var parts []string
	for _, c := range Classes {
		if r.Counts[c] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", c, r.Counts[c]))
		}
	}
	fmt.Fprintf(&b, "%s (checks compared with the baseline).\n", strings.Join(parts, ", "))

	if items := r.Of(NewFailure); len(items) > 0 {
		fmt.Fprintf(&b, "\n#### New failures (%d)\n\n", len(items))
		mdCapped(&b, items, mdAllInJSON, func(it Item) {
			mdItem(&b, it)
			if ex := excerpt(it.Excerpt); ex != "" {
				fence := strings.Repeat("`", max(3, longestRun(ex, '`')+1))
				fmt.Fprintf(&b, "\n  <details><summary>transcript excerpt</summary>\n\n  %s\n", fence)
				for _, l := range strings.Split(ex, "\n") {
					fmt.Fprintf(&b, "  %s\n", l)
				}
				fmt.Fprintf(&b, "  %s\n\n  </details>\n\n", fence)
			}
		})
	}
	mdList(&b, "Fixed", r.Of(Fixed))
	mdList(&b, "Flaky (failed, then passed when re-run: not counted)", r.Of(Flaky))
	mdList(&b, "Still failing (failed in the baseline too)", r.Of(StillFailing))
	mdList(&b, "New passes (not judged in the baseline)", r.Of(NewPass))
	mdList(&b, "Missing (in the baseline, not in this run)", r.Of(Missing))
	mdList(&b, "Not comparable (different hardware)", r.Of(NotComparable))
	if u := r.Of(Unchanged); len(u) > 0 {
		fmt.Fprintf(&b, "\n<details><summary>Unchanged (%d)</summary>\n\n", len(u))
		mdCapped(&b, u, "", func(it Item) {
			fmt.Fprintf(&b, "- `%s` `%s`: %s\n", code(it.Job), code(it.Check), it.Current)
		})
		b.WriteString("\n</details>\n")
	}
	if infra := r.Of(Infra); len(infra) > 0 {
		b.WriteString("\n---\n")
		mdList(&b, "Lab failures (INFRA: the lab, not the change; not counted)", infra)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func mdList(b *strings.Builder, heading string, items []Item) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(b, "\n#### %s (%d)\n\n", heading, len(items))
	mdCapped(b, items, mdAllInJSON, func(it Item) { mdItem(b, it) })
}

// mdAllInJSON ends the "… and N more" line of a class whose items all matter.
const mdAllInJSON = " (gate.json has them all)"

// mdCapped writes the first mdMaxItems of items with one, then a line counting the rest
// (note appended to it).
func mdCapped(b *strings.Builder, items []Item, note string, one func(Item)) {
	for i, it := range items {
		if i == mdMaxItems {
			fmt.Fprintf(b, "- … and %d more%s\n", len(items)-i, note)
			return
		}
		one(it)
	}
}

func mdItem(b *strings.Builder, it Item) {
	fmt.Fprintf(b, "- `%s` `%s`: %s → **%s**", code(it.Job), code(it.Check), orNone(it.Baseline), orNone(it.Current))
	if it.Message != "" {
		fmt.Fprintf(b, ": %s", md(it.Message))
	}
	if it.Reason != "" {
		fmt.Fprintf(b, " (%s)", md(it.Reason))
	}
	b.WriteString("\n")
}

// md makes console text inert in Markdown: one line, escaped, and no @mention (a zero-width
// space after every @: the bot must not ping whoever a transcript names).
func md(s string) string {
	return strings.ReplaceAll(text.MarkdownCell(s, 300), "@", "@\u200b")
}

// code keeps a name inside a code span (names are matrix identifiers; a backtick cannot
// occur in one, but a record could be hand-edited).
func code(s string) string { return strings.ReplaceAll(text.OneLine(s, 200), "`", "'") }

// excerpt is the end of an excerpt, cleaned and bounded.
func excerpt(s string) string {
	s = strings.TrimRight(text.Clean(s), "\n")
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	if len(lines) > mdMaxExcerptLines {
		lines = lines[len(lines)-mdMaxExcerptLines:]
	}
	s = strings.Join(lines, "\n")
	if len(s) > mdMaxExcerptBytes {
		s = "…" + strings.ToValidUTF8(s[len(s)-mdMaxExcerptBytes:], "")
	}
	return s
}

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
