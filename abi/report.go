package abi

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// Class says whether a change can break a program built against the old
// library.
type Class string

const (
	Compatible Class = "compatible"
	Break      Class = "break"
)

// Kind names what changed. Each kind has one class, except where the
// Redox rules make it depend on context (see Compare).
type Kind string

const (
	// Whole-file facts.
	SONAMEChanged  Kind = "soname-changed"  // break
	MachineChanged Kind = "machine-changed" // break
	InterpMismatch Kind = "interp-mismatch" // break: PT_INTERP is not the platform loader
	NeededAdded    Kind = "needed-added"    // compatible
	NeededRemoved  Kind = "needed-removed"  // compatible

	// Exported symbols.
	SymbolAdded             Kind = "symbol-added"              // compatible
	SymbolRemoved           Kind = "symbol-removed"            // break
	VersionedSymbolRemoved  Kind = "versioned-symbol-removed"  // break: _vN gone, _vN+1 present, retiring not allowed
	VersionedSymbolRetired  Kind = "versioned-symbol-retired"  // compatible: same, with Options.AllowVersionRetire
	SymbolKindChanged       Kind = "symbol-kind-changed"       // break: function <-> object
	SymbolSizeChanged       Kind = "symbol-size-changed"       // break: objects only (copy relocations)
	SymbolBindingChanged    Kind = "symbol-binding-changed"    // compatible
	SymbolVisibilityChanged Kind = "symbol-visibility-changed" // compatible
	SymbolDefaultChanged    Kind = "symbol-default-changed"    // compatible: name@@V became name@V or back
	SignatureChanged        Kind = "signature-changed"         // break
	ObjectTypeChanged       Kind = "object-type-changed"       // break

	// Struct and union layouts.
	TypeAdded           Kind = "type-added"            // compatible: newly reachable
	TypeRemoved         Kind = "type-removed"          // compatible: no longer reachable (the cause is reported on its own)
	TypeSizeChanged     Kind = "type-size-changed"     // break
	TypeAlignChanged    Kind = "type-align-changed"    // break
	MemberAdded         Kind = "member-added"          // compatible by itself; a size change is reported separately
	MemberRemoved       Kind = "member-removed"        // break
	MemberRenamed       Kind = "member-renamed"        // compatible: same offset and type
	MemberOffsetChanged Kind = "member-offset-changed" // break
	MemberTypeChanged   Kind = "member-type-changed"   // break
	MemberBitsChanged   Kind = "member-bits-changed"   // break: bit-field position or width
)

// Change is one difference between two ABIs.
type Change struct {
	Class Class `json:"class"`
	Kind  Kind  `json:"kind"`
	// Subject is what changed: a symbol ("name" or "name@VERSION"), a type
	// ("struct stat"), a member ("struct stat.st_size"), or the file.
	Subject string `json:"subject"`
	Old     string `json:"old,omitempty"`
	New     string `json:"new,omitempty"`
	// Detail explains the verdict where the rule is not obvious.
	Detail string `json:"detail,omitempty"`
}

// Report is the result of Compare.
type Report struct {
	Old string `json:"old"` // file name of the old side
	New string `json:"new"`
	// SymbolLevelOnly is set when either side has no DWARF: signatures and
	// layouts were not compared.
	SymbolLevelOnly bool `json:"symbol_level_only"`
	// Notes say what was not checked and why.
	Notes   []string `json:"notes"`
	Changes []Change `json:"changes"`
}

// Breaks returns the changes that break compatibility.
func (r Report) Breaks() []Change {
	var out []Change
	for _, c := range r.Changes {
		if c.Class == Break {
			out = append(out, c)
		}
	}
	return out
}

// HasBreak reports whether any change breaks compatibility.
func (r Report) HasBreak() bool { return len(r.Breaks()) > 0 }

// ByKind groups the changes by kind, for callers that report one result
// per kind of break (one JUnit testcase each, say).
func (r Report) ByKind() map[Kind][]Change {
	out := map[Kind][]Change{}
	for _, c := range r.Changes {
		out[c.Kind] = append(out[c.Kind], c)
	}
	return out
}

// sortChanges orders breaks first, then by kind and subject, so that a
// report reads the same every run.
func sortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.Class != b.Class {
			return a.Class == Break
		}
		if a.Kind != b.Kind {
			return a.Kind < b.Kind
		}
		if a.Subject != b.Subject {
			return a.Subject < b.Subject
		}
		if a.Old != b.Old {
			return a.Old < b.Old
		}
		return a.New < b.New
	})
}

// WriteText writes the report for people: notes, one line per change
// ("class kind subject old -> new"), then a summary line.
func (r Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "abi diff %s -> %s\n", r.Old, r.New)
	for _, n := range r.Notes {
		fmt.Fprintf(&b, "note: %s\n", n)
	}
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, c := range r.Changes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.Class, c.Kind, c.Subject, oldNew(c))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	breaks := len(r.Breaks())
	switch {
	case len(r.Changes) == 0:
		b.WriteString("no ABI changes\n")
	case breaks == 0:
		fmt.Fprintf(&b, "%s, all compatible\n", plural(len(r.Changes), "change"))
	default:
		fmt.Fprintf(&b, "%s, %d breaking\n", plural(len(r.Changes), "change"), breaks)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func oldNew(c Change) string {
	s := ""
	switch {
	case c.Old != "" && c.New != "":
		s = c.Old + " -> " + c.New
	case c.Old != "":
		s = "was " + c.Old
	case c.New != "":
		s = "now " + c.New
	}
	if c.Detail != "" {
		if s != "" {
			s += "  "
		}
		s += "(" + c.Detail + ")"
	}
	return s
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
