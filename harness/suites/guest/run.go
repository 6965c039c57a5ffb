package guest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Options for one job.
type Options struct {
	// ExitCode reports the machine's own exit status (hosts/qemu Machine.ExitCode); nil
	// when the host kind cannot tell.
	ExitCode func() (int, bool)
	// Wait bounds, before time scaling, how long to wait after the commands for a
	// self-testing image to finish (FUNC_TESTS_COMPLETE, or its exit through
	// the redoxer exit device). Default 60s.
	Wait time.Duration
	// CommandTimeout bounds each command before time scaling (default 120s).
	CommandTimeout time.Duration
}

// Report is the guest suite's result for one job.
type Report struct {
	Checks   []record.Check
	Func     FuncReport
	Exited   bool
	ExitCode int
}

// Run runs the job's suite commands (when the boot reached the shell), reads the FUNC_TEST
// protocol from the boot log and from the commands' output (and, for an image that tests
// itself, from the console until FUNC_TESTS_COMPLETE or the machine exits), and judges the
// exit status on hosts with the redoxer exit device. Each step is one method of guestRun.
//
// j is the job judged (its suite's commands), b the boot it is judged on: its own, or one
// shared with the other suites of the image x host, booted by another job.
func Run(ctx context.Context, j matrix.Job, b *job.Booted, o Options) Report {
	g := newGuestRun(j, b, o)
	g.rep.Func.Parse(strings.Join(b.BootLog(), "\n"))
	g.commands(ctx)
	g.followSelfTest(ctx)
	g.rep.Checks = append(g.rep.Checks, g.interrupted(ctx, g.rep.funcChecks())...)
	if g.selfExit {
		g.rep.Checks = append(g.rep.Checks, g.interrupted(ctx, []record.Check{g.exitStatus()})...)
	}
	return g.finish()
}

// guestRun is the state of one guest suite job (see Run).
type guestRun struct {
	b        *job.Booted
	cmds     []matrix.GuestCommand // the judged job's commands
	o        Options
	scale    float64 // the host's time scale
	from     int64   // console offset up to which the output was parsed
	selfExit bool    // the host has the redoxer exit device: the guest ends the machine itself
	rep      Report
}

func newGuestRun(j matrix.Job, b *job.Booted, o Options) *guestRun {
	if o.Wait <= 0 {
		o.Wait = 60 * time.Second
	}
	if o.CommandTimeout <= 0 {
		o.CommandTimeout = 120 * time.Second
	}
	g := &guestRun{b: b, cmds: j.Suite.Commands, o: o, scale: 1, selfExit: HasExitDevice(b.Job.Host)}
	if b.Machine != nil {
		g.scale = b.TimeScale()
	}
	if b.Console != nil {
		g.from = b.Console.Offset()
	}
	return g
}

func (g *guestRun) scaled(d time.Duration) time.Duration { return time.Duration(float64(d) * g.scale) }

// exited reports whether the machine has ended.
func (g *guestRun) exited() bool {
	if g.b.Machine == nil {
		return false
	}
	select {
	case <-g.b.Machine.Exited():
		return true
	default:
		return false
	}
}

// exitCode is the machine's exit status, once it has ended and the host kind can tell.
func (g *guestRun) exitCode() (int, bool) {
	if g.o.ExitCode == nil || !g.exited() {
		return 0, false
	}
	return g.o.ExitCode()
}

// guestRan reports whether the guest ever ran: its console printed something. A VMM that
// exits before (a bad argument, a missing firmware file, a crash of the VMM) exits with
// its own status, which says nothing of the guest's exit device.
func (g *guestRun) guestRan() bool { return g.b.Console != nil && g.b.Console.RawBytes() > 0 }

// startFailure is the INFRA message for a VMM that exited before the guest ran: its own
// exit reason (status and last stderr lines), or the boot's.
func (g *guestRun) startFailure() string {
	why := g.b.Outcome.Reason
	if err := g.b.Machine.ExitErr(); err != nil {
		why = err.Error()
	}
	return "the VMM exited before the guest printed anything (a start failure, not the guest's exit): " + why
}

// interrupted turns the verdicts of waits that the run's cancellation cut short (a HANG,
// a FAIL read from a partial protocol) into INFRA: an interrupted wait says nothing
// about the image.
func (g *guestRun) interrupted(ctx context.Context, checks []record.Check) []record.Check {
	if ctx.Err() == nil {
		return checks
	}
	for i := range checks {
		if checks[i].Verdict == record.Hang || checks[i].Verdict == record.Fail {
			checks[i].Verdict = record.Infra
			checks[i].Message = "not judged: the wait was interrupted (" + ctx.Err().Error() + "); without it: " + checks[i].Message
		}
	}
	return checks
}

