package classify

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

func analyzeString(t testing.TB, s string) (Analysis, Input) {
	t.Helper()
	a, in, err := Analyze(strings.NewReader(s), profile.Redox)
	if err != nil {
		t.Fatal(err)
	}
	return a, in
}

func TestHeaderOnlyAtTopAndCountedInLineNumbers(t *testing.T) {
	a, in := analyzeString(t, "# source: somewhere\n#\n# context: x\nkernel::arch::x86_shared::start:INFO -- Redox OS starting...\n# not a header: log text\nredox login: ")
	if in.HeaderLines != 3 || in.Lines != 3 {
		t.Fatalf("input %+v", in)
	}
	if a.Stages[0].Name != "kernel" || a.Stages[0].Line != 4 || a.Stages[1].Name != "login" || a.Stages[1].Line != 6 {
		t.Fatalf("stages %+v", a.Stages)
	}
	// SplitHeader itself is tested in transcript.
}

func TestLongLinesAreCut(t *testing.T) {
	s := strings.Repeat("x", 2*MaxLineLen+100) + "\nredox login: "
	a, in := analyzeString(t, s)
	if in.Lines != 4 || !a.ReachedLogin || a.Stages[0].Line != 4 {
		t.Fatalf("input %+v analysis %+v", in, a)
	}
	// A line of exactly MaxLineLen bytes is one line, not one plus an empty one.
	_, in = analyzeString(t, strings.Repeat("y", MaxLineLen)+"\nz\n")
	if in.Lines != 2 {
		t.Fatalf("exact-length line: %+v", in)
	}
}

// The analysis does not depend on how the input was chunked (escape sequences, CRLF and
// lines split across reads), which is what makes live and offline agree.
func TestChunkingDoesNotMatter(t *testing.T) {
	var all []string
	for _, name := range []string{"clean-uefi-boot.log", "hda-errors.log", "noisy-typed-echo.log", "kernel-panic.log"} {
		b := readFixture(t, name)
		whole, _, err := Analyze(bytes.NewReader(b), profile.Redox)
		if err != nil {
			t.Fatal(err)
		}
		byByte, _, err := Analyze(iotest.OneByteReader(bytes.NewReader(b)), profile.Redox)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(whole, byByte) {
			t.Errorf("%s: whole %+v\nbyte by byte %+v", name, whole, byByte)
		}
		all = append(all, name)
	}
	if len(all) == 0 {
		t.Fatal("no fixtures")
	}
}

func TestNULInvalidUTF8AndEscapes(t *testing.T) {
	s := "\x00\x00Redox OS Bootloader\xff\xfe 1.0.0\n" +
		"\x1b[1;31mkernel::arch::x86_shared::start:INFO -- Redox OS\x1b[0m starting...\r\n" +
		"\x1b]0;title\x07UNHANDLED EXCEPTION, CPU #0, PID 9, NAME /usr/bin/\x00ptyd, CONTEXT 0xfffffe8000131040\n" +
		"redox login: \x1b["
	a, _ := analyzeString(t, s)
	if !a.ReachedLogin || len(a.Events) != 1 || a.Events[0].Component != "ptyd" {
		t.Fatalf("%+v", a)
	}
}

func TestTitlesNormaliseAcrossMachinesAndNights(t *testing.T) {
	night1 := "UNHANDLED EXCEPTION, CPU #0, PID 3, NAME /scheme/initfs/bin/nulld, CONTEXT 0xfffffe8000105760\n" +
		"thread 'main' (1) panicked at src/bin/getty.rs:121:6:\n" +
		"getty: failed at 0x7fffffffe3a0 on 2026-03-09T14-38-14.455Z (pid 42)\n" +
		"KERNEL PANIC: panicked at src/context/memory.rs:1311:17:\ngrant 0xffff800012340000 overlaps, CONTEXT 0xfffffe80001a93c0\n"
	night2 := "UNHANDLED EXCEPTION, CPU #3, PID 17, NAME /usr/bin/nulld, CONTEXT 0xfffffe80001abc00\n" +
		"thread 'main' (7) panicked at src/bin/getty.rs:119:2:\n" +
		"getty: failed at 0x7fffffffd000 on 2026-11-21T02-00-00.001Z (pid 7)\n" +
		"KERNEL PANIC: panicked at src/context/memory.rs:1290:5:\ngrant 0xffff8000deadb000 overlaps, CONTEXT 0xfffffe8000100000\n"
	a1, _ := analyzeString(t, night1)
	a2, _ := analyzeString(t, night2)
	if len(a1.Events) != 3 || len(a2.Events) != 3 {
		t.Fatalf("%+v\n%+v", a1.Events, a2.Events)
	}
	for i := range a1.Events {
		e1, e2 := a1.Events[i], a2.Events[i]
		if e1.Title != e2.Title || e1.Component != e2.Component || e1.Kind != e2.Kind {
			t.Errorf("not the same title:\n  %q (%s)\n  %q (%s)", e1.Title, e1.Component, e2.Title, e2.Component)
		}
	}
	if got := a1.Events[1].Title; got != "panic at src/bin/getty.rs: getty: failed at ADDR on (pid N)" {
		t.Errorf("panic title %q", got)
	}
	// In one log, identical events are counted, not repeated.
	a, _ := analyzeString(t, night1+night2)
	if len(a.Events) != 3 || a.Events[0].Count != 2 || a.Events[1].Count != 2 {
		t.Fatalf("dedup: %+v", a.Events)
	}
}

