package hosts

import (
	"fmt"
	"time"
)

// Gap is a stretch of time in which the harness could not see the machine's console: a
// dropped ser2net connection, a SOL session the BMC ended, an unplugged USB serial adapter.
// Whatever the machine printed then is missing from the transcript.
type Gap struct {
	Start time.Time
	// End is zero while the console is still lost.
	End    time.Time
	Reason string
}

// Open reports whether the console has not come back yet.
func (g Gap) Open() bool { return g.End.IsZero() }

// Duration is how long the console was (or, while open, has been) lost.
func (g Gap) Duration() time.Duration {
	if g.Open() {
		return time.Since(g.Start)
	}
	return g.End.Sub(g.Start)
}

func (g Gap) String() string {
	s := fmt.Sprintf("console lost at %s", g.Start.Format("15:04:05.000"))
	if g.Open() {
		s += fmt.Sprintf(", still lost after %s", g.Duration().Round(time.Millisecond))
	} else {
		s += fmt.Sprintf(" for %s", g.Duration().Round(time.Millisecond))
	}
	if g.Reason != "" {
		s += " (" + g.Reason + ")"
	}
	return s
}

// GapReporter is implemented by console streams that can lose the machine for a while and
// reconnect (network serial lines, SOL). The stage machine uses it to keep verdicts honest:
// silence it could not observe is not a hang of the image (harness/engine/boot: a HANG whose
// window overlaps a gap after the last stage seen is INFRA).
type GapReporter interface {
	Gaps() []Gap
}

// Noter is implemented by console streams that report their own events (lost, reconnected)
// to the console's transcript notes; the harness calls SetNote with console.Note once the
// console is open.
type Noter interface {
	SetNote(func(string))
}

// Exclusive is implemented by machines that are real hardware: one run at a time per
// machine. harness/engine/job takes the locks of the host's endpoints (Endpoints, harness/engine/lock)
// before PowerOn and releases them after PowerOff when Exclusive reports true.
type Exclusive interface {
	Exclusive() bool
}
