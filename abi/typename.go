package abi

import (
	"debug/dwarf"
	"fmt"
	"strings"
)

// namer gives every type its canonical name (see the package comment for
// why names are canonical rather than as spelled).
//
// Anonymous aggregates are named after the context they were first
// reached through: the typedef that names them, or parent.member. The
// first name sticks (cached by DIE offset), and callers walk the exports
// in sorted order, so the result does not depend on DWARF order.
type namer struct {
	tr   *typeReader
	anon map[dwarf.Offset]string
}

func newNamer(tr *typeReader) *namer {
	return &namer{tr: tr, anon: map[dwarf.Offset]string{}}
}

// name returns the canonical name of the type at off. ok=false means the
// DIE has no DW_AT_type (void).
func (nm *namer) name(off dwarf.Offset, ok bool, ctx string) string {
	if !ok {
		return "void"
	}
	return nm.nameDepth(off, ctx, 0)
}

func (nm *namer) nameDepth(off dwarf.Offset, ctx string, depth int) string {
	if depth > maxTypeDepth {
		return "<too deep>"
	}
	n, err := nm.tr.get(off)
	if err != nil {
		return "<unreadable>"
	}
	elem := func(prefix, ctx string) string {
		if !n.hasElem {
			return prefix + "void"
		}
		return prefix + nm.nameDepth(n.elem, ctx, depth+1)
	}
	switch n.tag {
	case dwarf.TagBaseType:
		return baseTypeName(n)
	case dwarf.TagUnspecifiedType:
		if n.name != "" {
			return n.name
		}
		return "void"
	case dwarf.TagPointerType:
		return elem("*", ctx)
	case dwarf.TagReferenceType:
		return elem("&", ctx)
	case tagRvalueRef:
		return elem("&&", ctx)
	case dwarf.TagTypedef:
		// The typedef's own name goes no further than naming an anonymous
		// aggregate behind it: size_t and unsigned long are one type.
		return elem("", n.name)
	case dwarf.TagConstType, dwarf.TagVolatileType, dwarf.TagRestrictType, tagAtomicType:
		return elem("", ctx)
	case dwarf.TagArrayType:
		var b strings.Builder
		for _, c := range n.counts {
			if c < 0 {
				b.WriteString("[]")
			} else {
				fmt.Fprintf(&b, "[%d]", c)
			}
		}
		if len(n.counts) == 0 {
			b.WriteString("[]")
		}
		return elem(b.String(), ctx)
	case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType, dwarf.TagEnumerationType:
		return tagKeyword(n.tag) + " " + nm.aggregateLabel(n, ctx)
	case dwarf.TagSubroutineType:
		return nm.funcName(n, ctx, depth)
	}
	return "<" + n.tag.String() + ">"
}

// aggregateLabel is the part after the keyword: the tag name, or for an
// anonymous aggregate "<context>".
func (nm *namer) aggregateLabel(n *tnode, ctx string) string {
	if n.name != "" {
		return n.name
	}
	if l, ok := nm.anon[n.off]; ok {
		return l
	}
	if ctx == "" {
		ctx = "anonymous"
	}
	l := "<" + ctx + ">"
	nm.anon[n.off] = l
	return l
}

// label is how an aggregate appears inside the context of its members'
// anonymous types: "sigaction" for struct sigaction, "div_t" for the
// anonymous struct behind typedef div_t.
func (nm *namer) label(n *tnode, ctx string) string {
	return strings.Trim(nm.aggregateLabel(n, ctx), "<>")
}

func (nm *namer) funcName(n *tnode, ctx string, depth int) string {
	var b strings.Builder
	b.WriteString("func(")
	for i, p := range n.params {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(nm.nameDepth(p, fmt.Sprintf("%s.arg%d", ctx, i), depth+1))
	}
	if n.variadic {
		if len(n.params) > 0 {
			b.WriteString(", ")
		}
		b.WriteString("...")
	}
	b.WriteString(")")
	if n.hasElem {
		b.WriteString(" " + nm.nameDepth(n.elem, ctx+".ret", depth+1))
	}
	return b.String()
}

// baseTypeName names a base type by representation, so that compilers and
// languages that spell the same type differently agree. Signedness stays:
// int32 and uint32 pass the same way but mean different things to callers.
func baseTypeName(n *tnode) string {
	bits := n.size * 8
	switch n.enc {
	case ateSigned, ateSignedChar:
		return fmt.Sprintf("int%d", bits)
	case ateUnsigned, ateUnsignedChar:
		return fmt.Sprintf("uint%d", bits)
	case ateBoolean:
		if bits == 8 {
			return "bool"
		}
		return fmt.Sprintf("bool%d", bits)
	case ateFloat:
		// x87 extended precision sits in 16 bytes on x86_64 but is not an
		// IEEE binary128; keep the two apart.
		if n.size > 8 && strings.Contains(n.name, "long double") {
			return fmt.Sprintf("longdouble%d", bits)
		}
		return fmt.Sprintf("float%d", bits)
	case ateComplexFloat:
		return fmt.Sprintf("complex%d", bits)
	case ateUTF:
		return fmt.Sprintf("char%d", bits)
	case ateAddress:
		return fmt.Sprintf("addr%d", bits)
	}
	if n.name != "" {
		return n.name
	}
	return fmt.Sprintf("<base encoding %#x size %d>", n.enc, n.size)
}
