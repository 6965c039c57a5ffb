package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"

	"github.com/redox-hwtest/redox-hwtest/harness/lab/schedule"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// progress shows a run of many jobs. On a terminal: finished jobs scroll up as one line
// each, and below them one live line per running job (stage, component, elapsed) and a
// summary line (done / running / waiting, failures so far), redrawn in place. Elsewhere (CI
// logs): one plain timestamped line per event.
type progress struct {
	mu      sync.Mutex
	w       io.Writer
	tty     bool
	total   int
	done    int
	failed  int
	notRun  int
	running map[string]*live
	drawn   int // live lines drawn last time (terminal)
	stop    chan struct{}
	stopped sync.WaitGroup
}

type live struct {
	start       time.Time
	stage, comp string
}

func newProgress(w *os.File, jobs []matrix.Job) *progress {
	p := &progress{w: w, tty: term.IsTerminal(int(w.Fd())) && os.Getenv("TERM") != "dumb",
		total: len(jobs), running: map[string]*live{}, stop: make(chan struct{})}
	if p.tty {
		p.stopped.Add(1)
		go p.tick()
	}
	return p
}

// tick redraws the live lines every second, so elapsed times move.
func (p *progress) tick() {
	defer p.stopped.Done()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			p.redraw("")
			p.mu.Unlock()
		}
	}
}

// event takes one scheduler event.
func (p *progress) event(e schedule.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	id := e.Job.ID()
	var line string
	switch e.Kind {
	case schedule.Started:
		p.running[id] = &live{start: time.Now(), stage: "starting"}
		line = id + ": started"
	case schedule.Progress:
		l := p.running[id]
		if l == nil || (l.stage == e.Stage && l.comp == e.Component) {
			return
		}
		// A stage or component name could carry console text: redacted like every line.
		l.stage, l.comp = secrets.Redact(e.Stage), secrets.Redact(e.Component)
		line = id + ": stage " + stageText(l.stage, l.comp)
	case schedule.Finished:
		var took time.Duration
		if l := p.running[id]; l != nil {
			took = time.Since(l.start)
		}
		delete(p.running, id)
		p.done++
		if e.Err != nil {
			p.failed++
			line = fmt.Sprintf("%s: ERROR %v", id, e.Err)
			break
		}
		summary, status := summarize(e.Rec)
		if status != 0 {
			p.failed++
		}
		line = fmt.Sprintf("%s: done in %s: %s", id, took.Round(100*time.Millisecond), summary)
	case schedule.NotRun:
		delete(p.running, id)
		p.notRun++
		line = id + ": not run (" + e.Rec.NotRun + ")"
	}
	line = secrets.Redact(line)
	if !p.tty {
		// Plain lines: stage progress too, so a CI log shows where a slow job is.
		fmt.Fprintf(p.w, "%s %s\n", time.Now().UTC().Format("15:04:05"), line)
		return
	}
	if e.Kind == schedule.Progress || e.Kind == schedule.Started {
		line = "" // only finished jobs scroll; the live lines show the rest
	}
	p.redraw(line)
}

func stageText(stage, comp string) string {
	if comp != "" {
		return stage + " (" + comp + ")"
	}
	return stage
}

// summaryLine is "done/running/waiting, failures".
func (p *progress) summaryLine() string {
	waiting := p.total - p.done - p.notRun - len(p.running)
	s := fmt.Sprintf("%d/%d done, %d running, %d waiting, %d failed", p.done, p.total, len(p.running), max(waiting, 0), p.failed)
	if p.notRun > 0 {
		s += fmt.Sprintf(", %d not run", p.notRun)
	}
	return s
}

// redraw erases the live block, prints a finished line (if any) above it, and draws the
// live block again.
func (p *progress) redraw(finished string) {
	width := 120
	if w, _, err := term.GetSize(1); err == nil && w > 20 {
		width = w
	}
	clip := func(s string) string {
		if len(s) > width-1 {
			return s[:width-1]
		}
		return s
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	if finished != "" {
		b.WriteString("\r\x1b[2K" + clip(finished) + "\n")
	}
	ids := make([]string, 0, len(p.running))
	for id := range p.running {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, func(a, c string) int { return p.running[a].start.Compare(p.running[c].start) })
	for _, id := range ids {
		l := p.running[id]
		fmt.Fprintf(&b, "\r\x1b[2K%s", clip(fmt.Sprintf("  %s: %s, %s", id, stageText(l.stage, l.comp), time.Since(l.start).Round(time.Second))))
		b.WriteString("\n")
	}
	b.WriteString("\r\x1b[2K" + clip(p.summaryLine()) + "\n\x1b[J")
	p.drawn = len(ids) + 1
	io.WriteString(p.w, b.String())
}

// finish stops the live redraw and prints the summary once more.
func (p *progress) finish() {
	if p.tty {
		close(p.stop)
		p.stopped.Wait()
		p.mu.Lock()
		p.redraw("")
		p.mu.Unlock()
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "%s %s\n", time.Now().UTC().Format("15:04:05"), p.summaryLine())
}
