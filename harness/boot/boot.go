// Package boot is the stage machine: it follows a boot on a console with a profile until the
// target stage (login or shell) is reached, and otherwise decides how it ended — HANG (the
// silence watchdog or the deadline fired: which stage, which component printed last), CRASH
// (a fatal signature such as a kernel panic), or INFRA (the VM died or the console closed
// with nothing in the log to explain it). Deadlines are absolute; silence is measured from
// the last byte, whatever the console printed before.
package boot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/console"
	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Pausable is a machine the harness can pause (Cloud Hypervisor's vm.pause). A paused guest
// prints nothing and its boot does not advance, so while Paused reports true the silence
// watchdog, the stage timeouts and the boot deadline stop counting: a pause is never a HANG.
// After the resume the silence window starts again from the resume.
type Pausable interface {
	Paused() bool
}

// pausable finds Pausable on m, or on the machine m wraps (a wrapper that adds behaviour,
// such as the job's clean-up, exposes the machine inside with Unwrap).
func pausable(m hosts.Machine) Pausable {
	for i := 0; m != nil && i < 8; i++ {
		if p, ok := m.(Pausable); ok {
			return p
		}
		u, ok := m.(interface{ Unwrap() hosts.Machine })
		if !ok {
			return nil
		}
		m = u.Unwrap()
	}
	return nil
}

// waitSilenceFrom is the watchdog counting from a moment (a resume) instead of from the
// last byte, when that moment is later.
func waitSilenceFrom(ctx context.Context, con *console.Console, window time.Duration, from time.Time) error {
	t := time.NewTimer(time.Until(from.Add(window)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return ctx.Err()
	}
	return con.WaitSilence(ctx, window)
}

// Config bounds one boot. All durations are already multiplied by the host's time scale.
type Config struct {
	Profile *profile.Profile
	// Until is the stage that ends the boot successfully (default: the profile's shell
	// stage when it has no login, else its login stage).
	Until string
	// Silence is the hang window; Deadline bounds the whole boot.
	Silence  time.Duration
	Deadline time.Duration
	// Scale multiplies the profile's per-stage timeouts.
	Scale float64
	// Settle is how long a line without newline waits before it is matched as a prompt.
	Settle time.Duration
	// Grace is how long output is still collected after a fatal signature or a VM exit
	// (the panic's stack, the last words of a dying VM).
	Grace time.Duration
	// Linger keeps reading after the target stage until the console has been quiet this
	// long (at most 4x as long in all): daemons that crash right at login (getty, a network
	// daemon started beside it) are then in the log the boot is judged on. 0 = stop at once.
	Linger time.Duration
	// OnProgress, when set, is called with the furthest stage reached and the component
	// that printed last, whenever either changes (live progress display).
	OnProgress func(stage, component string)
	// Gaps, when set, lists the stretches in which the console could not see the machine
	// (hosts.GapReporter: a reconnecting serial line, SOL). A HANG (silence, deadline or
	// stage timeout) is turned into INFRA when a gap is still open or ended after the last
	// stage was seen: the stage that would have decided the boot may have been printed
	// while nobody was listening. A gap before the last stage seen hid nothing that
	// matters, so a later silence is still a HANG.
	Gaps func() []hosts.Gap
	// Screen, when set, is the machine's display (harness/screen.Recorder): a capture when
	// a stage is reached and at a HANG, CRASH or INFRA verdict; the profile's screen
	// markers looked for while their stage is awaited; screen responses answered with keys.
	Screen Screen
	// ScreenEvery is how often the screen is looked at while something on it is awaited
	// (default 1s; not time-scaled: a menu waiting for a key should be answered soon).
	ScreenEvery time.Duration
}

// Screen is the stage machine's view of a display.
type Screen interface {
	// Look returns which of the given stages and responses (indexes into the profile's
	// Stages and Responses) show their screen markers now.
	Look(ctx context.Context, p *profile.Profile, stages, responses []int) (seenStages, seenResponses []int, err error)
	// Press types key chords on the machine's keyboard.
	Press(ctx context.Context, chords []string) error
	// Capture stores the screen as evidence; it never fails the boot.
	Capture(ctx context.Context, why string)
}

// Outcome is how a boot ended.
type Outcome struct {
	Verdict  record.Verdict
	Reason   string
	Analysis classify.Analysis
	// Stage times relative to the console opening (power-on).
	StageAt map[string]time.Duration
	// LastOutput and Decided are the arrival of the last byte and the moment of the
	// verdict; a HANG is decided within the silence window (+ scheduling) of LastOutput.
	LastOutput time.Time
	Decided    time.Time
	// Reached is when the target stage was seen (before lingering), for a PASS.
	Reached time.Time
	Lines   int
}

type lineMsg struct {
	l   console.Line
	err error
}

// Run follows the boot on con. m may be nil (offline consoles); ctx cancels everything.
func Run(ctx context.Context, con *console.Console, m hosts.Machine, cfg Config) Outcome {
	p := cfg.Profile
	if cfg.Until == "" {
		cfg.Until = p.Until
	}
	if cfg.Until == "" {
		cfg.Until = p.Login.Stage
		if p.Login.User == "" && p.Login.Shell != "" {
			cfg.Until = p.Login.Shell
		}
	}
	if cfg.Settle <= 0 {
		cfg.Settle = 300 * time.Millisecond
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 2 * time.Second
	}
	if cfg.Scale <= 0 {
		cfg.Scale = 1
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	deadline := time.NewTimer(cfg.Deadline)
	defer deadline.Stop()
	deadlineAt := time.Now().Add(cfg.Deadline)

	an := classify.New(p)
	lines := make(chan lineMsg, 1024)
	go func() {
		lr := con.Lines()
		for {
			l, err := lr.Next(ctx, cfg.Settle)
			select {
			case lines <- lineMsg{l, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	silence := make(chan error, 1)
	// The window counts from now at the earliest: time the harness spent before following
	// the boot (typing at a loader's menu that shows only on the screen) is not the
	// guest's silence.
	runStart := time.Now()
	go func() { silence <- waitSilenceFrom(ctx, con, cfg.Silence, runStart) }()

	var exited <-chan struct{}
	if m != nil {
		exited = m.Exited()
	}
	var (
		out        Outcome
		lastStage  string
		lastComp   string
		stageSince = con.Opened()
		grace      <-chan time.Time
		graceWhy   string
		streamEnd  bool
	)
	out.StageAt = map[string]time.Duration{}
	finish := func(v record.Verdict, reason string) Outcome {
		out.Verdict, out.Reason = v, reason
		out.Decided = time.Now()
		if cfg.Screen != nil && v != record.Pass {
			// The last screen of a hung or crashed machine is the first thing a developer
			// wants to see.
			capture(ctx, cfg.Screen, string(v))
		}
		out.LastOutput = con.LastOutput()
		out.Analysis = an.Snapshot()
		for _, s := range out.Analysis.Stages {
			if !s.Time.IsZero() {
				out.StageAt[s.Name] = s.Time.Sub(con.Opened())
			}
		}
		return out
	}
	// hang decides HANG unless a console gap may have hidden the deciding output.
	hang := func(reason string) Outcome {
		if g := hiddenBy(cfg.Gaps, an.Snapshot()); g != nil {
			return finish(record.Infra, fmt.Sprintf("%s after stage %s: the output that decides the boot may be in the gap (without it: %s)",
				g, orNone(an.LastStage()), reason))
		}
		return finish(record.Hang, reason)
	}
	fatal := an.FatalEvent
	// endOfOutput decides a boot whose output stopped for good (VM gone, console closed).
	endOfOutput := func(why string) Outcome {
		if e := fatal(); e != nil {
			return finish(record.Crash, fmt.Sprintf("%s (%s), then %s", e.Title, e.Component, why))
		}
		return finish(record.Infra, why)
	}
	stageTicker := time.NewTicker(250 * time.Millisecond)
	defer stageTicker.Stop()

	// The screen: captures as stages are reached, looks while a screen marker is awaited.
	captured := 0
	progressed := func() {
		if st, c := an.LastStage(), an.LastComponent(); st != lastStage || c != lastComp {
			if st != lastStage {
				stageSince = time.Now()
			}
			lastStage, lastComp = st, c
			if cfg.OnProgress != nil {
				cfg.OnProgress(lastStage, lastComp)
			}
		}
		if cfg.Screen != nil && an.StagesReached() > captured {
			hits := an.Snapshot().Stages
			for _, h := range hits[captured:] {
				capture(ctx, cfg.Screen, "stage "+h.Name)
			}
			captured = len(hits)
		}
	}
	var screenTick <-chan time.Time
	if cfg.Screen != nil && p.HasScreen() {
		every := cfg.ScreenEvery
		if every <= 0 {
			every = time.Second
		}
		t := time.NewTicker(every)
		defer t.Stop()
		screenTick = t.C
	}
	screenFailed := false

	// Pauses (seen on the stage ticker and whenever a timer fires): the time a pause lasts
	// is added to the deadline and the stage clock, and a watchdog that fired during it is
	// armed again from the resume.
	pz := pausable(m)
	var (
		pausedAt  time.Time // start of the current pause; zero while running
		resumedAt time.Time // end of the last pause
		parked    bool      // the watchdog fired during the pause
	)
	armSilence := func(from time.Time) {
		go func() { silence <- waitSilenceFrom(ctx, con, cfg.Silence, from) }()
	}
	observePause := func() (paused bool) {
		if pz == nil {
			return false
		}
		now := time.Now()
		switch p := pz.Paused(); {
		case p && pausedAt.IsZero():
			pausedAt = now
		case !p && !pausedAt.IsZero():
			d := now.Sub(pausedAt)
			pausedAt, resumedAt = time.Time{}, now
			stageSince = stageSince.Add(d)
			deadlineAt = deadlineAt.Add(d)
			deadline.Reset(time.Until(deadlineAt))
			if parked {
				parked = false
				armSilence(now)
			}
		}
		return !pausedAt.IsZero()
	}

	for {
		select {
		case msg := <-lines:
			if msg.err != nil {
				if errors.Is(msg.err, console.ErrClosed) {
					streamEnd = true
					if grace == nil {
						graceWhy = "console closed: " + msg.err.Error()
						if m != nil && m.ExitErr() != nil {
							graceWhy = m.ExitErr().Error()
						}
					}
					return endOfOutput(graceWhy)
				}
				return finish(record.Infra, "console: "+msg.err.Error())
			}
			out.Lines = msg.l.N
			for _, s := range an.Feed(classify.Line{N: msg.l.N, Text: msg.l.Text, Partial: msg.l.Partial, Time: msg.l.Time}) {
				if err := con.Send(ctx, s); err != nil {
					return finish(record.Infra, "console send: "+err.Error())
				}
			}
			done := an.Reached(cfg.Until)
			if done {
				out.Reached = time.Now() // before the stage's capture
			}
			progressed()
			if done {
				lingerOn(ctx, con, an, lines, cfg.Linger)
				return finish(record.Pass, "reached "+cfg.Until)
			}
			if grace == nil && fatal() != nil {
				graceWhy = "fatal signature"
				grace = time.After(cfg.Grace)
			}
		case <-grace:
			if e := fatal(); e != nil {
				return finish(record.Crash, fmt.Sprintf("%s (%s)", e.Title, e.Component))
			}
			return endOfOutput(graceWhy)
		case <-exited:
			exited = nil
			if m.ExitErr() == nil {
				// Finished without a fault (a replay played its whole transcript): the console
				// stays open, and the output decides, as on a machine that stopped printing.
				continue
			}
			if grace == nil {
				graceWhy = "VM exited: " + m.ExitErr().Error()
				// Keep reading what the VM wrote before it died.
				grace = time.After(cfg.Grace)
			}
		case err := <-silence:
			if err != nil {
				if errors.Is(err, console.ErrClosed) {
					continue // the line reader reports the end with everything read
				}
				return finish(record.Infra, "watchdog: "+err.Error())
			}
			if grace != nil || streamEnd {
				continue
			}
			if observePause() {
				parked = true // not a hang; armed again at the resume
				continue
			}
			if resumedAt.After(con.LastOutput()) && time.Since(resumedAt) < cfg.Silence {
				armSilence(resumedAt) // silent since the resume, not yet for a whole window
				continue
			}
			if e := fatal(); e != nil {
				return finish(record.Crash, fmt.Sprintf("%s (%s)", e.Title, e.Component))
			}
			return hang(hangReason(fmt.Sprintf("no output for %s", cfg.Silence), an.Snapshot()))
		case <-deadline.C:
			if observePause() || time.Now().Before(deadlineAt) {
				continue // paused, or moved by a pause (the timer is set again)
			}
			if e := fatal(); e != nil {
				return finish(record.Crash, fmt.Sprintf("%s (%s)", e.Title, e.Component))
			}
			return hang(hangReason(fmt.Sprintf("boot deadline %s passed", cfg.Deadline), an.Snapshot()))
		case <-screenTick:
			stages, resps := screenAwaited(p, an)
			if len(stages) == 0 && len(resps) == 0 {
				continue
			}
			lctx, lcancel := context.WithTimeout(ctx, 30*time.Second)
			seenSt, seenResp, err := cfg.Screen.Look(lctx, p, stages, resps)
			lcancel()
			if err != nil {
				if !screenFailed {
					screenFailed = true
					con.Note("screen: " + err.Error())
				}
				continue
			}
			for _, i := range seenResp {
				r := p.Responses[i]
				if !an.Respond(i) || len(r.Keys) == 0 {
					continue
				}
				con.Note(fmt.Sprintf("screen: %s seen, pressing %v", r.Screen, r.Keys))
				if err := cfg.Screen.Press(ctx, r.Keys); err != nil {
					return finish(record.Infra, "keyboard: "+err.Error())
				}
			}
			for _, i := range seenSt {
				if an.ReachOnScreen(p.Stages[i].Name, time.Now()) {
					con.Note("screen: stage " + p.Stages[i].Name + " seen on the screen")
				}
			}
			if an.Reached(cfg.Until) {
				out.Reached = time.Now()
				progressed()
				return finish(record.Pass, "reached "+cfg.Until+" (on the screen)")
			}
			progressed()
		case <-stageTicker.C:
			if observePause() {
				continue
			}
			if next := nextStage(p, an); next != nil && next.Timeout > 0 {
				limit := time.Duration(float64(next.Timeout) * cfg.Scale)
				if time.Since(stageSince) > limit {
					return hang(hangReason(fmt.Sprintf("stage %s not reached within %s", next.Name, limit), an.Snapshot()))
				}
			}
		case <-ctx.Done():
			return finish(record.Infra, "cancelled: "+ctx.Err().Error())
		}
	}
}

// screenAwaited is what to look for on the screen now: the stages ScreenAwaited names, and
// the screen responses not yet answered while no non-optional stage has been reached (boot
// menus come before the kernel).
func screenAwaited(p *profile.Profile, an *classify.Analyzer) (stages, resps []int) {
	stages = p.ScreenAwaited(an.Reached)
	early := true
	for _, s := range p.Stages {
		if !s.Optional && an.Reached(s.Name) {
			early = false
			break
		}
	}
	if early {
		for i, r := range p.Responses {
			if r.Screen != nil && !an.Responded(i) {
				resps = append(resps, i)
			}
		}
	}
	return stages, resps
}

// capture stores the screen with a bound on the time it may take.
func capture(ctx context.Context, s Screen, why string) {
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	s.Capture(cctx, why)
}

// hiddenBy returns the latest console gap that is still open or ended after the last stage
// was seen (any gap, when no stage was seen), or nil.
func hiddenBy(gaps func() []hosts.Gap, a classify.Analysis) *hosts.Gap {
	if gaps == nil {
		return nil
	}
	var lastStage time.Time
	for _, s := range a.Stages {
		if s.Time.After(lastStage) {
			lastStage = s.Time
		}
	}
	var hit *hosts.Gap
	for _, g := range gaps() {
		if g.Open() || g.End.After(lastStage) {
			g := g
			hit = &g
		}
	}
	return hit
}

func orNone(stage string) string {
	if stage == "" {
		return "power-on (no stage reached)"
	}
	return stage
}

func hangReason(what string, a classify.Analysis) string {
	stage := a.LastStage
	if stage == "" {
		stage = "power-on (no stage reached)"
	}
	s := what + " after stage " + stage
	if a.LastComponent != "" {
		s += " (last component: " + a.LastComponent + ")"
	}
	return s
}

// nextStage is the first non-optional stage after the furthest one reached.
func nextStage(p *profile.Profile, an *classify.Analyzer) *profile.Stage {
	last := -1
	for i, s := range p.Stages {
		if an.Reached(s.Name) {
			last = i
		}
	}
	for i := last + 1; i < len(p.Stages); i++ {
		if !p.Stages[i].Optional {
			return &p.Stages[i]
		}
	}
	return nil
}

// lingerOn feeds the analyser what arrives until the console is quiet for d (or 4d passed).
func lingerOn(ctx context.Context, con *console.Console, an *classify.Analyzer, lines <-chan lineMsg, d time.Duration) {
	if d <= 0 {
		return
	}
	stop := time.After(4 * d)
	for {
		quiet := time.Until(con.LastOutput().Add(d))
		if quiet <= 0 {
			quiet = time.Millisecond
		}
		select {
		case msg := <-lines:
			if msg.err != nil {
				return
			}
			an.Feed(classify.Line{N: msg.l.N, Text: msg.l.Text, Partial: msg.l.Partial, Time: msg.l.Time})
		case <-time.After(quiet):
			if time.Since(con.LastOutput()) >= d {
				return
			}
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}
