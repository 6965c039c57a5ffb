package power

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Lifecycle is the one way a real machine is booted and stopped, whatever switches it (power
// commands, a BMC) and whatever carries its console (a serial line, SOL). A host kind fills
// in its parts and embeds it; the Lifecycle is then the kind's hosts.Machine but for Facts.
//
// PowerOn: open the controller (Connect), switch the machine off if it is not (the previous
// run may have left it on), get the image there (Prepare), let the kind set what the image
// needs (BeforeConsole: the next boot device), attach the console (Console) and only then
// switch the power on, so the console sees the machine's first byte; then watch the power.
// PowerOff: stop watching, close the console, switch off, stop the PXE server, close the
// controller (Release). What fails on the way out is returned, never dropped.
type Lifecycle struct {
	Host  matrix.Host
	Image matrix.Image
	Env   hosts.Env
	// Log is never nil (io.Discard when the job gives none).
	Log   io.Writer
	Scale float64

	// Power switches the machine; nil: by hand (the operator is told when to).
	Power Controller
	// Boot and Runner get the image there (Prepare; Runner for boot: command).
	Boot   BootOptions
	Runner CommandRunner
	// Watch is the interval of the power watch while the machine is on (0: not watched,
	// for a controller that cannot tell the state).
	Watch time.Duration
	// ConsoleName names the console in the log ("console", "SOL").
	ConsoleName string
	// Console attaches the console (a reconnecting stream).
	Console func(ctx context.Context) (io.ReadWriteCloser, error)
	// Connect, BeforeConsole and Release are the kind's own steps (optional).
	Connect       func(ctx context.Context) error
	BeforeConsole func(ctx context.Context, p *Prepared) error
	Release       func()

	hosts.ExitState
	stream  io.ReadWriteCloser
	prep    *Prepared
	on      bool
	stopMon chan struct{}
	monDone chan struct{}
	offOnce sync.Once
	offErr  error
}

// NewLifecycle starts the lifecycle of a job on a real machine (the kind fills in the rest).
func NewLifecycle(h matrix.Host, img matrix.Image, env hosts.Env) *Lifecycle {
	l := &Lifecycle{Host: h, Image: img, Env: env, Log: env.Log, Scale: h.TimeScale, ConsoleName: "console"}
	if l.Log == nil {
		l.Log = io.Discard
	}
	if l.Scale <= 0 {
		l.Scale = 1 // real hardware runs at full speed
	}
	return l
}

// Exclusive implements hosts.Exclusive: a real machine runs one job at a time.
func (l *Lifecycle) Exclusive() bool { return true }

// TimeScale implements hosts.Machine.
func (l *Lifecycle) TimeScale() float64 { return l.Scale }

// PowerOn implements hosts.Machine.
func (l *Lifecycle) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := os.MkdirAll(l.Env.Dir, 0o755); err != nil {
		return nil, hosts.Infra(err)
	}
	if l.Connect != nil {
		if err := l.Connect(ctx); err != nil {
			return nil, hosts.Infra(err)
		}
	}
	if l.Power != nil {
		st, err := l.Power.Status(ctx)
		if err != nil {
			fmt.Fprintf(l.Log, "power: %s: status before the run: %v\n", l.Power.Describe(), err)
		} else {
			fmt.Fprintf(l.Log, "power: %s: %s before the run\n", l.Power.Describe(), st)
		}
		if st != Off {
			if err := l.Power.Off(ctx); err != nil {
				return nil, hosts.Infra(err)
			}
		}
	}
	prep, err := Prepare(ctx, l.Boot, l.Host, l.Image, l.Env, l.Runner)
	if err != nil {
		return nil, err
	}
	l.prep = prep
	if l.BeforeConsole != nil {
		if err := l.BeforeConsole(ctx, prep); err != nil {
			prep.Close()
			return nil, hosts.Infra(err)
		}
	}
	stream, err := l.Console(ctx)
	if err != nil {
		prep.Close()
		return nil, hosts.Infra(fmt.Errorf("%s: %w", l.ConsoleName, err))
	}
	l.stream = stream
	if l.Power == nil {
		fmt.Fprintf(l.Log, "power: host %s has no power control; switch it on (or reset it) by hand now\n", l.Host.Name)
		return stream, nil
	}
	fmt.Fprintf(l.Log, "power: %s attached; powering on\n", l.ConsoleName)
	if err := l.Power.On(ctx); err != nil {
		stream.Close()
		prep.Close()
		l.Power.Off(context.Background())
		return nil, hosts.Infra(err)
	}
	l.on = true
	if l.Watch > 0 {
		l.stopMon, l.monDone = make(chan struct{}), make(chan struct{})
		go l.watch()
	}
	return stream, nil
}

// Watch policy, the same for every controller: a status of off ends the boot (the machine
// went off by itself), watchFails failed polls in a row are a lab failure. A poll is
// bounded by watchTimeout and cancelled by PowerOff.
const (
	watchFails   = 3
	watchTimeout = 30 * time.Second
)

// watch polls the power while the machine should be on.
func (l *Lifecycle) watch() {
	defer close(l.monDone)
	fails := 0
	for {
		select {
		case <-l.stopMon:
			return
		case <-time.After(l.Watch):
		}
		ctx, cancel := context.WithTimeout(context.Background(), watchTimeout)
		go func() {
			select {
			case <-l.stopMon:
				cancel()
			case <-ctx.Done():
			}
		}()
		st, err := l.Power.Status(ctx)
		cancel()
		select {
		case <-l.stopMon:
			return
		default:
		}
		switch {
		case err != nil:
			if fails++; fails >= watchFails {
				l.Exit(hosts.Infra(fmt.Errorf("power status (%s) failed %d times in a row: %w", l.Power.Describe(), fails, err)))
				return
			}
		case st == Off:
			l.Exit(fmt.Errorf("the machine went off by itself (%s reports off)", l.Power.Describe()))
			return
		default:
			fails = 0
		}
	}
}

// PowerOff implements hosts.Machine: console closed, power off, PXE server stopped, the
// controller closed. Safe to call more than once; the power-off's error is returned each
// time.
func (l *Lifecycle) PowerOff(ctx context.Context) error {
	l.offOnce.Do(func() {
		if l.stopMon != nil {
			close(l.stopMon)
			<-l.monDone
		}
		if l.stream != nil {
			l.stream.Close()
		}
		if l.on {
			if err := l.Power.Off(ctx); err != nil {
				l.offErr = fmt.Errorf("%s: %w", l.Power.Describe(), err)
			}
		}
		l.prep.Close()
		if l.Release != nil {
			l.Release()
		}
	})
	return l.offErr
}
