package classify

import (
	"strings"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// litSet finds which of a fixed set of literals occur in a line, in one pass
// (Aho-Corasick over byte classes). A profile's patterns all carry a literal prefilter
// (Pattern.Contains); testing them one by one costs a substring search each, dozens per
// line, which dominated the analysis. With the set, each line is scanned once and a
// pattern whose literal is absent costs one bit test.
type litSet struct {
	words  int // uint64 words per bitset
	class  [256]uint8
	stride int
	next   []int32  // next[state*stride+class] = next state
	out    []uint64 // out[state*words:...]: literals that end in that state
	hasOut []bool
	// starts has bit (a<<8|b) set when some literal starts with bytes a, b (or is the
	// one byte a): in the start state, a position whose two bytes start no literal is
	// skipped without a dependent table walk (as the console's matcher does).
	starts [1 << 16 / 64]uint64
}

func newLitSet(lits []string) *litSet {
	ls := &litSet{words: (len(lits) + 63) / 64}
	if ls.words == 0 {
		ls.words = 1
	}
	// Byte classes: bytes in no literal share class 0.
	ncls := 1
	for c := 0; c < 256; c++ {
		for _, l := range lits {
			if strings.IndexByte(l, byte(c)) >= 0 {
				ls.class[c] = uint8(ncls)
				ncls++
				break
			}
		}
	}
	ls.stride = ncls
	for _, l := range lits {
		switch {
		case len(l) == 1:
			for b := 0; b < 256; b++ {
				ls.setStart(l[0], byte(b))
			}
		case len(l) > 1:
			ls.setStart(l[0], l[1])
		}
	}
	// Trie.
	type node struct {
		next map[uint8]int32
		out  []int
	}
	nodes := []node{{next: map[uint8]int32{}}}
	for i, l := range lits {
		s := int32(0)
		for j := 0; j < len(l); j++ {
			c := ls.class[l[j]]
			n, ok := nodes[s].next[c]
			if !ok {
				nodes = append(nodes, node{next: map[uint8]int32{}})
				n = int32(len(nodes) - 1)
				nodes[s].next[c] = n
			}
			s = n
		}
		nodes[s].out = append(nodes[s].out, i)
	}
	n := len(nodes)
	ls.next = make([]int32, n*ncls)
	ls.out = make([]uint64, n*ls.words)
	ls.hasOut = make([]bool, n)
	fail := make([]int32, n)
	queue := make([]int32, 0, n)
	for c := 0; c < ncls; c++ {
		if s, ok := nodes[0].next[uint8(c)]; ok {
			ls.next[c] = s
			queue = append(queue, s)
		}
	}
	for _, i := range nodes[0].out {
		ls.out[i/64] |= 1 << (i % 64)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		for _, i := range nodes[s].out {
			ls.out[int(s)*ls.words+i/64] |= 1 << (i % 64)
		}
		for w := 0; w < ls.words; w++ {
			ls.out[int(s)*ls.words+w] |= ls.out[int(fail[s])*ls.words+w]
		}
		for w := 0; w < ls.words; w++ {
			if ls.out[int(s)*ls.words+w] != 0 {
				ls.hasOut[s] = true
			}
		}
		for c := 0; c < ncls; c++ {
			if t, ok := nodes[s].next[uint8(c)]; ok {
				fail[t] = ls.next[int(fail[s])*ncls+c]
				ls.next[int(s)*ncls+c] = t
				queue = append(queue, t)
			} else {
				ls.next[int(s)*ncls+c] = ls.next[int(fail[s])*ncls+c]
			}
		}
	}
	return ls
}

func (ls *litSet) setStart(a, b byte) {
	k := uint(a)<<8 | uint(b)
	ls.starts[k>>6] |= 1 << (k & 63)
}

// scan sets in hits (len words) the literals that occur in line.
func (ls *litSet) scan(line string, hits []uint64) {
	clear(hits)
	next, class, stride, words := ls.next, &ls.class, int32(ls.stride), ls.words
	starts := &ls.starts
	st := int32(0)
	for i := 0; i < len(line); i++ {
		if st == 0 {
			for i+1 < len(line) {
				k := uint(line[i])<<8 | uint(line[i+1])
				if starts[k>>6&1023]&(1<<(k&63)) != 0 {
					break
				}
				i++
			}
		}
		st = next[st*stride+int32(class[line[i]])]
		if ls.hasOut[st] {
			o := ls.out[int(st)*words : int(st)*words+words]
			for w := range o {
				hits[w] |= o[w]
			}
		}
	}
}

// cpat is a profile pattern with its literal's index in the profile's litSet (-1: none)
// and, for component rules, the submatch indexes of the groups "c" and "m" (-1: none).
type cpat struct {
	p      *profile.Pattern
	lit    int
	ci, mi int
}

// compiled is a profile prepared for the per-line loop.
type compiled struct {
	set      *litSet
	stages   [][]cpat
	resp     []cpat
	benign   []cpat
	comps    []cpat
	sigs     []cpat
	next     []cpat   // per signature (p nil when none)
	nextSkip [][]cpat // per signature
	swallow  [][]cpat // per signature
}

var compiledCache sync.Map // *profile.Profile -> *compiled

// compile prepares a profile once; profiles are data fixed at init, so the result is
// cached by pointer.
func compile(p *profile.Profile) *compiled {
	if c, ok := compiledCache.Load(p); ok {
		return c.(*compiled)
	}
	ids := map[string]int{}
	var lits []string
	cp := func(pat *profile.Pattern) cpat {
		if pat == nil {
			return cpat{lit: -1, ci: -1, mi: -1}
		}
		c := cpat{p: pat, lit: -1, ci: -1, mi: -1}
		if pat.Regexp != nil {
			c.ci, c.mi = pat.Regexp.SubexpIndex("c"), pat.Regexp.SubexpIndex("m")
		}
		if pat.Contains == "" {
			return c
		}
		id, ok := ids[pat.Contains]
		if !ok {
			id = len(lits)
			ids[pat.Contains] = id
			lits = append(lits, pat.Contains)
		}
		c.lit = id
		return c
	}
	c := &compiled{}
	for i := range p.Stages {
		var ms []cpat
		for j := range p.Stages[i].Markers {
			ms = append(ms, cp(&p.Stages[i].Markers[j]))
		}
		c.stages = append(c.stages, ms)
	}
	for i := range p.Responses {
		c.resp = append(c.resp, cp(&p.Responses[i].On))
	}
	for i := range p.Benign {
		c.benign = append(c.benign, cp(&p.Benign[i]))
	}
	for i := range p.Components {
		c.comps = append(c.comps, cp(&p.Components[i].Match))
	}
	for i := range p.Signatures {
		s := &p.Signatures[i]
		c.sigs = append(c.sigs, cp(&s.Match))
		c.next = append(c.next, cp(s.Next))
		var skip []cpat
		for j := range s.NextSkip {
			skip = append(skip, cp(&s.NextSkip[j]))
		}
		c.nextSkip = append(c.nextSkip, skip)
		var sw []cpat
		for j := range s.Swallow {
			sw = append(sw, cp(&s.Swallow[j]))
		}
		c.swallow = append(c.swallow, sw)
	}
	c.set = newLitSet(lits)
	v, _ := compiledCache.LoadOrStore(p, c)
	return v.(*compiled)
}

// lineHits is the literal bitset of the line being analysed.
type lineHits []uint64

func (h lineHits) has(id int) bool { return id < 0 || h[id/64]&(1<<(id%64)) != 0 }

// is reports whether a compiled pattern matches (its literal known present or absent).
func (cp cpat) is(h lineHits, text string) bool {
	if cp.p == nil || !h.has(cp.lit) {
		return false
	}
	if cp.p.Regexp == nil {
		return cp.p.Contains != ""
	}
	return cp.p.Regexp.MatchString(text)
}

// component returns the "c" and "m" groups of a component rule without building a map.
func (cp cpat) component(h lineHits, text string) (c, m string, ok bool) {
	if cp.p == nil || !h.has(cp.lit) {
		return "", "", false
	}
	if cp.p.Regexp == nil {
		return "", "", cp.p.Contains != ""
	}
	if cp.ci < 0 && cp.mi < 0 {
		return "", "", cp.p.Regexp.MatchString(text)
	}
	sm := cp.p.Regexp.FindStringSubmatch(text)
	if sm == nil {
		return "", "", false
	}
	if cp.ci >= 0 {
		c = sm[cp.ci]
	}
	if cp.mi >= 0 {
		m = sm[cp.mi]
	}
	return c, m, true
}

// match is Pattern.Match with the literal test answered by the bitset.
func (cp cpat) match(h lineHits, text string) (map[string]string, bool) {
	if cp.p == nil || !h.has(cp.lit) {
		return nil, false
	}
	if cp.p.Regexp == nil {
		return nil, cp.p.Contains != ""
	}
	// The literal is present: the pattern's own check repeats only the regexp part.
	q := *cp.p
	q.Contains = ""
	return q.Match(text)
}
