// Package redoxfacts lists every Redox-specific string the harness relies on (patterns,
// commands, paths, accounts), so a test can hold docs/redox-facts.md to them: a Redox
// string with no row there (naming the upstream file that prints or defines it) fails the
// build's tests, and so does a row for a string the harness no longer uses.
package redoxfacts

import (
	"strings"

	"sort"
	"strconv"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/harness/lab/bisect"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/network"
)

// Fact is one string the harness relies on, and where in the harness it lives.
type Fact struct {
	Key   string // what docs/redox-facts.md quotes: a pattern's literal, else its regexp; a command; a path
	Where string // e.g. "profile.Redox signature 3"
}

// patternKey is how a pattern is quoted in the table: its literal prefilter when it has
// one (the part a reader can find in upstream source), else its regexp.
func patternKey(p profile.Pattern) string {
	if p.Contains != "" {
		return p.Contains
	}
	if p.Regexp != nil {
		return p.Regexp.String()
	}
	return ""
}

// Facts returns every Redox string of the harness, deduplicated by key (the first place
// it is used is kept), sorted by key.
func Facts() []Fact {
	seen := map[string]Fact{}
	add := func(key, where string) {
		if key == "" {
			return
		}
		if _, ok := seen[key]; !ok {
			seen[key] = Fact{Key: key, Where: where}
		}
	}
	pat := func(p profile.Pattern, where string) { add(patternKey(p), where) }
	r := profile.Redox
	for _, st := range r.Stages {
		for _, m := range st.Markers {
			pat(m, "profile.Redox stage "+st.Name)
		}
	}
	for _, x := range r.Responses {
		pat(x.On, "profile.Redox response")
		add("typed "+strconv.Quote(x.Send), "profile.Redox response (typed)")
	}
	for _, b := range r.Benign {
		pat(b, "profile.Redox benign")
	}
	for _, c := range r.Components {
		pat(c.Match, "profile.Redox component rule")
	}
	for _, s := range r.Signatures {
		w := "profile.Redox signature " + s.Title
		pat(s.Match, w)
		if s.Next != nil {
			pat(*s.Next, w+" (continuation)")
		}
		for _, p := range s.NextSkip {
			pat(p, w+" (passed over)")
		}
		for _, p := range s.Swallow {
			pat(p, w+" (part of it)")
		}
	}
	for _, a := range r.Login.Accounts {
		add("login "+a.User, "profile.Redox login account")
	}
	add(r.Login.PasswordPrompt, "profile.Redox login")
	add(r.Login.Welcome, "profile.Redox login")
	if t := drivers.Tables["redox"]; t != nil {
		devs := make([]string, 0, len(t.Specs))
		for d := range t.Specs {
			devs = append(devs, d)
		}
		sort.Strings(devs)
		for _, d := range devs {
			s := t.Specs[d]
			w := "drivers redox " + d
			for _, group := range [][]profile.Pattern{s.Enumerated, s.Spawned, s.Started, s.Bound, s.Unbound, s.Absent, s.Skipped, s.Errors} {
				for _, p := range group {
					pat(p, w)
				}
			}
		}
	}
	add(drivers.RedoxRouteCmd, "drivers redox e1000 try")
	add(drivers.RedoxSchemesCmd, "drivers redox hda try")
	add(drivers.RedoxHDACmd, "drivers redox hda try")
	add("From ", "drivers redox e1000 try (RedoxPingReplied)")
	for _, re := range session.Redox.Noise {
		add(re.String(), "session.Redox noise")
	}
	add(session.LogRoot, "session.LogRoot")
	if e := bisect.Editors["redox"]; e != nil {
		add(e.Menu, "bisect redox editor menu")
		add(e.Opened, "bisect redox editor opened")
		// init's own confirmation that a skip took, without the unit's name.
		for _, c := range e.Confirm("") {
			add(strings.TrimSuffix(c, " "), "bisect redox skip confirmation")
		}
	}
	if d := network.Dialects["redox"]; d != nil {
		for _, p := range d.Lease {
			pat(p, "netcheck redox lease")
		}
		add(d.LeaseCmd, "netcheck redox lease command")
		for _, p := range d.LeaseOutput {
			pat(p, "netcheck redox lease command output")
		}
		add(d.RouteCmd, "netcheck redox route command")
		add(d.Ping("ADDR"), "netcheck redox ping")
		add(d.Get("URL"), "netcheck redox download")
	}
	out := make([]Fact, 0, len(seen))
	for _, f := range seen {
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}
