// Package job runs one matrix job's boot: it makes the machine, opens its console (the
// transcript lands in the job's directory from the first byte), follows the boot with the
// image's profile, and turns the outcome into per-check verdicts and a results record. The
// Ginkgo suites and `redox-hwtest run` both go through here, so they give the same answers.
package job

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/boot"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/lock"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/screen"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/sockdir"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Options for one boot.
type Options struct {
	// RunDir is the run directory; the job writes into RunDir/jobs/<job dir>/.
	RunDir string
	// BootArgs are added to the image's boot_args (tests use them to make the stand-in
	// stall or crash).
	BootArgs string
	// Log receives host diagnostics (VMM stderr); nil discards them (they are also in the
	// job directory's host.log).
	Log io.Writer
	// OnProgress reports the furthest stage and last component as the boot goes.
	OnProgress func(stage, component string)
	// OnPowerOn is called once the machine is on and its console attached.
	OnPowerOn func(hosts.Machine)
	// LockDir and LockWait govern the per-host lock of real machines (hosts.Exclusive): the
	// directory (default lock.DefaultDir()) and how long to wait for a busy host (default
	// $REDOX_HWTEST_LOCK_WAIT, else 30m) before the job is INFRA.
	LockDir  string
	LockWait time.Duration
	// Contention (>= 1) multiplies every timeout of the job on top of the machine's time
	// scale: the scheduler sets it when more VMs run than the controller has cores, so a
	// guest slowed by its neighbours is not called hung.
	Contention float64
	// BeforeBootScreen, when set, runs after OnPowerOn and before the boot is followed: it
	// may type at a boot loader's menu (hang bisection edits the boot entry), on the serial
	// console or on the screen and keyboard (a BIOS loader that reads only the keyboard);
	// scr is the machine's screen, nil when it has none. An error ends the boot as INFRA.
	BeforeBootScreen func(ctx context.Context, con *console.Console, scr *screen.Recorder) error
	// NoScreen turns the screen work off (no captures, no screen markers, no keys): the
	// baseline of the screen benchmark. Screen-only stages are then not checked.
	NoScreen bool
}

// DefaultLockWait bounds the wait for a busy real host.
const DefaultLockWait = 30 * time.Minute

// Booted is a machine whose boot has been followed to its end.
type Booted struct {
	// Job is the job that booted the machine, set by Boot only: its image and host are
	// those of every suite sharing the boot; the job a suite judges is passed to its
	// judge (SuiteDef.Judge), never swapped in here.
	Job     matrix.Job
	Dir     string
	Profile *profile.Profile
	Machine hosts.Machine
	Console *console.Console
	Outcome boot.Outcome
	Started time.Time
	// Err is set when the machine could not be started at all (INFRA).
	Err error
	// guest is the guest's state (powered, at login, logged in as whom, unusable and
	// why): read with Guest, moved by Boot, SetLoggedIn and SetUnusable only (guest.go).
	guest guest
	// contention multiplies the machine's time scale (Options.Contention).
	contention float64
	// Screen is the machine's display when it has one (captures, screen markers, keys);
	// ScreenNote says why there is none, once, for the record.
	Screen     *screen.Recorder
	ScreenNote string
	// ScreenOnly: the machine has no serial console; the boot was judged from the screen
	// alone (ScreenOnlyNote says what that cannot tell).
	ScreenOnly    bool
	screenSkipped []string
	hostLog       *os.File
	logw          *secrets.Writer
	userLogw      *secrets.Writer
	lock          *lock.Set
	// Teardown lists what failed on the way out (power-off, the transcript's last writes,
	// the lock release): kept in the host log and, as the INFRA check job/teardown, in
	// the record. Never dropped: a machine left on or a lock that did not hold makes the
	// next job's results doubtful.
	Teardown []string
	closed   bool
	// Devices is the boot's device inventory (record.Record.Devices), taken when the
	// boot was decided.
	Devices []record.Device
}

// lingerTime is how long (before time scaling) the boot keeps reading after login for
// crashes of daemons started beside it.
const lingerTime = 300 * time.Millisecond

