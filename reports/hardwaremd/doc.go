// Package hardwaremd reads and writes Redox's HARDWARE.md (the upstream hardware
// compatibility list) and produces rows for it from test results.
//
// # The format
//
// Three level-2 sections, "## Recommended", "## Booting" and "## Broken", each holding one
// table with eight columns:
//
//	| **Vendor** | **Model** | **Redox Version** | **Image Date** | **Variant** | **CPU Architecture** | **Motherboard Firmware** | **Report** |
//
// Rows are sorted by vendor, then by model (alphabetical, independent per vendor; compared
// here case-insensitively), dates are ISO 8601 (YYYY-MM-DD), the variant is desktop, demo
// or server, the architecture x86-64, ARM64 or i686 (i586 is accepted: upstream rows use
// it), the firmware BIOS, UEFI or U-Boot; several values are written comma-separated
// ("BIOS, UEFI"), an unknown value as "Unknown".
//
// # Round trip
//
// Parse keeps every byte: Bytes on an unmodified Doc returns the input unchanged. Rows
// that do not fit the format are kept verbatim and listed as Problems with their line
// numbers (kind "malformed" when the row cannot be read as eight cells, "nonstandard" for
// a value outside the vocabulary above or spacing other than "| a | b |", "order" for a
// row that breaks the vendor/model order). Merge adds rows and removes the rows they
// supersede; everything else, malformed rows included, stays byte for byte.
package hardwaremd

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"time"
)

// Status is the section a row belongs to.
type Status int

const (
	Recommended Status = iota
	Booting
	Broken
)

// Statuses lists the sections in file order.
var Statuses = []Status{Recommended, Booting, Broken}

func (s Status) String() string {
	switch s {
	case Recommended:
		return "Recommended"
	case Booting:
		return "Booting"
	case Broken:
		return "Broken"
	}
	return fmt.Sprintf("Status(%d)", int(s))
}

// Columns are the table's column titles, in order.
var Columns = []string{"Vendor", "Model", "Redox Version", "Image Date", "Variant", "CPU Architecture", "Motherboard Firmware", "Report"}

// HeaderLine and SeparatorLine are the table header as upstream writes it.
const (
	HeaderLine    = "| **Vendor** | **Model** | **Redox Version** | **Image Date** | **Variant** | **CPU Architecture** | **Motherboard Firmware** | **Report** |"
	SeparatorLine = "|------------|-----------|-------------------|----------------|-------------|----------------------|--------------------------|------------|"
)

// Row is one machine report. Fields hold the cell's Markdown source, trimmed.
type Row struct {
	Vendor, Model, Version, Date, Variant, Arch, Firmware, Report string
}

// Cells returns the eight cells in column order.
func (r Row) Cells() []string {
	return []string{r.Vendor, r.Model, r.Version, r.Date, r.Variant, r.Arch, r.Firmware, r.Report}
}

func rowFromCells(c []string) Row {
	get := func(i int) string {
		if i < len(c) {
			return c[i]
		}
		return ""
	}
	return Row{get(0), get(1), get(2), get(3), get(4), get(5), get(6), get(7)}
}

// Markdown renders the row as upstream writes rows: "| a | b | ... |".
func (r Row) Markdown() string { return "| " + strings.Join(r.Cells(), " | ") + " |" }

// Line is one line of a section's table body.
type Line struct {
	// N is the 1-based line number in the parsed file (0 for a row added by Merge).
	N int
	// Raw is the line as read, without its "\n" (written back unchanged).
	Raw string
	// Row holds the cells as far as they could be read.
	Row Row
	// Cells is how many cells the line has; OK means exactly eight, between pipes.
	Cells int
	OK    bool
	// Added marks rows added by Merge.
	Added bool
}

// Problem is something wrong with a line of the file.
type Problem struct {
	Line    int    `json:"line"`
	Section string `json:"section,omitempty"`
	// Kind is "malformed", "nonstandard", "order" or "structure".
	Kind string `json:"kind"`
	Msg  string `json:"message"`
	// Text is the start of the offending line.
	Text string `json:"text"`
}

func (p Problem) String() string {
	return fmt.Sprintf("line %d (%s): %s: %s: %s", p.Line, p.Section, p.Kind, p.Msg, p.Text)
}

