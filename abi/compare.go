package abi

import (
	"fmt"
	"strconv"
	"strings"
)

// Options are the policy choices of a comparison. The zero value is the
// Redox rule set for comparing builds within one release series.
type Options struct {
	// AllowVersionRetire lets a _vN export disappear when the new library
	// exports _vN+1. It is false by default because the Redox rule is
	// stricter: within a release series the old version must stay exported
	// even after its successor lands, so binaries built earlier in the
	// series keep loading. Set it only when comparing across a release
	// series boundary (the baseline of the previous series against the
	// first build of the next). A _vN removed without a _vN+1 is a break
	// either way.
	AllowVersionRetire bool
	// ExpectedInterp overrides the loader an executable's PT_INTERP must
	// name; empty means ExpectedInterp(machine).
	ExpectedInterp string
}

// symbolLevelOnly is the note for a comparison without types. Suites and
// people grep for it, so it is one fixed string.
const symbolLevelOnly = "symbol level only: no DWARF"

// Compare checks new against old under the Redox ABI rules and reports
// every difference with its class.
func Compare(old, new *Library, opts Options) Report {
	c := &comparison{old: old, new: new, opts: opts}
	c.rep = Report{Old: old.File, New: new.File, Notes: []string{}, Changes: []Change{}}
	if !old.HasDWARF() || !new.HasDWARF() {
		c.rep.SymbolLevelOnly = true
		var sides []string
		if !old.HasDWARF() {
			sides = append(sides, "old ("+old.File+")")
		}
		if !new.HasDWARF() {
			sides = append(sides, "new ("+new.File+")")
		}
		c.note("%s in %s; signatures and struct layouts not compared", symbolLevelOnly, strings.Join(sides, " and "))
	}
	c.file()
	c.symbols()
	if !c.rep.SymbolLevelOnly {
		c.layouts()
	}
	sortChanges(c.rep.Changes)
	return c.rep
}

type comparison struct {
	old, new *Library
	opts     Options
	rep      Report
}

func (c *comparison) add(class Class, kind Kind, subject, old, new, detail string) {
	c.rep.Changes = append(c.rep.Changes, Change{Class: class, Kind: kind, Subject: subject, Old: old, New: new, Detail: detail})
}

func (c *comparison) note(format string, args ...any) {
	c.rep.Notes = append(c.rep.Notes, fmt.Sprintf(format, args...))
}

// file compares the whole-file facts.
func (c *comparison) file() {
	if c.old.SONAME != c.new.SONAME {
		c.add(Break, SONAMEChanged, "SONAME", orNone(c.old.SONAME), orNone(c.new.SONAME),
			"programs look the library up by its old SONAME")
	}
	if c.old.Machine != c.new.Machine {
		c.add(Break, MachineChanged, "machine", c.old.Machine, c.new.Machine, "")
	}
	changes, note := CheckInterp(c.new, c.opts.ExpectedInterp)
	c.rep.Changes = append(c.rep.Changes, changes...)
	if note != "" {
		c.note("%s", note)
	}
	oldNeeded, newNeeded := set(c.old.Needed), set(c.new.Needed)
	for _, n := range c.new.Needed {
		if !oldNeeded[n] {
			c.add(Compatible, NeededAdded, n, "", n, "")
		}
	}
	for _, n := range c.old.Needed {
		if !newNeeded[n] {
			c.add(Compatible, NeededRemoved, n, n, "", "")
		}
	}
}

// symbols compares the exported symbols and what DWARF says about them.
func (c *comparison) symbols() {
	newByKey := map[string]*Symbol{}
	newByName := map[string][]*Symbol{}
	for i := range c.new.Symbols {
		s := &c.new.Symbols[i]
		newByKey[s.Key()] = s
		newByName[s.Name] = append(newByName[s.Name], s)
	}
	matched := map[*Symbol]bool{}
	var unknownSig []string
	for i := range c.old.Symbols {
		o := &c.old.Symbols[i]
		n := c.match(o, newByKey, newByName)
		if n == nil {
			c.removed(o, newByName)
			continue
		}
		matched[n] = true
		if !c.rep.SymbolLevelOnly && c.signatureUnknown(o, n) {
			unknownSig = append(unknownSig, o.Key())
		}
		c.symbol(o, n)
	}
	for i := range c.new.Symbols {
		n := &c.new.Symbols[i]
		if !matched[n] {
			c.add(Compatible, SymbolAdded, n.Key(), "", describe(n), "")
		}
	}
	if len(unknownSig) > 0 {
		c.note("%d exports have DWARF on one side only and were compared by symbol alone: %s",
			len(unknownSig), sample(unknownSig, 5))
	}
}

