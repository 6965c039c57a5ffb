package guest

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func TestParseProtocol(t *testing.T) {
	var r FuncReport
	r.Parse("boot noise\nFUNC_TESTS_START\n\nFUNC_TEST:shell-exec:PASS\nFUNC_TEST:fs-write:FAIL:exit=1: disk full\r\n" +
		"fx# echo FUNC_TEST:echoed:PASS\nFUNC_TEST:net:SKIP\nFUNC_TEST:bad line\n")
	if !r.Started || r.Complete {
		t.Fatalf("started %v complete %v", r.Started, r.Complete)
	}
	r.Parse("FUNC_TEST:shell-exec:FAIL:second run\nFUNC_TESTS_COMPLETE\n")
	if !r.Complete || len(r.Tests) != 3 || len(r.Malformed) != 1 {
		t.Fatalf("%+v", r)
	}
	if r.Tests[0].Verdict != record.Fail || r.Tests[0].Reason != "second run" {
		t.Errorf("a repeated test keeps its last result: %+v", r.Tests[0])
	}
	if r.Tests[1].Reason != "exit=1: disk full" {
		t.Errorf("reason with a colon: %q", r.Tests[1].Reason)
	}
	rep := Report{Func: r}
	cs := rep.funcChecks()
	if cs[0].Name != CheckFunc || cs[0].Verdict != record.Fail || !strings.Contains(cs[0].Message, "malformed") {
		t.Errorf("summary %+v", cs[0])
	}
	if len(cs) != 4 || cs[3].Name != "guest/func/net" || cs[3].Verdict != record.Skip {
		t.Errorf("checks %+v", cs)
	}
	if cs := (&Report{}).funcChecks(); len(cs) != 1 || cs[0].Verdict != record.Skip {
		t.Errorf("no protocol: %+v", cs)
	}
	rep = Report{Func: FuncReport{Started: true, Tests: []FuncTest{{Name: "a", Verdict: record.Pass}}}}
	if cs := rep.funcChecks(); cs[0].Verdict != record.Hang {
		t.Errorf("never completed: %+v", cs[0])
	}
}

// Statuses as redoxer src/exec.rs (ad2c079) reads them: `Some(51) => { eprintln!("##
// redoxer (success) ##")`, `Some(53) => ... "## redoxer (failure) ##"`. On x86_64 only odd
// statuses come from isa-debug-exit; on aarch64 semihosting passes any status.
func TestExitVerdict(t *testing.T) {
	for arch, want := range map[string]map[int]record.Verdict{
		"x86_64":  {51: record.Pass, 53: record.Fail, 3: record.Fail, 0: record.Infra, 1: record.Fail, 2: record.Infra},
		"aarch64": {51: record.Pass, 53: record.Fail, 3: record.Fail, 0: record.Infra, 1: record.Fail, 2: record.Fail},
	} {
		for code, w := range want {
			if v, msg := ExitVerdict(arch, code); v != w {
				t.Errorf("%s exit %d: %s (%s), want %s", arch, code, v, msg, w)
			}
		}
	}
	if _, msg := ExitVerdict("x86_64", 0); !strings.Contains(msg, "0x604") {
		t.Errorf("exit 0 on x86_64 does not explain the PM1a power-off: %s", msg)
	}
	if _, msg := ExitVerdict("aarch64", 53); !strings.Contains(msg, "semihosting") {
		t.Errorf("aarch64: %s", msg)
	}
}

func TestJudgeOutput(t *testing.T) {
	f := filepath.Join(t.TempDir(), "hello.out")
	os.WriteFile(f, []byte("hello\r\nworld\r\n"), 0o644)
	if v, m := judgeOutput(session.Result{Stdout: "hello\nworld\n"}, f); v != record.Pass {
		t.Errorf("%s %s", v, m)
	}
	if v, m := judgeOutput(session.Result{Stdout: "hello\nworld"}, f); v != record.Fail || !strings.Contains(m, "final newline is missing") {
		t.Errorf("missing newline: %s %s", v, m)
	}
	if v, m := judgeOutput(session.Result{Stdout: "hello\nWorld\n"}, f); v != record.Fail || !strings.Contains(m, `line 2: got "World", want "world"`) {
		t.Errorf("%s %s", v, m)
	}
	if v, _ := judgeOutput(session.Result{Exit: 2}, ""); v != record.Fail {
		t.Errorf("no expect file, exit 2: %s", v)
	}
}
