package abi

import (
	"debug/dwarf"
	"encoding/binary"
	"fmt"
)

// attrMIPSLinkageName is DW_AT_MIPS_linkage_name, which older GCCs emit
// instead of DW_AT_linkage_name.
const attrMIPSLinkageName dwarf.Attr = 0x2007

// DW_LANG values that change how a unit's functions are read.
const (
	langC89           = 0x01
	langC             = 0x02
	langC99           = 0x0c
	langC11           = 0x1d
	langC17           = 0x2c
	langMipsAssembler = 0x8001 // what GNU as writes for .S files
)

func isCLanguage(lang int64) bool {
	switch lang {
	case langC89, langC, langC99, langC11, langC17:
		return true
	}
	return false
}

// decl is a function or variable DIE, reduced to what is needed to find
// the one that describes an exported symbol and to read its types.
type decl struct {
	off       dwarf.Offset
	name      string
	linkage   string
	external  bool
	isDecl    bool         // DW_AT_declaration: a prototype, not a definition
	origin    dwarf.Offset // DW_AT_abstract_origin or DW_AT_specification
	hasOrigin bool
	typ       dwarf.Offset
	hasType   bool
	// Functions only.
	// noProto is set for a C function declared without a prototype,
	// "int f()": its parameter list says nothing about its parameters.
	noProto       bool
	params        []dwarf.Offset
	untypedParams bool // some parameter has no DW_AT_type (only an origin)
	variadic      bool
}

// dwarfIndex finds the DIEs describing exported functions and objects.
//
// Addresses come first because aliases are common: glibc exports open and
// open64 at the address of one definition named __libc_open64, so only the
// address leads from the symbol to its DWARF. Names are the fallback for
// symbols whose code has no DWARF of its own (assembly, IFUNC resolvers),
// which GCC still describes through the prototypes of callers.
type dwarfIndex struct {
	decls       map[dwarf.Offset]*decl
	funcsByAddr map[uint64]*decl
	varsByAddr  map[uint64]*decl
	funcsByName map[string]*decl
	varsByName  map[string]*decl
}

// scanDWARF makes one pass over .debug_info, indexing functions and
// variables, and recording the first complete definition of each named
// struct, union and enum in tr.defs.
func scanDWARF(d *dwarf.Data, tr *typeReader, bo binary.ByteOrder, ptrSize int) (*dwarfIndex, error) {
	idx := &dwarfIndex{
		decls:       map[dwarf.Offset]*decl{},
		funcsByAddr: map[uint64]*decl{},
		varsByAddr:  map[uint64]*decl{},
		funcsByName: map[string]*decl{},
		varsByName:  map[string]*decl{},
	}
	r := d.Reader()
	var lang int64
	for {
		e, err := r.Next()
		if err != nil {
			return nil, fmt.Errorf("reading DWARF: %w", err)
		}
		if e == nil {
			return idx, nil
		}
		switch e.Tag {
		case dwarf.TagCompileUnit, dwarf.TagPartialUnit:
			lang, _ = e.Val(dwarf.AttrLanguage).(int64)
			if lang == langMipsAssembler && e.Children {
				// GNU as describes a .S function as a subprogram of
				// unspecified type with no parameters. That is absence of
				// information, not a signature; leave such functions to
				// the C prototypes elsewhere in the file.
				r.SkipChildren()
			}
			continue
		case 0, dwarf.TagNamespace:
			// Descend: exported functions live at unit level in C and
			// inside namespaces in Rust.
			continue
		case dwarf.TagSubprogram:
			fn := newDecl(e)
			if proto, _ := e.Val(dwarf.AttrPrototyped).(bool); !proto && isCLanguage(lang) {
				fn.noProto = true
			}
			if e.Children {
				if err := readParams(r, fn); err != nil {
					return nil, fmt.Errorf("reading parameters of DIE %#x: %w", e.Offset, err)
				}
			}
			idx.decls[fn.off] = fn
			idx.addFunc(d, e, fn)
			continue
		case dwarf.TagVariable:
			v := newDecl(e)
			idx.decls[v.off] = v
			idx.addVar(e, v, bo, ptrSize)
		case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType, dwarf.TagEnumerationType:
			name, _ := e.Val(dwarf.AttrName).(string)
			isDecl, _ := e.Val(dwarf.AttrDeclaration).(bool)
			if name != "" && !isDecl {
				key := tagKeyword(e.Tag) + " " + name
				if _, seen := tr.defs[key]; !seen {
					tr.defs[key] = e.Offset
				}
			}
		}
		if e.Children {
			r.SkipChildren()
		}
	}
}

