package hosts

import "sync"

// ExitState is the "stopped by itself" part of a Machine (Exited, ExitErr), for host kinds
// to embed: its zero value is ready, and Exit records the first reason only.
type ExitState struct {
	mu   sync.Mutex
	ch   chan struct{}
	err  error
	done bool
}

func (e *ExitState) chanLocked() chan struct{} {
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	return e.ch
}

// Exited implements Machine.
func (e *ExitState) Exited() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chanLocked()
}

// ExitErr implements Machine: nil until Exit.
func (e *ExitState) ExitErr() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.done {
		return nil
	}
	return e.err
}

// Exit marks the machine stopped with err; later calls change nothing.
func (e *ExitState) Exit(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.done {
		return
	}
	e.err, e.done = err, true
	close(e.chanLocked())
}
