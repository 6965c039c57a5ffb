package abi

import (
	"debug/dwarf"
	"fmt"
)

// This file reads DWARF type entries into small nodes. It does its own
// reading instead of using dwarf.Data.Type because that API drops what an
// ABI check needs (DW_AT_alignment, the DIE offset of nested types) and
// fails outright on encodings it does not know (DW_ATE_UTF, which Rust's
// char uses), taking every struct that contains one down with it.

// DWARF constants that debug/dwarf does not name.
const (
	tagAtomicType   dwarf.Tag  = 0x47 // DW_TAG_atomic_type (DWARF 5)
	tagRvalueRef    dwarf.Tag  = 0x42 // DW_TAG_rvalue_reference_type
	attrAlignment   dwarf.Attr = 0x88 // DW_AT_alignment (DWARF 5)
	opPlusUconst               = 0x23 // DW_OP_plus_uconst
	opAddr                     = 0x03 // DW_OP_addr
	ateAddress                 = 0x1
	ateBoolean                 = 0x2
	ateComplexFloat            = 0x3
	ateFloat                   = 0x4
	ateSigned                  = 0x5
	ateSignedChar              = 0x6
	ateUnsigned                = 0x7
	ateUnsignedChar            = 0x8
	ateUTF                     = 0x10
)

// tnode is one DWARF type entry, reduced to what naming and layout need.
type tnode struct {
	off   dwarf.Offset
	tag   dwarf.Tag
	name  string
	size  int64 // -1 when DW_AT_byte_size is absent
	align int64 // DW_AT_alignment, 0 when absent
	enc   int64 // base types: DW_AT_encoding
	decl  bool  // DW_AT_declaration: an incomplete struct/union

	elem    dwarf.Offset // DW_AT_type; valid when hasElem
	hasElem bool

	counts   []int64   // arrays: element count per dimension, -1 if unknown
	members  []tmember // structs, unions
	params   []dwarf.Offset
	variadic bool // subroutine types with DW_TAG_unspecified_parameters
}

// tmember is one data member.
type tmember struct {
	name    string
	typ     dwarf.Offset
	hasType bool
	offset  int64 // byte offset
	align   int64 // DW_AT_alignment on the member, 0 when absent
	bitSize int64 // 0 unless a bit-field
	bitPos  int64 // bit-fields: bits from the start of the aggregate
}

// typeReader reads and caches type nodes of one DWARF data set.
type typeReader struct {
	d     *dwarf.Data
	r     *dwarf.Reader
	cache map[dwarf.Offset]*tnode
	// defs maps "struct foo" to the first complete definition in the
	// file, so a declaration (an opaque pointer in one compile unit) can be
	// completed from another unit that defines the type.
	defs      map[string]dwarf.Offset
	bigEndian bool
	ptrSize   int64
	// maxAlign caps the natural alignment of scalars: on i686 a double or
	// long long inside a struct is 4-aligned although it is 8 bytes.
	maxAlign int64
}

func newTypeReader(d *dwarf.Data, bigEndian bool, ptrSize, maxAlign int64) *typeReader {
	return &typeReader{d: d, r: d.Reader(), cache: map[dwarf.Offset]*tnode{}, defs: map[string]dwarf.Offset{},
		bigEndian: bigEndian, ptrSize: ptrSize, maxAlign: maxAlign}
}

// get returns the node at off, reading it on first use.
func (tr *typeReader) get(off dwarf.Offset) (*tnode, error) {
	if n, ok := tr.cache[off]; ok {
		return n, nil
	}
	tr.r.Seek(off)
	e, err := tr.r.Next()
	if err != nil {
		return nil, fmt.Errorf("reading type DIE at %#x: %w", off, err)
	}
	if e == nil || e.Offset != off {
		return nil, fmt.Errorf("no type DIE at %#x", off)
	}
	n := &tnode{off: off, tag: e.Tag, size: -1}
	n.name, _ = e.Val(dwarf.AttrName).(string)
	if v, ok := e.Val(dwarf.AttrByteSize).(int64); ok {
		n.size = v
	}
	n.align, _ = e.Val(attrAlignment).(int64)
	n.enc, _ = e.Val(dwarf.AttrEncoding).(int64)
	n.decl, _ = e.Val(dwarf.AttrDeclaration).(bool)
	n.elem, n.hasElem = e.Val(dwarf.AttrType).(dwarf.Offset)
	if e.Children {
		if err := tr.readChildren(n); err != nil {
			return nil, fmt.Errorf("reading children of type DIE at %#x: %w", off, err)
		}
	}
	tr.cache[off] = n
	return n, nil
}

// readChildren reads the children that matter for n's tag: members of
// aggregates, dimensions of arrays, parameters of function types. Every
// other child (enumerators, nested declarations, template parameters) is
// skipped with its subtree.
func (tr *typeReader) readChildren(n *tnode) error {
	for {
		c, err := tr.r.Next()
		if err != nil {
			return err
		}
		if c == nil || c.Tag == 0 {
			return nil
		}
		switch {
		case c.Tag == dwarf.TagMember && isAggregate(n.tag):
			if isStatic, _ := c.Val(dwarf.AttrExternal).(bool); isStatic {
				break // a C++ static member takes no room in the object
			}
			if isDecl, _ := c.Val(dwarf.AttrDeclaration).(bool); isDecl {
				break
			}
			n.members = append(n.members, tr.member(c))
		case c.Tag == dwarf.TagSubrangeType && n.tag == dwarf.TagArrayType:
			n.counts = append(n.counts, subrangeCount(c))
		case c.Tag == dwarf.TagFormalParameter && n.tag == dwarf.TagSubroutineType:
			t, _ := c.Val(dwarf.AttrType).(dwarf.Offset)
			n.params = append(n.params, t)
		case c.Tag == dwarf.TagUnspecifiedParameters && n.tag == dwarf.TagSubroutineType:
			n.variadic = true
		}
		if c.Children {
			tr.r.SkipChildren()
		}
	}
}

