package matrix

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/token"
)

// The decoder checks the parsed YAML against the Go types before goccy/go-yaml decodes
// it. The check knows which struct a mapping is for, so its errors can name the key, the
// image or host it is in and the keys that would have been accepted; goccy's own errors
// only serve as a backstop. On the way it records where every value is (source.nodes),
// so validation after decoding can point at "hosts[2].memory".

// source is a parsed matrix file: its name as given and where each value is.
type source struct {
	file  string
	root  ast.Node // the document, for anchors when a part is checked again
	nodes map[string]*place
}

// place is where one value of the file is.
type place struct {
	key   Pos      // the key that introduced the value (a list item: the item itself)
	value Pos      // the value (a block mapping: its first key)
	node  ast.Node // the value with anchors and aliases resolved (nil for null)
}

func newSource(file string) *source {
	return &source{file: file, nodes: map[string]*place{}}
}

// childPath and itemPath build the paths the index is keyed by: "hosts[2].memory".
func childPath(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func itemPath(path string, i int) string { return path + "[" + strconv.Itoa(i) + "]" }

// parentPath strips the last ".key" or "[i]" of a path.
func parentPath(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// pos is where path is: its key (key true) or its value. A path the file does not have
// (a missing key) falls back to the value of the nearest ancestor it does have, which
// for a list item of mappings is the item's first key.
func (s *source) pos(path string, key bool) Pos {
	if s == nil {
		return Pos{}
	}
	for p := path; ; p = parentPath(p) {
		if pl, ok := s.nodes[p]; ok {
			if key && p == path {
				return pl.key
			}
			return pl.value
		}
		if p == "" {
			return Pos{1, 1}
		}
	}
}

func (s *source) has(path string) bool {
	if s == nil {
		return false
	}
	_, ok := s.nodes[path]
	return ok
}

// errorf makes an *Error at the value (or key) of path.
func (s *source) errorf(path string, key bool, format string, args ...any) *Error {
	p := s.pos(path, key)
	file := ""
	if s != nil {
		file = s.file
	}
	return &Error{File: file, Line: p.Line, Col: p.Col, Msg: printable(fmt.Sprintf(format, args...))}
}

const (
	maxDepth = 64      // nesting of mappings/lists/aliases
	maxSteps = 100_000 // values visited, counting each alias expansion again
)

type walker struct {
	src     *source
	anchors map[string][]*ast.AnchorNode // by name, in file order
	steps   int
}

func newWalker(src *source, root ast.Node) *walker {
	w := &walker{src: src, anchors: map[string][]*ast.AnchorNode{}}
	w.collectAnchors(root, 0)
	return w
}

func (w *walker) collectAnchors(n ast.Node, depth int) {
	if n == nil || depth > 10*maxDepth {
		return
	}
	switch v := n.(type) {
	case *ast.AnchorNode:
		if v.Name != nil {
			name := scalarText(v.Name)
			w.anchors[name] = append(w.anchors[name], v)
		}
		w.collectAnchors(v.Value, depth+1)
	case *ast.TagNode:
		w.collectAnchors(v.Value, depth+1)
	case *ast.MappingNode:
		for _, mv := range v.Values {
			w.collectAnchors(mv, depth+1)
		}
	case *ast.MappingValueNode:
		if v.Key != nil {
			w.collectAnchors(v.Key, depth+1)
		}
		w.collectAnchors(v.Value, depth+1)
	case *ast.MappingKeyNode:
		w.collectAnchors(v.Value, depth+1)
	case *ast.SequenceNode:
		for _, it := range v.Values {
			w.collectAnchors(it, depth+1)
		}
	}
}

// scalarText is the text of a scalar node (a string's value without quotes).
func scalarText(n ast.Node) string {
	switch v := n.(type) {
	case nil:
		return ""
	case *ast.StringNode:
		return v.Value
	case *ast.LiteralNode:
		if v.Value != nil {
			return v.Value.Value
		}
		return ""
	}
	if tk := n.GetToken(); tk != nil {
		return tk.Value
	}
	return n.String()
}

func offset(n ast.Node) int {
	if n == nil {
		return -1
	}
	if tk := n.GetToken(); tk != nil && tk.Position != nil {
		return tk.Position.Offset
	}
	return -1
}

// nodePos is where a node starts: a block mapping at its first key, anything else at its
// first token.
func nodePos(n ast.Node) (Pos, bool) {
	if n == nil {
		return Pos{}, false
	}
	if m, ok := n.(*ast.MappingNode); ok && !m.IsFlowStyle && len(m.Values) > 0 && m.Values[0] != nil && m.Values[0].Key != nil {
		if p, ok := tokenPos(m.Values[0].Key.GetToken()); ok {
			return p, true
		}
	}
	if mv, ok := n.(*ast.MappingValueNode); ok && mv.Key != nil {
		return nodePos(mv.Key)
	}
	return tokenPos(n.GetToken())
}

func (w *walker) posOr(n ast.Node, fallback Pos) Pos {
	if p, ok := nodePos(n); ok {
		return p
	}
	return fallback
}

func (w *walker) fail(p Pos, format string, args ...any) *Error {
	return &Error{File: w.src.file, Line: p.Line, Col: p.Col, Msg: printable(fmt.Sprintf(format, args...))}
}

// resolve follows anchors and aliases to the value they stand for; nil means null.
// Tags are refused: they would change how goccy reads the value behind our back.
func (w *walker) resolve(n ast.Node, at Pos) (ast.Node, *Error) {
	for i := 0; ; i++ {
		if i > maxDepth {
			return nil, w.fail(w.posOr(n, at), "too many nested aliases")
		}
		switch v := n.(type) {
		case nil:
			return nil, nil
		case *ast.NullNode:
			return nil, nil
		case *ast.AnchorNode:
			n = v.Value
		case *ast.AliasNode:
			name := scalarText(v.Value)
			var target *ast.AnchorNode
			for _, a := range w.anchors[name] {
				if offset(a) < offset(v) {
					target = a
				}
			}
			if target == nil {
				return nil, w.fail(w.posOr(n, at), "unknown alias *%s (define the anchor &%s before using it)", name, name)
			}
			n = target.Value
		case *ast.TagNode:
			tag := "a tag"
			if v.Start != nil {
				tag = v.Start.Value
			}
			return nil, w.fail(w.posOr(n, at), "YAML tags such as %s are not supported; write the plain value (quote it to make it a string)", tag)
		default:
			return n, nil
		}
	}
}

// entry is one key of a mapping after merge keys ("<<: *base") are applied.
type entry struct {
	key   string
	kpos  Pos
	value ast.Node
	gone  bool // a merged key overridden by an explicit one
}

// entries lists a mapping's keys. A merge key must come first and merge one mapping;
// the keys after it override the merged ones (goccy applies them in file order, so
// allowing "<<" later would let it override explicit keys, against the YAML spec).
func (w *walker) entries(m *ast.MappingNode, ctx string, depth int) ([]entry, *Error) {
	if depth > maxDepth {
		return nil, w.fail(w.posOr(m, Pos{}), "merge keys nested too deeply")
	}
	var out []entry
	merged := map[string]int{} // merged key -> index in out
	explicit := map[string]Pos{}
	for i, mv := range m.Values {
		if mv == nil || mv.Key == nil {
			continue
		}
		kp := w.posOr(mv.Key, w.posOr(m, Pos{}))
		if mv.Key.IsMergeKey() {
			if i != 0 {
				return nil, w.fail(kp, "the merge key << must be the first key of its mapping")
			}
			target, err := w.resolve(mv.Value, kp)
			if err != nil {
				return nil, err
			}
			tm, ok := target.(*ast.MappingNode)
			if !ok {
				return nil, w.fail(w.posOr(mv.Value, kp), "<< must merge one mapping (an alias such as *base), got %s", describe(target))
			}
			sub, err := w.entries(tm, ctx, depth+1)
			if err != nil {
				return nil, err
			}
			for _, e := range sub {
				merged[e.key] = len(out)
				out = append(out, e)
			}
			continue
		}
		k, err := w.keyString(mv.Key, ctx, kp)
		if err != nil {
			return nil, err
		}
		if first, dup := explicit[k]; dup {
			return nil, w.fail(kp, "duplicate key %q (first at %s)", k, first)
		}
		explicit[k] = kp
		if j, ok := merged[k]; ok { // overrides a merged key
			out[j].gone = true
			delete(merged, k)
		}
		out = append(out, entry{key: k, kpos: kp, value: mv.Value})
	}
	kept := out[:0]
	for _, e := range out {
		if !e.gone {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

func (w *walker) keyString(k ast.MapKeyNode, ctx string, at Pos) (string, *Error) {
	var n ast.Node = k
	if mk, ok := k.(*ast.MappingKeyNode); ok {
		n = mk.Value
	}
	r, err := w.resolve(n, at)
	if err != nil {
		return "", err
	}
	s, ok := r.(*ast.StringNode)
	if !ok {
		return "", w.fail(at, "key %s%s must be a string", describe(r), inCtx(ctx))
	}
	return s.Value, nil
}

// describe says what a node is, for "got ..." in messages.
func describe(n ast.Node) string {
	switch v := n.(type) {
	case nil, *ast.NullNode:
		return "null"
	case *ast.StringNode:
		return "string " + strconv.Quote(clip(v.Value))
	case *ast.LiteralNode:
		return "a block string"
	case *ast.IntegerNode, *ast.FloatNode, *ast.InfinityNode, *ast.NanNode:
		return "number " + clip(scalarText(n))
	case *ast.BoolNode:
		return "boolean " + clip(scalarText(n))
	case *ast.MappingNode:
		return "a mapping"
	case *ast.SequenceNode:
		return "a list"
	case *ast.AnchorNode, *ast.AliasNode, *ast.TagNode:
		return "an alias"
	}
	return n.Type().String()
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

var durationType = reflect.TypeFor[Duration]()

// want says what a Go type needs, for "must be ..." in messages.
func want(t reflect.Type) string {
	if t == durationType {
		return `a duration such as "30s"`
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "an integer"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a non-negative integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Struct, reflect.Map:
		return "a mapping"
	case reflect.Pointer:
		return want(t.Elem())
	}
	return "a " + t.String()
}

// field is one key a struct accepts.
type field struct {
	name string
	typ  reflect.Type
}

type fieldSet struct {
	list   []field // schema order, for "(known: ...)"
	byName map[string]field
}

var fieldCache sync.Map // reflect.Type -> *fieldSet

// fieldsOf lists the keys goccy/go-yaml accepts for a struct: the yaml (or json) tag
// name, else the lower-cased field name; ",inline" structs are flattened.
func fieldsOf(t reflect.Type) *fieldSet {
	if fs, ok := fieldCache.Load(t); ok {
		return fs.(*fieldSet)
	}
	fs := &fieldSet{byName: map[string]field{}}
	var add func(t reflect.Type, depth int)
	add = func(t reflect.Type, depth int) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.PkgPath != "" && !f.Anonymous {
				continue
			}
			tag := f.Tag.Get("yaml")
			if tag == "" {
				tag = f.Tag.Get("json")
			}
			if tag == "-" {
				continue
			}
			opts := strings.Split(tag, ",")
			name := strings.ToLower(f.Name)
			if opts[0] != "" {
				name = opts[0]
			}
			inline := false
			for _, o := range opts[1:] {
				inline = inline || o == "inline"
			}
			ft := f.Type
			if inline && depth < 8 {
				for ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					add(ft, depth+1)
					continue
				}
			}
			if _, dup := fs.byName[name]; dup {
				continue
			}
			fs.list = append(fs.list, field{name, f.Type})
			fs.byName[name] = field{name, f.Type}
		}
	}
	add(t, 0)
	fieldCache.Store(t, fs)
	return fs
}

func (fs *fieldSet) names() string {
	n := make([]string, len(fs.list))
	for i, f := range fs.list {
		n[i] = f.name
	}
	return strings.Join(n, ", ")
}

// nouns name the list items that have a name key, for "in host \"q35\"".
var nouns = map[reflect.Type]string{
	reflect.TypeFor[Image]():        "image",
	reflect.TypeFor[Host]():         "host",
	reflect.TypeFor[Suite]():        "suite",
	reflect.TypeFor[GuestCommand](): "command",
}

const topContext = "the top level"

// inCtx is how a message says where: " in host \"q35\"", " at the top level".
func inCtx(ctx string) string {
	if ctx == topContext {
		return " at " + ctx
	}
	return " in " + ctx
}

// context names a mapping in messages: `host "q35"`, `xfail[0] of host "q35"`, "settings".
func (w *walker) context(t reflect.Type, ents []entry, field, parent string) string {
	if parent == "" {
		return topContext
	}
	if noun, ok := nouns[t]; ok {
		for _, e := range ents {
			if e.key != "name" {
				continue
			}
			if r, err := w.resolve(e.value, e.kpos); err == nil {
				if s, ok := r.(*ast.StringNode); ok && s.Value != "" {
					field = noun + " " + strconv.Quote(clip(s.Value))
				}
			}
		}
	}
	if parent == topContext {
		return field
	}
	return field + " of " + parent
}

// walkValues walks each value of the mapping m as elem, named field.key: a map's values,
// or the keys of a free-form (any) value.
func (w *walker) walkValues(elem reflect.Type, m *ast.MappingNode, path, field, ctx string, depth int) *Error {
	ents, err := w.entries(m, field+inCtx(ctx), 0)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := w.walk(elem, e.value, childPath(path, e.key), field+"."+e.key, ctx, e.kpos, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// walk checks node n against type t and records where it is under path. field is how
// messages name it ("smp", "devices[1]") and ctx the mapping it is in.
func (w *walker) walk(t reflect.Type, n ast.Node, path, field, ctx string, keyPos Pos, depth int) *Error {
	at := w.posOr(n, keyPos)
	w.steps++
	if w.steps > maxSteps {
		return w.fail(at, "document too large (more than %d values after expanding aliases)", maxSteps)
	}
	if depth > maxDepth {
		return w.fail(at, "nesting too deep (more than %d levels; a recursive alias?)", maxDepth)
	}
	rn, err := w.resolve(n, at)
	if err != nil {
		return err
	}
	w.src.nodes[path] = &place{key: keyPos, value: at, node: rn}
	if rn == nil { // null: the zero value
		return nil
	}
	typeErr := func() *Error {
		msg := fmt.Sprintf("%s%s must be %s, got %s", field, inCtx(ctx), want(t), describe(rn))
		if t.Kind() == reflect.String {
			switch rn.(type) {
			case *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.InfinityNode, *ast.NanNode:
				msg += fmt.Sprintf(" (quote it: %q)", scalarText(rn))
			}
		}
		return w.fail(at, "%s", msg)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == durationType {
		switch rn.(type) {
		case *ast.StringNode, *ast.IntegerNode, *ast.FloatNode:
			if _, err := ParseDuration(scalarText(rn)); err != nil {
				return w.fail(at, "%s%s: %v", field, inCtx(ctx), err)
			}
			return nil
		}
		return typeErr()
	}
	switch t.Kind() {
	case reflect.Struct:
		m, ok := rn.(*ast.MappingNode)
		if !ok {
			return typeErr()
		}
		ents, err := w.entries(m, field+inCtx(ctx), 0)
		if err != nil {
			return err
		}
		fs := fieldsOf(t)
		inner := w.context(t, ents, field, ctx)
		for _, e := range ents {
			f, ok := fs.byName[e.key]
			if !ok {
				return w.fail(e.kpos, "unknown key %q%s (%sknown: %s)", e.key, inCtx(inner), suggest(e.key, fs), fs.names())
			}
			if err := w.walk(f.typ, e.value, childPath(path, e.key), e.key, inner, e.kpos, depth+1); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		s, ok := rn.(*ast.SequenceNode)
		if !ok {
			return typeErr()
		}
		for i, it := range s.Values {
			ip := w.posOr(it, at)
			if err := w.walk(t.Elem(), it, itemPath(path, i), itemPath(field, i), ctx, ip, depth+1); err != nil {
				return err
			}
		}
	case reflect.Map:
		m, ok := rn.(*ast.MappingNode)
		if !ok {
			return typeErr()
		}
		return w.walkValues(t.Elem(), m, path, field, ctx, depth)
	case reflect.Interface: // any YAML value; still check keys, aliases and depth
		switch v := rn.(type) {
		case *ast.MappingNode:
			return w.walkValues(t, v, path, field, ctx, depth)
		case *ast.SequenceNode:
			for i, it := range v.Values {
				if err := w.walk(t, it, itemPath(path, i), itemPath(field, i), ctx, w.posOr(it, at), depth+1); err != nil {
					return err
				}
			}
		}
	case reflect.String:
		switch rn.(type) {
		case *ast.StringNode, *ast.LiteralNode:
		default:
			return typeErr()
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		in, ok := rn.(*ast.IntegerNode)
		if !ok {
			if digits(rn) { // goccy reads an integer too long for 64 bits as a string
				return w.fail(at, "%s%s: %s is out of range", field, inCtx(ctx), scalarText(rn))
			}
			return typeErr()
		}
		var over bool
		switch v := in.Value.(type) {
		case int64:
			over = reflect.Zero(t).OverflowInt(v)
		case uint64:
			over = v > math.MaxInt64 || reflect.Zero(t).OverflowInt(int64(v))
		default:
			over = true
		}
		if over {
			return w.fail(at, "%s%s: %s is out of range", field, inCtx(ctx), scalarText(rn))
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		in, ok := rn.(*ast.IntegerNode)
		if !ok {
			if digits(rn) {
				return w.fail(at, "%s%s: %s is out of range", field, inCtx(ctx), scalarText(rn))
			}
			return typeErr()
		}
		var over bool
		switch v := in.Value.(type) {
		case int64:
			over = v < 0 || reflect.Zero(t).OverflowUint(uint64(v))
		case uint64:
			over = reflect.Zero(t).OverflowUint(v)
		default:
			over = true
		}
		if over {
			return w.fail(at, "%s%s: %s is out of range", field, inCtx(ctx), scalarText(rn))
		}
	case reflect.Float32, reflect.Float64:
		switch rn.(type) {
		case *ast.IntegerNode, *ast.FloatNode:
		case *ast.InfinityNode, *ast.NanNode:
			return w.fail(at, "%s%s must be a finite number, got %s", field, inCtx(ctx), scalarText(rn))
		default:
			return typeErr()
		}
	case reflect.Bool:
		if _, ok := rn.(*ast.BoolNode); !ok {
			return typeErr()
		}
	}
	return nil
}

// digits reports whether n is an unquoted string of decimal digits.
func digits(n ast.Node) bool {
	s, ok := n.(*ast.StringNode)
	if !ok || s.Token == nil || s.Token.Type != token.StringType || s.Value == "" {
		return false
	}
	for _, r := range strings.TrimPrefix(s.Value, "-") {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// suggest returns `did you mean "memory"? ` for a key one or two edits from a known one.
func suggest(key string, fs *fieldSet) string {
	names := make([]string, len(fs.list))
	for i, f := range fs.list {
		names[i] = f.name
	}
	if hint := DidYouMean(key, names...); hint != "" {
		return hint + " "
	}
	return ""
}

// editDistance is the optimal-string-alignment distance: insertions, deletions,
// substitutions and swaps of two neighbours ("memroy" -> "memory") each cost one.
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 99
	}
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