// Transcript is the transcript path relative to the job directory.
const Transcript = "transcript.log"

// Boot powers the job's machine on and follows the boot. It always returns a Booted whose
// Outcome holds the verdict; Close must be called to power the machine off.
func Boot(ctx context.Context, m *matrix.Matrix, j matrix.Job, o Options) *Booted {
	b := &Booted{Job: j, Started: time.Now(), contention: max(o.Contention, 1)}
	b.Dir = filepath.Join(o.RunDir, record.JobsDir, record.JobDirName(j.ID()))
	prof, err := profile.Get(j.Image.Profile)
	if err != nil {
		return b.infra(err)
	}
	prof = prof.ForVariant(j.Image.Variant)
	b.Profile = prof
	if err := os.MkdirAll(b.Dir, 0o755); err != nil {
		return b.infra(err)
	}
	hl, err := os.Create(filepath.Join(b.Dir, "host.log"))
	if err != nil {
		return b.infra(err)
	}
	b.hostLog = hl
	// Host diagnostics go through the redactor: a BMC or PDU password must never reach
	// an artifact, whatever a tool prints.
	b.logw = secrets.NewWriter(hl)
	var logw io.Writer = b.logw
	if o.Log != nil {
		b.userLogw = secrets.NewWriter(o.Log)
		logw = io.MultiWriter(b.logw, b.userLogw)
	}
	// Sockets live in a short private directory: unix socket paths are limited to 108 bytes
	// and job directories can be deep. Those a killed harness left behind go first.
	cleanStaleSockDirs(logw)
	sockDir, err := sockdir.New("")
	if err != nil {
		return b.infra(err)
	}
	if j.Image.URL != "" && j.Image.Path == "" {
		// A url image the caller did not fetch (the Ginkgo suites): fetch it into the shared
		// cache now. A failure is the lab's (network), never the image's verdict.
		c := imagecache.ForMatrix(m)
		c.Log = logw
		im, err := imagecache.FetchOnce(ctx, c, j.Image)
		if err != nil {
			return b.infra(fmt.Errorf("image %s could not be fetched: %w", j.Image.Name, err))
		}
		imagecache.Apply(&b.Job.Image, im)
		j = b.Job
	}
	args := joinArgs(j.Image.BootArgs, o.BootArgs)
	mach, err := hosts.New(j.Host, j.Image, hosts.Env{Dir: sockDir, BootArgs: args, Log: logw})
	if err != nil {
		os.RemoveAll(sockDir)
		return b.infra(err)
	}
	b.Machine = &cleanupMachine{Machine: mach, dir: sockDir}
	if x, ok := mach.(hosts.Exclusive); ok && x.Exclusive() {
		// A real machine boots one image at a time: wait for its lock (released by the
		// kernel if a holder dies).
		l, err := acquireLock(ctx, j, o, logw)
		if err != nil {
			return b.infra(err)
		}
		b.lock = l
	}
	scale := mach.TimeScale() * b.contention
	silence := j.Host.Silence.Duration
	if silence == 0 {
		silence = m.Settings.Silence.Duration
	}
	deadline := m.Settings.BootTimeout.Duration
	stream, err := b.Machine.PowerOn(ctx)
	if err != nil {
		return b.infra(err)
	}
	var screenOnly *screen.Recorder
	if _, ok := stream.(*hosts.ScreenOnly); ok {
		// No serial console: the screen is the console (its text read by OCR), and so
		// is used whatever NoScreen says.
		s := hosts.ScreenOf(mach)
		if s == nil || !s.HasDisplay() {
			stream.Close()
			return b.infra(fmt.Errorf("host %s has no serial console and no screen to read the boot from", j.Host.Name))
		}
		// Page segmentation 6 (one uniform block of text): a console's lines come out
		// whole, where the sparse-text mode the screen markers use splits "FX:" from the
		// rest of its line.
		screenOnly = screen.NewRecorder(b.Dir, s, &screen.OCR{PSM: 6}, time.Now())
		stream = screen.NewTextStream(screenOnly, stream, 0)
	}
	gaps, _ := stream.(hosts.GapReporter)
	noter, _ := stream.(hosts.Noter)
	if secrets.Active() {
		// Redacted below the console: the transcript, the matcher's window and every
		// excerpt taken from it never hold a registered secret.
		stream = secrets.Stream(stream)
	}
	con, err := console.Open(stream, console.Options{Transcript: filepath.Join(b.Dir, Transcript)})
	if err != nil {
		stream.Close()
		return b.infra(err)
	}
	b.Console = con
	if noter != nil {
		noter.SetNote(func(s string) { con.Note(secrets.Redact(s)) })
	}
	var scr boot.Screen
	switch s := hosts.ScreenOf(mach); {
	case screenOnly != nil:
		b.Screen, scr, b.ScreenOnly = screenOnly, screenOnly, true
		con.Note("no serial console: this transcript is the text read off the screen (OCR), a look every " + screen.DefaultInterval.String())
	case o.NoScreen:
		b.ScreenNote = "screen work turned off for this run"
	case s == nil:
		b.ScreenNote = fmt.Sprintf("host kind %s has no screen: nothing captured", j.Host.Kind)
	case !s.HasDisplay():
		b.ScreenNote = fmt.Sprintf("host %s has no display device (add vga or ramfb to its devices): nothing captured", j.Host.Name)
	default:
		b.Screen = screen.NewRecorder(b.Dir, s, nil, con.Opened())
		scr = b.Screen
	}
	if b.Screen == nil {
		b.Profile, b.screenSkipped = prof.WithoutScreen()
		prof = b.Profile
	}
	if o.OnPowerOn != nil {
		o.OnPowerOn(mach)
	}
	if o.BeforeBootScreen != nil {
		if err := o.BeforeBootScreen(ctx, con, b.Screen); err != nil {
			return b.infra(fmt.Errorf("before boot: %w", err))
		}
	}
	b.Outcome = boot.Run(ctx, con, b.Machine, boot.Config{
		Profile:    prof,
		Silence:    time.Duration(float64(silence) * scale),
		Deadline:   time.Duration(float64(deadline) * scale),
		Scale:      scale,
		Linger:     time.Duration(float64(lingerTime) * scale),
		OnProgress: o.OnProgress,
		Gaps:       gapsOf(gaps),
		Screen:     scr,
	})
	b.Outcome.Reason = secrets.Redact(b.Outcome.Reason)
	b.takeInventory()
	b.booted()
	return b
}