func newDecl(e *dwarf.Entry) *decl {
	dc := &decl{off: e.Offset}
	dc.name, _ = e.Val(dwarf.AttrName).(string)
	dc.linkage, _ = e.Val(dwarf.AttrLinkageName).(string)
	if dc.linkage == "" {
		dc.linkage, _ = e.Val(attrMIPSLinkageName).(string)
	}
	dc.external, _ = e.Val(dwarf.AttrExternal).(bool)
	dc.isDecl, _ = e.Val(dwarf.AttrDeclaration).(bool)
	dc.origin, dc.hasOrigin = e.Val(dwarf.AttrAbstractOrigin).(dwarf.Offset)
	if !dc.hasOrigin {
		dc.origin, dc.hasOrigin = e.Val(dwarf.AttrSpecification).(dwarf.Offset)
	}
	dc.typ, dc.hasType = e.Val(dwarf.AttrType).(dwarf.Offset)
	return dc
}

// readParams reads a subprogram's direct children: its parameters. Local
// variables, lexical blocks and inlined calls are skipped with their
// subtrees.
func readParams(r *dwarf.Reader, fn *decl) error {
	for {
		c, err := r.Next()
		if err != nil {
			return err
		}
		if c == nil || c.Tag == 0 {
			return nil
		}
		switch c.Tag {
		case dwarf.TagFormalParameter:
			t, ok := c.Val(dwarf.AttrType).(dwarf.Offset)
			if !ok {
				fn.untypedParams = true
			}
			fn.params = append(fn.params, t)
		case dwarf.TagUnspecifiedParameters:
			fn.variadic = true
		}
		if c.Children {
			r.SkipChildren()
		}
	}
}

// addFunc indexes a function by its entry addresses (a definition) and by
// name (any external DIE). The first DIE in file order wins both maps, so
// the choice is deterministic.
func (idx *dwarfIndex) addFunc(d *dwarf.Data, e *dwarf.Entry, fn *decl) {
	if low, ok := e.Val(dwarf.AttrLowpc).(uint64); ok {
		if _, seen := idx.funcsByAddr[low]; !seen {
			idx.funcsByAddr[low] = fn
		}
	} else if e.AttrField(dwarf.AttrRanges) != nil {
		// A function split into hot and cold parts has DW_AT_ranges; its
		// entry is the start of one of them.
		if rs, err := d.Ranges(e); err == nil {
			for _, rg := range rs {
				if _, seen := idx.funcsByAddr[rg[0]]; !seen {
					idx.funcsByAddr[rg[0]] = fn
				}
			}
		}
	}
	if fn.external || fn.linkage != "" {
		indexByName(idx.funcsByName, fn)
	}
}

// indexByName indexes dc under its linkage name and its source name: in C
// the two differ only through asm labels, and glibc labels its internal
// aliases (memcpy is "__GI_memcpy") while exporting the source name. A
// definition displaces a declaration; otherwise the first DIE wins.
func indexByName(m map[string]*decl, dc *decl) {
	for _, name := range []string{dc.linkage, dc.name} {
		if name == "" {
			continue
		}
		if prev, seen := m[name]; !seen || (prev.isDecl && !dc.isDecl) {
			m[name] = dc
		}
	}
}

// addVar indexes a variable by the address in its DW_OP_addr location
// (a definition) and by name (any external DIE).
func (idx *dwarfIndex) addVar(e *dwarf.Entry, v *decl, bo binary.ByteOrder, ptrSize int) {
	if loc, ok := e.Val(dwarf.AttrLocation).([]byte); ok && len(loc) == 1+ptrSize && loc[0] == opAddr {
		var addr uint64
		if ptrSize == 8 {
			addr = bo.Uint64(loc[1:])
		} else {
			addr = uint64(bo.Uint32(loc[1:]))
		}
		if _, seen := idx.varsByAddr[addr]; !seen {
			idx.varsByAddr[addr] = v
		}
	}
	if v.external || v.linkage != "" {
		indexByName(idx.varsByName, v)
	}
}

// typeOf follows the origin chain (concrete instance -> abstract instance
// -> declaration) to the first DIE that states a type.
func (idx *dwarfIndex) typeOf(dc *decl) (dwarf.Offset, bool) {
	for i := 0; dc != nil && i < maxTypeDepth; i++ {
		if dc.hasType {
			return dc.typ, true
		}
		if !dc.hasOrigin {
			break
		}
		dc = idx.decls[dc.origin]
	}
	return 0, false
}

// paramsOf follows the origin chain to the first DIE whose parameters all
// carry types. A concrete out-of-line copy lists its parameters with only
// DW_AT_abstract_origin; the abstract instance has the types.
func (idx *dwarfIndex) paramsOf(dc *decl) (params []dwarf.Offset, variadic, ok bool) {
	for i := 0; dc != nil && i < maxTypeDepth; i++ {
		variadic = variadic || dc.variadic
		if !dc.untypedParams && !(dc.noProto && len(dc.params) == 0) && (len(dc.params) > 0 || !dc.hasOrigin) {
			return dc.params, variadic || dc.variadic, true
		}
		if !dc.hasOrigin {
			break
		}
		dc = idx.decls[dc.origin]
	}
	return nil, variadic, false
}
