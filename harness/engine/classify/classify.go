// Package classify follows a boot line by line with a profile: which stages were reached
// (and when), which failure signatures appeared (deduplicated by normalised title), and which
// component printed last. The same analyser runs live, fed by the console during a boot,
// and offline on a saved transcript (`redox-hwtest analyze`), so both give the same verdict.
package classify

import (
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// Bounds that keep an analysis small whatever the input (a console spewing garbage, a
// fuzzer): lines are matched on their first MaxFeedLen bytes, at most MaxEvents distinct
// events are kept (later distinct ones are dropped; repeats of kept ones are still
// counted), and titles and components are cut to MaxTitleLen bytes.
const (
	MaxFeedLen  = 8 << 10
	MaxEvents   = 1000
	MaxTitleLen = 240
)

// StageHit is a stage reached.
type StageHit struct {
	Name string    `json:"name"`
	Line int       `json:"line"`
	Time time.Time `json:"-"`
}

// Event is a failure signature, counted when it repeats.
type Event struct {
	Kind      string `json:"kind"`
	Component string `json:"component"`
	Title     string `json:"title"`
	Line      int    `json:"line"`
	Count     int    `json:"count"`
	Fatal     bool   `json:"-"`
}

// Analysis is the state of a boot so far.
type Analysis struct {
	// ReachedLogin is true once the login stage, or a stage after it (a shell on an image
	// that logs in by itself), was seen.
	ReachedLogin  bool       `json:"reached_login"`
	LastStage     string     `json:"last_stage"`
	LastComponent string     `json:"last_component"`
	Stages        []StageHit `json:"stages"`
	Events        []Event    `json:"events"`
}

// Line is one line of normalised console text.
type Line struct {
	N       int
	Text    string
	Partial bool
	Time    time.Time
}

// Analyzer consumes lines.
type Analyzer struct {
	p        *profile.Profile
	c        *compiled
	hits     lineHits // literals present in the line being analysed
	loginIdx int      // index of the login stage (-1: none)
	reached  map[string]bool
	a        Analysis
	spawned  string // driver most recently spawned
	pending  *pendingEvent
	index    map[string]int // event key -> index in a.Events
	sentResp map[int]bool
	lastLine int
	lastSeen int // highest line number fed, partial lines included
	// The most recent event recorded (new or counted), for PartOf trailers.
	lastEvKind string
	lastEvLine int
	// lastEvIdx is the index of that event in a.Events (-1: none kept); lastEvNamed
	// says whether its component came from its own lines (a source path, a NAME).
	lastEvIdx   int
	lastEvNamed bool
	// absorb is a trailer's continuation still to come (see Signature.PartOf).
	absorb *pendingEvent
	// titles caches normalised titles by their raw form: a repeated event (the common
	// case) costs a map lookup instead of the profile's rewrites.
	titles map[string]string
}

type pendingEvent struct {
	idx    int // index of sig in the profile
	sig    *profile.Signature
	groups map[string]string
	line   int
	left   int
	comp   string // the component in context when the first line was seen
}

// New starts an analysis.
func New(p *profile.Profile) *Analyzer {
	c := compile(p)
	return &Analyzer{p: p, c: c, hits: make(lineHits, c.set.words), loginIdx: p.StageIndex(p.Login.Stage),
		reached: map[string]bool{}, index: map[string]int{}, sentResp: map[int]bool{}, lastEvIdx: -1}
}

// Profile returns the profile in use.
func (an *Analyzer) Profile() *profile.Profile { return an.p }

// Feed takes the next line and returns input the harness should type in response (the
// bootloader menu's Enter), if any. A partial line (a prompt without its newline yet) is only
// checked for stages and responses; the complete line is fed again later with the same N.
func (an *Analyzer) Feed(l Line) (send []string) {
	text := l.Text
	if len(text) > MaxFeedLen {
		text = text[:MaxFeedLen]
	}
	h := an.hits
	an.c.set.scan(text, h)
	an.lastSeen = max(an.lastSeen, l.N)
	for i, st := range an.p.Stages {
		if an.reached[st.Name] {
			continue
		}
		if an.a.ReachedLogin && i < an.loginIdx {
			// Once login is reached the boot is over: a daemon's log line in a shell
			// session is not boot progress.
			continue
		}
		for _, m := range an.c.stages[i] {
			if m.is(h, text) {
				an.reach(i, l)
				break
			}
		}
	}
	for i := range an.p.Responses {
		if an.sentResp[i] {
			continue
		}
		if an.c.resp[i].is(h, text) {
			an.sentResp[i] = true
			send = append(send, an.p.Responses[i].Send)
		}
	}
	if l.Partial || l.N == an.lastLine {
		return send
	}
	an.lastLine = l.N
	lc := an.component(h, text)
	an.signatures(h, l.N, text, lc)
	return send
}

func (an *Analyzer) reach(i int, l Line) {
	st := an.p.Stages[i]
	an.reached[st.Name] = true
	an.a.Stages = append(an.a.Stages, StageHit{Name: st.Name, Line: l.N, Time: l.Time})
	// The last stage is the furthest in boot order, not the last one printed: a late
	// optional marker does not move a boot backwards.
	if an.a.LastStage == "" || an.p.StageIndex(an.a.LastStage) < i {
		an.a.LastStage = st.Name
	}
	if an.loginIdx >= 0 && i >= an.loginIdx {
		an.a.ReachedLogin = true
	}
}

// component applies the component rules to a line: it returns the component the line
// names ("" if none) and remembers it as the last one.
func (an *Analyzer) component(h lineHits, text string) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	for i, cr := range an.c.comps {
		gc, gm, ok := cr.component(h, text)
		if !ok {
			continue
		}
		r := &an.p.Components[i]
		c := r.Name
		if c == "" {
			c = gc
		}
		if c == "" {
			c = gm
			if i := strings.Index(c, "::"); i >= 0 {
				c = c[:i]
			}
		}
		if c == "" {
			continue
		}
		c = clip(c)
		if r.Spawn {
			an.spawned = c
		}
		an.a.LastComponent = c
		return c
	}
	return ""
}

