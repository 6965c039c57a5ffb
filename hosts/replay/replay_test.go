package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

func TestDecodeOptions(t *testing.T) {
	decode := func(opts string) (Options, error) {
		y := "images: [{name: l, arch: x86_64, transcript: t.log}]\nhosts:\n  - name: r\n    kind: replay\n    arch: x86_64\n" + opts
		m, err := matrix.LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(y), t.TempDir())
		if err != nil {
			return Options{}, err
		}
		return DecodeOptions(&m.Hosts[0])
	}
	o, err := decode("")
	if err != nil || o != DefaultOptions() {
		t.Fatalf("defaults: %+v %v", o, err)
	}
	o, err = decode("    options: {speed: 2.5, stall_after_line: 40, line_delay: 10ms}\n")
	if err != nil || o.Speed != 2.5 || o.StallAfterLine != 40 || o.LineDelay != 10*time.Millisecond {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = decode("    options: {speed: 3, stall_after_line: 0, line_delay: 0s}\n")
	if err != nil || o.Speed != 3 || o.StallAfterLine != 0 || o.LineDelay != 0 {
		t.Fatalf("%+v %v", o, err)
	}
	o, err = decode("    options: {baud: 115200}\n")
	if err != nil || o.Baud != 115200 {
		t.Fatalf("%+v %v", o, err)
	}
	for _, bad := range []string{
		"{baud: 0}", "{baud: 10}", "{baud: fast}",
		"{sped: 2}", "{speed: 0}", "{speed: -1.0}", "{speed: fast}", "{stall_after_line: -1}",
		"{stall_after_line: 2.5}", "{stall_after_line: \"10\"}", "{line_delay: 5}", "{line_delay: 5 parsecs}", "{line_delay: -1ms}",
	} {
		if _, err := decode("    options: " + bad + "\n"); err == nil {
			t.Errorf("%v: accepted", bad)
		} else if !strings.HasPrefix(err.Error(), "hw.yaml:6:") {
			t.Errorf("%v: error does not point into the options line: %v", bad, err)
		}
	}
}

const header = "# source: hand-written for the replay tests\n# context: twelve numbered lines\n"

func numbered(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "line %02d: \x1b[32mok\x1b[0m\r\n", i)
	}
	return b.String()
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// consoleOn opens the harness's console on a replay, recording what arrives.
func consoleOn(t *testing.T, m *Machine) (*console.Console, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rw, err := m.PowerOn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got := filepath.Join(t.TempDir(), "received.log")
	c, err := console.Open(rw, console.Options{Transcript: got})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		m.PowerOff(context.Background())
	})
	return c, got
}

func waitClosed(t *testing.T, ch <-chan struct{}, d time.Duration, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(d):
		t.Fatalf("timed out waiting for %s", what)
	}
}

