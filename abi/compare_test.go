package abi

import (
	"sort"
	"strings"
	"testing"
)

// pairCase is one old/new comparison of compiled variants and the verdict
// the Redox rules give, with DWARF and with both sides stripped.
type pairCase struct {
	old, new string
	opts     Options
	// Kinds of the expected changes, sorted; breaking says whether any
	// of them is a break.
	kinds, strippedKinds       []Kind
	breaking, strippedBreaking bool
	// abidiffAgrees marks the pairs abidiff can judge: it knows nothing of
	// the release-series option, so an allowed retirement is ours alone.
	abidiffAgrees bool
}

var pairCases = []pairCase{
	{old: "v1", new: "same", abidiffAgrees: true},
	{old: "v1", new: "added", kinds: []Kind{SymbolAdded}, strippedKinds: []Kind{SymbolAdded}, abidiffAgrees: true},
	{old: "v1", new: "removed", kinds: []Kind{SymbolRemoved}, strippedKinds: []Kind{SymbolRemoved},
		breaking: true, strippedBreaking: true, abidiffAgrees: true},
	// Layout and signature changes are invisible without DWARF.
	{old: "v1", new: "grown", kinds: []Kind{MemberAdded, TypeSizeChanged}, breaking: true, abidiffAgrees: true},
	{old: "v1", new: "reordered", kinds: []Kind{MemberOffsetChanged, MemberOffsetChanged}, breaking: true, abidiffAgrees: true},
	{old: "v1", new: "param", kinds: []Kind{SignatureChanged}, breaking: true, abidiffAgrees: true},
	{old: "v1", new: "soname", kinds: []Kind{SONAMEChanged}, strippedKinds: []Kind{SONAMEChanged},
		breaking: true, strippedBreaking: true, abidiffAgrees: true},
	{old: "v1", new: "vkeep", kinds: []Kind{SymbolAdded}, strippedKinds: []Kind{SymbolAdded}, abidiffAgrees: true},
	{old: "v1", new: "vretire", kinds: []Kind{SymbolAdded, VersionedSymbolRemoved},
		strippedKinds: []Kind{SymbolAdded, VersionedSymbolRemoved}, breaking: true, strippedBreaking: true, abidiffAgrees: true},
	{old: "v1", new: "vretire", opts: Options{AllowVersionRetire: true},
		kinds: []Kind{SymbolAdded, VersionedSymbolRetired}, strippedKinds: []Kind{SymbolAdded, VersionedSymbolRetired}},
	// The retire option never excuses a removal without a successor.
	{old: "v1", new: "removed", opts: Options{AllowVersionRetire: true}, kinds: []Kind{SymbolRemoved},
		strippedKinds: []Kind{SymbolRemoved}, breaking: true, strippedBreaking: true, abidiffAgrees: true},
	// GNU symbol versions: moving a symbol to a new node removes the old
	// name@VERSION that existing binaries ask for.
	{old: "symver1", new: "symver-moved", kinds: []Kind{SymbolAdded, SymbolRemoved},
		strippedKinds: []Kind{SymbolAdded, SymbolRemoved}, breaking: true, strippedBreaking: true, abidiffAgrees: true},
	{old: "symver1", new: "symver-added", kinds: []Kind{SymbolAdded}, strippedKinds: []Kind{SymbolAdded}, abidiffAgrees: true},
	// Versioning an unversioned library: old binaries carry no version
	// requirement and bind to the defaults.
	{old: "v1", new: "symver1", abidiffAgrees: true},
}

func (c pairCase) name() string {
	n := c.old + "->" + c.new
	if c.opts.AllowVersionRetire {
		n += "/allow-retire"
	}
	return n
}

func kindsOf(r Report) []Kind {
	var ks []Kind
	for _, c := range r.Changes {
		ks = append(ks, c.Kind)
	}
	sort.Slice(ks, func(i, j int) bool { return ks[i] < ks[j] })
	return ks
}

