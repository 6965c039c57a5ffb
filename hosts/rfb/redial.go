package rfb

import (
	"context"
	"errors"
	"fmt"
	"image"
	"sync"
	"time"
)

// Redialer is a screen behind an RFB server that may restart (a KVM-over-IP device's VNC
// service restarting, its network blipping): when the connection is gone it dials again,
// for up to Window after the loss, and the new connection's first full update is the
// screen. Within the window a Screendump waits for the server to come back; past it the
// server is gone (ErrGone: a lab fault, never a stalled screen).
type Redialer struct {
	Addr   string
	Opts   Options
	Window time.Duration // default 60 s

	mu      sync.Mutex
	c       *Client
	lostAt  time.Time
	lastErr error
	Redials int // successful reconnections
	closed  bool
}

// Dial makes the first connection, waiting up to Window for a server that is not there
// yet (a KVM device's VNC service may come up only with the machine's video signal), in
// the loop that makes a reconnection; a refusal (authentication) ends it at once.
func (r *Redialer) Dial(ctx context.Context) error {
	r.mu.Lock()
	r.lostAt = time.Now()
	r.mu.Unlock()
	_, err := r.client(ctx)
	return err
}

// client returns a live connection, dialing again while within the window.
func (r *Redialer) client(ctx context.Context) (*Client, error) {
	window := r.Window
	if window <= 0 {
		window = 60 * time.Second
	}
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, fmt.Errorf("%w: closed", ErrGone)
		}
		c := r.c
		if c != nil && c.Err() == nil {
			r.mu.Unlock()
			return c, nil
		}
		if c != nil && r.lostAt.IsZero() {
			r.lostAt, r.lastErr = time.Now(), c.Err()
		}
		lostAt, lastErr := r.lostAt, r.lastErr
		r.mu.Unlock()
		if time.Since(lostAt) > window {
			return nil, fmt.Errorf("%w: not back within %s: %v", ErrGone, window, lastErr)
		}
		dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		nc, err := Dial(dctx, r.Addr, r.Opts)
		cancel()
		if err == nil {
			r.mu.Lock()
			r.c, r.lostAt, r.lastErr = nc, time.Time{}, nil
			if c != nil {
				r.Redials++ // not the first connection
			}
			r.mu.Unlock()
			return nc, nil
		}
		if !errors.Is(err, ErrGone) {
			return nil, err // refused for a reason (authentication): not a restart
		}
		r.mu.Lock()
		r.lastErr = err
		r.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(500 * time.Millisecond):
		}
	}
}

// Screendump returns the screen, through a new connection if the old one was lost.
func (r *Redialer) Screendump(ctx context.Context) (image.Image, error) {
	for {
		c, err := r.client(ctx)
		if err != nil {
			return nil, err
		}
		im, err := c.Screendump(ctx)
		if err == nil || !errors.Is(err, ErrGone) {
			return im, err
		}
	}
}

// SendKeys types the chords, through a new connection if the old one was lost.
func (r *Redialer) SendKeys(ctx context.Context, chords []string) error {
	c, err := r.client(ctx)
	if err != nil {
		return err
	}
	return c.SendKeys(ctx, chords)
}

// HasDisplay: an RFB server always has one.
func (r *Redialer) HasDisplay() bool { return true }

// Close ends the connection for good.
func (r *Redialer) Close() error {
	r.mu.Lock()
	r.closed = true
	c := r.c
	r.mu.Unlock()
	if c != nil {
		return c.Close()
	}
	return nil
}