func TestReplayPlaysTheBodyAndStaysOpen(t *testing.T) {
	body := numbered(12)
	path := writeFile(t, t.TempDir(), "boot.log", header+body)
	m, err := Open(path, Options{Speed: 1, StallAfterLine: -1, LineDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, got := consoleOn(t, m)
	waitClosed(t, m.Exited(), 10*time.Second, "the end of the replay")
	if err := m.ExitErr(); err != nil {
		t.Fatal(err)
	}
	// Exited means delivered: the kernel has handed every byte to the console's read. The
	// console's reader goroutine counts them a moment after that read returns (on a loaded
	// machine, not at once), so the count is awaited, then must be exactly the body.
	for deadline := time.Now().Add(5 * time.Second); c.RawBytes() < int64(len(body)) && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	if c.RawBytes() != int64(len(body)) {
		t.Fatalf("console read %d bytes, transcript body has %d", c.RawBytes(), len(body))
	}
	// A console does not close when the machine stops printing.
	time.Sleep(100 * time.Millisecond)
	if c.Err() != nil {
		t.Fatalf("stream closed at the end of the transcript: %v", c.Err())
	}
	if err := m.PowerOff(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, c.Done(), 5*time.Second, "the stream to close at PowerOff")
	c.Close()
	rec, err := os.ReadFile(got)
	if err != nil {
		t.Fatal(err)
	}
	if string(rec) != body {
		t.Fatalf("delivered bytes differ from the transcript body:\n%q\n%q", rec, body)
	}
}

// An injected stall: a console reading the replay sees silence after exactly line N, the
// bytes it got are the body's first N lines, and the stream stays open.
func TestReplayStallAfterLine(t *testing.T) {
	body := numbered(12)
	path := writeFile(t, t.TempDir(), "boot.log", header+body)
	const n = 5
	m, err := Open(path, Options{Speed: 1, StallAfterLine: n, LineDelay: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, got := consoleOn(t, m)
	lines := c.Lines()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const window = 300 * time.Millisecond
	if err := c.WaitSilence(ctx, window); err != nil {
		t.Fatal(err)
	}
	var complete []string
	for {
		lctx, lcancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		l, err := lines.Next(lctx, 20*time.Millisecond)
		lcancel()
		if err != nil {
			break
		}
		if l.Partial {
			t.Fatalf("partial line after the stall: %q", l.Text)
		}
		complete = append(complete, l.Text)
	}
	if len(complete) != n || complete[n-1] != "line 05: ok" {
		t.Fatalf("saw %d lines before the silence: %q", len(complete), complete)
	}
	select {
	case <-m.Exited():
		t.Fatal("a stalled replay must not report that it ended")
	default:
	}
	if c.Err() != nil {
		t.Fatalf("stream closed at the stall: %v", c.Err())
	}
	// Still silent a while later.
	before := c.RawBytes()
	time.Sleep(150 * time.Millisecond)
	if c.RawBytes() != before {
		t.Fatal("output after the stall")
	}
	m.PowerOff(context.Background())
	waitClosed(t, m.Exited(), 5*time.Second, "Exited after PowerOff")
	c.Close()
	rec, _ := os.ReadFile(got)
	want := strings.Join(strings.SplitAfter(body, "\n")[:n], "")
	if string(rec) != want {
		t.Fatalf("delivered %q, want the first %d lines %q", rec, n, want)
	}
}

// With a .times file, chunks arrive at their recorded moments divided by the speed.
func TestReplayRecordedTiming(t *testing.T) {
	dir := t.TempDir()
	body := "a\nbb\nccc\n"
	path := writeFile(t, dir, "boot.log", "# header\n"+body)
	writeFile(t, dir, "boot.log.times", "# redox-hwtest transcript times: ...\n"+
		"0 1000000000\n"+ // console opened
		"0 1000000000\n"+ // first read
		"! 1000000001 \"a note\"\n"+
		"2 1200000000\n"+
		"> 1200000005 \"\\r\"\n"+
		"5 1500000000\n")
	m, err := Open(path, Options{Speed: 2, StallAfterLine: -1, LineDelay: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	if m.Facts()["timing"] != "recorded (.times)" {
		t.Fatalf("facts %v", m.Facts())
	}
	c, got := consoleOn(t, m)
	waitClosed(t, m.Exited(), 10*time.Second, "the end of the replay")
	c.Close()
	rec, _ := os.ReadFile(got)
	if string(rec) != body {
		t.Fatalf("delivered %q", rec)
	}
	// The console's own record of arrivals.
	arr := map[int64]int64{}
	tb, err := os.ReadFile(got + ".times")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(bytes.NewReader(tb))
	first := true
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 || f[0] == "#" {
			continue
		}
		off, _ := strconv.ParseInt(f[0], 10, 64)
		ns, _ := strconv.ParseInt(f[1], 10, 64)
		if first { // the opening line
			first = false
			continue
		}
		if _, seen := arr[off]; !seen {
			arr[off] = ns
		}
	}
	for off, want := range map[int64]time.Duration{2: 100 * time.Millisecond, 5: 250 * time.Millisecond} {
		at, ok := arr[off]
		if !ok {
			t.Fatalf("no read starting at offset %d: %v", off, arr)
		}
		gap := time.Duration(at - arr[0])
		if gap < want-5*time.Millisecond || gap > want+200*time.Millisecond {
			t.Errorf("chunk at offset %d arrived %v after the first, want ~%v", off, gap, want)
		}
	}
}

func TestNewFromMatrix(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "boot.log", "redox login: \n")
	h := matrix.Host{Name: "replay-1", Kind: "replay", Options: map[string]any{"speed": 0.5, "stall_after_line": 3}}
	mm, err := hosts.New(h, matrix.Image{Name: "img", Transcript: path}, hosts.Env{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	m := mm.(*Machine)
	if m.TimeScale() != 2 {
		t.Errorf("time scale %v for speed 0.5", m.TimeScale())
	}
	f := m.Facts()
	if f["kind"] != "replay" || f["transcript"] != "boot.log" || f["speed"] != "0.5" || f["stall_after_line"] != "3" || strings.Contains(fmt.Sprint(f), dir) {
		t.Errorf("facts %v", f)
	}
	h.TimeScale = 7
	mm, _ = hosts.New(h, matrix.Image{Name: "img", Transcript: path}, hosts.Env{})
	if mm.TimeScale() != 7 {
		t.Errorf("host time_scale not used")
	}

	_, err = hosts.New(h, matrix.Image{Name: "img", Transcript: filepath.Join(dir, "absent.log")}, hosts.Env{})
	if !hosts.IsInfra(err) || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing transcript: %v (infra %v)", err, hosts.IsInfra(err))
	}
	h.Options = map[string]any{"speed": "warp"}
	if _, err = hosts.New(h, matrix.Image{Name: "img", Transcript: path}, hosts.Env{}); err == nil || hosts.IsInfra(err) {
		t.Errorf("bad option: %v", err)
	}
	h.Options = nil
	if _, err = hosts.New(h, matrix.Image{Name: "img"}, hosts.Env{}); err == nil {
		t.Error("image without a transcript accepted")
	}
	writeFile(t, dir, "boot.log.times", "0 10\nbanana\n")
	if _, err = hosts.New(h, matrix.Image{Name: "img", Transcript: path}, hosts.Env{}); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("corrupt times file: %v", err)
	}
}

func TestPowerOnTwiceAndPowerOffFirst(t *testing.T) {
	path := writeFile(t, t.TempDir(), "boot.log", "x\n")
	m, _ := Open(path, DefaultOptions())
	if err := m.PowerOff(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := m.PowerOn(context.Background()); err == nil {
		t.Fatal("PowerOn after PowerOff")
	}
	waitClosed(t, m.Exited(), time.Second, "Exited")
	m2, _ := Open(path, DefaultOptions())
	rw, err := m2.PowerOn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer rw.Close()
	if _, err := m2.PowerOn(context.Background()); err == nil {
		t.Fatal("second PowerOn")
	}
	// The harness's input is drained, not echoed.
	if _, err := io.WriteString(rw, "\ruser\r"); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for string(m2.Input()) != "\ruser\r" && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if string(m2.Input()) != "\ruser\r" {
		t.Fatalf("input %q", m2.Input())
	}
	m2.PowerOff(context.Background())
	m2.PowerOff(context.Background())
}

// live follows a replay as the harness does: console, line reader, analyzer.
type live struct {
	mu    sync.Mutex
	an    *classify.Analyzer
	lastN int // highest line number fed
	stop  context.CancelFunc
	done  chan struct{}
}

func follow(c *console.Console) *live {
	ctx, cancel := context.WithCancel(context.Background())
	l := &live{an: classify.New(profile.Redox), stop: cancel, done: make(chan struct{})}
	go func() {
		defer close(l.done)
		lr := c.Lines()
		for {
			line, err := lr.Next(ctx, 20*time.Millisecond)
			if err != nil {
				return
			}
			l.mu.Lock()
			l.an.Feed(classify.Line{N: line.N, Text: line.Text, Partial: line.Partial, Time: line.Time})
			l.lastN = max(l.lastN, line.N)
			l.mu.Unlock()
		}
	}()
	return l
}

// finish waits until the reader has fed lines lines (however loaded the machine), stops
// it and ends the analysis (live, the harness calls Finish when the silence watchdog fires).
func (l *live) finish(t *testing.T, lines int) classify.Analysis {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		l.mu.Lock()
		n := l.lastN
		l.mu.Unlock()
		if n >= lines {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the line reader fed %d of %d lines", n, lines)
		}
		time.Sleep(5 * time.Millisecond)
	}
	l.stop()
	<-l.done
	return l.an.Finish()
}

// shift turns live line numbers (from the first byte played) into the file's.
func shift(a classify.Analysis, by int) classify.Analysis {
	b := a
	b.Stages = nil
	for _, s := range a.Stages {
		b.Stages = append(b.Stages, classify.StageHit{Name: s.Name, Line: s.Line + by})
	}
	b.Events = nil
	for _, e := range a.Events {
		e.Line += by
		b.Events = append(b.Events, e)
	}
	if b.Stages == nil {
		b.Stages = []classify.StageHit{}
	}
	if b.Events == nil {
		b.Events = []classify.Event{}
	}
	return b
}

func transcripts(t *testing.T) []string {
	root := moduleRoot(t)
	paths, _ := filepath.Glob(filepath.Join(root, "fixtures", "transcripts", "*.log"))
	var real []string
	if _, err := os.Stat(filepath.Join(root, "..", "shared", "redox-logs")); err == nil || os.Getenv(fixtures.RequireSharedEnv) == "1" {
		real, _ = filepath.Glob(filepath.Join(fixtures.SharedDir(t, "redox-logs"), "*.log"))
	} else {
		t.Logf("real Redox transcripts not available (../shared/redox-logs absent): replaying the fixtures only")
	}
	return append(paths, real...)
}

// Booting a replay gives the analysis `analyze` gives on the file.
func TestReplayLiveMatchesOffline(t *testing.T) {
	for _, path := range transcripts(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			offline, in, err := classify.Analyze(bytes.NewReader(raw), profile.Redox)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Open(path, Options{Speed: 1, StallAfterLine: -1, LineDelay: 0})
			if err != nil {
				t.Fatal(err)
			}
			c, _ := consoleOn(t, m)
			l := follow(c)
			waitClosed(t, m.Exited(), 10*time.Second, "the end of the replay")
			got := shift(l.finish(t, in.Lines), in.HeaderLines)
			if !reflect.DeepEqual(got, shift(offline, 0)) {
				t.Errorf("live replay:\n%+v\noffline analyze:\n%+v", got, offline)
			}
		})
	}
}

// Acceptance: replaying a transcript with an injected stall yields a hang naming the
// right stage within the silence window + 1 s.
func TestReplayStallYieldsHangAtTheRightStage(t *testing.T) {
	root := moduleRoot(t)
	path := filepath.Join(root, "..", "shared", "redox-logs", "redoxos-nix-qemu-x86_64-graphical-boot.log")
	if _, err := os.Stat(path); err != nil {
		t.Logf("real transcript absent (%v): using fixtures/transcripts/clean-uefi-boot.log", err)
		path = filepath.Join(root, "fixtures", "transcripts", "clean-uefi-boot.log")
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	full, in, _ := classify.Analyze(bytes.NewReader(raw), profile.Redox)
	var drivers int
	for _, s := range full.Stages {
		if s.Name == "drivers" {
			drivers = s.Line - in.HeaderLines // line of the body
		}
	}
	if drivers == 0 {
		t.Fatalf("%s never reaches the drivers stage", path)
	}
	stallAfter := drivers + 1
	// What analyze says about the log cut at the stall: the expected hang.
	_, body, _ := transcript.SplitHeader(raw)
	prefix := strings.Join(strings.SplitAfter(string(body), "\n")[:stallAfter], "")
	want, _, _ := classify.Analyze(strings.NewReader(prefix), profile.Redox)
	hang := want.Events[len(want.Events)-1]
	if want.LastStage != "drivers" || hang.Kind != "hang" || !strings.Contains(hang.Title, "stage drivers") {
		t.Fatalf("the cut log is not a hang in the drivers stage: %+v", want)
	}

	m, err := Open(path, Options{Speed: 1, StallAfterLine: stallAfter, LineDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := consoleOn(t, m)
	l := follow(c)
	const window = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.WaitSilence(ctx, window); err != nil {
		t.Fatal(err)
	}
	late := time.Since(c.LastOutput())
	if late > window+time.Second {
		t.Errorf("silence noticed %v after the last byte (window %v)", late, window)
	}
	got := l.finish(t, stallAfter)
	if !reflect.DeepEqual(shift(got, 0), shift(want, 0)) {
		t.Errorf("live after the stall:\n%+v\nanalyze of the log cut there:\n%+v", got, want)
	}
	if got.LastStage != "drivers" || got.Events[len(got.Events)-1].Component != hang.Component {
		t.Errorf("hang %+v", got.Events)
	}
	t.Logf("%s: stalled after body line %d; hang %q (component %s) noticed %v after the last byte",
		filepath.Base(path), stallAfter, hang.Title, hang.Component, late.Round(time.Millisecond))
}

func moduleRoot(t *testing.T) string {
	t.Helper()
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		p := filepath.Dir(dir)
		if p == dir {
			t.Fatal("no go.mod")
		}
		dir = p
	}
}

// At a baud rate each line is written when a UART would have delivered its last byte
// (10 bits a byte), speed applied: a schedule, not a timed assertion.
func TestBaudChunks(t *testing.T) {
	body := []byte("abc\n0123456789\nend")
	cs := baudChunks(body, 1000, 1) // 10 ms a byte
	want := []chunk{{0, 4, 40 * time.Millisecond}, {4, 15, 150 * time.Millisecond}, {15, 18, 180 * time.Millisecond}}
	if fmt.Sprint(cs) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", cs, want)
	}
	if cs := baudChunks(body, 1000, 2); cs[2].at != 90*time.Millisecond {
		t.Fatalf("speed 2: last line at %v", cs[2].at)
	}
}
