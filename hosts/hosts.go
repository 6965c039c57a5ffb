// Package hosts is the one small interface every way of reaching a machine fills: QEMU,
// Cloud Hypervisor, a serial line, IPMI, a power command, a replayed transcript. Each kind is
// its own package that registers a Factory; hosts/all imports them all. Nothing here knows
// what Redox prints: a host delivers a byte stream and power control, the harness does the rest.
package hosts

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Machine is one boot of one image on one host.
type Machine interface {
	// PowerOn starts the machine and returns its console stream. No output may be lost
	// before the stream is returned: a VM starts only once its serial socket is connected
	// (QEMU server=on,wait=on), SOL is attached before chassis power on.
	PowerOn(ctx context.Context) (io.ReadWriteCloser, error)
	// Exited is closed when the machine stopped by itself; ExitErr then says how. A nil
	// ExitErr means it finished without a fault (a replay played its whole transcript) and
	// its console stays open: the output decides the verdict, not the exit.
	Exited() <-chan struct{}
	ExitErr() error
	// PowerOff stops the machine and releases everything started for it (processes are
	// killed by process group and reaped). Safe to call more than once.
	PowerOff(ctx context.Context) error
	// TimeScale multiplies every timeout for this machine (TCG ~10, KVM 1).
	TimeScale() float64
	// Facts are recorded with the results (accelerator, firmware file, command line).
	Facts() map[string]string
}

// Env is what the harness gives a machine.
type Env struct {
	// Dir is the job's work directory: sockets, firmware variable copies, logs.
	Dir string
	// BootArgs are extra guest switches for this boot (added to the image's).
	BootArgs string
	// Log receives the host's own diagnostics (VMM stderr, BMC retries).
	Log io.Writer
}

// Factory builds a Machine for a job; it validates the host's options and fails fast.
type Factory func(h matrix.Host, img matrix.Image, env Env) (Machine, error)

var (
	mu        sync.Mutex
	factories = map[string]Factory{}
	options   = map[string]matrix.OptionsValidator{}
)

// Kind is everything a host kind's package registers, together, from its init(): how
// to build its machines, how to check a host's options when the matrix loads, and which
// lab endpoints its hosts hold.
type Kind struct {
	Name string
	New  Factory
	// Options checks a host's options when the matrix loads (given to the loader as
	// matrix.LoadOptions{Kinds: OptionChecks()}), so a typo is bad input at
	// file:line:col, not a lab failure at boot time.
	Options matrix.OptionsValidator
	// Endpoints is nil for a kind that holds none (a VM, a replay): not exclusive.
	Endpoints EndpointFunc
}

// Register makes a host kind available.
func Register(k Kind) {
	mu.Lock()
	defer mu.Unlock()
	if _, dup := factories[k.Name]; dup {
		panic("duplicate host kind " + k.Name)
	}
	factories[k.Name] = k.New
	if k.Endpoints != nil {
		endpointFuncs[k.Name] = k.Endpoints
	}
	options[k.Name] = k.Options
}

// OptionChecks are the registered kinds with their options checks, for the matrix loader
// (matrix.LoadOptions.Kinds): a program loads a matrix against the kinds it links, and a
// host of any other kind is refused at load.
func OptionChecks() map[string]matrix.OptionsValidator {
	mu.Lock()
	defer mu.Unlock()
	return maps.Clone(options)
}

// New builds the machine for a job.
func New(h matrix.Host, img matrix.Image, env Env) (Machine, error) {
	mu.Lock()
	f, ok := factories[h.Kind]
	mu.Unlock()
	if !ok {
		return nil, Infra(fmt.Errorf("host %s: kind %q is not built into this harness (have: %s)", h.Name, h.Kind, strings.Join(Kinds(), ", ")))
	}
	return f(h, img, env)
}

// Kinds lists the registered host kinds.
func Kinds() []string {
	mu.Lock()
	defer mu.Unlock()
	return slices.Sorted(maps.Keys(factories))
}

// InfraError marks a lab failure: the machine could not be started or reached. It is never
// blamed on the image under test.
type InfraError struct{ Err error }

func (e *InfraError) Error() string { return "infra: " + e.Err.Error() }
func (e *InfraError) Unwrap() error { return e.Err }

// Infra wraps err as a lab failure (nil stays nil).
func Infra(err error) error {
	if err == nil {
		return nil
	}
	var ie *InfraError
	if errors.As(err, &ie) {
		return err
	}
	return &InfraError{Err: err}
}

// IsInfra reports whether err is a lab failure.
func IsInfra(err error) bool {
	var ie *InfraError
	return errors.As(err, &ie)
}
