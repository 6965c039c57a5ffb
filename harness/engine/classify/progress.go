package classify

import "github.com/redox-hwtest/redox-hwtest/harness/engine/profile"

// Cheap accessors for the live stage machine, which asks after every line; Snapshot copies.

// LastStage is the furthest stage reached so far.
func (an *Analyzer) LastStage() string { return an.a.LastStage }

// LastComponent is the component that printed last.
func (an *Analyzer) LastComponent() string { return an.a.LastComponent }

// FatalEvent returns the first fatal event seen (a kernel panic), or nil.
func (an *Analyzer) FatalEvent() *Event {
	for i := range an.a.Events {
		if an.a.Events[i].Fatal {
			e := an.a.Events[i]
			return &e
		}
	}
	if pe := an.pending; pe != nil && pe.sig.Fatal {
		return &Event{Kind: pe.sig.Kind, Title: an.p.NormalizeTitle(profile.Expand(pe.sig.Title, pe.groups)), Fatal: true}
	}
	return nil
}