func matchAny(ps []cpat, h lineHits, text string) bool {
	for _, p := range ps {
		if p.is(h, text) {
			return true
		}
	}
	return false
}

func (an *Analyzer) benign(h lineHits, text string) bool { return matchAny(an.c.benign, h, text) }

func (an *Analyzer) signatures(h lineHits, n int, text, lineComp string) {
	if ab := an.absorb; ab != nil {
		if g, ok := an.c.next[ab.idx].match(h, text); ok {
			an.absorb = nil
			an.lastEvLine = n
			an.rename(g["name"])
			return
		}
		if matchAny(an.c.swallow[ab.idx], h, text) {
			an.lastEvLine = n
			return
		}
		ab.left--
		if ab.left <= 0 {
			an.absorb = nil
		}
	}
	if pe := an.pending; pe != nil {
		if matchAny(an.c.swallow[pe.idx], h, text) {
			pe.left--
			if pe.left <= 0 {
				an.flush()
			}
			return
		}
		pass := strings.TrimSpace(text) == "" || an.benign(h, text) || matchAny(an.c.nextSkip[pe.idx], h, text)
		if !pass {
			if g, ok := an.c.next[pe.idx].match(h, text); ok {
				merge(pe.groups, g)
				an.flush()
				return
			}
		}
		pe.left--
		if pe.left <= 0 {
			an.flush()
		}
	}
	if an.benign(h, text) {
		return
	}
	for i, cs := range an.c.sigs {
		g, ok := cs.match(h, text)
		if !ok {
			continue
		}
		sig := &an.p.Signatures[i]
		if an.pending != nil {
			an.flush()
		}
		if an.partOf(sig, n) {
			an.lastEvLine = n
			if sig.Next != nil {
				left := sig.NextWithin
				if left <= 0 {
					left = 3
				}
				an.absorb = &pendingEvent{idx: i, sig: sig, line: n, left: left}
			}
			return
		}
		groups := make(map[string]string, len(g)+2)
		for k, v := range g {
			groups[k] = v
		}
		pe := &pendingEvent{idx: i, sig: sig, groups: groups, line: n, comp: an.contextComponent(sig, lineComp)}
		an.pending = pe
		if sig.Next == nil || satisfied(sig.Next, g) {
			an.flush()
			return
		}
		pe.left = sig.NextWithin
		if pe.left <= 0 {
			pe.left = 3
		}
		return
	}
}

