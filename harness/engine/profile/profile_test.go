package profile

import "testing"

func TestExpand(t *testing.T) {
	g := map[string]string{"name": "getty", "n2": "134", "component": "x"}
	for tmpl, want := range map[string]string{
		"":                          "",
		"plain  text ":              "plain text",
		"$name failed with $n2":     "getty failed with 134",
		"${name}d: ${missing}end":   "gettyd: end",
		"cost $5 and $ alone $":     "cost $5 and $ alone $",
		"unterminated ${name":       "unterminated ${name",
		"in $component at $name.rs": "in x at getty.rs",
	} {
		if got := Expand(tmpl, g); got != want {
			t.Errorf("Expand(%q) = %q, want %q", tmpl, got, want)
		}
	}
}

func TestIsAgreesWithMatch(t *testing.T) {
	lines := []string{"", "redox login: ", "kernel::startup:INFO -- x", "[@pcid:1 INFO] y", "NAME /bin/a"}
	for _, p := range []*Profile{Redox, Standin} {
		var pats []Pattern
		for _, s := range p.Stages {
			pats = append(pats, s.Markers...)
		}
		for _, c := range p.Components {
			pats = append(pats, c.Match)
		}
		for _, s := range p.Signatures {
			pats = append(pats, s.Match)
		}
		pats = append(pats, p.Benign...)
		for _, pat := range pats {
			for _, l := range lines {
				_, ok := pat.Match(l)
				if pat.Is(l) != ok {
					t.Errorf("%s: pattern %q/%v disagrees on %q", p.Name, pat.Contains, pat.Regexp, l)
				}
			}
		}
	}
}

func TestRedoxPatternsHaveLiteralPrefilters(t *testing.T) {
	// Every pattern carries a literal: it is what keeps the per-line cost flat.
	check := func(what string, p Pattern) {
		if p.Contains == "" && p.Regexp != nil {
			t.Errorf("%s: regexp %v without a literal prefilter", what, p.Regexp)
		}
	}
	for _, s := range Redox.Stages {
		for _, m := range s.Markers {
			check("stage "+s.Name, m)
		}
	}
	for _, c := range Redox.Components {
		check("component", c.Match)
	}
	for _, s := range Redox.Signatures {
		check("signature "+s.Title, s.Match)
	}
	for _, b := range Redox.Benign {
		check("benign", b)
	}
}

func TestNormalizeTitle(t *testing.T) {
	for in, want := range map[string]string{
		"x at 0xfffffe8000105760 and 0x40":                     "x at ADDR and 0xN",
		"src/bin/getty.rs:121:6: boom":                         "src/bin/getty.rs: boom",
		"PID 3, PID ContextId(17), pid=42, CPU #1":             "PID N, PID N, pid N, CPU N",
		"2026-03-09T14-38-14.455Z [  12.345] up":               "up",
		"disk 0d4c6e2a-91f3-4b57-a2c8-5e7f10b3c9d4 gone":       "disk UUID gone",
		"NAME: /usr/bin/x, DEBUG ID: 41 deadbeef00 FFFF800012": "NAME: /usr/bin/x, DEBUG ID: N ADDR ADDR",
	} {
		if got := Redox.NormalizeTitle(in); got != want {
			t.Errorf("NormalizeTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

func stageNames(p *Profile) []string {
	var n []string
	for _, s := range p.Stages {
		n = append(n, s.Name)
	}
	return n
}

// The desktop variant's last stage is on the screen (Orbital's login for Redox, the
// stand-in's FX DESKTOP READY); other variants never see it.
func TestForVariant(t *testing.T) {
	for _, p := range []*Profile{Redox, Standin} {
		d := p.ForVariant("desktop")
		if d.Until != "desktop" || d.Stages[len(d.Stages)-1].Name != "desktop" {
			t.Errorf("%s desktop: until %q, stages %v", p.Name, d.Until, stageNames(d))
		}
		if d != p.ForVariant("desktop") {
			t.Errorf("%s: the derived profile should be built once", p.Name)
		}
		for _, v := range []string{"server", "minimal", ""} {
			o := p.ForVariant(v)
			if o.Until != "" || o.StageIndex("desktop") >= 0 {
				t.Errorf("%s %q: until %q, stages %v", p.Name, v, o.Until, stageNames(o))
			}
		}
		// Without a display the screen-only stage is left out and the target falls back.
		ns, dropped := d.WithoutScreen()
		if ns.Until != "" || ns.StageIndex("desktop") >= 0 || len(dropped) != 1 || dropped[0] != "desktop" {
			t.Errorf("%s without screen: until %q, stages %v, dropped %v", p.Name, ns.Until, stageNames(ns), dropped)
		}
		// The bootloader keeps its serial markers and its screen marker.
		if ns.StageIndex("bootloader") < 0 {
			t.Errorf("%s without screen lost the bootloader stage", p.Name)
		}
	}
	if srv := Redox.ForVariant("server"); func() bool { p, d := srv.WithoutScreen(); return p != srv || d != nil }() {
		t.Error("a profile without screen-only stages is returned as is")
	}
}

func TestScreenAwaited(t *testing.T) {
	p := Standin.ForVariant("desktop")
	reached := map[string]bool{}
	is := func(n string) bool { return reached[n] }
	names := func(idx []int) []string {
		var out []string
		for _, i := range idx {
			out = append(out, p.Stages[i].Name)
		}
		return out
	}
	// From power-on to the kernel: the optional bootloader (GRUB's menu) may show.
	if got := names(p.ScreenAwaited(is)); len(got) != 1 || got[0] != "bootloader" {
		t.Errorf("at power-on: %v", got)
	}
	reached["kernel"] = true
	if got := p.ScreenAwaited(is); len(got) != 0 {
		t.Errorf("after the kernel: %v (nothing on the screen is awaited until the shell)", names(got))
	}
	reached["init"], reached["drivers"], reached["shell"] = true, true, true
	if got := names(p.ScreenAwaited(is)); len(got) != 1 || got[0] != "desktop" {
		t.Errorf("after the shell: %v", got)
	}
}

// The Redox screen rows are applied to the registered profile.
func TestRedoxScreenRows(t *testing.T) {
	p, err := Get("redox")
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Stages[p.StageIndex("bootloader")]; len(b.Screen) != 1 || b.Screen[0].Text != "Arrow keys and enter select mode" {
		t.Errorf("bootloader screen markers %+v", b.Screen)
	}
	if d := p.Stages[len(p.Stages)-1]; d.Name != "desktop" || len(d.Markers) != 0 || len(d.Screen) != 1 {
		t.Errorf("last stage %+v", d)
	}
	keys := false
	for _, r := range p.Responses {
		keys = keys || (r.Screen != nil && len(r.Keys) == 1 && r.Keys[0] == "ret")
	}
	if !keys {
		t.Error("the bootloader menu is not answered on the keyboard")
	}
}