// Section is one status section and its table.
type Section struct {
	Status Status
	// Heading, Header, Separator are 0-based indices of those lines (-1 if absent).
	Heading, Header, Separator int
	// HeaderOK says the table has the eight expected columns (Merge needs it).
	HeaderOK bool
	// Rows is the table body; start and end delimit it in the original lines.
	Rows       []*Line
	start, end int
	eol        string
}

// Doc is a parsed HARDWARE.md.
type Doc struct {
	lines    []string
	Sections map[Status]*Section
	Problems []Problem
}

var (
	headingRe = regexp.MustCompile(`^##[ \t]+(Recommended|Booting|Broken)[ \t]*#*[ \t]*$`)
	sepCellRe = regexp.MustCompile(`^:?-+:?$`)
	versionRe = regexp.MustCompile(`^\d+\.\d+(\.\d+)?$`)
	dateRe    = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
)

// Vocabularies of the constrained columns (compared case-sensitively, as upstream writes
// them); "Unknown" is accepted everywhere.
var (
	Variants      = []string{"desktop", "demo", "server"}
	Architectures = []string{"x86-64", "ARM64", "i686", "i586"}
	Firmwares     = []string{"BIOS", "UEFI", "U-Boot"}
)

// Parse reads a HARDWARE.md. It fails only when a status section is missing or appears
// twice; everything else is recorded in Problems.
func Parse(data []byte) (*Doc, error) {
	d := &Doc{lines: strings.Split(string(data), "\n"), Sections: map[Status]*Section{}}
	fence := ""
	for i := 0; i < len(d.lines); i++ {
		l := strings.TrimSuffix(d.lines[i], "\r")
		t := strings.TrimLeft(l, " ")
		if fence != "" {
			if strings.HasPrefix(t, fence) && strings.Trim(t, fence[:1]+" \t") == "" {
				fence = ""
			}
			continue
		}
		if f := fenceOf(t); f != "" {
			fence = f
			continue
		}
		m := headingRe.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		st := statusOf(m[1])
		if s, dup := d.Sections[st]; dup {
			return nil, fmt.Errorf("line %d: second %q section (first at line %d)", i+1, m[1], s.Heading+1)
		}
		s := d.parseSection(st, i)
		d.Sections[st] = s
		if s.end > i {
			i = s.end - 1
		}
	}
	for _, st := range Statuses {
		if d.Sections[st] == nil {
			return nil, fmt.Errorf("no \"## %s\" section", st)
		}
	}
	for _, st := range Statuses {
		d.checkOrder(d.Sections[st])
	}
	slices.SortStableFunc(d.Problems, func(a, b Problem) int { return a.Line - b.Line })
	return d, nil
}

func fenceOf(t string) string {
	for _, f := range []string{"```", "~~~"} {
		if strings.HasPrefix(t, f) {
			n := len(t) - len(strings.TrimLeft(t, f[:1]))
			return strings.Repeat(f[:1], n)
		}
	}
	return ""
}

func statusOf(name string) Status {
	switch name {
	case "Booting":
		return Booting
	case "Broken":
		return Broken
	}
	return Recommended
}

func (d *Doc) problem(line int, s *Section, kind, msg string) {
	text := strings.TrimSuffix(d.lines[line], "\r")
	if r := []rune(text); len(r) > 80 {
		text = string(r[:79]) + "…"
	}
	d.Problems = append(d.Problems, Problem{Line: line + 1, Section: s.Status.String(), Kind: kind, Msg: msg, Text: text})
}

// parseSection reads the table after a heading at line h.
func (d *Doc) parseSection(st Status, h int) *Section {
	s := &Section{Status: st, Heading: h, Header: -1, Separator: -1, start: h + 1, end: h + 1}
	i := h + 1
	for i < len(d.lines) && strings.TrimSpace(d.lines[i]) == "" {
		i++
	}
	if i >= len(d.lines) || !isTableLine(d.lines[i]) {
		d.problem(h, s, "structure", "section has no table")
		return s
	}
	s.Header = i
	if strings.HasSuffix(d.lines[i], "\r") {
		s.eol = "\r"
	}
	hc, closed := splitCells(strings.TrimSuffix(d.lines[i], "\r"))
	s.HeaderOK = closed && len(hc) == len(Columns)
	for k := 0; s.HeaderOK && k < len(hc); k++ {
		if !strings.EqualFold(strings.Trim(hc[k], "* "), Columns[k]) {
			s.HeaderOK = false
		}
	}
	if !s.HeaderOK {
		d.problem(i, s, "structure", fmt.Sprintf("table header is not the eight columns %s", strings.Join(Columns, ", ")))
	}
	i++
	if i < len(d.lines) && isTableLine(d.lines[i]) {
		sc, _ := splitCells(strings.TrimSuffix(d.lines[i], "\r"))
		ok := len(sc) > 0
		for _, c := range sc {
			ok = ok && sepCellRe.MatchString(c)
		}
		if ok {
			s.Separator = i
			i++
		} else {
			d.problem(i, s, "structure", "second table line is not a |---| separator")
			s.HeaderOK = false
		}
	}
	s.start = i
	for ; i < len(d.lines); i++ {
		raw := d.lines[i]
		l := strings.TrimSuffix(raw, "\r")
		if strings.TrimSpace(l) == "" || strings.HasPrefix(strings.TrimLeft(l, " "), "#") {
			break
		}
		s.Rows = append(s.Rows, d.parseRow(s, i))
	}
	s.end = i
	return s
}