// partOf reports whether a line is the trailer of the event just recorded.
func (an *Analyzer) partOf(sig *profile.Signature, n int) bool {
	if len(sig.PartOf) == 0 || an.lastEvLine == 0 {
		return false
	}
	within := sig.PartOfWithin
	if within <= 0 {
		within = 8
	}
	if n-an.lastEvLine > within {
		return false
	}
	for _, k := range sig.PartOf {
		if k == an.lastEvKind {
			return true
		}
	}
	return false
}

// satisfied reports whether the first line already gave every group the continuation
// would supply (the process named on the UNHANDLED EXCEPTION line itself), so the event
// need not wait, and the next line stays free to be an event of its own.
func satisfied(next *profile.Pattern, g map[string]string) bool {
	if next.Regexp == nil {
		return false
	}
	for _, name := range next.Regexp.SubexpNames() {
		if name != "" && g[name] == "" {
			return false
		}
	}
	return true
}

// merge adds the continuation's groups without overwriting what the first line said.
func merge(dst, src map[string]string) {
	for k, v := range src {
		if dst[k] == "" {
			dst[k] = v
		}
	}
}

// contextComponent names the culprit of a failure line that does not name itself: the
// component the line itself names, else (driver errors) the driver most recently spawned,
// else the component that printed last.
func (an *Analyzer) contextComponent(sig *profile.Signature, lineComp string) string {
	if lineComp != "" {
		return lineComp
	}
	if sig.Kind == profile.KindDriverError && an.spawned != "" {
		return an.spawned
	}
	return an.a.LastComponent
}

func (an *Analyzer) flush() {
	pe := an.pending
	an.pending = nil
	if pe == nil {
		return
	}
	comp := clip(baseName(profile.Expand(pe.sig.Component, pe.groups)))
	named := comp != ""
	if !named {
		comp = clip(baseName(pe.comp))
	}
	groups := make(map[string]string, len(pe.groups)+1)
	for k, v := range pe.groups {
		groups[k] = v
	}
	groups["component"] = comp
	title := an.normalize(profile.Expand(pe.sig.Title, groups))
	if named {
		// The event names its subject ("/bin/getty failed ..."): it is now the component
		// in context, the one a hang after it is blamed on.
		an.a.LastComponent = comp
	}
	an.lastEvKind, an.lastEvLine, an.lastEvNamed, an.lastEvIdx = pe.sig.Kind, pe.line, named, -1
	an.absorb = nil
	key := pe.sig.Kind + "\x00" + comp + "\x00" + title
	if i, ok := an.index[key]; ok {
		an.a.Events[i].Count++
		an.lastEvIdx = i
		return
	}
	if len(an.a.Events) >= MaxEvents {
		return
	}
	an.index[key] = len(an.a.Events)
	an.lastEvIdx = len(an.a.Events)
	an.a.Events = append(an.a.Events, Event{Kind: pe.sig.Kind, Component: comp, Title: title, Line: pe.line, Count: 1, Fatal: pe.sig.Fatal})
}

// rename names the last event after the process a trailer named (the kernel's NAME line
// after relibc's abort), when the event's own lines named none: the source path of a
// panic comes first, the kernel's NAME second, whatever printed last only third. A
// repeat of an event already kept keeps its first name.
func (an *Analyzer) rename(name string) {
	name = clip(baseName(name))
	if name == "" || an.lastEvNamed || an.lastEvIdx < 0 || an.lastEvIdx >= len(an.a.Events) {
		return
	}
	e := &an.a.Events[an.lastEvIdx]
	if e.Count != 1 || e.Component == name {
		return
	}
	old := e.Kind + "\x00" + e.Component + "\x00" + e.Title
	key := e.Kind + "\x00" + name + "\x00" + e.Title
	if _, dup := an.index[key]; dup {
		return
	}
	delete(an.index, old)
	an.index[key] = an.lastEvIdx
	e.Component = name
	an.lastEvNamed = true
	an.a.LastComponent = name
}

