// Package classify follows a boot line by line with a profile: which stages were reached
// (and when), which failure signatures appeared (deduplicated by normalised title), and which
// component printed last. The same analyser runs live, fed by the console during a boot,
// and offline on a saved transcript (`redox-hwtest analyze`), so both give the same verdict.
package classify

import (
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/profile"
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
	reached  map[string]bool
	a        Analysis
	spawned  string // driver most recently spawned
	pending  *pendingEvent
	index    map[string]int // event key -> index in a.Events
	sentResp map[int]bool
	lastLine int
}

type pendingEvent struct {
	sig    *profile.Signature
	groups map[string]string
	line   int
	left   int
	comp   string
}

// New starts an analysis.
func New(p *profile.Profile) *Analyzer {
	return &Analyzer{p: p, reached: map[string]bool{}, index: map[string]int{}, sentResp: map[int]bool{}}
}

// Profile returns the profile in use.
func (an *Analyzer) Profile() *profile.Profile { return an.p }

// Feed takes the next line and returns input the harness should type in response (the
// bootloader menu's Enter), if any. A partial line (a prompt without its newline yet) is only
// checked for stages and responses; the complete line is fed again later with the same N.
func (an *Analyzer) Feed(l Line) (send []string) {
	text := l.Text
	for i, st := range an.p.Stages {
		if an.reached[st.Name] {
			continue
		}
		for _, m := range st.Markers {
			if _, ok := m.Match(text); ok {
				an.reach(i, l)
				break
			}
		}
	}
	for i, r := range an.p.Responses {
		if an.sentResp[i] {
			continue
		}
		if _, ok := r.On.Match(text); ok {
			an.sentResp[i] = true
			send = append(send, r.Send)
		}
	}
	if l.Partial || l.N == an.lastLine {
		return send
	}
	an.lastLine = l.N
	an.component(text)
	an.signatures(l)
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
	if st.Name == an.p.Login.Stage {
		an.a.ReachedLogin = true
	}
}

func (an *Analyzer) component(text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	for _, r := range an.p.Components {
		g, ok := r.Match.Match(text)
		if !ok {
			continue
		}
		c := g["c"]
		if c == "" {
			c = strings.SplitN(g["m"], "::", 2)[0]
		}
		if c == "" {
			continue
		}
		if r.Spawn {
			an.spawned = c
		}
		an.a.LastComponent = c
		return
	}
}

func (an *Analyzer) benign(text string) bool {
	for _, b := range an.p.Benign {
		if _, ok := b.Match(text); ok {
			return true
		}
	}
	return false
}

func (an *Analyzer) signatures(l Line) {
	if pe := an.pending; pe != nil {
		if g, ok := pe.sig.Next.Match(l.Text); ok {
			for k, v := range g {
				pe.groups[k] = v
			}
			an.flush()
			return
		}
		pe.left--
		if pe.left <= 0 {
			an.flush()
		}
	}
	if an.benign(l.Text) {
		return
	}
	for i := range an.p.Signatures {
		sig := &an.p.Signatures[i]
		g, ok := sig.Match.Match(l.Text)
		if !ok {
			continue
		}
		if an.pending != nil {
			an.flush()
		}
		pe := &pendingEvent{sig: sig, groups: g, line: l.N, comp: an.contextComponent(sig)}
		if sig.Next == nil {
			an.pending = pe
			an.flush()
		} else {
			pe.left = sig.NextWithin
			if pe.left <= 0 {
				pe.left = 3
			}
			an.pending = pe
		}
		return
	}
}

// contextComponent names the culprit of a failure line that does not name itself: the
// driver most recently spawned for driver errors, else the component that printed last.
func (an *Analyzer) contextComponent(sig *profile.Signature) string {
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
	comp := profile.Expand(pe.sig.Component, pe.groups)
	if comp == "" {
		comp = pe.comp
	}
	comp = baseName(comp)
	title := an.p.NormalizeTitle(profile.Expand(pe.sig.Title, pe.groups))
	key := pe.sig.Kind + "\x00" + comp + "\x00" + title
	if i, ok := an.index[key]; ok {
		an.a.Events[i].Count++
		return
	}
	an.index[key] = len(an.a.Events)
	an.a.Events = append(an.a.Events, Event{Kind: pe.sig.Kind, Component: comp, Title: title, Line: pe.line, Count: 1, Fatal: pe.sig.Fatal})
}

func baseName(c string) string {
	if i := strings.LastIndexByte(c, '/'); i >= 0 && i < len(c)-1 {
		return c[i+1:]
	}
	return c
}

// Snapshot returns the analysis so far (pending multi-line events included).
func (an *Analyzer) Snapshot() Analysis {
	cp := *an
	cp.a.Events = append([]Event(nil), an.a.Events...)
	cp.index = map[string]int{}
	for k, v := range an.index {
		cp.index[k] = v
	}
	if an.pending != nil {
		pe := *an.pending
		cp.pending = &pe
		cp.flush()
	}
	a := cp.a
	a.Stages = append([]StageHit(nil), an.a.Stages...)
	return a
}

// Finish ends an offline analysis: a log that stops before login is a hang at the last
// stage and component (without timing, silence cannot be measured; the end of the log is
// where the output stopped).
func (an *Analyzer) Finish() Analysis {
	an.flush()
	a := an.a
	if !a.ReachedLogin && !an.hasFatal() {
		stage := a.LastStage
		if stage == "" {
			stage = "start"
		}
		title := "no output after stage " + stage
		if a.LastComponent != "" {
			title += " (last: " + a.LastComponent + ")"
		}
		a.Events = append(a.Events, Event{Kind: profile.KindHang, Component: a.LastComponent, Title: title, Line: an.lastLine, Count: 1})
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