// commands runs the suite's command list, or judges it not run when the boot failed.
func (g *guestRun) commands(ctx context.Context) {
	cmds := g.cmds
	switch {
	case len(cmds) == 0:
	case g.b.Outcome.Verdict != record.Pass:
		v := g.b.Outcome.Verdict
		if v != record.Hang && v != record.Crash {
			v = record.Infra
		}
		for _, c := range cmds {
			g.rep.Checks = append(g.rep.Checks, record.Check{Name: CommandCheck(c.Name), Verdict: v,
				Component: g.b.Outcome.Analysis.LastComponent, Message: "not run: the boot did not reach the shell: " + g.b.Outcome.Reason})
		}
	default:
		s, err := session.Open(ctx, g.b)
		ended := ""
		for _, c := range cmds {
			ch := record.Check{Name: CommandCheck(c.Name)}
			switch {
			case err != nil:
				ch.Verdict, ch.Message = record.Infra, "not run: no shell: "+err.Error()
			case ended != "":
				ch.Verdict, ch.Message = record.Skip, "not run: "+ended
			default:
				ch, ended = g.command(ctx, s, c)
			}
			g.rep.Checks = append(g.rep.Checks, ch)
		}
		if g.b.Console != nil {
			g.from = g.b.Console.Offset()
		}
	}
}

// command runs one command and judges it; ended, when set, says why the commands after it
// cannot run (the machine ended, the console closed).
func (g *guestRun) command(ctx context.Context, s *session.Session, c matrix.GuestCommand) (ch record.Check, ended string) {
	ch = record.Check{Name: CommandCheck(c.Name)}
	cctx, cancel := context.WithTimeout(ctx, g.scaled(g.o.CommandTimeout))
	start := time.Now()
	r, rerr := s.RunResult(cctx, c.Run)
	cancel()
	ch.Duration = time.Since(start)
	g.rep.Func.Parse(r.Stdout)
	if rerr != nil {
		// Give a VM that is going down a moment to be seen gone.
		waitExit(g.b, 2*time.Second)
	}
	switch {
	case rerr == nil:
		ch.Verdict, ch.Message = judgeOutput(r, c.Expect)
	case g.exited():
		code, ok := g.exitCode()
		ended = fmt.Sprintf("the machine ended during %q", c.Name)
		if ok {
			ended += fmt.Sprintf(" (exit status %d)", code)
		}
		if ok && g.guestRan() && ThroughExitDevice(g.b.Job.Host.Arch, code) {
			ch.Verdict = record.Pass
			ch.Message = fmt.Sprintf("ended the machine through %s (QEMU exit status %d; judged by %s)", exitDevice(g.b.Job.Host.Arch), code, CheckExitStatus)
		} else {
			ch.Verdict, ch.Message = record.Infra, ended+": "+rerr.Error()
		}
	case ctx.Err() != nil:
		ch.Verdict, ch.Message = record.Infra, "not judged: interrupted ("+ctx.Err().Error()+"): "+rerr.Error()
		ended = "the run was interrupted"
	case errors.Is(rerr, context.DeadlineExceeded):
		ch.Verdict, ch.Component = record.Hang, c.Name
		ch.Message = fmt.Sprintf("did not finish within %s: %v", g.scaled(g.o.CommandTimeout), rerr)
	case errors.Is(rerr, console.ErrClosed):
		ch.Verdict, ch.Message = record.Infra, "console closed: "+rerr.Error()
		ended = "the console closed"
	default:
		ch.Verdict, ch.Message = record.Fail, rerr.Error()
	}
	return ch, ended
}

// followSelfTest follows the console of a self-testing image until the protocol completes
// or the machine exits (bounded by Options.Wait).
func (g *guestRun) followSelfTest(ctx context.Context) {
	con := g.b.Console
	needComplete := g.rep.Func.Started && !g.rep.Func.Complete
	if con == nil || !(needComplete || (g.selfExit && !g.exited())) {
		return
	}
	wctx, cancel := context.WithTimeout(ctx, g.scaled(g.o.Wait))
	defer cancel()
	if needComplete {
		if m, err := con.Expect(wctx, g.from, "FUNC_TESTS_COMPLETE"); err == nil {
			g.rep.Func.Parse(con.Text(g.from, m.End))
			g.from = m.End
		}
	}
	if g.selfExit && g.b.Machine != nil {
		select {
		case <-g.b.Machine.Exited():
		case <-wctx.Done():
		}
	}
	cancel()
	g.rep.Func.Parse(con.Text(g.from, con.Offset()))
}