func isTableLine(l string) bool { return strings.HasPrefix(strings.TrimLeft(l, " "), "|") }

// splitCells splits a table line into trimmed cells; closed reports a trailing pipe.
// A backslash-escaped pipe stays inside its cell (as "\|").
func splitCells(l string) (cells []string, closed bool) {
	t := strings.TrimSpace(l)
	if !strings.HasPrefix(t, "|") {
		return nil, false
	}
	t = t[1:]
	var cur strings.Builder
	for i := 0; i < len(t); i++ {
		switch {
		case t[i] == '\\' && i+1 < len(t):
			cur.WriteByte(t[i])
			cur.WriteByte(t[i+1])
			i++
		case t[i] == '|':
			cells = append(cells, strings.TrimSpace(cur.String()))
			cur.Reset()
		default:
			cur.WriteByte(t[i])
		}
	}
	rest := strings.TrimSpace(cur.String())
	if rest == "" && len(cells) > 0 {
		return cells, true
	}
	return append(cells, rest), false
}

func (d *Doc) parseRow(s *Section, i int) *Line {
	raw := d.lines[i]
	l := strings.TrimSuffix(raw, "\r")
	ln := &Line{N: i + 1, Raw: raw}
	if !isTableLine(l) {
		d.problem(i, s, "malformed", "line inside the table does not start with |")
		return ln
	}
	cells, closed := splitCells(l)
	ln.Row, ln.Cells = rowFromCells(cells), len(cells)
	switch {
	case !closed && len(cells) == len(Columns):
		d.problem(i, s, "malformed", "row does not end with |")
	case !closed:
		d.problem(i, s, "malformed", fmt.Sprintf("row has %d cells, want %d, and does not end with |", len(cells), len(Columns)))
	case len(cells) != len(Columns):
		d.problem(i, s, "malformed", fmt.Sprintf("row has %d cells, want %d", len(cells), len(Columns)))
	default:
		ln.OK = true
	}
	if !ln.OK {
		return ln
	}
	if ln.Row.Markdown() != l {
		d.problem(i, s, "nonstandard", "spacing differs from \"| cell | cell |\"")
	}
	for _, msg := range CheckRow(ln.Row) {
		d.problem(i, s, "nonstandard", msg)
	}
	return ln
}

// CheckRow lists the values of r outside the documented vocabulary.
func CheckRow(r Row) []string {
	var out []string
	for k, c := range r.Cells() {
		if c == "" {
			out = append(out, fmt.Sprintf("empty %q", Columns[k]))
		}
	}
	if r.Version != "" && r.Version != "Unknown" && !versionRe.MatchString(r.Version) {
		out = append(out, fmt.Sprintf("Redox Version %q is not a version number like 0.9.0", r.Version))
	}
	if r.Date != "" && r.Date != "Unknown" && !IsISODate(r.Date) {
		out = append(out, fmt.Sprintf("Image Date %q is not an ISO 8601 date (YYYY-MM-DD)", r.Date))
	}
	out = append(out, checkList("Variant", r.Variant, Variants)...)
	out = append(out, checkList("CPU Architecture", r.Arch, Architectures)...)
	out = append(out, checkList("Motherboard Firmware", r.Firmware, Firmwares)...)
	return out
}

func checkList(col, cell string, vocab []string) []string {
	if cell == "" {
		return nil
	}
	var out []string
	for _, v := range splitList(cell) {
		if v != "Unknown" && !slices.Contains(vocab, v) {
			out = append(out, fmt.Sprintf("%s %q is not one of %s", col, v, strings.Join(vocab, ", ")))
		}
	}
	return out
}

