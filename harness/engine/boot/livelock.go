package boot

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// A guest that prints the same lines over and over (upstream HARDWARE.md, copy in
// ../shared/redox-hardware/HARDWARE.md, XMG Apex 17 row: "repeats
// `...::interrupt::irq::ERROR -- Local apic internal error` ... before it freezes") never
// goes silent, so the silence watchdog cannot see it, and it holds the lab machine and
// fills the disk until the deadline. The loop detector sees it: for the livelock window
// (Config.Livelock, default the silence window: a guest that only repeats itself for as
// long as a silent one would be judged hung is as stuck as that one) every line was one
// of the last 2*maxLoopPeriod lines again, at most 2*maxLoopPeriod different lines, each
// printed minLoopRepeats times on average. Membership, not a strict cycle, so a line the
// console's window dropped in a flood (Line.Cut, never fed) does not restart the count.
const (
	maxLoopPeriod  = 16
	minLoopRepeats = 10
)

// loopKeyStrip removes what differs between two printings of one line in a loop: a
// leading timestamp. Redox daemons log through redox-log as
// "%Y-%m-%dT%H-%M-%S%.3f" + "Z [<process>@<target>:<line> <LEVEL>] <message>"
// (redox-log write_record; ../shared/facts-audit.md L58, L80), Linux (the stand-in) as
// "[ seconds.micro] ". Nothing else is folded: a progress line ("live: 12/200 MiB") changes
// and is not a loop.
var loopKeyStrip = regexp.MustCompile(`^\s*(?:\d{4}-\d\d-\d\dT\d\d[-:]\d\d[-:]\d\d(?:\.\d+)?Z?\s*|\[\s*\d+\.\d+\]\s*)`)

func loopKey(line string) string {
	if t := strings.TrimLeft(line, " \t"); t != "" && (t[0] >= '0' && t[0] <= '9' || t[0] == '[') {
		return loopKeyStrip.ReplaceAllString(line, "")
	}
	return line
}

// loopDetector follows the lines of a boot and reports the lines it keeps repeating.
type loopDetector struct {
	recent []string          // keys of the last lines fed (at most 4*maxLoopPeriod)
	counts map[string]int    // repeats since since, by key
	texts  map[string]string // a printing of each counted key
	lines  int               // repeats since since
	since  time.Time         // the last line that was not a repeat
}

// feed adds a complete line that arrived at now.
func (d *loopDetector) feed(text string, now time.Time) {
	key := loopKey(text)
	n := len(d.recent)
	repeat := slices.Contains(d.recent[max(0, n-2*maxLoopPeriod):], key)
	if repeat && d.counts[key] == 0 && len(d.counts) >= 2*maxLoopPeriod {
		repeat = false // too many different lines for a loop
	}
	if !repeat {
		d.counts, d.texts, d.lines, d.since = map[string]int{}, map[string]string{}, 0, now
	} else {
		d.counts[key]++
		d.texts[key] = text
		d.lines++
	}
	d.recent = append(d.recent, key)
	if len(d.recent) > 4*maxLoopPeriod {
		d.recent = append(d.recent[:0], d.recent[len(d.recent)-2*maxLoopPeriod:]...)
	}
}

// repeats is how many lines in a row were repeats, and how many different lines they are.
func (d *loopDetector) repeats() (lines, distinct int) { return d.lines, len(d.counts) }

// livelock describes the loop when the lines have only repeated themselves for at least
// window (and minLoopRepeats times each on average), or returns "".
func (d *loopDetector) livelock(now time.Time, window time.Duration) string {
	lines, distinct := d.repeats()
	if window <= 0 || distinct == 0 || lines < minLoopRepeats*distinct || now.Sub(d.since) < window {
		return ""
	}
	top := ""
	for k, c := range d.counts {
		if c > d.counts[top] || c == d.counts[top] && k < top {
			top = k
		}
	}
	s := fmt.Sprintf("livelock: %q x %d", clipLine(d.texts[top], 160), d.counts[top])
	if distinct > 1 {
		s += fmt.Sprintf(" (one of %d lines repeating, %d lines in all)", distinct, lines)
	}
	return s + fmt.Sprintf(", nothing else for %s", now.Sub(d.since).Round(time.Millisecond))
}

func clipLine(s string, n int) string {
	if len(s) > n {
		return s[:n] + "..."
	}
	return s
}