func sameKinds(a, b []Kind) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCompareVerdicts(t *testing.T) {
	libs := buildVariants(t, t.TempDir())
	load := map[string]*Library{}
	get := func(name string) *Library {
		if l, ok := load[name]; ok {
			return l
		}
		l := mustLoad(t, libs[name], LoadOptions{})
		load[name] = l
		return l
	}
	for _, c := range pairCases {
		t.Run(c.name(), func(t *testing.T) {
			rep := Compare(get(c.old), get(c.new), c.opts)
			if got := kindsOf(rep); !sameKinds(got, c.kinds) || rep.HasBreak() != c.breaking {
				t.Errorf("with DWARF: kinds %v break=%v, want %v break=%v\n%s", got, rep.HasBreak(), c.kinds, c.breaking, text(rep))
			}
			if rep.SymbolLevelOnly || len(rep.Notes) != 0 {
				t.Errorf("with DWARF on both sides: symbol-level %v, notes %v", rep.SymbolLevelOnly, rep.Notes)
			}
			for _, ch := range rep.Changes {
				if ch.Class != Compatible && ch.Class != Break || ch.Subject == "" {
					t.Errorf("malformed change %+v", ch)
				}
			}

			srep := Compare(get("stripped/"+c.old), get("stripped/"+c.new), c.opts)
			if got := kindsOf(srep); !sameKinds(got, c.strippedKinds) || srep.HasBreak() != c.strippedBreaking {
				t.Errorf("stripped: kinds %v break=%v, want %v break=%v\n%s", got, srep.HasBreak(), c.strippedKinds, c.strippedBreaking, text(srep))
			}
			if !srep.SymbolLevelOnly || len(srep.Notes) == 0 || !strings.Contains(srep.Notes[0], "symbol level only: no DWARF") {
				t.Errorf("stripped report does not say it is symbol level only: %+v", srep.Notes)
			}
		})
	}
}

// TestCompareDetails checks the subjects and old/new values, which the
// kinds alone do not show.
func TestCompareDetails(t *testing.T) {
	libs := buildVariants(t, t.TempDir())
	v1 := mustLoad(t, libs["v1"], LoadOptions{})
	want := map[string][]Change{
		"grown": {
			{Class: Break, Kind: TypeSizeChanged, Subject: "struct buf", Old: "16", New: "24", Detail: "bytes"},
			{Class: Compatible, Kind: MemberAdded, Subject: "struct buf.flags", New: "int32 at 16"},
		},
		"reordered": {
			{Class: Break, Kind: MemberOffsetChanged, Subject: "struct rec.id", Old: "0", New: "8"},
			{Class: Break, Kind: MemberOffsetChanged, Subject: "struct rec.value", Old: "8", New: "0"},
		},
		"param": {
			{Class: Break, Kind: SignatureChanged, Subject: "abitest_scale", Old: "func(int32) int64", New: "func(int64) int64"},
		},
		"soname": {
			{Class: Break, Kind: SONAMEChanged, Subject: "SONAME", Old: "libabitest.so.1", New: "libabitest.so.2",
				Detail: "programs look the library up by its old SONAME"},
		},
	}
	for name, changes := range want {
		rep := Compare(v1, mustLoad(t, libs[name], LoadOptions{}), Options{})
		if len(rep.Changes) != len(changes) {
			t.Errorf("%s: %d changes, want %d\n%s", name, len(rep.Changes), len(changes), text(rep))
			continue
		}
		for i := range changes {
			if rep.Changes[i] != changes[i] {
				t.Errorf("%s: change %d = %+v, want %+v", name, i, rep.Changes[i], changes[i])
			}
		}
	}

	// The _vN verdicts name the successor, so the report says why.
	rep := Compare(v1, mustLoad(t, libs["vretire"], LoadOptions{}), Options{})
	b := rep.Breaks()
	if len(b) != 1 || b[0].Subject != "redox_open_v1" || !strings.Contains(b[0].Detail, "redox_open_v2") {
		t.Errorf("vretire breaks = %+v", b)
	}
}

// TestCompareMixedDWARF: a baseline with types against a stripped build
// (or the reverse) still compares symbols, and says why types were not.
func TestCompareMixedDWARF(t *testing.T) {
	libs := buildVariants(t, t.TempDir())
	rep := Compare(mustLoad(t, libs["v1"], LoadOptions{}), mustLoad(t, libs["stripped/removed"], LoadOptions{}), Options{})
	if !rep.SymbolLevelOnly || !rep.HasBreak() || len(rep.Changes) != 1 || rep.Changes[0].Kind != SymbolRemoved {
		t.Errorf("v1 -> stripped removed: %s", text(rep))
	}
	if len(rep.Notes) != 1 || !strings.Contains(rep.Notes[0], "symbol level only: no DWARF in new (removed.so)") {
		t.Errorf("notes = %q", rep.Notes)
	}
}

func TestCompareSelf(t *testing.T) {
	libs := buildVariants(t, t.TempDir())
	for _, name := range []string{"v1", "stripped/v1", "symver-moved"} {
		a := mustLoad(t, libs[name], LoadOptions{})
		b := mustLoad(t, libs[name], LoadOptions{})
		if rep := Compare(a, b, Options{}); len(rep.Changes) != 0 {
			t.Errorf("%s against itself:\n%s", name, text(rep))
		}
	}
}

func text(r Report) string {
	var b strings.Builder
	_ = r.WriteText(&b)
	return b.String()
}
