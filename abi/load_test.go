package abi

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func symbolNames(lib *Library) []string {
	var names []string
	for _, s := range lib.Symbols {
		names = append(names, s.Name)
	}
	sort.Strings(names)
	return names
}

func findSymbol(t *testing.T, lib *Library, name string) Symbol {
	t.Helper()
	for _, s := range lib.Symbols {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s: no exported symbol %s (have %v)", lib.File, name, symbolNames(lib))
	return Symbol{}
}

func findType(t *testing.T, lib *Library, name string) Layout {
	t.Helper()
	for _, l := range lib.Types {
		if l.Name == name {
			return l
		}
	}
	var have []string
	for _, l := range lib.Types {
		have = append(have, l.Name)
	}
	t.Fatalf("%s: no layout for %s (have %v)", lib.File, name, have)
	return Layout{}
}

var v1Exports = []string{
	"abitest_add", "abitest_buf_fill", "abitest_counter", "abitest_default_rec",
	"abitest_point_norm", "abitest_rec_get", "abitest_remove_me", "abitest_scale", "redox_open_v1",
}

func TestLoadV1(t *testing.T) {
	libs := buildVariants(t, t.TempDir())
	lib := mustLoad(t, libs["v1"], LoadOptions{})

	if lib.SONAME != "libabitest.so.1" || lib.Kind != KindSharedObject || lib.Machine != hostMachine() {
		t.Errorf("soname/kind/machine = %q/%q/%q", lib.SONAME, lib.Kind, lib.Machine)
	}
	if lib.DebugInfo != DebugEmbedded {
		t.Errorf("DebugInfo = %q, want %q", lib.DebugInfo, DebugEmbedded)
	}
	if lib.File != "v1.so" {
		t.Errorf("File = %q: a baseline must carry the base name only", lib.File)
	}
	// abitest_internal is hidden: not an export.
	if got := symbolNames(lib); !reflect.DeepEqual(got, v1Exports) {
		t.Errorf("exports = %v, want %v", got, v1Exports)
	}

	sigs := map[string]string{
		"abitest_add":       "func(int32, int32) int32",
		"abitest_buf_fill":  "func(*struct buf, int32)",
		"abitest_scale":     "func(int32) int64",
		"redox_open_v1":     "func(*int8, int32) int32",
		"abitest_rec_get":   "func(*struct rec) int32",
		"abitest_remove_me": "func(int32) int32",
		// const pt_alias * -> pt_alias -> point_t -> struct point: the
		// typedef chain resolves and the qualifier goes.
		"abitest_point_norm": "func(*struct point) int64",
	}
	for name, want := range sigs {
		s := findSymbol(t, lib, name)
		if s.Kind != SymFunc || s.Binding != "global" || s.Visibility != "default" {
			t.Errorf("%s: kind/binding/visibility = %s/%s/%s", name, s.Kind, s.Binding, s.Visibility)
		}
		if got := s.Signature.String(); got != want {
			t.Errorf("%s: signature %s, want %s", name, got, want)
		}
	}
	rec := findSymbol(t, lib, "abitest_default_rec")
	if rec.Kind != SymObject || rec.Size != 16 || rec.Type != "struct rec" {
		t.Errorf("abitest_default_rec = %+v", rec)
	}
	if c := findSymbol(t, lib, "abitest_counter"); c.Size != 4 || c.Type != "int32" {
		t.Errorf("abitest_counter = %+v", c)
	}

	wantTypes := []Layout{
		{Name: "struct buf", Size: 16, Align: 8, Members: []Member{
			{Name: "data", Offset: 0, Type: "*int8"}, {Name: "len", Offset: 8, Type: "uint64"}}},
		{Name: "struct point", Size: 8, Align: 4, Members: []Member{
			{Name: "x", Offset: 0, Type: "int32"}, {Name: "y", Offset: 4, Type: "int32"}}},
		{Name: "struct rec", Size: 16, Align: 8, Members: []Member{
			{Name: "id", Offset: 0, Type: "int32"}, {Name: "value", Offset: 8, Type: "int64"}}},
	}
	if !reflect.DeepEqual(lib.Types, wantTypes) {
		t.Errorf("types =\n%+v\nwant\n%+v", lib.Types, wantTypes)
	}
}

func TestLoadStripped(t *testing.T) {
	libs := buildVariants(t, t.TempDir())
	full := mustLoad(t, libs["v1"], LoadOptions{})
	lib := mustLoad(t, libs["stripped/v1"], LoadOptions{})
	if lib.HasDWARF() || len(lib.Types) != 0 {
		t.Fatalf("stripped library: DebugInfo %q, %d types; want none", lib.DebugInfo, len(lib.Types))
	}
	if got := symbolNames(lib); !reflect.DeepEqual(got, v1Exports) {
		t.Errorf("stripped exports = %v, want %v", got, v1Exports)
	}
	for _, s := range lib.Symbols {
		if s.Signature != nil || s.Type != "" {
			t.Errorf("%s has types without DWARF: %+v", s.Name, s)
		}
	}
	// Symbol-level facts are the same with and without DWARF.
	if findSymbol(t, lib, "abitest_default_rec").Size != findSymbol(t, full, "abitest_default_rec").Size {
		t.Error("object size differs between stripped and unstripped")
	}
}

func TestLoadSymbolVersions(t *testing.T) {
	libs := buildVariants(t, t.TempDir())
	lib := mustLoad(t, libs["symver-moved"], LoadOptions{})
	var names []string
	for _, v := range lib.Versions {
		names = append(names, v.Name)
	}
	// The base entry names the file; the script defines the other two.
	want := []string{"libabitest.so.1", "LIBABITEST_1", "LIBABITEST_2"}
	if !reflect.DeepEqual(names, want) || !lib.Versions[0].Base {
		t.Fatalf("versions = %+v, want %v with the first as base", lib.Versions, want)
	}
	if p := lib.Versions[2].Parents; !reflect.DeepEqual(p, []string{"LIBABITEST_1"}) {
		t.Errorf("LIBABITEST_2 parents = %v", p)
	}
	if s := findSymbol(t, lib, "abitest_add"); s.Version != "LIBABITEST_2" || s.Hidden || s.Key() != "abitest_add@LIBABITEST_2" {
		t.Errorf("abitest_add = %+v, key %s", s, s.Key())
	}
	if s := findSymbol(t, lib, "abitest_scale"); s.Version != "LIBABITEST_1" {
		t.Errorf("abitest_scale version = %q", s.Version)
	}
	// The version node symbols the linker adds are not exports.
	for _, s := range lib.Symbols {
		if s.Name == "LIBABITEST_1" || s.Name == "LIBABITEST_2" {
			t.Errorf("version node %s listed as an export", s.Name)
		}
	}
}

func TestLoadRejects(t *testing.T) {
	dir := t.TempDir()
	obj := compile(t, filepath.Join(dir, "x.o"), "libabitest.c", "-c")
	if _, err := Load(obj); err == nil {
		t.Error("Load of a relocatable object succeeded")
	}
	if _, err := Load(filepath.Join("testdata", "libabitest.c")); err == nil {
		t.Error("Load of a C source succeeded")
	}
	// Section headers stripped (what sstrip does): the loader still runs
	// it, but the exports cannot be read, which must be an error rather
	// than an empty export list.
	lib := compile(t, filepath.Join(dir, "lib.so"), "libabitest.c", "-shared", "-fPIC")
	b, err := os.ReadFile(lib)
	if err != nil {
		t.Fatal(err)
	}
	if b[4] == 2 && b[5] == 1 { // ELFCLASS64, little-endian
		clear(b[0x28:0x30]) // e_shoff
		clear(b[0x3c:0x40]) // e_shnum, e_shstrndx
		noSections := filepath.Join(dir, "nosections.so")
		if err := os.WriteFile(noSections, b, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(noSections); err == nil || !strings.Contains(err.Error(), "no .dynsym") {
			t.Errorf("Load without section headers: %v", err)
		}
	}
	static := compile(t, filepath.Join(dir, "static"), "hello.c", "-static")
	if _, err := Load(static); err == nil {
		t.Error("Load of a static executable succeeded: it has no dynamic ABI")
	}
}
