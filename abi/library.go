package abi

import "strings"

// The types in this file are both the in-memory model and the baseline
// format: their JSON tags are the field names of a baseline file, so any
// change to them is a format change (bump FormatVersion).

// Format identifies a baseline file; FormatVersion is the version of its
// layout that this package writes and the newest it reads.
const (
	Format        = "redox-hwtest/abi"
	FormatVersion = 1
)

// File kinds, as recorded in Library.Kind.
const (
	KindSharedObject = "shared-object"
	KindExecutable   = "executable"
)

// Where the DWARF came from, as recorded in Library.DebugInfo.
const (
	DebugNone      = ""          // no DWARF: symbol level only
	DebugEmbedded  = "embedded"  // .debug_* sections in the file itself
	DebugBuildID   = "build-id"  // separate file found by NT_GNU_BUILD_ID
	DebugDebuglink = "debuglink" // separate file found by .gnu_debuglink
)

// Library is the ABI of one ELF file.
type Library struct {
	Format        string `json:"format"`
	FormatVersion int    `json:"format_version"`
	// File is the base name of the file this was read from. Only the base
	// name: a baseline is committed, and a host path in it would be noise.
	File    string `json:"file"`
	Kind    string `json:"kind"`
	Machine string `json:"machine"`
	// SONAME is DT_SONAME; empty when the file has none (musl's libc.so).
	SONAME string `json:"soname"`
	// Interp is PT_INTERP; empty when the file has none.
	Interp string `json:"interp,omitempty"`
	// Needed is DT_NEEDED in file order (the order is the search order).
	Needed []string `json:"needed"`
	// DebugInfo says where the DWARF came from; DebugNone means the types,
	// signatures and layouts below are absent and only symbols were read.
	DebugInfo string `json:"debug_info"`
	// Versions are the GNU version definitions (verdef), in index order.
	Versions []VersionDef `json:"versions"`
	// Symbols are the exported dynamic symbols, sorted by name, version.
	Symbols []Symbol `json:"symbols"`
	// Types are the struct/union layouts reachable from the exports, sorted
	// by name. Empty without DWARF.
	Types []Layout `json:"types"`
}

// HasDWARF reports whether signatures and layouts were extracted.
func (l *Library) HasDWARF() bool { return l.DebugInfo != DebugNone }

// VersionDef is one GNU version definition (a node of the version script).
type VersionDef struct {
	Name string `json:"name"`
	// Base marks the VER_FLG_BASE entry, which names the file itself.
	Base bool `json:"base,omitempty"`
	// Parents are the version nodes this one inherits from.
	Parents []string `json:"parents,omitempty"`
}

// Symbol kinds, as recorded in Symbol.Kind.
const (
	SymFunc   = "func"
	SymIFunc  = "ifunc" // STT_GNU_IFUNC: a function chosen at load time
	SymObject = "object"
	SymTLS    = "tls"
	SymCommon = "common"
	SymNoType = "notype"
)

// Symbol is one exported dynamic symbol.
type Symbol struct {
	Name string `json:"name"`
	// Version is the GNU symbol version ("GLIBC_2.2.5"); empty when the
	// library is not versioned or the symbol is in the base version.
	Version string `json:"version,omitempty"`
	// Hidden is true for a non-default version (name@VER rather than
	// name@@VER): kept for binaries linked earlier, not for new links.
	Hidden     bool   `json:"hidden,omitempty"`
	Kind       string `json:"kind"`
	Size       uint64 `json:"size"`
	Binding    string `json:"binding"`    // global, weak, unique
	Visibility string `json:"visibility"` // default, protected
	// Signature is set for functions that DWARF describes.
	Signature *Signature `json:"signature,omitempty"`
	// Type is set for objects that DWARF describes: the canonical type name.
	Type string `json:"type,omitempty"`

	// addr is st_value, used only to find the symbol's DWARF while loading.
	// Addresses move between builds, so it is not part of the ABI or of a
	// baseline.
	addr uint64
}

// Key is the symbol's identity for comparison: name and version, because
// under symbol versioning foo@V1 and foo@V2 are different interfaces.
func (s Symbol) Key() string {
	if s.Version == "" {
		return s.Name
	}
	return s.Name + "@" + s.Version
}

// IsFunc reports whether the symbol is code (a plain or indirect function).
func (s Symbol) IsFunc() bool { return s.Kind == SymFunc || s.Kind == SymIFunc }

// Signature is a function's C-level interface, in canonical type names.
type Signature struct {
	Return   string   `json:"return"`
	Params   []string `json:"params"`
	Variadic bool     `json:"variadic,omitempty"`
}

// String renders the signature as "func(param, param, ...) return", the
// same form a function-pointer type takes inside canonical type names. A
// void return is left out.
func (s *Signature) String() string {
	if s == nil {
		return "<unknown>"
	}
	var b strings.Builder
	b.WriteString("func(")
	b.WriteString(strings.Join(s.Params, ", "))
	if s.Variadic {
		if len(s.Params) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("...")
	}
	b.WriteString(")")
	if s.Return != "void" {
		b.WriteString(" " + s.Return)
	}
	return b.String()
}

// Layout is the memory layout of one struct or union.
type Layout struct {
	// Name is the canonical name, tag included: "struct stat", "union <u>".
	Name    string   `json:"name"`
	Size    uint64   `json:"size"`
	Align   uint64   `json:"align"`
	Members []Member `json:"members"`
}

// Member is one data member of a Layout.
type Member struct {
	// Name is empty for an unnamed member (an anonymous struct or union
	// member, or an unnamed bit-field).
	Name   string `json:"name"`
	Offset uint64 `json:"offset"` // bytes from the start of the aggregate
	Type   string `json:"type"`
	// BitOffset (bits from the start of the aggregate) and BitSize are set
	// only for bit-fields; a bit-field at bit 0 has bit_size but no
	// bit_offset in the JSON (omitted when zero).
	BitOffset uint64 `json:"bit_offset,omitempty"`
	BitSize   uint64 `json:"bit_size,omitempty"`
}
