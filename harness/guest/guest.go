// Package guest is the in-guest suite's work: it runs the matrix suite's command list in
// the guest and compares each command's stdout with its expected file (relibc-tests
// style), and reads the results of images that test themselves: the FUNC_TEST serial
// protocol
//
//	FUNC_TESTS_START
//	FUNC_TEST:<name>:PASS | FUNC_TEST:<name>:FAIL:<reason> | FUNC_TEST:<name>:SKIP
//	FUNC_TESTS_COMPLETE
//
// (one check per test, guest/func/<name>, so each is its own JUnit testcase in the
// reports), and redoxer's exit status through QEMU's isa-debug-exit device (51 success,
// 53 failure; check guest/exit-status on hosts with the isa-debug-exit feature).
package guest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/record"
)

// Check names.
const (
	CheckFunc       = "guest/func"
	CheckExitStatus = "guest/exit-status"
)

// CommandCheck is the check of one matrix command.
func CommandCheck(name string) string { return "guest/" + name }

// FuncCheck is the check of one FUNC_TEST.
func FuncCheck(name string) string { return "guest/func/" + name }

// FuncTest is one FUNC_TEST line.
type FuncTest struct {
	Name    string
	Verdict record.Verdict // PASS, FAIL or SKIP
	Reason  string
	Line    string
}

// FuncReport is what the protocol said.
type FuncReport struct {
	Started, Complete bool
	Tests             []FuncTest
	// Malformed are FUNC_TEST lines that did not parse.
	Malformed []string
}

var reFunc = regexp.MustCompile(`^FUNC_TEST:([^:\s]+):(PASS|FAIL|SKIP)(?::(.*))?$`)

// Parse reads protocol lines: whole lines only (a line that merely contains the words, such
// as the echo of a typed command, is not one). A test reported twice keeps its last result.
func (r *FuncReport) Parse(text string) {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "FUNC_TESTS_START":
			r.Started = true
		case l == "FUNC_TESTS_COMPLETE":
			r.Complete = true
		case strings.HasPrefix(l, "FUNC_TEST:"):
			m := reFunc.FindStringSubmatch(l)
			if m == nil {
				r.Malformed = append(r.Malformed, l)
				continue
			}
			t := FuncTest{Name: m[1], Verdict: record.Verdict(m[2]), Reason: strings.TrimSpace(m[3]), Line: l}
			replaced := false
			for i := range r.Tests {
				if r.Tests[i].Name == t.Name {
					r.Tests[i], replaced = t, true
				}
			}
			if !replaced {
				r.Tests = append(r.Tests, t)
			}
		}
	}
}

// Counts are the number of tests per verdict.
func (r *FuncReport) Counts() (pass, fail, skip int) {
	for _, t := range r.Tests {
		switch t.Verdict {
		case record.Pass:
			pass++
		case record.Fail:
			fail++
		default:
			skip++
		}
	}
	return
}

// Exit statuses of redoxer images through isa-debug-exit ((v<<1)|1 for a write of v).
const (
	ExitSuccess = 51 // the guest wrote 0x19
	ExitFailure = 53 // the guest wrote 0x1a
)

// ExitVerdict judges QEMU's exit status on a host with isa-debug-exit.
func ExitVerdict(code int) (record.Verdict, string) {
	switch {
	case code == ExitSuccess:
		return record.Pass, fmt.Sprintf("QEMU exited with %d: the guest reported success through isa-debug-exit (wrote 0x%02x)", code, code>>1)
	case code == ExitFailure:
		return record.Fail, fmt.Sprintf("QEMU exited with %d: the guest reported failure through isa-debug-exit (wrote 0x%02x)", code, code>>1)
	case code&1 == 1:
		return record.Fail, fmt.Sprintf("QEMU exited with %d: the guest wrote 0x%02x to isa-debug-exit, which is neither success (0x19 -> 51) nor failure (0x1a -> 53)", code, code>>1)
	}
	return record.Infra, fmt.Sprintf("QEMU exited with %d, not through isa-debug-exit (whose statuses are odd)", code)
}
