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

	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
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
	p, _ := hosts.As[Pausable](m)
	return p
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
	// Livelock is how long the console may print nothing but lines it printed just before
	// (a guest in a loop) until the boot is a HANG ("livelock: <line> x N"); default the
	// silence window, negative never (see loopDetector).
	Livelock time.Duration
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
	// Screen, when set, is the machine's display (harness/engine/screen.Recorder): a capture when
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
// The boot is a state machine (follower): each event (a line, the grace period's end, the
// machine's exit, the silence watchdog, the deadline, the stage clock, a look at the screen,
// cancellation) has one
// method, which either decides the boot (a non-nil Outcome) or updates the state.
func Run(ctx context.Context, con *console.Console, m hosts.Machine, cfg Config) Outcome {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := newFollower(ctx, con, m, withDefaults(cfg))
	defer f.stop()
	for {
		var o *Outcome
		select {
		case msg := <-f.lines:
			o = f.onLine(msg)
		case <-f.grace:
			o = f.onGraceOver()
		case <-f.exited:
			o = f.onExit()
		case err := <-f.silence:
			o = f.onSilence(err)
		case <-f.deadline.C:
			o = f.onDeadline()
		case <-f.stageTicker.C:
			o = f.onStageTick()
		case <-f.screenTick:
			o = f.onScreenTick()
		case <-ctx.Done():
			o = f.cancelled()
		}
		if o != nil {
			return *o
		}
	}
}

// withDefaults fills the zero fields of cfg.
func withDefaults(cfg Config) Config {
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
	if cfg.Livelock == 0 {
		cfg.Livelock = cfg.Silence
	}
	return cfg
}

// follower is the state of one boot being followed (see Run).
type follower struct {
	ctx context.Context
	con *console.Console
	m   hosts.Machine // nil for an offline console
	cfg Config
	an  *classify.Analyzer
	out Outcome

	// event sources
	lines       chan lineMsg
	silence     chan error
	exited      <-chan struct{} // nil once handled, or without a machine
	grace       <-chan time.Time
	deadline    *time.Timer
	stageTicker *time.Ticker

	// deadlineAt is the one clock of the deadline: the timer only wakes the loop, and
	// pastDeadline decides; a timer that fires early (a pause moved deadlineAt, or the
	// runtime woke it a moment before) is armed again for the rest.
	deadlineAt time.Time
	loops      loopDetector
	lastStage  string
	lastComp   string
	stageSince time.Time // when lastStage was reached (moved on by pauses)
	graceWhy   string    // what started the grace period
	streamEnd  bool      // the console closed

	// The screen: captures as stages are reached, looks while a screen marker is awaited.
	screenTicker *time.Ticker // nil without a screen or screen markers
	screenTick   <-chan time.Time
	captured     int  // stages captured so far
	screenFailed bool // a look failed (noted once)

	// Pauses (seen on the stage ticker and whenever a timer fires): the time a pause lasts
	// is added to the deadline and the stage clock, and a watchdog that fired during it is
	// armed again from the resume.
	pz        Pausable
	pausedAt  time.Time // start of the current pause; zero while running
	resumedAt time.Time // end of the last pause
	parked    bool      // the watchdog fired during the pause
}

func newFollower(ctx context.Context, con *console.Console, m hosts.Machine, cfg Config) *follower {
	deadlineAt := time.Now().Add(cfg.Deadline)
	f := &follower{ctx: ctx, con: con, m: m, cfg: cfg, an: classify.New(cfg.Profile),
		lines: make(chan lineMsg, 1024), silence: make(chan error, 1),
		deadline: time.NewTimer(time.Until(deadlineAt)), deadlineAt: deadlineAt,
		stageTicker: time.NewTicker(250 * time.Millisecond),
		stageSince:  con.Opened(), pz: pausable(m)}
	f.out.StageAt = map[string]time.Duration{}
	if m != nil {
		f.exited = m.Exited()
	}
	go f.readLines()
	// The window counts from now at the earliest: time the harness spent before following
	// the boot (typing at a loader's menu that shows only on the screen) is not the
	// guest's silence.
	f.armSilence(time.Now())
	if cfg.Screen != nil && cfg.Profile.HasScreen() {
		every := cfg.ScreenEvery
		if every <= 0 {
			every = time.Second
		}
		f.screenTicker = time.NewTicker(every)
		f.screenTick = f.screenTicker.C
	}
	return f
}

func (f *follower) stop() {
	f.deadline.Stop()
	f.stageTicker.Stop()
	if f.screenTicker != nil {
		f.screenTicker.Stop()
	}
}