// splitList splits "BIOS, UEFI" into its values.
func splitList(cell string) []string {
	var out []string
	for _, v := range strings.Split(cell, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// IsISODate reports whether s is a valid YYYY-MM-DD date.
func IsISODate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse("2006-01-02", s)
	return err == nil
}

// fold is the comparison form of a vendor or model.
func fold(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// Compare orders rows as the file does: vendor, then model (case-insensitively), then
// architecture, image date, variant, firmware, and finally the exact text.
func Compare(a, b Row) int {
	for _, p := range [][2]string{{a.Vendor, b.Vendor}, {a.Model, b.Model}, {a.Arch, b.Arch}, {a.Date, b.Date}, {a.Variant, b.Variant}, {a.Firmware, b.Firmware}} {
		if c := strings.Compare(fold(p[0]), fold(p[1])); c != 0 {
			return c
		}
	}
	return strings.Compare(a.Markdown(), b.Markdown())
}

// compareVM is the documented ordering rule: vendor, then model.
func compareVM(a, b Row) int {
	if c := strings.Compare(fold(a.Vendor), fold(b.Vendor)); c != 0 {
		return c
	}
	return strings.Compare(fold(a.Model), fold(b.Model))
}

// checkOrder flags the rows that break the vendor/model order: the rows outside a
// longest ordered subsequence (the fewest rows that, moved, would sort the table).
func (d *Doc) checkOrder(s *Section) {
	var idx []int
	for k, ln := range s.Rows {
		if ln.Cells >= 2 {
			idx = append(idx, k)
		}
	}
	n := len(idx)
	if n < 2 {
		return
	}
	// Longest non-decreasing subsequence, O(n log n) (patience sorting), built from the
	// end so that between equally long answers the earlier rows are kept and the later
	// ones blamed (a row added in the wrong place is usually the newer one).
	prev := make([]int, n)
	var tails []int
	for i := n - 1; i >= 0; i-- {
		key := s.Rows[idx[i]].Row
		p := sort.Search(len(tails), func(k int) bool { return compareVM(key, s.Rows[idx[tails[k]]].Row) > 0 })
		prev[i] = -1
		if p > 0 {
			prev[i] = tails[p-1]
		}
		if p == len(tails) {
			tails = append(tails, i)
		} else {
			tails[p] = i
		}
	}
	keep := map[int]bool{}
	for i := tails[len(tails)-1]; i >= 0; i = prev[i] {
		keep[i] = true
	}
	for i := range n {
		if keep[i] {
			continue
		}
		r := s.Rows[idx[i]]
		where := "at the end of the table"
		for j := range n {
			if keep[j] && compareVM(r.Row, s.Rows[idx[j]].Row) < 0 {
				where = fmt.Sprintf("before line %d (%s %s)", s.Rows[idx[j]].N, s.Rows[idx[j]].Row.Vendor, s.Rows[idx[j]].Row.Model)
				break
			}
		}
		d.problem(r.N-1, s, "order", fmt.Sprintf("%s %s is out of vendor/model order; it belongs %s", r.Row.Vendor, r.Row.Model, where))
	}
}

// Bytes writes the document back: unchanged lines verbatim, added rows rendered.
func (d *Doc) Bytes() []byte {
	var out []string
	pos := 0
	for _, st := range sectionsInFileOrder(d) {
		s := d.Sections[st]
		out = append(out, d.lines[pos:s.start]...)
		for _, ln := range s.Rows {
			out = append(out, ln.Raw)
		}
		pos = s.end
	}
	out = append(out, d.lines[pos:]...)
	return []byte(strings.Join(out, "\n"))
}

func sectionsInFileOrder(d *Doc) []Status {
	sts := append([]Status(nil), Statuses...)
	slices.SortFunc(sts, func(a, b Status) int { return d.Sections[a].start - d.Sections[b].start })
	return sts
}

// Malformed returns the problems of kind "malformed".
func (d *Doc) Malformed() []Problem {
	var out []Problem
	for _, p := range d.Problems {
		if p.Kind == "malformed" {
			out = append(out, p)
		}
	}
	return out
}

// Rows returns the table rows of a section.
func (d *Doc) Rows(st Status) []*Line { return d.Sections[st].Rows }