func (an *Analyzer) normalize(raw string) string {
	if t, ok := an.titles[raw]; ok {
		return t
	}
	if an.titles == nil || len(an.titles) >= 1024 {
		an.titles = make(map[string]string)
	}
	t := clip(an.p.NormalizeTitle(raw))
	if len(raw) <= 4*MaxTitleLen {
		an.titles[raw] = t
	}
	return t
}

func baseName(c string) string {
	if i := strings.LastIndexByte(c, '/'); i >= 0 && i < len(c)-1 {
		return c[i+1:]
	}
	return c
}

// clip bounds a title or component, at a rune boundary when the text is UTF-8.
func clip(s string) string {
	if len(s) <= MaxTitleLen {
		return s
	}
	cut := MaxTitleLen
	for cut > MaxTitleLen-4 && cut > 0 && s[cut]&0xC0 == 0x80 {
		cut--
	}
	return s[:cut]
}

// Snapshot returns the analysis so far (pending multi-line events included).
func (an *Analyzer) Snapshot() Analysis {
	cp := *an
	cp.a.Events = append([]Event(nil), an.a.Events...)
	cp.index = make(map[string]int, len(an.index))
	for k, v := range an.index {
		cp.index[k] = v
	}
	if an.pending != nil {
		pe := *an.pending
		pe.groups = make(map[string]string, len(an.pending.groups))
		for k, v := range an.pending.groups {
			pe.groups[k] = v
		}
		cp.pending = &pe
		cp.flush()
	}
	a := cp.a
	a.Stages = append([]StageHit{}, an.a.Stages...)
	if a.Events == nil {
		a.Events = []Event{}
	}
	return a
}

// Finish ends an analysis: a log that stops before login is a hang at the last stage and
// component (without timing, silence cannot be measured; the end of the log is where the
// output stopped). Live, the harness calls it once the silence watchdog fired, which gives
// the same hang event. Calling it again gives the same result.
func (an *Analyzer) Finish() Analysis {
	an.flush()
	a := an.a
	a.Stages = append([]StageHit{}, an.a.Stages...)
	a.Events = append([]Event{}, an.a.Events...)
	if !a.ReachedLogin && !an.hasFatal() {
		stage := a.LastStage
		if stage == "" {
			stage = "start"
		}
		title := "no output after stage " + stage
		if a.LastComponent != "" {
			title += " (last: " + a.LastComponent + ")"
		}
		a.Events = append(a.Events, Event{Kind: profile.KindHang, Component: a.LastComponent, Title: title, Line: an.lastSeen, Count: 1})
	}
	return a
}

func (an *Analyzer) hasFatal() bool {
	for _, e := range an.a.Events {
		if e.Fatal {
			return true
		}
	}
	return false
}

// Reached reports whether a stage has been seen.
func (an *Analyzer) Reached(stage string) bool { return an.reached[stage] }

// ReachOnScreen marks a stage as reached by what the screen showed (profile.ScreenMarker),
// at time t, after the last line fed; false when it was already reached or is unknown.
func (an *Analyzer) ReachOnScreen(stage string, t time.Time) bool {
	i := an.p.StageIndex(stage)
	if i < 0 || an.reached[stage] {
		return false
	}
	an.reach(i, Line{N: an.lastSeen, Time: t})
	return true
}

// Respond marks response row i as answered (on the screen: its keys are pressed by the
// caller); false when the row was already answered, on either side.
func (an *Analyzer) Respond(i int) bool {
	if an.sentResp[i] {
		return false
	}
	an.sentResp[i] = true
	return true
}

// Responded reports whether response row i was answered.
func (an *Analyzer) Responded(i int) bool { return an.sentResp[i] }

// StagesReached counts the stages reached so far.
func (an *Analyzer) StagesReached() int { return len(an.a.Stages) }

// ReachedOrPassed reports whether a stage, or a stage after it, has been seen: a boot
// that logs in by itself shows its shell without ever printing the login prompt.
func (an *Analyzer) ReachedOrPassed(stage string) bool {
	i := an.p.StageIndex(stage)
	if i < 0 {
		return false
	}
	for _, st := range an.p.Stages[i:] {
		if an.reached[st.Name] {
			return true
		}
	}
	return false
}
