package abi

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
)

// TestLayouts checks the layouts the compiler really produced for the
// awkward cases in testdata/layouts.c, and that every DWARF version and
// optimisation level describes the same ABI.
func TestLayouts(t *testing.T) {
	if hostMachine() != "x86_64" && hostMachine() != "aarch64" {
		t.Skipf("expected layouts are LP64 ones; host is %s", hostMachine())
	}
	dir := t.TempDir()
	var builds []*Library
	for _, dw := range []string{"-gdwarf-5", "-gdwarf-4", "-gdwarf-2"} {
		for _, opt := range []string{"-O0", "-O2"} {
			out := filepath.Join(dir, fmt.Sprintf("layouts%s%s.so", dw, opt))
			compile(t, out, "layouts.c", "-shared", "-fPIC", dw, opt)
			builds = append(builds, mustLoad(t, out, LoadOptions{}))
		}
	}
	lib := builds[0]

	wantTypes := map[string]Layout{
		// Bit-fields: positions in bits from the start of the struct.
		"struct bits": {Name: "struct bits", Size: 4, Align: 4, Members: []Member{
			{Name: "a", Offset: 0, Type: "uint32", BitOffset: 0, BitSize: 3},
			{Name: "b", Offset: 0, Type: "uint32", BitOffset: 3, BitSize: 5},
			{Name: "c", Offset: 1, Type: "int32", BitOffset: 8, BitSize: 10},
			{Name: "d", Offset: 3, Type: "int8"}}},
		"struct packed": {Name: "struct packed", Size: 13, Align: 1, Members: []Member{
			{Name: "c", Offset: 0, Type: "int8"}, {Name: "i", Offset: 1, Type: "int32"}, {Name: "l", Offset: 5, Type: "int64"}}},
		"struct aligned16": {Name: "struct aligned16", Size: 16, Align: 16, Members: []Member{
			{Name: "x", Offset: 0, Type: "int32"}}},
		// Anonymous members get names from their context.
		"struct withanon": {Name: "struct withanon", Size: 24, Align: 8, Members: []Member{
			{Name: "kind", Offset: 0, Type: "int32"},
			{Name: "", Offset: 8, Type: "union <withanon.@8>"},
			{Name: "inner", Offset: 16, Type: "struct <withanon.inner>"}}},
		"union <withanon.@8>": {Name: "union <withanon.@8>", Size: 8, Align: 8, Members: []Member{
			{Name: "i", Offset: 0, Type: "int32"}, {Name: "d", Offset: 0, Type: "float64"}}},
		"struct <withanon.inner>": {Name: "struct <withanon.inner>", Size: 1, Align: 1, Members: []Member{
			{Name: "tag", Offset: 0, Type: "int8"}}},
		"struct <divlike_t>": {Name: "struct <divlike_t>", Size: 8, Align: 4, Members: []Member{
			{Name: "q", Offset: 0, Type: "int32"}, {Name: "r", Offset: 4, Type: "int32"}}},
		"struct arrays": {Name: "struct arrays", Size: 40, Align: 4, Members: []Member{
			{Name: "m", Offset: 0, Type: "[2][3]int32"}, {Name: "name", Offset: 24, Type: "[16]int8"}}},
		"struct callbacks": {Name: "struct callbacks", Size: 16, Align: 8, Members: []Member{
			{Name: "cmp", Offset: 0, Type: "*func(*void, *void) int32"},
			{Name: "log", Offset: 8, Type: "*func(*int8, ...)"}}},
		"struct cplx": {Name: "struct cplx", Size: 24, Align: 8, Members: []Member{
			{Name: "c", Offset: 0, Type: "int8"}, {Name: "z", Offset: 8, Type: "complex128"}}},
		// Self-reference terminates; the opaque struct has no layout.
		"struct node": {Name: "struct node", Size: 16, Align: 8, Members: []Member{
			{Name: "next", Offset: 0, Type: "*struct node"}, {Name: "payload", Offset: 8, Type: "*struct opaque"}}},
	}
	if len(lib.Types) != len(wantTypes) {
		t.Errorf("%d layouts, want %d: %+v", len(lib.Types), len(wantTypes), lib.Types)
	}
	for name, want := range wantTypes {
		if got := findType(t, lib, name); !reflect.DeepEqual(got, want) {
			t.Errorf("%s =\n  %+v\nwant\n  %+v", name, got, want)
		}
	}

	wantSigs := map[string]string{
		"layouts_div":       "func(int32, int32) struct <divlike_t>",
		"layouts_color":     "func(enum color) int32",
		"layouts_size":      "func(uint64) uint64", // my_size2 -> my_size -> unsigned long
		"layouts_list_len":  "func(*struct node) uint64",
		"layouts_sum":       "func(int32, ...) int32",
		"layouts_callbacks": "func(*struct callbacks, *void, *void) int32",
		"layouts_twice":     "func(int32) int32",
		"layouts_quad":      "func(int32) int32",
	}
	for name, want := range wantSigs {
		if got := findSymbol(t, lib, name).Signature.String(); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if got := findSymbol(t, lib, "layouts_default_callbacks").Type; got != "struct callbacks" {
		t.Errorf("layouts_default_callbacks type %q", got)
	}

	// DWARF 2 (location expressions, DW_AT_bit_offset), 4 and 5
	// (DW_AT_data_bit_offset), with and without inlining (abstract
	// origins): one ABI.
	for i, b := range builds[1:] {
		if rep := Compare(lib, b, Options{}); len(rep.Changes) != 0 || len(rep.Notes) != 0 {
			t.Errorf("build %d differs from the first:\n%s", i+1, text(rep))
		}
		// Same types byte for byte, too: the baseline does not depend on
		// how the DWARF was written.
		x, _ := MarshalBaseline(&Library{Format: Format, FormatVersion: FormatVersion, Types: lib.Types})
		y, _ := MarshalBaseline(&Library{Format: Format, FormatVersion: FormatVersion, Types: b.Types})
		if !bytes.Equal(x, y) {
			t.Errorf("build %d: type section of the baseline differs", i+1)
		}
	}
}
