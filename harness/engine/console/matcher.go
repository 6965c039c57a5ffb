package console

import "strings"

// Matcher finds any of a set of literal patterns in a stream in one pass (Aho-Corasick,
// compiled to a full transition table). Its cost per byte does not depend on the number of
// patterns, and a match split across two chunks is found because the automaton's state is
// the overlap: nothing is rescanned.
type Matcher struct {
	patterns []string
	// class maps a byte to its equivalence class: bytes that occur in no pattern share
	// class 0. The table next[state*stride+class] is then small enough to stay in the L1
	// cache, which is what the per-byte cost depends on (each step waits on the last).
	// States are numbered so every accepting state comes after every other one: one
	// comparison (state >= accept) tells the hot loop it has a match.
	class  [256]uint8
	stride int32
	next   []int32
	accept int32
	// starts has bit (a<<8|b) set when some pattern starts with the bytes a, b (or is the
	// single byte a). In the start state, positions whose next two bytes begin no pattern
	// cannot begin a match and are skipped without walking the automaton; those checks do
	// not depend on each other, so the CPU overlaps them (the automaton's steps cannot).
	starts [1 << 16 / 64]uint64
	// out[state] lists the patterns that end in that state (through suffix links too).
	out   [][]int32
	delta []int32 // construction only
}

// NewMatcher compiles the patterns. Empty patterns never match.
func NewMatcher(patterns ...string) *Matcher {
	m := &Matcher{patterns: patterns}
	// Trie.
	type node struct {
		next map[byte]int32
		out  []int32
	}
	nodes := []node{{next: map[byte]int32{}}}
	for i, p := range patterns {
		if p == "" {
			continue
		}
		s := int32(0)
		for j := 0; j < len(p); j++ {
			n, ok := nodes[s].next[p[j]]
			if !ok {
				nodes = append(nodes, node{next: map[byte]int32{}})
				n = int32(len(nodes) - 1)
				nodes[s].next[p[j]] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, int32(i))
	}
	// Breadth-first: suffix links and the full transition table.
	m.delta = make([]int32, len(nodes)*256)
	m.out = make([][]int32, len(nodes))
	fail := make([]int32, len(nodes))
	queue := make([]int32, 0, len(nodes))
	for c := 0; c < 256; c++ {
		if n, ok := nodes[0].next[byte(c)]; ok {
			m.delta[c] = n
			queue = append(queue, n)
		}
	}
	m.out[0] = nodes[0].out
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		m.out[s] = append(append([]int32(nil), nodes[s].out...), m.out[fail[s]]...)
		for c := 0; c < 256; c++ {
			if n, ok := nodes[s].next[byte(c)]; ok {
				fail[n] = m.delta[int(fail[s])<<8|c]
				m.delta[int(s)<<8|c] = n
				queue = append(queue, n)
			} else {
				m.delta[int(s)<<8|c] = m.delta[int(fail[s])<<8|c]
			}
		}
	}
	m.renumber()
	for _, p := range patterns {
		switch {
		case len(p) == 1:
			for b := 0; b < 256; b++ {
				m.setStart(p[0], byte(b))
			}
		case len(p) >= 2:
			m.setStart(p[0], p[1])
		}
	}
	return m
}

func (m *Matcher) setStart(a, b byte) {
	k := uint(a)<<8 | uint(b)
	m.starts[k>>6] |= 1 << (k & 63)
}

// renumber moves the accepting states to the end and turns state numbers into row offsets.
func (m *Matcher) renumber() {
	n := len(m.out)
	perm := make([]int32, n) // old -> new
	next := int32(0)
	for s := 0; s < n; s++ {
		if len(m.out[s]) == 0 {
			perm[s] = next
			next++
		}
	}
	m.accept = next
	for s := 0; s < n; s++ {
		if len(m.out[s]) != 0 {
			perm[s] = next
			next++
		}
	}
	// Byte classes: one per byte that occurs in a pattern (at most 255), one for the rest.
	ncls := 1
	rep := []int{0} // a representative byte per class
	for c := 0; c < 256; c++ {
		used := false
		for _, p := range m.patterns {
			if strings.IndexByte(p, byte(c)) >= 0 {
				used = true
				break
			}
		}
		if used && ncls < 256 {
			m.class[c] = uint8(ncls)
			rep = append(rep, c)
			ncls++
		}
	}
	if len(rep) > 0 {
		// Class 0 stands for bytes in no pattern; find one to read its transitions.
		rep[0] = -1
		for c := 0; c < 256; c++ {
			if m.class[c] == 0 {
				rep[0] = c
				break
			}
		}
	}
	m.stride = int32(ncls)
	m.next = make([]int32, n*ncls)
	out := make([][]int32, n)
	for s := 0; s < n; s++ {
		for k, c := range rep {
			if c < 0 {
				continue // every byte occurs in a pattern; class 0 is unused
			}
			m.next[int(perm[s])*ncls+k] = perm[m.delta[s<<8|c]] * int32(ncls)
		}
		out[perm[s]] = m.out[s]
	}
	m.accept *= int32(ncls)
	m.out, m.delta = out, nil
}

// Patterns returns the patterns the matcher was built from.
func (m *Matcher) Patterns() []string { return m.patterns }

// Scanner is the streaming state of one scan.
type Scanner struct {
	m     *Matcher
	state int32
}

// Scanner starts a new scan.
func (m *Matcher) Scanner() *Scanner { return &Scanner{m: m} }

// Scan feeds b and returns the index in b just past the first match and the pattern that
// matched (the lowest-numbered one if several end at the same byte), or -1, -1. After a
// match the scan can be continued from the returned index.
func (s *Scanner) Scan(b []byte) (end, pattern int) {
	next, class, accept, starts := s.m.next, &s.m.class, s.m.accept, &s.m.starts
	st := s.state // state * stride: the start of its row
	for i := 0; i < len(b); i++ {
		if st == 0 {
			for i+1 < len(b) {
				k := uint(b[i])<<8 | uint(b[i+1])
				if starts[k>>6&1023]&(1<<(k&63)) != 0 {
					break
				}
				i++
			}
		}
		st = next[st+int32(class[b[i]])]
		if st >= accept {
			s.state = st
			outs := s.m.out[st/s.m.stride]
			best := outs[0]
			for _, p := range outs[1:] {
				if p < best {
					best = p
				}
			}
			return i + 1, int(best)
		}
	}
	s.state = st
	return -1, -1
}