// exitStatus judges the exit status a self-testing image gave through the redoxer exit
// device (isa-debug-exit on x86_64, semihosting on aarch64).
func (g *guestRun) exitStatus() record.Check {
	ch := record.Check{Name: CheckExitStatus}
	code, ok := g.exitCode()
	switch {
	case g.exited() && !g.guestRan():
		ch.Verdict, ch.Message = record.Infra, g.startFailure()
	case ok:
		g.rep.Exited, g.rep.ExitCode = true, code
		ch.Verdict, ch.Message = ExitVerdict(g.b.Job.Host.Arch, code)
	case g.exited():
		ch.Verdict, ch.Message = record.Infra, "the machine ended without an exit status (killed?)"
		if err := g.b.Machine.ExitErr(); err != nil {
			ch.Message += ": " + err.Error()
		}
	case !g.guestRan():
		ch.Verdict, ch.Message = record.Infra, "not judged: the guest never printed anything (the boot: "+g.b.Outcome.Reason+")"
	default:
		ch.Verdict = record.Hang
		ch.Message = fmt.Sprintf("the guest did not exit through %s within %s after its tests", exitDevice(g.b.Job.Host.Arch), g.scaled(g.o.Wait))
	}
	return ch
}

// finish applies the matrix's known failures and attaches the console excerpt to failures.
func (g *guestRun) finish() Report {
	rep := g.rep
	rep.Checks = g.b.ApplyXFail(rep.Checks)
	for i := range rep.Checks {
		if rep.Checks[i].Verdict.Failed() && rep.Checks[i].Excerpt == "" {
			rep.Checks[i].Excerpt = g.b.Excerpt(2048)
		}
	}
	return rep
}

func waitExit(b *job.Booted, d time.Duration) {
	if b.Machine == nil || d <= 0 {
		return
	}
	select {
	case <-b.Machine.Exited():
	case <-time.After(d):
	}
}

func (rep *Report) funcChecks() []record.Check {
	f := &rep.Func
	sum := record.Check{Name: CheckFunc}
	if !f.Started && len(f.Tests) == 0 && len(f.Malformed) == 0 {
		sum.Verdict, sum.Message = record.Skip, "the image printed no FUNC_TESTS_START (it does not test itself)"
		return []record.Check{sum}
	}
	var out []record.Check
	var failed []string
	for _, t := range f.Tests {
		c := record.Check{Name: FuncCheck(t.Name), Verdict: t.Verdict, Message: t.Line}
		if t.Verdict == record.Fail {
			c.Message = "FAIL: " + t.Reason
			failed = append(failed, t.Name)
		}
		if t.Verdict == record.Skip {
			c.Message = "the image skipped it"
		}
		out = append(out, c)
	}
	pass, fail, skip := f.Counts()
	counts := fmt.Sprintf("%d passed, %d failed, %d skipped", pass, fail, skip)
	switch {
	case len(f.Malformed) > 0:
		sum.Verdict, sum.Message = record.Fail, fmt.Sprintf("malformed protocol lines: %q; %s", f.Malformed, counts)
	case !f.Complete:
		sum.Verdict, sum.Message = record.Hang, "FUNC_TESTS_COMPLETE never came; "+counts
	case fail > 0:
		sum.Verdict, sum.Message = record.Fail, fmt.Sprintf("%s (%s)", counts, strings.Join(failed, ", "))
	default:
		sum.Verdict, sum.Message = record.Pass, counts
	}
	return append([]record.Check{sum}, out...)
}

// judgeOutput compares a command's stdout with its expected file (line endings folded);
// without an expected file the command must exit 0.
func judgeOutput(r session.Result, expectFile string) (record.Verdict, string) {
	if expectFile == "" {
		if r.Exit != 0 {
			return record.Fail, fmt.Sprintf("exit status %d: %s", r.Exit, clip(r.Stdout, 300))
		}
		return record.Pass, fmt.Sprintf("exit status 0 (%d bytes of output, no expected file)", len(r.Stdout))
	}
	want, err := inputfile.ReadFile(expectFile, inputfile.ExpectLimit, "an expected-output file")
	if err != nil {
		return record.Infra, "expected file: " + err.Error()
	}
	w := strings.ReplaceAll(string(want), "\r\n", "\n")
	if r.Stdout == w {
		return record.Pass, fmt.Sprintf("output matches %s (%d bytes, exit status %d)", baseName(expectFile), len(w), r.Exit)
	}
	return record.Fail, fmt.Sprintf("output differs from %s (exit status %d): %s", baseName(expectFile), r.Exit, firstDiff(r.Stdout, w))
}

func firstDiff(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) && i < len(w); i++ {
		if g[i] != w[i] {
			return fmt.Sprintf("line %d: got %q, want %q", i+1, clip(g[i], 120), clip(w[i], 120))
		}
	}
	switch {
	case len(g) == len(w)+1 && g[len(g)-1] == "":
		return "an extra final newline"
	case len(w) == len(g)+1 && w[len(w)-1] == "":
		return "the final newline is missing"
	case len(g) > len(w):
		return fmt.Sprintf("%d more lines than expected, from %q", len(g)-len(w), clip(g[len(w)], 120))
	default:
		return fmt.Sprintf("%d lines missing, from %q", len(w)-len(g), clip(w[len(g)], 120))
	}
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}

func baseName(p string) string {
	if i := strings.LastIndexAny(p, `/\`); i >= 0 {
		return p[i+1:]
	}
	return p
}
