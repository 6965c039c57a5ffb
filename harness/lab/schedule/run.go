package schedule

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Config is one scheduled run.
type Config struct {
	Matrix *matrix.Matrix
	// Options are every job's options (RunDir, BootArgs, Log, lock settings); OnProgress
	// and Contention are set per job by the scheduler.
	Options job.Options
	// VMs bounds the VM units running at once; 0 means DefaultVMs().
	VMs int
	// Events receives progress; it is called from the units' goroutines, one at a time.
	Events func(Event)
	// Runner returns a job's own runner (for units that do not share a boot); nil means
	// job.Suite.
	Runner func(name string) (job.SuiteRunner, error)
}

// EventKind says what happened to a job.
type EventKind int

const (
	// Started: the job's unit got its host (for a shared boot's later suites: the suite began).
	Started EventKind = iota
	// Progress: the boot reached a stage (Stage, Component).
	Progress
	// Finished: the job's record is written (Rec), or it failed to run (Err).
	Finished
	// NotRun: the run was interrupted before the job started.
	NotRun
)

// Event is one step of one job.
type Event struct {
	Kind             EventKind
	Job              matrix.Job
	Stage, Component string
	Rec              *record.Record
	Err              error
}

// Result is one job's outcome.
type Result struct {
	Job matrix.Job
	// Rec is its record (a NotRun record when the run was interrupted before it started).
	Rec *record.Record
	// Err is a harness error or bad input: the job has no record.
	Err error
}

// DefaultVMs bounds concurrent VM units by the controller: one per core, and no more than
// free memory allows at 1 GiB per VM (a stand-in guest has 512M, plus QEMU itself).
func DefaultVMs() int {
	n := runtime.NumCPU()
	if avail := memAvailable(); avail > 0 {
		n = min(n, int(avail>>30))
	}
	return max(n, 1)
}

