package hardwaremd

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Entry is a row to add to a section.
type Entry struct {
	Status Status
	Row    Row
	// From says which results the row came from (host, images), for messages.
	From string
	// Capture is the screen the status was decided on, relative to the run directory
	// (jobs/<job>/screens/NN-<why>.png), when the boot was judged from the screen: the
	// evidence for a screen fact ("Boots to Orbital") in the row's Report.
	Capture string
}

// Change is one thing Merge did.
type Change struct {
	// Kind is "added" or "superseded".
	Kind    string `json:"kind"`
	Section string `json:"section"`
	// Line is the line number in the parsed file of a superseded row.
	Line int    `json:"line,omitempty"`
	Row  string `json:"row"`
	// By is the added row that superseded this one.
	By string `json:"by,omitempty"`
}

func (c Change) String() string {
	if c.Kind == "superseded" {
		return fmt.Sprintf("superseded line %d (%s): %s\n    by: %s", c.Line, c.Section, c.Row, c.By)
	}
	return fmt.Sprintf("added (%s): %s", c.Section, c.Row)
}

// Merge adds entries to their sections, each at its sorted place (before the first row
// that sorts after it; existing rows are never reordered), after removing every existing
// row an entry supersedes. A row is superseded by an entry for the same machine — same
// vendor and model (case-insensitively), and the entry's architectures, variants and
// firmwares each include the row's — whose image date is the same or newer (or both
// "Unknown"). Rows added by an earlier Merge are thus replaced on the next run, and a
// hand-written report survives unless a newer automated one covers everything it said
// about which machine configuration it was. Rows that could not be read as eight cells
// are never touched.
func (d *Doc) Merge(entries []Entry) ([]Change, error) {
	for _, st := range Statuses {
		if !d.Sections[st].HeaderOK {
			for _, e := range entries {
				if e.Status == st {
					return nil, fmt.Errorf("section %s: the table header is not the expected eight columns; not merging into it", st)
				}
			}
		}
	}
	es := append([]Entry(nil), entries...)
	slices.SortStableFunc(es, func(a, b Entry) int {
		if a.Status != b.Status {
			return int(a.Status) - int(b.Status)
		}
		return Compare(a.Row, b.Row)
	})
	var changes []Change
	for _, st := range Statuses {
		s := d.Sections[st]
		kept := s.Rows[:0:0]
		for _, ln := range s.Rows {
			if by, ok := supersededBy(ln, es); ok {
				changes = append(changes, Change{Kind: "superseded", Section: st.String(), Line: ln.N, Row: strings.TrimSuffix(ln.Raw, "\r"), By: by.Markdown()})
				continue
			}
			kept = append(kept, ln)
		}
		s.Rows = kept
	}
	for _, e := range es {
		s := d.Sections[e.Status]
		if s == nil {
			return nil, errors.New("unknown status")
		}
		ln := &Line{Raw: e.Row.Markdown() + s.eol, Row: e.Row, Cells: len(Columns), OK: true, Added: true}
		at := len(s.Rows)
		for k, r := range s.Rows {
			if r.Cells >= 2 && Compare(e.Row, r.Row) < 0 {
				at = k
				break
			}
		}
		s.Rows = slices.Insert(s.Rows, at, ln)
		changes = append(changes, Change{Kind: "added", Section: e.Status.String(), Row: e.Row.Markdown()})
	}
	return changes, nil
}

func supersededBy(ln *Line, es []Entry) (Row, bool) {
	if !ln.OK {
		return Row{}, false
	}
	r := ln.Row
	for _, e := range es {
		o := e.Row
		if fold(o.Vendor) != fold(r.Vendor) || fold(o.Model) != fold(r.Model) {
			continue
		}
		if !covers(o.Arch, r.Arch, normArch) || !covers(o.Variant, r.Variant, strings.ToLower) || !covers(o.Firmware, r.Firmware, strings.ToUpper) {
			continue
		}
		if o.Date == r.Date || (IsISODate(o.Date) && IsISODate(r.Date) && r.Date <= o.Date) {
			return o, true
		}
	}
	return Row{}, false
}

// covers reports whether every value of the list cell b is in the list cell a.
func covers(a, b string, norm func(string) string) bool {
	have := map[string]bool{}
	for _, v := range splitList(a) {
		have[norm(v)] = true
	}
	for _, v := range splitList(b) {
		if !have[norm(v)] {
			return false
		}
	}
	return true
}

func normArch(a string) string {
	switch strings.ToLower(a) {
	case "x86_64", "x86-64", "amd64":
		return "x86-64"
	case "aarch64", "arm64":
		return "arm64"
	case "i686", "i586":
		// One target renamed: redox mk/config.mk (81bc5bf) rewrites ARCH=i686 to i586, so
		// a test of the i586 build supersedes a machine's older i686 row.
		return "i586"
	}
	return strings.ToLower(a)
}
