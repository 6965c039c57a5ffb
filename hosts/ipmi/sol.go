package ipmi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/command/transport"
	"github.com/bougou/go-ipmi/pkg/types"
)

// solConn is one SOL session as a byte stream: go-ipmi's SOLStream (RMCP+ SOL payload
// packets, polled every SOLPoll, acknowledged, retransmissions dropped) runs in a goroutine
// between two pipes. It has a session of its own (the chassis session stays free for power
// control), with a keepalive command every Keepalive: ipmi_sim (and some real BMCs) time a
// session out after ~30 s without IPMI traffic and do not count SOL packets, and go-ipmi's
// own keepalive runs only every 30 s.
type solConn struct {
	c        *client.Client
	instance uint8
	out      *io.PipeReader
	in       *io.PipeWriter
	cancel   context.CancelFunc
	done     chan struct{}
	once     sync.Once
	log      io.Writer
}

// dialSOL opens a session, clears a stale SOL payload (a previous harness that died, or
// another user's console), activates SOL and starts the stream.
func (b *BMC) dialSOL(ctx context.Context, instance int, poll, keepalive time.Duration) (io.ReadWriteCloser, error) {
	c, err := b.newClient(ctx)
	if err != nil {
		return nil, err
	}
	inst := uint8(instance)
	deactivate := func(ctx context.Context) error {
		_, err := c.DeactivatePayload(ctx, &transport.DeactivatePayloadRequest{PayloadType: types.PayloadTypeSOL, PayloadInstance: inst})
		return err
	}
	if err := deactivate(ctx); err == nil {
		fmt.Fprintf(b.log, "ipmi: deactivated a stale SOL payload (instance %d)\n", inst)
	} else if !isCC(err, 0x80) { // 0x80: "payload already deactivated", the normal case
		fmt.Fprintf(b.log, "ipmi: SOL deactivate before activation: %v\n", err)
	}
	req := &transport.ActivatePayloadRequest{PayloadType: types.PayloadTypeSOL, PayloadInstance: inst,
		EnableEncryption: true, EnableAuthentication: true}
	if _, err := c.ActivatePayload(ctx, req); err != nil {
		closeQuick(c)
		return nil, fmt.Errorf("SOL activate (instance %d): %w", inst, err)
	}
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	sctx, cancel := context.WithCancel(context.Background())
	s := &solConn{c: c, instance: inst, out: outR, in: inW, cancel: cancel, done: make(chan struct{}), log: b.log}
	go func() {
		defer close(s.done)
		err := c.SOLStream(sctx, inR, outW, &client.SOLStreamOptions{PollInterval: poll})
		if err == nil || sctx.Err() != nil {
			err = io.EOF
		}
		outW.CloseWithError(err)
		inR.Close()
	}()
	go func() {
		t := time.NewTicker(keepalive)
		defer t.Stop()
		for {
			select {
			case <-sctx.Done():
				return
			case <-s.done:
				return
			case <-t.C:
				kctx, kcancel := context.WithTimeout(sctx, 5*time.Second)
				if _, err := c.GetCurrentSessionInfo(kctx); err != nil && sctx.Err() == nil {
					fmt.Fprintf(b.log, "ipmi: SOL session keepalive: %v\n", err)
				}
				kcancel()
			}
		}
	}()
	return s, nil
}

func isCC(err error, cc uint8) bool {
	re, ok := types.IsResponseError(err)
	return ok && uint8(re.CompletionCode()) == cc
}

func (s *solConn) Read(p []byte) (int, error) { return s.out.Read(p) }

func (s *solConn) Write(p []byte) (int, error) {
	select {
	case <-s.done:
		return 0, errors.New("SOL session ended")
	default:
	}
	return s.in.Write(p)
}

// Close stops the stream, deactivates the payload and ends the session.
func (s *solConn) Close() error {
	s.once.Do(func() {
		s.cancel()
		s.in.Close()
		<-s.done
		ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
		s.c.DeactivatePayload(ctx, &transport.DeactivatePayloadRequest{PayloadType: types.PayloadTypeSOL, PayloadInstance: s.instance})
		cancel()
		closeQuick(s.c)
		s.out.Close()
	})
	return nil
}
