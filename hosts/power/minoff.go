package power

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"
)

// MinOff keeps a machine off for at least Min after it was switched off (capacitors drain,
// a USB hub forgets the board), for every Controller that switches power.
type MinOff struct {
	Min time.Duration

	mu      sync.Mutex
	lastOff time.Time
}

// Off records that the machine was just switched off.
func (m *MinOff) Off() {
	m.mu.Lock()
	m.lastOff = time.Now()
	m.mu.Unlock()
}

// Wait blocks until the machine has been off for Min (saying so on log, if not nil).
func (m *MinOff) Wait(ctx context.Context, log io.Writer) error {
	m.mu.Lock()
	wait := time.Until(m.lastOff.Add(m.Min))
	m.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	if log != nil {
		fmt.Fprintf(log, "power: staying off %s more (min_off %s)\n", wait.Round(time.Millisecond), m.Min)
	}
	select {
	case <-time.After(wait):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