// memAvailable reads MemAvailable from /proc/meminfo (0 when unknown).
func memAvailable() uint64 {
	data, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// slotsOf is how many units a host runs at once: its slots for a VM host (default 1), one
// for anything else (a real machine boots one image at a time).
func slotsOf(h *matrix.Host) int {
	if IsVM(h) && h.Slots > 1 {
		return h.Slots
	}
	return 1
}

// scheduler is the state of one Run.
type scheduler struct {
	cfg     Config
	mu      sync.Mutex
	changed chan struct{} // signalled when a unit ends
	hostUse map[string]int
	vmUse   int
	vms     int
	results []Result
	boots   map[string]int // boots so far per image x host, for boot IDs
}

// Run runs the units (in Order) and returns every job's result, in the order the jobs
// finished. When ctx is cancelled it starts nothing more, lets the running units stop
// (their machines are powered off), and returns a NotRun record for every job that never
// started.
func Run(ctx context.Context, cfg Config, units []*Unit) []Result {
	s := &scheduler{cfg: cfg, changed: make(chan struct{}, 1), hostUse: map[string]int{}, vms: cfg.VMs, boots: map[string]int{}}
	if s.vms <= 0 {
		s.vms = DefaultVMs()
	}
	if s.cfg.Runner == nil {
		s.cfg.Runner = job.Suite
	}
	waiting := Order(units)
	var wg sync.WaitGroup
	for len(waiting) > 0 && ctx.Err() == nil {
		s.mu.Lock()
		started := false
		for i, u := range waiting {
			if !s.fits(u) {
				continue
			}
			s.take(u, +1)
			contention := s.contention(u)
			waiting = append(waiting[:i:i], waiting[i+1:]...)
			wg.Add(1)
			go func() {
				defer wg.Done()
				s.runUnit(ctx, u, contention)
				s.mu.Lock()
				s.take(u, -1)
				s.mu.Unlock()
				select {
				case s.changed <- struct{}{}:
				default:
				}
			}()
			started = true
			break
		}
		s.mu.Unlock()
		if started {
			continue
		}
		select {
		case <-s.changed:
		case <-ctx.Done():
		}
	}
	wg.Wait()
	for _, u := range waiting {
		for _, j := range u.Jobs {
			s.notRun(j, "the run was interrupted before this job started")
		}
	}
	return s.results
}

func (s *scheduler) fits(u *Unit) bool {
	h := u.Host()
	if s.hostUse[h.Name] >= slotsOf(h) {
		return false
	}
	return !IsVM(h) || s.vmUse < s.vms
}

func (s *scheduler) take(u *Unit, n int) {
	s.hostUse[u.Host().Name] += n
	if IsVM(u.Host()) {
		s.vmUse += n
	}
}

// contention is the timeout factor for a VM unit starting now: every runnable process
// beyond the controller's cores (this run's other VMs, and anything else the machine runs:
// the load average) slows the guest down, so its timeouts stretch by demand / cores, at
// most maxContention (a real hang must still be called in bounded time).
func (s *scheduler) contention(u *Unit) float64 {
	if !IsVM(u.Host()) {
		return 1
	}
	demand := max(float64(s.vmUse), loadAverage())
	return min(max(1, demand/float64(runtime.NumCPU())), maxContention)
}

// maxContention bounds the contention factor.
const maxContention = 4

// loadAverage is the one-minute load average (0 when unknown).
func loadAverage() float64 {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

func (s *scheduler) emit(e Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch e.Kind {
	case Finished:
		s.results = append(s.results, Result{Job: e.Job, Rec: e.Rec, Err: e.Err})
	case NotRun:
		s.results = append(s.results, Result{Job: e.Job, Rec: e.Rec})
	}
	if s.cfg.Events != nil {
		s.cfg.Events(e)
	}
}

func (s *scheduler) notRun(j matrix.Job, why string) {
	rec := job.RecordWithoutBoot(j, time.Time{}, nil)
	rec.Started, rec.Finished, rec.Attempts, rec.NotRun = time.Time{}, time.Time{}, 0, why
	rec.Artifacts = nil
	if _, err := record.Write(s.cfg.Options.RunDir, rec); err != nil {
		s.emit(Event{Kind: Finished, Job: j, Err: err})
		return
	}
	s.emit(Event{Kind: NotRun, Job: j, Rec: rec})
}

func (s *scheduler) options(j matrix.Job, contention float64) job.Options {
	o := s.cfg.Options
	o.Contention = contention
	o.OnProgress = func(stage, comp string) { s.emit(Event{Kind: Progress, Job: j, Stage: stage, Component: comp}) }
	return o
}

func (s *scheduler) runUnit(ctx context.Context, u *Unit, contention float64) {
	if u.Shared {
		s.runShared(ctx, u, contention)
		return
	}
	for i, j := range u.Jobs {
		if s.interrupted(ctx, u.Jobs[i:]) {
			return
		}
		s.emit(Event{Kind: Started, Job: j})
		run, err := s.cfg.Runner(j.Suite.Name)
		if err != nil {
			s.emit(Event{Kind: Finished, Job: j, Err: err})
			continue
		}
		rec, err := run(ctx, s.cfg.Matrix, j, s.options(j, contention))
		s.emit(Event{Kind: Finished, Job: j, Rec: rec, Err: err})
	}
}

// interrupted reports whether the run was interrupted, and records the jobs that will not
// start then as not run.
func (s *scheduler) interrupted(ctx context.Context, rest []matrix.Job) bool {
	if ctx.Err() == nil {
		return false
	}
	for _, j := range rest {
		s.notRun(j, "the run was interrupted before this job started")
	}
	return true
}

// runShared runs a unit's suites in as few boots as possible: the next suite boots afresh
// only when the one before left the guest unusable.
func (s *scheduler) runShared(ctx context.Context, u *Unit, contention float64) {
	var b *job.Booted
	var ref record.Boot
	why := "first suite of " + u.Pair()
	if u.Fresh != "" {
		why = u.Fresh
	}
	defer func() {
		if b != nil {
			b.Close()
		}
	}()
	for i, j := range u.Jobs {
		if s.interrupted(ctx, u.Jobs[i:]) {
			return
		}
		s.emit(Event{Kind: Started, Job: j})
		suite, _ := job.Shared(j.Suite.Name)
		o := s.options(j, contention)
		start := time.Now()
		if b == nil {
			s.mu.Lock()
			s.boots[u.Pair()]++
			n := s.boots[u.Pair()]
			s.mu.Unlock()
			var args []string
			for _, later := range u.Jobs[i:] {
				if ls, _ := job.Shared(later.Suite.Name); ls.BootArgs != nil {
					args = append(args, ls.BootArgs(later))
				}
			}
			bo := o
			bo.BootArgs = joinArgs(append([]string{o.BootArgs}, args...)...)
			b = job.Boot(ctx, s.cfg.Matrix, j, bo)
			start = b.Started
			ref = record.Boot{ID: fmt.Sprintf("%s#%d", u.Pair(), n), Dir: record.JobDirName(j.ID()), Fresh: why}
		} else {
			ref.Fresh = ""
		}
		jd, err := suite.Judge(ctx, s.cfg.Matrix, j, b, o)
		if err != nil {
			s.emit(Event{Kind: Finished, Job: j, Err: err})
			continue
		}
		unusable := jd.Unusable
		if unusable == "" && i < len(u.Jobs)-1 {
			unusable = s.probe(ctx, b, j, jd.Checks)
		}
		rec := b.RecordFor(j, jd.Checks, jd.Artifacts, ref)
		rec.Started = start
		if _, err := record.Write(o.RunDir, rec); err != nil {
			s.emit(Event{Kind: Finished, Job: j, Err: err})
		} else {
			s.emit(Event{Kind: Finished, Job: j, Rec: rec})
		}
		if unusable != "" {
			b.SetUnusable(unusable)
			b.Close()
			b = nil
			why = fmt.Sprintf("guest unusable after %s: %s", j.Suite.Name, unusable)
		}
	}
}

// probe decides whether the guest can serve the next suite: the machine still runs, the
// suite saw no crash of its own, and a shell that was logged in still answers.
func (s *scheduler) probe(ctx context.Context, b *job.Booted, j matrix.Job, checks []record.Check) string {
	if b.Machine == nil || b.Err != nil {
		return "" // never started: the next suite reports the same lab fault
	}
	select {
	case <-b.Machine.Exited():
		if err := b.Machine.ExitErr(); err != nil {
			return "the machine stopped: " + err.Error()
		}
		if b.Guest().LoggedIn() {
			return "the machine stopped"
		}
	default:
	}
	for _, c := range checks {
		if c.Name != "boot/no-crash" && (c.Verdict == record.Crash || (c.Verdict == record.XFail && c.Title != "")) {
			return fmt.Sprintf("%s crashed the guest (%s)", c.Name, firstLine(c.Title+" "+c.Message))
		}
	}
	if !b.Guest().LoggedIn() {
		return ""
	}
	pctx, cancel := context.WithTimeout(ctx, time.Duration(float64(10*time.Second)*b.TimeScale()))
	defer cancel()
	if _, err := session.Open(pctx, b); err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return ""
		}
		return "session lost: " + firstLine(err.Error())
	}
	return ""
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}
