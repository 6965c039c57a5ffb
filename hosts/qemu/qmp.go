package qemu

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sync"
	"time"
)

// QMP is a small client for QEMU's machine protocol: one reader goroutine that never stops
// draining (an unread event must never block QEMU or the client, the failure mode of
// digitalocean/go-qemu), replies matched to requests by id, events kept in a bounded ring.
type QMP struct {
	conn net.Conn
	mu   sync.Mutex // one request at a time on the wire
	wmu  sync.Mutex
	seq  int

	pmu     sync.Mutex
	pending map[string]chan qmpReply
	events  []Event
	evCh    chan struct{}
	closed  chan struct{}
}

// Event is an asynchronous QMP event (STOP, RESUME, SHUTDOWN, RESET, ...).
type Event struct {
	Name string          `json:"event"`
	Data json.RawMessage `json:"data"`
	Time time.Time       `json:"-"`
}

type qmpReply struct {
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	ID    string          `json:"id"`
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data"`
	QMP   json.RawMessage `json:"QMP"`
}

const maxEvents = 256

// DialQMP connects to a QMP unix socket and negotiates capabilities.
func DialQMP(ctx context.Context, path string) (*QMP, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	q := &QMP{conn: conn, pending: map[string]chan qmpReply{}, evCh: make(chan struct{}, 1), closed: make(chan struct{})}
	greeting := make(chan error, 1)
	go q.readLoop(greeting)
	select {
	case err := <-greeting:
		if err != nil {
			conn.Close()
			return nil, err
		}
	case <-ctx.Done():
		conn.Close()
		return nil, ctx.Err()
	}
	if _, err := q.Execute(ctx, "qmp_capabilities", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return q, nil
}

func (q *QMP) readLoop(greeting chan<- error) {
	defer close(q.closed)
	sc := bufio.NewScanner(q.conn)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	first := true
	for sc.Scan() {
		var r qmpReply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		switch {
		case first && r.QMP != nil:
			first = false
			greeting <- nil
		case r.Event != "":
			q.pmu.Lock()
			if len(q.events) >= maxEvents {
				q.events = q.events[1:]
			}
			q.events = append(q.events, Event{Name: r.Event, Data: r.Data, Time: time.Now()})
			q.pmu.Unlock()
			select {
			case q.evCh <- struct{}{}:
			default:
			}
		default:
			q.pmu.Lock()
			ch := q.pending[r.ID]
			delete(q.pending, r.ID)
			q.pmu.Unlock()
			if ch != nil {
				ch <- r
			}
		}
	}
	if first {
		greeting <- fmt.Errorf("qmp: connection closed before greeting")
	}
}

// Execute runs a command and returns its "return" value.
func (q *QMP) Execute(ctx context.Context, cmd string, args any) (json.RawMessage, error) {
	q.mu.Lock()
	q.seq++
	id := fmt.Sprintf("h%d", q.seq)
	q.mu.Unlock()
	ch := make(chan qmpReply, 1)
	q.pmu.Lock()
	q.pending[id] = ch
	q.pmu.Unlock()
	req := map[string]any{"execute": cmd, "id": id}
	if args != nil {
		req["arguments"] = args
	}
	data, _ := json.Marshal(req)
	q.wmu.Lock()
	_, err := q.conn.Write(append(data, '\n'))
	q.wmu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("qmp %s: %w", cmd, err)
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, fmt.Errorf("qmp %s: %s: %s", cmd, r.Error.Class, r.Error.Desc)
		}
		return r.Return, nil
	case <-q.closed:
		return nil, fmt.Errorf("qmp %s: connection closed", cmd)
	case <-ctx.Done():
		return nil, fmt.Errorf("qmp %s: %w", cmd, ctx.Err())
	}
}

// Status returns the VM run state ("running", "paused", "shutdown", ...).
func (q *QMP) Status(ctx context.Context) (string, error) {
	raw, err := q.Execute(ctx, "query-status", nil)
	if err != nil {
		return "", err
	}
	var s struct {
		Status string `json:"status"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", err
	}
	return s.Status, nil
}

// Stop pauses the VM; Cont resumes it; Reset is a hard reset; Quit ends QEMU.
func (q *QMP) Stop(ctx context.Context) error { _, err := q.Execute(ctx, "stop", nil); return err }
func (q *QMP) Cont(ctx context.Context) error { _, err := q.Execute(ctx, "cont", nil); return err }
func (q *QMP) Reset(ctx context.Context) error {
	_, err := q.Execute(ctx, "system_reset", nil)
	return err
}
func (q *QMP) Quit(ctx context.Context) error { _, err := q.Execute(ctx, "quit", nil); return err }

// Events returns the events received so far (bounded to the most recent ones).
func (q *QMP) Events() []Event {
	q.pmu.Lock()
	defer q.pmu.Unlock()
	return append([]Event(nil), q.events...)
}

// WaitEvent waits for an event with the given name received after `after`.
func (q *QMP) WaitEvent(ctx context.Context, name string, after time.Time) (Event, error) {
	for {
		for _, e := range q.Events() {
			if e.Name == name && !e.Time.Before(after) {
				return e, nil
			}
		}
		select {
		case <-q.evCh:
		case <-q.closed:
			return Event{}, fmt.Errorf("qmp: connection closed waiting for %s", name)
		case <-ctx.Done():
			return Event{}, ctx.Err()
		}
	}
}

// Close closes the connection.
func (q *QMP) Close() error { return q.conn.Close() }