func isAggregate(t dwarf.Tag) bool {
	return t == dwarf.TagStructType || t == dwarf.TagUnionType || t == dwarf.TagClassType
}

// member reads one DW_TAG_member, turning both bit-field conventions into
// a bit position from the start of the aggregate.
func (tr *typeReader) member(c *dwarf.Entry) tmember {
	m := tmember{}
	m.name, _ = c.Val(dwarf.AttrName).(string)
	m.typ, m.hasType = c.Val(dwarf.AttrType).(dwarf.Offset)
	m.align, _ = c.Val(attrAlignment).(int64)
	switch loc := c.Val(dwarf.AttrDataMemberLoc).(type) {
	case int64:
		m.offset = loc
	case []byte:
		// DWARF 2 style: a location expression, in practice always
		// DW_OP_plus_uconst <offset>.
		if len(loc) > 1 && loc[0] == opPlusUconst {
			v, _ := uleb128(loc[1:])
			m.offset = int64(v)
		}
	}
	m.bitSize, _ = c.Val(dwarf.AttrBitSize).(int64)
	if m.bitSize == 0 {
		return m
	}
	if dbo, ok := c.Val(dwarf.AttrDataBitOffset).(int64); ok {
		m.bitPos = dbo
	} else if bo, ok := c.Val(dwarf.AttrBitOffset).(int64); ok {
		// DWARF 2/3: bo counts from the most significant bit of a storage
		// unit of DW_AT_byte_size bytes at the member's byte offset.
		storage, _ := c.Val(dwarf.AttrByteSize).(int64)
		if tr.bigEndian {
			m.bitPos = m.offset*8 + bo
		} else {
			m.bitPos = m.offset*8 + storage*8 - bo - m.bitSize
		}
	} else {
		m.bitPos = m.offset * 8
	}
	m.offset = m.bitPos / 8
	return m
}

// subrangeCount is the element count of one array dimension.
func subrangeCount(c *dwarf.Entry) int64 {
	if n, ok := c.Val(dwarf.AttrCount).(int64); ok {
		return n
	}
	if ub, ok := c.Val(dwarf.AttrUpperBound).(int64); ok {
		lb, _ := c.Val(dwarf.AttrLowerBound).(int64)
		return ub - lb + 1
	}
	return -1 // flexible or variable-length
}

// uleb128 decodes an unsigned LEB128 number.
func uleb128(b []byte) (uint64, int) {
	var v uint64
	var shift uint
	for i, c := range b {
		if shift < 64 {
			v |= uint64(c&0x7f) << shift
		}
		shift += 7
		if c&0x80 == 0 {
			return v, i + 1
		}
	}
	return v, len(b)
}

// sizeOf is the byte size of the type at off, following typedefs,
// qualifiers and arrays; -1 when unknown.
func (tr *typeReader) sizeOf(off dwarf.Offset, depth int) int64 {
	n, err := tr.get(off)
	if err != nil || depth > maxTypeDepth {
		return -1
	}
	if n.size >= 0 {
		return n.size
	}
	switch n.tag {
	case dwarf.TagPointerType, dwarf.TagReferenceType, tagRvalueRef:
		return tr.ptrSize
	case dwarf.TagArrayType:
		if !n.hasElem {
			return -1
		}
		total := tr.sizeOf(n.elem, depth+1)
		for _, c := range n.counts {
			if c < 0 || total < 0 {
				return -1
			}
			total *= c
		}
		return total
	case dwarf.TagTypedef, dwarf.TagConstType, dwarf.TagVolatileType,
		dwarf.TagRestrictType, tagAtomicType:
		if n.hasElem {
			return tr.sizeOf(n.elem, depth+1)
		}
	}
	return -1
}

// maxTypeDepth bounds recursion through type chains; a real chain of
// typedefs and qualifiers is a handful deep, so anything deeper is a cycle
// in malformed DWARF.
const maxTypeDepth = 64

// complete returns the definition of a declared struct, union or enum
// when the file has one, else n itself.
func (tr *typeReader) complete(n *tnode) *tnode {
	if !n.decl || n.name == "" {
		return n
	}
	off, ok := tr.defs[tagKeyword(n.tag)+" "+n.name]
	if !ok {
		return n
	}
	if d, err := tr.get(off); err == nil {
		return d
	}
	return n
}

// tagKeyword is the C keyword for an aggregate or enum tag.
func tagKeyword(t dwarf.Tag) string {
	switch t {
	case dwarf.TagStructType:
		return "struct"
	case dwarf.TagUnionType:
		return "union"
	case dwarf.TagClassType:
		return "class"
	case dwarf.TagEnumerationType:
		return "enum"
	}
	return t.String()
}