// TimeScale multiplies every timeout of work on this machine: the machine's own scale
// (TCG ~10) times the scheduler's contention factor.
func (b *Booted) TimeScale() float64 {
	if b.Machine == nil {
		return max(b.contention, 1)
	}
	return b.Machine.TimeScale() * max(b.contention, 1)
}

var staleOnce sync.Once

// cleanStaleSockDirs removes, once per process, the socket directories of harnesses that
// died without cleaning up (SIGKILL), and says so in the first job's host log.
func cleanStaleSockDirs(logw io.Writer) {
	staleOnce.Do(func() {
		removed, err := sockdir.CleanStale("")
		for _, s := range removed {
			fmt.Fprintf(logw, "sockets: removed %s, left by pid %d which is gone\n", s.Path, s.PID)
		}
		if err != nil {
			fmt.Fprintf(logw, "sockets: cleaning stale socket directories: %v\n", err)
		}
	})
}

func gapsOf(g hosts.GapReporter) func() []hosts.Gap {
	if g == nil {
		return nil
	}
	return g.Gaps
}

// acquireLock takes the locks of the host's endpoints (its console, its BMC, its power
// outlet: hosts.Endpoints), so two host names for one machine, or two runs with other
// environments, never use it at once. A host kind that names no endpoint is locked by name.
func acquireLock(ctx context.Context, j matrix.Job, o Options, logw io.Writer) (*lock.Set, error) {
	wait := o.LockWait
	if wait <= 0 {
		wait = DefaultLockWait
		if d, err := time.ParseDuration(os.Getenv("REDOX_HWTEST_LOCK_WAIT")); err == nil && d > 0 {
			wait = d
		}
	}
	keys, err := hosts.Endpoints(&j.Host)
	if err != nil {
		return nil, err
	}
	if len(keys) == 0 {
		keys = []string{"host:" + j.Host.Name}
	}
	start := time.Now()
	l, err := lock.AcquireAll(ctx, keys, lock.Options{Dir: o.LockDir, Job: j.ID(), Wait: wait,
		OnWait: func(h lock.Holder) {
			fmt.Fprintf(logw, "lock: waiting up to %s for host %s (%s): held by %s\n", wait, j.Host.Name, strings.Join(keys, ", "), h)
		}})
	if err != nil {
		return nil, fmt.Errorf("host %s: %w", j.Host.Name, err)
	}
	if waited := time.Since(start); waited > time.Second {
		fmt.Fprintf(logw, "lock: got host %s after waiting %s\n", j.Host.Name, waited.Round(time.Millisecond))
	}
	return l, nil
}

