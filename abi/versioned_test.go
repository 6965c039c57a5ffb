package abi

import "testing"

func TestSplitVersioned(t *testing.T) {
	cases := []struct {
		name string
		base string
		n    int
		ok   bool
		succ string
	}{
		{"redox_open_v1", "redox_open", 1, true, "redox_open_v2"},
		{"redox_fcntl_v0", "redox_fcntl", 0, true, "redox_fcntl_v1"},
		{"relibc_start_v1", "relibc_start", 1, true, "relibc_start_v2"},
		{"x_v9", "x", 9, true, "x_v10"},
		{"redox_v1_open", "", 0, false, ""},
		{"open", "", 0, false, ""},
		{"_v1", "", 0, false, ""}, // no base name
		{"f_v", "", 0, false, ""},
		{"f_v01", "", 0, false, ""}, // leading zero: no unique successor
		{"f_v1a", "", 0, false, ""},
		{"f_v99999999999999999999", "", 0, false, ""},
	}
	for _, c := range cases {
		base, n, ok := splitVersioned(c.name)
		if base != c.base || n != c.n || ok != c.ok {
			t.Errorf("splitVersioned(%q) = %q %d %v, want %q %d %v", c.name, base, n, ok, c.base, c.n, c.ok)
		}
		succ, ok := successorName(c.name)
		if succ != c.succ || ok != c.ok {
			t.Errorf("successorName(%q) = %q %v, want %q", c.name, succ, ok, c.succ)
		}
	}
}

// TestVersionedRule exercises the _vN rule on baselines alone, including
// the cases a compiled pair does not: a skipped version and v0.
func TestVersionedRule(t *testing.T) {
	lib := func(names ...string) *Library {
		l := &Library{Format: Format, FormatVersion: FormatVersion, Kind: KindSharedObject, Machine: "x86_64"}
		for _, n := range names {
			l.Symbols = append(l.Symbols, Symbol{Name: n, Kind: SymFunc, Binding: "global", Visibility: "default"})
		}
		return l
	}
	cases := []struct {
		old, new []string
		retire   bool
		kind     Kind
		class    Class
	}{
		{[]string{"redox_fcntl_v0"}, []string{"redox_fcntl_v1"}, false, VersionedSymbolRemoved, Break},
		{[]string{"redox_fcntl_v0"}, []string{"redox_fcntl_v1"}, true, VersionedSymbolRetired, Compatible},
		// Only _vN+1 counts as the successor.
		{[]string{"redox_open_v1"}, []string{"redox_open_v3"}, true, SymbolRemoved, Break},
		{[]string{"redox_open_v1"}, []string{"redox_read_v2"}, true, SymbolRemoved, Break},
		{[]string{"redox_open_v2"}, []string{"redox_open_v1"}, true, SymbolRemoved, Break},
	}
	for _, c := range cases {
		rep := Compare(lib(c.old...), lib(c.new...), Options{AllowVersionRetire: c.retire})
		var got *Change
		for i := range rep.Changes {
			if rep.Changes[i].Subject == c.old[0] {
				got = &rep.Changes[i]
			}
		}
		if got == nil || got.Kind != c.kind || got.Class != c.class {
			t.Errorf("%v -> %v (retire=%v): %s", c.old, c.new, c.retire, text(rep))
		}
	}
}
