package abi

import (
	"fmt"
	"strconv"
)

// layouts compares the struct and union layouts both sides reach.
func (c *comparison) layouts() {
	oldTypes := map[string]*Layout{}
	for i := range c.old.Types {
		oldTypes[c.old.Types[i].Name] = &c.old.Types[i]
	}
	newTypes := map[string]*Layout{}
	for i := range c.new.Types {
		newTypes[c.new.Types[i].Name] = &c.new.Types[i]
	}
	for i := range c.old.Types {
		o := &c.old.Types[i]
		n, ok := newTypes[o.Name]
		if !ok {
			c.add(Compatible, TypeRemoved, o.Name, sizeStr(o), "", "no longer reachable from an export")
			continue
		}
		c.layout(o, n)
	}
	for i := range c.new.Types {
		n := &c.new.Types[i]
		if _, ok := oldTypes[n.Name]; !ok {
			c.add(Compatible, TypeAdded, n.Name, "", sizeStr(n), "newly reachable from an export")
		}
	}
}

// layout compares one aggregate. Members are matched by name (unnamed
// ones by their position among the unnamed), because a reordering must
// show as moved offsets, not as a pairwise type mismatch.
func (c *comparison) layout(o, n *Layout) {
	if o.Size != n.Size {
		c.add(Break, TypeSizeChanged, o.Name, strconv.FormatUint(o.Size, 10), strconv.FormatUint(n.Size, 10), "bytes")
	}
	if o.Align != n.Align {
		c.add(Break, TypeAlignChanged, o.Name, strconv.FormatUint(o.Align, 10), strconv.FormatUint(n.Align, 10), "bytes")
	}
	oldKeys, newKeys := memberKeys(o.Members), memberKeys(n.Members)
	newByKey := map[string]*Member{}
	for i, k := range newKeys {
		newByKey[k] = &n.Members[i]
	}
	oldSet := set(oldKeys)
	var removed []*Member
	for i, k := range oldKeys {
		om := &o.Members[i]
		nm, ok := newByKey[k]
		if !ok {
			removed = append(removed, om)
			continue
		}
		subject := o.Name + "." + k
		if om.Offset != nm.Offset {
			c.add(Break, MemberOffsetChanged, subject, strconv.FormatUint(om.Offset, 10), strconv.FormatUint(nm.Offset, 10), "")
		}
		if om.Type != nm.Type {
			c.add(Break, MemberTypeChanged, subject, om.Type, nm.Type, "")
		}
		if om.BitSize != nm.BitSize || (om.BitSize != 0 && om.BitOffset != nm.BitOffset) {
			c.add(Break, MemberBitsChanged, subject, bitsStr(om), bitsStr(nm), "")
		}
	}
	// A removed member whose slot a new name now fills with the same type
	// is a rename: the bytes are where they were.
	var added []*Member
	for i, k := range newKeys {
		if !oldSet[k] {
			added = append(added, &n.Members[i])
		}
	}
	renamedTo := map[*Member]bool{}
	for _, om := range removed {
		var to *Member
		for _, nm := range added {
			if !renamedTo[nm] && nm.Offset == om.Offset && nm.Type == om.Type &&
				nm.BitSize == om.BitSize && nm.BitOffset == om.BitOffset {
				to = nm
				break
			}
		}
		if to != nil {
			renamedTo[to] = true
			c.add(Compatible, MemberRenamed, o.Name+"."+memberName(om), memberName(om), memberName(to), "same offset and type")
			continue
		}
		c.add(Break, MemberRemoved, o.Name+"."+memberName(om), memberStr(om), "", "")
	}
	for _, nm := range added {
		if !renamedTo[nm] {
			c.add(Compatible, MemberAdded, n.Name+"."+memberName(nm), "", memberStr(nm), "")
		}
	}
}

// memberKeys names members for matching: the name, or "<unnamed #k>" for
// the k-th unnamed member.
func memberKeys(ms []Member) []string {
	keys := make([]string, len(ms))
	unnamed := 0
	for i, m := range ms {
		if m.Name != "" {
			keys[i] = m.Name
			continue
		}
		keys[i] = fmt.Sprintf("<unnamed #%d>", unnamed)
		unnamed++
	}
	return keys
}

func memberName(m *Member) string {
	if m.Name == "" {
		return fmt.Sprintf("<unnamed @%d>", m.Offset)
	}
	return m.Name
}

func memberStr(m *Member) string {
	s := fmt.Sprintf("%s at %d", m.Type, m.Offset)
	if m.BitSize != 0 {
		s += fmt.Sprintf(" (bits %d+%d)", m.BitOffset, m.BitSize)
	}
	return s
}

func bitsStr(m *Member) string {
	if m.BitSize == 0 {
		return "not a bit-field"
	}
	return fmt.Sprintf("bits %d+%d", m.BitOffset, m.BitSize)
}

func sizeStr(l *Layout) string {
	return fmt.Sprintf("%d bytes, align %d", l.Size, l.Align)
}