func (b *Booted) infra(err error) *Booted {
	b.Err = hosts.Infra(err)
	b.Outcome.Verdict = record.Infra
	b.Outcome.Reason = secrets.Redact(b.Err.Error())
	b.Outcome.Decided = time.Now()
	b.Outcome.StageAt = map[string]time.Duration{}
	return b
}

// Close powers the machine off, closes the console (the transcript is complete after) and
// gives the host's lock back. What fails on the way is kept in Teardown and the host log,
// and returned. Safe to call more than once.
func (b *Booted) Close() error {
	if b.closed {
		return b.teardownErr()
	}
	b.closed = true
	if b.Screen != nil && b.Machine != nil && b.Err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		b.Screen.Capture(ctx, "end")
		cancel()
	}
	if b.Machine != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		b.keep("power off", b.Machine.PowerOff(ctx))
		cancel()
	}
	if b.Console != nil {
		b.keep("transcript", b.Console.Close())
	}
	if b.lock != nil {
		b.keep("lock release", b.lock.Release())
		b.lock = nil
	}
	if b.logw != nil {
		// The host log is written last: its own failure can only go into the record.
		b.keep("host log", b.logw.Close())
	}
	if b.userLogw != nil {
		b.userLogw.Close()
	}
	if b.hostLog != nil {
		b.keep("host log", b.hostLog.Close())
	}
	return b.teardownErr()
}

// keep records a failure on the way out, in the host log while it is open.
func (b *Booted) keep(what string, err error) {
	if err == nil {
		return
	}
	msg := secrets.Redact(what + ": " + strings.ReplaceAll(err.Error(), "\n", "; "))
	b.Teardown = append(b.Teardown, msg)
	if b.logw != nil && what != "host log" {
		fmt.Fprintf(b.logw, "teardown: %s\n", msg)
	}
}

func (b *Booted) teardownErr() error {
	if len(b.Teardown) == 0 {
		return nil
	}
	return errors.New(strings.Join(b.Teardown, "; "))
}

// cleanupMachine removes the private socket directory once the machine is off.
type cleanupMachine struct {
	hosts.Machine
	dir string
}

// Unwrap gives the harness the machine's optional abilities (pause, process group).
func (c *cleanupMachine) Unwrap() hosts.Machine { return c.Machine }

func (c *cleanupMachine) PowerOff(ctx context.Context) error {
	err := c.Machine.PowerOff(ctx)
	if rerr := os.RemoveAll(c.dir); rerr != nil {
		err = errors.Join(err, fmt.Errorf("socket directory: %w", rerr))
	}
	return err
}

func joinArgs(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + " " + b
}

// Excerpt is the end of the transcript, for failure messages.
func (b *Booted) Excerpt(n int) string {
	if b.Console == nil {
		return ""
	}
	return secrets.Redact(b.Console.Tail(n))
}

// String is a one-line summary.
func (b *Booted) String() string {
	return fmt.Sprintf("%s: %s (%s)", b.Job.ID(), b.Outcome.Verdict, b.Outcome.Reason)
}
