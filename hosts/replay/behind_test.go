package replay

import (
	"testing"
	"time"
)

// A replay behind its own schedule (its player not scheduled on a loaded controller) has
// bytes on the wire: Buffered says so until they are written, and never for a chunk whose
// moment has not come, nor after the schedule's end (an injected stall is real silence).
func TestBehindScheduleIsBuffered(t *testing.T) {
	m := &Machine{started: true, playAt: time.Now().Add(-time.Minute),
		sched: []chunk{{start: 0, end: 5, at: time.Second}, {start: 5, end: 9, at: time.Hour}}}
	end := &consoleEnd{m: m}
	if !end.Buffered() {
		t.Fatal("a chunk due 59 s ago and not written is not seen")
	}
	m.next = 1
	if end.Buffered() {
		t.Fatal("a chunk due in an hour is seen as waiting")
	}
	m.next = 2
	if end.Buffered() {
		t.Fatal("the end of the schedule is seen as waiting")
	}
	m.next, m.stopped = 0, true
	if end.Buffered() {
		t.Fatal("a powered-off replay is seen as waiting")
	}
}
