package abi

import (
	"debug/dwarf"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"strings"
)

// readTypes adds what DWARF knows to lib: the signature of each exported
// function, the type of each exported object, and the layouts of the
// structs and unions reachable from them. Without DWARF it leaves lib at
// symbol level (DebugInfo = DebugNone) and is not an error: a stripped
// library is still checked by its symbols.
func readTypes(lib *Library, f *elf.File, path string, opts LoadOptions) error {
	src, kind := f, DebugNone
	if hasOwnDWARF(f) {
		kind = DebugEmbedded
	} else {
		df, k, err := openSeparateDebug(f, path, opts.DebugDirs)
		if err != nil {
			return err
		}
		if df == nil {
			return nil
		}
		defer df.Close()
		src, kind = df, k
	}
	d, err := src.DWARF()
	if err != nil {
		return fmt.Errorf("reading DWARF (%s): %w", kind, err)
	}
	ptrSize := int64(8)
	if f.Class == elf.ELFCLASS32 {
		ptrSize = 4
	}
	maxAlign := int64(16)
	if f.Machine == elf.EM_386 {
		maxAlign = 4
	}
	tr := newTypeReader(d, f.ByteOrder == binary.BigEndian, ptrSize, maxAlign)
	idx, err := scanDWARF(d, tr, f.ByteOrder, int(ptrSize))
	if err != nil {
		return fmt.Errorf("%s debug info: %w", kind, err)
	}
	x := &extractor{tr: tr, nm: newNamer(tr), idx: idx, done: map[string]bool{}, seen: map[dwarf.Offset]bool{}}
	// lib.Symbols is sorted, so anonymous types are named by the same
	// (first) export in every build of the same interface.
	for i := range lib.Symbols {
		x.describe(&lib.Symbols[i])
	}
	lib.Types = x.layouts
	lib.DebugInfo = kind
	return nil
}

// extractor walks from the exports to the types they reach.
type extractor struct {
	tr      *typeReader
	nm      *namer
	idx     *dwarfIndex
	layouts []Layout
	done    map[string]bool       // layouts recorded, by canonical name
	seen    map[dwarf.Offset]bool // type DIEs walked
}

// describe sets s.Signature or s.Type from the DIE that describes s, if any.
func (x *extractor) describe(s *Symbol) {
	if s.IsFunc() {
		fn := x.funcFor(s)
		if fn == nil {
			return
		}
		params, variadic, ok := x.idx.paramsOf(fn)
		if !ok {
			return
		}
		ret, hasRet := x.idx.typeOf(fn)
		sig := &Signature{Return: x.nm.name(ret, hasRet, s.Name+".ret"), Params: make([]string, len(params)), Variadic: variadic}
		for i, p := range params {
			ctx := fmt.Sprintf("%s.arg%d", s.Name, i)
			sig.Params[i] = x.nm.name(p, true, ctx)
			x.reach(p, ctx, 0)
		}
		if hasRet {
			x.reach(ret, s.Name+".ret", 0)
		}
		s.Signature = sig
		return
	}
	v := x.varFor(s)
	if v == nil {
		return
	}
	if t, ok := x.idx.typeOf(v); ok {
		s.Type = x.nm.name(t, true, s.Name)
		x.reach(t, s.Name, 0)
	}
}

// funcFor finds the DIE for an exported function: by address, then by
// name. An IFUNC's address is its resolver's, whose signature is not the
// function's, so IFUNCs go by name only.
func (x *extractor) funcFor(s *Symbol) *decl {
	if s.Kind != SymIFunc {
		if fn, ok := x.idx.funcsByAddr[s.addr]; ok {
			return fn
		}
	}
	return x.idx.funcsByName[s.Name]
}

func (x *extractor) varFor(s *Symbol) *decl {
	if s.Kind != SymTLS { // a TLS symbol's value is an offset, not an address
		if v, ok := x.idx.varsByAddr[s.addr]; ok {
			return v
		}
	}
	return x.idx.varsByName[s.Name]
}

// reach records the layout of every struct or union reachable from the
// type at off, through pointers, arrays, typedefs, qualifiers, members and
// function-pointer signatures.
func (x *extractor) reach(off dwarf.Offset, ctx string, depth int) {
	if depth > maxTypeDepth || x.seen[off] {
		return
	}
	x.seen[off] = true
	n, err := x.tr.get(off)
	if err != nil {
		return
	}
	switch n.tag {
	case dwarf.TagTypedef:
		if n.hasElem {
			x.reach(n.elem, n.name, depth+1)
		}
	case dwarf.TagPointerType, dwarf.TagReferenceType, tagRvalueRef, dwarf.TagArrayType,
		dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType, tagAtomicType:
		if n.hasElem {
			x.reach(n.elem, ctx, depth+1)
		}
	case dwarf.TagSubroutineType:
		for i, p := range n.params {
			x.reach(p, fmt.Sprintf("%s.arg%d", ctx, i), depth+1)
		}
		if n.hasElem {
			x.reach(n.elem, ctx+".ret", depth+1)
		}
	case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType:
		x.aggregate(n, ctx, depth)
	}
}

// aggregate records one struct's or union's layout and walks its members.
// A declaration is completed from the file's definition of the same name;
// one that has none is opaque to every user and has no layout to check.
func (x *extractor) aggregate(n *tnode, ctx string, depth int) {
	name := x.nm.name(n.off, true, ctx)
	def := x.tr.complete(n)
	if def.decl || x.done[name] {
		return
	}
	x.done[name] = true
	x.seen[def.off] = true
	label := x.nm.label(n, ctx)
	lay := Layout{Name: name, Align: uint64(x.tr.aggregateAlign(def, depth)), Members: make([]Member, 0, len(def.members))}
	if def.size > 0 {
		lay.Size = uint64(def.size)
	}
	ctxs := make([]string, len(def.members))
	for i, m := range def.members {
		ctxs[i] = label + "." + memberLabel(m)
		mem := Member{Name: m.name, Offset: uint64(m.offset), Type: x.nm.name(m.typ, m.hasType, ctxs[i])}
		if m.bitSize > 0 {
			mem.BitOffset, mem.BitSize = uint64(m.bitPos), uint64(m.bitSize)
		}
		lay.Members = append(lay.Members, mem)
	}
	x.layouts = append(x.layouts, lay)
	for i, m := range def.members {
		if m.hasType {
			x.reach(m.typ, ctxs[i], depth+1)
		}
	}
}

// memberLabel names a member inside the context of anonymous types: its
// name, or "@offset" for an unnamed (C11 anonymous) member.
func memberLabel(m tmember) string {
	if m.name != "" {
		return strings.Trim(m.name, "<>")
	}
	return fmt.Sprintf("@%d", m.offset)
}