// readLines forwards the console's lines (and the error that ends them) to f.lines.
func (f *follower) readLines() {
	lr := f.con.Lines()
	for {
		l, err := lr.Next(f.ctx, f.cfg.Settle)
		select {
		case f.lines <- lineMsg{l, err}:
		case <-f.ctx.Done():
			return
		}
		if err != nil {
			return
		}
	}
}

// finish decides the boot.
func (f *follower) finish(v record.Verdict, reason string) *Outcome {
	out := f.out
	out.Verdict, out.Reason = v, reason
	out.Decided = time.Now()
	if f.cfg.Screen != nil && v != record.Pass {
		// The last screen of a hung or crashed machine is the first thing a developer
		// wants to see.
		capture(f.ctx, f.cfg.Screen, string(v))
	}
	out.LastOutput = f.con.LastOutput()
	out.Analysis = f.an.Snapshot()
	for _, s := range out.Analysis.Stages {
		if !s.Time.IsZero() {
			out.StageAt[s.Name] = s.Time.Sub(f.con.Opened())
		}
	}
	return &out
}

// Unreadable console: at least minNoise raw bytes and under half of them text, with no
// stage seen (Console.Readable).
const minNoise = 256

// hang decides HANG unless a console gap may have hidden the deciding output, or the
// console was noise (a line setting mismatch): the image cannot be blamed for a console
// the harness could not read.
func (f *follower) hang(reason string) *Outcome {
	if raw, text := f.con.Readable(); f.an.LastStage() == "" && raw >= minNoise && text*2 < raw {
		return f.finish(record.Infra, fmt.Sprintf("console unreadable: %d bytes, %d%% of them text (a baud rate, parity or word size mismatch between the line and the console?); without it: %s",
			raw, text*100/raw, reason))
	}
	if g := hiddenBy(f.cfg.Gaps, f.an.Snapshot()); g != nil {
		return f.finish(record.Infra, fmt.Sprintf("%s after stage %s: the output that decides the boot may be in the gap (without it: %s)",
			g, orNone(f.an.LastStage()), reason))
	}
	return f.finish(record.Hang, reason)
}

// crashed decides CRASH when a fatal signature was seen (nil otherwise).
func (f *follower) crashed() *Outcome {
	if e := f.an.FatalEvent(); e != nil {
		return f.finish(record.Crash, fmt.Sprintf("%s (%s)", e.Title, e.Component))
	}
	return nil
}

// endOfOutput decides a boot whose output stopped for good (VM gone, console closed). A
// VMM that died before the guest printed a byte failed to start (a bad argument, a missing
// firmware file): its own message is the reason.
func (f *follower) endOfOutput(why string) *Outcome {
	if e := f.an.FatalEvent(); e != nil {
		return f.finish(record.Crash, fmt.Sprintf("%s (%s), then %s", e.Title, e.Component, why))
	}
	if f.con.RawBytes() == 0 && f.m != nil && f.m.ExitErr() != nil {
		why = "the VMM exited before the guest printed anything (a start failure): " + why
	}
	return f.finish(record.Infra, why)
}

// onLine feeds a line to the analyser (answering what the profile answers), reports
// progress, and ends the boot at the target stage or starts the grace period at a fatal
// signature. The end of the console decides the boot from what was read.
func (f *follower) onLine(msg lineMsg) *Outcome {
	if msg.err != nil {
		return f.onConsoleEnd(msg.err)
	}
	// A flood keeps this case ready on every turn of the loop: the deadline is also
	// checked here, so no amount of output can outrun it.
	if f.pastDeadline() {
		if o := f.onDeadline(); o != nil {
			return o
		}
	}
	f.out.Lines = msg.l.N
	for _, s := range f.an.Feed(classify.Line{N: msg.l.N, Text: msg.l.Text, Partial: msg.l.Partial, Time: msg.l.Time}) {
		if err := f.con.Send(f.ctx, s); err != nil {
			return f.finish(record.Infra, "console send: "+err.Error())
		}
	}
	done := f.an.ReachedOrPassed(f.cfg.Until)
	if done {
		f.out.Reached = time.Now() // before the stage's capture
	}
	f.progressed()
	if done {
		lingerOn(f.ctx, f.con, f.an, f.lines, f.cfg.Linger)
		return f.finish(record.Pass, "reached "+f.cfg.Until)
	}
	if f.grace == nil && f.an.FatalEvent() != nil {
		f.graceWhy = "fatal signature"
		f.grace = time.After(f.cfg.Grace)
	}
	if !msg.l.Partial && !msg.l.Cut && f.grace == nil {
		now := time.Now()
		f.loops.feed(msg.l.Text, now)
		if ll := f.loops.livelock(now, f.cfg.Livelock); ll != "" && !f.observePause() {
			return f.hang(hangReason(ll, f.an.Snapshot()))
		}
	}
	return nil
}