// match finds old's counterpart in the new library. An unversioned old
// symbol also matches the new default version of the same name: a program
// linked against an unversioned library records no version requirement,
// and the dynamic linker binds it to the default.
func (c *comparison) match(o *Symbol, byKey map[string]*Symbol, byName map[string][]*Symbol) *Symbol {
	if n, ok := byKey[o.Key()]; ok {
		return n
	}
	if o.Version == "" {
		for _, n := range byName[o.Name] {
			if !n.Hidden {
				return n
			}
		}
	}
	return nil
}

// removed classifies a vanished export, applying the _vN rule.
func (c *comparison) removed(o *Symbol, newByName map[string][]*Symbol) {
	succ, versioned := successorName(o.Name)
	switch {
	case !versioned:
		c.add(Break, SymbolRemoved, o.Key(), describe(o), "", "")
	case len(newByName[succ]) == 0:
		c.add(Break, SymbolRemoved, o.Key(), describe(o), "", "no successor "+succ+" exported")
	case c.opts.AllowVersionRetire:
		c.add(Compatible, VersionedSymbolRetired, o.Key(), describe(o), "",
			"replaced by "+succ+"; retiring allowed by the release series")
	default:
		c.add(Break, VersionedSymbolRemoved, o.Key(), describe(o), "",
			succ+" exists, but the old version must stay exported for the release series")
	}
}

// symbol compares one export present on both sides.
func (c *comparison) symbol(o, n *Symbol) {
	key := o.Key()
	if o.IsFunc() != n.IsFunc() || (!o.IsFunc() && o.Kind != n.Kind) {
		c.add(Break, SymbolKindChanged, key, o.Kind, n.Kind, "")
		return
	}
	// A function's st_size is its code size, which changes with every
	// compiler; an object's is the storage a program's copy relocation
	// reserves, so it must not change.
	if !o.IsFunc() && o.Size != n.Size {
		c.add(Break, SymbolSizeChanged, key, strconv.FormatUint(o.Size, 10), strconv.FormatUint(n.Size, 10), "")
	}
	if o.Binding != n.Binding {
		c.add(Compatible, SymbolBindingChanged, key, o.Binding, n.Binding, "")
	}
	if o.Visibility != n.Visibility {
		c.add(Compatible, SymbolVisibilityChanged, key, o.Visibility, n.Visibility, "")
	}
	if o.Version != "" && o.Hidden != n.Hidden {
		c.add(Compatible, SymbolDefaultChanged, key, defaultness(o), defaultness(n),
			"programs already linked bind either way")
	}
	if c.rep.SymbolLevelOnly {
		return
	}
	if o.Signature != nil && n.Signature != nil && o.Signature.String() != n.Signature.String() {
		c.add(Break, SignatureChanged, key, o.Signature.String(), n.Signature.String(), "")
	}
	if o.Type != "" && n.Type != "" && o.Type != n.Type {
		c.add(Break, ObjectTypeChanged, key, o.Type, n.Type, "")
	}
}

func (c *comparison) signatureUnknown(o, n *Symbol) bool {
	if o.IsFunc() {
		return (o.Signature == nil) != (n.Signature == nil)
	}
	return (o.Type == "") != (n.Type == "")
}

// describe is how a symbol appears in the old/new column.
func describe(s *Symbol) string {
	switch {
	case s.Signature != nil:
		return s.Signature.String()
	case s.Type != "":
		return s.Kind + " " + s.Type
	case s.IsFunc():
		return s.Kind
	}
	return fmt.Sprintf("%s, %d bytes", s.Kind, s.Size)
}

func defaultness(s *Symbol) string {
	if s.Hidden {
		return s.Name + "@" + s.Version
	}
	return s.Name + "@@" + s.Version
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func set(xs []string) map[string]bool {
	m := make(map[string]bool, len(xs))
	for _, x := range xs {
		m[x] = true
	}
	return m
}

func sample(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:n], ", ") + fmt.Sprintf(", ... (%d more)", len(xs)-n)
}
