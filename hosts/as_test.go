package hosts

import (
	"context"
	"io"
	"testing"
)

type bare struct{}

func (bare) PowerOn(context.Context) (io.ReadWriteCloser, error) { return nil, nil }
func (bare) Exited() <-chan struct{}                             { return nil }
func (bare) ExitErr() error                                      { return nil }
func (bare) PowerOff(context.Context) error                      { return nil }
func (bare) TimeScale() float64                                  { return 1 }
func (bare) Facts() map[string]string                            { return nil }

type coder struct{ bare }

func (coder) ExitCode() (int, bool) { return 51, true }

type wrapper struct{ Machine }

func (w wrapper) Unwrap() Machine { return w.Machine }

// As finds a host kind's own interface through the wrappers the harness puts around a
// machine, and reports false (not a panic, not a loop) when no machine in the chain has it.
func TestAsWalksWrappers(t *testing.T) {
	type exitCoder interface{ ExitCode() (int, bool) }
	ec, ok := As[exitCoder](wrapper{wrapper{coder{}}})
	if !ok {
		t.Fatal("ExitCode not found through two wrappers")
	}
	if c, _ := ec.ExitCode(); c != 51 {
		t.Fatalf("exit code %d", c)
	}
	if _, ok := As[exitCoder](wrapper{bare{}}); ok {
		t.Fatal("found an ExitCode on a machine without one")
	}
	if _, ok := As[exitCoder](nil); ok {
		t.Fatal("found an ExitCode on no machine")
	}
	if ScreenOf(wrapper{bare{}}) != nil {
		t.Fatal("a screen on a machine without one")
	}
}