// progressed reports a new stage or component and captures the screen at each stage reached.
func (f *follower) progressed() {
	if st, c := f.an.LastStage(), f.an.LastComponent(); st != f.lastStage || c != f.lastComp {
		if st != f.lastStage {
			f.stageSince = time.Now()
		}
		f.lastStage, f.lastComp = st, c
		if f.cfg.OnProgress != nil {
			f.cfg.OnProgress(f.lastStage, f.lastComp)
		}
	}
	if f.cfg.Screen != nil && f.an.StagesReached() > f.captured {
		hits := f.an.Snapshot().Stages
		for _, h := range hits[f.captured:] {
			capture(f.ctx, f.cfg.Screen, "stage "+h.Name)
		}
		f.captured = len(hits)
	}
}

// onScreenTick looks at the screen while a screen marker or a screen response is awaited:
// answers a menu with keys, marks stages seen on the screen, and ends the boot at the
// target stage.
func (f *follower) onScreenTick() *Outcome {
	p := f.cfg.Profile
	stages, resps := screenAwaited(p, f.an)
	if len(stages) == 0 && len(resps) == 0 {
		return nil
	}
	lctx, lcancel := context.WithTimeout(f.ctx, 30*time.Second)
	seenSt, seenResp, err := f.cfg.Screen.Look(lctx, p, stages, resps)
	lcancel()
	if err != nil {
		if !f.screenFailed {
			f.screenFailed = true
			f.con.Note("screen: " + err.Error())
		}
		return nil
	}
	for _, i := range seenResp {
		r := p.Responses[i]
		if !f.an.Respond(i) || len(r.Keys) == 0 {
			continue
		}
		f.con.Note(fmt.Sprintf("screen: %s seen, pressing %v", r.Screen, r.Keys))
		if err := f.cfg.Screen.Press(f.ctx, r.Keys); err != nil {
			return f.finish(record.Infra, "keyboard: "+err.Error())
		}
	}
	for _, i := range seenSt {
		if f.an.ReachOnScreen(p.Stages[i].Name, time.Now()) {
			f.con.Note("screen: stage " + p.Stages[i].Name + " seen on the screen")
		}
	}
	if f.an.ReachedOrPassed(f.cfg.Until) {
		f.out.Reached = time.Now()
		f.progressed()
		return f.finish(record.Pass, "reached "+f.cfg.Until+" (on the screen)")
	}
	f.progressed()
	return nil
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

// cancelled decides a boot whose run was cancelled (SIGINT, SIGTERM): INFRA, never a
// verdict against the image, whichever wait the cancellation cut short.
func (f *follower) cancelled() *Outcome {
	return f.finish(record.Infra, "cancelled: "+context.Cause(f.ctx).Error())
}

// onConsoleEnd decides the boot when the line reader stops with err.
func (f *follower) onConsoleEnd(err error) *Outcome {
	if f.ctx.Err() != nil {
		return f.cancelled()
	}
	if !errors.Is(err, console.ErrClosed) {
		return f.finish(record.Infra, "console: "+err.Error())
	}
	f.streamEnd = true
	if f.grace == nil {
		f.graceWhy = "console closed: " + err.Error()
		if exitErr := f.exitState(); exitErr != nil {
			f.graceWhy = "VM exited: " + exitErr.Error()
		}
	}
	return f.endOfOutput(f.graceWhy)
}

// exitWait bounds how long the end of the console waits for the machine's exit state. A
// killed VMM closes its console socket before its parent has reaped it: the cause (the
// signal, the exit code, its last stderr lines) comes a moment after the end of the stream.
const exitWait = 5 * time.Second

// exitState is the machine's exit error once it has stopped (waiting up to exitWait for
// it), or nil: a machine that is still on (a real board whose console line was lost) or
// that finished without a fault.
func (f *follower) exitState() error {
	if f.m == nil {
		return nil
	}
	select {
	case <-f.m.Exited():
	case <-time.After(exitWait):
	case <-f.ctx.Done():
	}
	return f.m.ExitErr()
}

// onGraceOver decides after the output collected past a fatal signature or a VM exit.
func (f *follower) onGraceOver() *Outcome {
	if o := f.crashed(); o != nil {
		return o
	}
	return f.endOfOutput(f.graceWhy)
}

// onExit starts the grace period when the machine died with a fault.
func (f *follower) onExit() *Outcome {
	f.exited = nil
	if f.m.ExitErr() == nil {
		// Finished without a fault (a replay played its whole transcript): the console
		// stays open, and the output decides, as on a machine that stopped printing.
		return nil
	}
	if f.grace == nil {
		f.graceWhy = "VM exited: " + f.m.ExitErr().Error()
		// Keep reading what the VM wrote before it died.
		f.grace = time.After(f.cfg.Grace)
	}
	return nil
}

// onSilence handles the watchdog: a HANG (or CRASH, if a fatal signature was seen) unless
// the machine is paused or was resumed less than a window ago.
func (f *follower) onSilence(err error) *Outcome {
	if err != nil {
		if errors.Is(err, console.ErrClosed) {
			return nil // the line reader reports the end with everything read
		}
		if f.ctx.Err() != nil {
			return f.cancelled()
		}
		return f.finish(record.Infra, "watchdog: "+err.Error())
	}
	if f.grace != nil || f.streamEnd {
		return nil
	}
	if f.observePause() {
		f.parked = true // not a hang; armed again at the resume
		return nil
	}
	if f.resumedAt.After(f.con.LastOutput()) && time.Since(f.resumedAt) < f.cfg.Silence {
		f.armSilence(f.resumedAt) // silent since the resume, not yet for a whole window
		return nil
	}
	if o := f.crashed(); o != nil {
		return o
	}
	return f.hang(hangReason(fmt.Sprintf("no output for %s", f.cfg.Silence), f.an.Snapshot()))
}

// pastDeadline is the one place that decides whether the deadline has passed.
func (f *follower) pastDeadline() bool { return !time.Now().Before(f.deadlineAt) }

// onDeadline ends the boot at its deadline, moved on by the pauses. A timer that fired
// before deadlineAt (moved by a pause) is armed again for the rest, so the deadline is
// never lost; while paused it is looked at again every second (the resume also re-arms it).
func (f *follower) onDeadline() *Outcome {
	if f.observePause() {
		f.deadline.Reset(time.Second)
		return nil
	}
	if !f.pastDeadline() {
		f.deadline.Reset(time.Until(f.deadlineAt))
		return nil
	}
	if o := f.crashed(); o != nil {
		return o
	}
	return f.hang(hangReason(fmt.Sprintf("boot deadline %s passed", f.cfg.Deadline), f.an.Snapshot()))
}

// onStageTick ends the boot when the next stage's timeout passed (not while paused).
func (f *follower) onStageTick() *Outcome {
	if f.observePause() {
		return nil
	}
	if next := nextStage(f.cfg.Profile, f.an); next != nil && next.Timeout > 0 {
		limit := time.Duration(float64(next.Timeout) * f.cfg.Scale)
		if time.Since(f.stageSince) > limit {
			return f.hang(hangReason(fmt.Sprintf("stage %s not reached within %s", next.Name, limit), f.an.Snapshot()))
		}
	}
	return nil
}

// armSilence starts a watchdog. Its result is sent only while Run still follows the boot
// (f.ctx is cancelled when Run returns): a watchdog re-armed at a resume while an earlier
// one's result waits in the one-slot channel would otherwise block its goroutine forever.
func (f *follower) armSilence(from time.Time) {
	go func() {
		err := waitSilenceFrom(f.ctx, f.con, f.cfg.Silence, from)
		select {
		case f.silence <- err:
		case <-f.ctx.Done():
		}
	}()
}

// observePause notes the start or end of a pause and reports whether the machine is paused;
// at a resume it moves the stage clock and the deadline on by the pause and re-arms a
// watchdog that fired during it.
func (f *follower) observePause() (paused bool) {
	if f.pz == nil {
		return false
	}
	now := time.Now()
	switch p := f.pz.Paused(); {
	case p && f.pausedAt.IsZero():
		f.pausedAt = now
	case !p && !f.pausedAt.IsZero():
		d := now.Sub(f.pausedAt)
		f.pausedAt, f.resumedAt = time.Time{}, now
		f.stageSince = f.stageSince.Add(d)
		f.deadlineAt = f.deadlineAt.Add(d)
		f.deadline.Reset(time.Until(f.deadlineAt))
		if f.parked {
			f.parked = false
			f.armSilence(now)
		}
	}
	return !f.pausedAt.IsZero()
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
			if time.Since(con.LastOutput()) >= d && !con.Unread() {
				return
			}
		case <-stop:
			return
		case <-ctx.Done():
			return
		}
	}
}