func TestAbortIsPartOfAPanicOrAnEventAlone(t *testing.T) {
	a, _ := analyzeString(t, "thread 'main' (1) panicked at src/bin/su.rs:64:74:\nboom\nrelibc: abort() called\n")
	if len(a.Events) != 2 || a.Events[0].Kind != "panic" || a.Events[1].Kind != "hang" {
		t.Fatalf("after a panic: %+v", a.Events)
	}
	// A panic whose message is missing: the abort is not taken as the message.
	a, _ = analyzeString(t, "thread 'main' (1) panicked at src/bin/su.rs:64:74:\nrelibc: abort() called\nredox login: ")
	if len(a.Events) != 1 || a.Events[0].Title != "panic at src/bin/su.rs:" {
		t.Fatalf("no message: %+v", a.Events)
	}
	far := "thread 'main' (1) panicked at src/bin/su.rs:64:74:\nboom\n" + strings.Repeat("ok\n", 100) + "relibc: abort() called\nredox login: "
	a, _ = analyzeString(t, far)
	if len(a.Events) != 2 || a.Events[1].Title != "abort() called" {
		t.Fatalf("far from the panic: %+v", a.Events)
	}
}

// A line that names its process itself does not wait for a continuation, so back-to-back
// exceptions are two occurrences, not one swallowing the other.
func TestBackToBackExceptions(t *testing.T) {
	a, _ := analyzeString(t, "UNHANDLED EXCEPTION, CPU #0, PID 3, NAME /bin/a, CONTEXT 0x1\nUNHANDLED EXCEPTION, CPU #0, PID 4, NAME /bin/b, CONTEXT 0x2\nUNHANDLED EXCEPTION, CPU #0, PID 5, NAME /bin/a, CONTEXT 0x3\nredox login: ")
	if len(a.Events) != 2 || a.Events[0].Component != "a" || a.Events[0].Count != 2 || a.Events[1].Component != "b" {
		t.Fatalf("%+v", a.Events)
	}
}

func TestEventCap(t *testing.T) {
	var b strings.Builder
	for i := 0; i < MaxEvents+500; i++ {
		fmt.Fprintf(&b, "thread 'main' panicked at 'distinct bug number %d', src/main.rs:1:1\n", i)
	}
	a, _ := analyzeString(t, b.String())
	if len(a.Events) != MaxEvents+1 || a.Events[MaxEvents].Kind != "hang" {
		t.Fatalf("%d events", len(a.Events))
	}
}

func TestPartialLinesAndLiveSnapshot(t *testing.T) {
	an := New(profile.Redox)
	an.Feed(Line{N: 1, Text: "kernel::arch::x86_shared::start:INFO -- Redox OS starting..."})
	an.Feed(Line{N: 2, Text: "KERNEL PANIC: panicked at src/scheme/mod.rs:40:9:"})
	// Live, the harness looks at a snapshot to stop early on a fatal event: the pending
	// kernel panic must already be visible, without disturbing the analysis.
	s := an.Snapshot()
	if len(s.Events) != 1 || !s.Events[0].Fatal || s.Events[0].Kind != "kernel-panic" {
		t.Fatalf("snapshot %+v", s.Events)
	}
	an.Feed(Line{N: 3, Text: "scheme id overflow"})
	an.Feed(Line{N: 4, Text: "redox log", Partial: true})
	an.Feed(Line{N: 4, Text: "redox login: ", Partial: true})
	a := an.Finish()
	if len(a.Events) != 1 || a.Events[0].Title != "kernel panic at src/scheme/mod.rs: scheme id overflow" || a.Events[0].Count != 1 {
		t.Fatalf("%+v", a.Events)
	}
	if !a.ReachedLogin {
		t.Fatal("a partial prompt line marks the login stage")
	}
	if b := an.Finish(); !reflect.DeepEqual(a, b) {
		t.Fatalf("Finish is not repeatable:\n%+v\n%+v", a, b)
	}
}

func TestShellAfterLoginOnlyCountsForward(t *testing.T) {
	a, _ := analyzeString(t, "redox login: user\nWelcome to Redox OS!\n[src/initnsmgr.rs:169 WARN] Scheme \"sudo\" not found in namespace\n1970-01-01T00-00-01.000Z [@pcid:332 INFO] PCI 00-00:02.0\n")
	var names []string
	for _, s := range a.Stages {
		names = append(names, s.Name)
	}
	if !reflect.DeepEqual(names, []string{"login", "shell"}) || a.LastStage != "shell" {
		t.Fatalf("%v %s", names, a.LastStage)
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtureDir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
