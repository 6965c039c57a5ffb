package abi

import "debug/dwarf"

// DWARF records alignment only when the source asked for one
// (DW_AT_alignment from _Alignas or __attribute__((aligned))). Everything
// else is derived here the way the SysV psABIs lay structs out: a scalar
// is aligned to its size (capped per machine), an aggregate to its most
// aligned member, unless the member offsets show it was packed.

// alignOf returns the alignment in bytes of the type at off; 1 when it
// cannot be known.
func (tr *typeReader) alignOf(off dwarf.Offset, depth int) int64 {
	n, err := tr.get(off)
	if err != nil || depth > maxTypeDepth {
		return 1
	}
	if n.align > 0 {
		return n.align
	}
	switch n.tag {
	case dwarf.TagBaseType:
		if n.enc == ateComplexFloat {
			// A complex number is two of its component, aligned as one.
			return tr.scalarAlign(n.size / 2)
		}
		return tr.scalarAlign(n.size)
	case dwarf.TagEnumerationType:
		if n.size < 0 && n.hasElem {
			return tr.alignOf(n.elem, depth+1)
		}
		return tr.scalarAlign(n.size)
	case dwarf.TagPointerType, dwarf.TagReferenceType, tagRvalueRef:
		return tr.scalarAlign(tr.ptrSize)
	case dwarf.TagArrayType, dwarf.TagTypedef, dwarf.TagConstType,
		dwarf.TagVolatileType, dwarf.TagRestrictType, tagAtomicType:
		if n.hasElem {
			return tr.alignOf(n.elem, depth+1)
		}
	case dwarf.TagStructType, dwarf.TagUnionType, dwarf.TagClassType:
		return tr.aggregateAlign(tr.complete(n), depth)
	}
	return 1
}

func (tr *typeReader) scalarAlign(size int64) int64 {
	if size <= 0 {
		return 1
	}
	a := int64(1)
	for a < size && a < tr.maxAlign {
		a <<= 1
	}
	return a
}

// aggregateAlign derives a struct's or union's alignment from its members.
// A packed struct shows itself by a member at an offset its type's
// alignment does not divide, or by a size that is not a multiple of the
// natural alignment; it then gets the largest power of two that divides
// its size and every member offset (1 for plain __attribute__((packed))).
func (tr *typeReader) aggregateAlign(n *tnode, depth int) int64 {
	if n.align > 0 {
		return n.align
	}
	natural := int64(1)
	packed := false
	for _, m := range n.members {
		a := int64(1)
		if m.align > 0 {
			a = m.align
		} else if m.hasType {
			a = tr.alignOf(m.typ, depth+1)
		}
		if a > natural {
			natural = a
		}
		if m.bitSize == 0 && m.offset%a != 0 {
			packed = true
		}
	}
	if n.size > 0 && n.size%natural != 0 {
		packed = true
	}
	if !packed {
		return natural
	}
	a := natural
	for a > 1 {
		ok := n.size%a == 0
		for _, m := range n.members {
			if m.bitSize == 0 && m.offset%a != 0 {
				ok = false
			}
		}
		if ok {
			break
		}
		a >>= 1
	}
	return a
}
