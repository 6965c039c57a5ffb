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
// reports; the protocol is RedoxOS-Nix's, nix/pkgs/infrastructure/functional-test.nix: no
// upstream Redox image prints it, so on those the checks SKIP), and redoxer's exit status (51
// success, 53 failure; check guest/exit-status on hosts with the redoxer-exit feature): through
// QEMU's isa-debug-exit device on x86_64, through Arm semihosting on aarch64
// (hosts/qemu.RedoxerExit).
package guest

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/hosts/qemu"
	"github.com/redox-hwtest/redox-hwtest/matrix"
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

// Exit statuses of redoxer images (redoxer src/exec.rs at ad2c079: `Some(51)` success,
// `Some(53)` failure; base drivers/redoxerd/src/sys.rs at 9dd6901d writes 51 / 2 and
// 53 / 2 to port 0x501 on x86_64, where isa-debug-exit exits with (v<<1)|1, and passes
// 51 / 53 to semihosting SYS_EXIT on aarch64, which exits with it unchanged).
const (
	ExitSuccess = 51
	ExitFailure = 53
)

// HasExitDevice reports whether the host gives the guest the redoxer exit device.
func HasExitDevice(h matrix.Host) bool { return qemu.RedoxerExit(h) != "" }

// exitDevice names the mechanism on an arch, for messages.
func exitDevice(arch string) string {
	if arch == "aarch64" {
		return "semihosting SYS_EXIT"
	}
	return "isa-debug-exit"
}

// ThroughExitDevice reports whether QEMU's exit status can only have come from the exit
// device: odd on x86_64 (every isa-debug-exit status is (v<<1)|1), non-zero on aarch64
// (a semihosting exit passes any status; a power-off exits 0).
func ThroughExitDevice(arch string, code int) bool {
	if arch == "aarch64" {
		return code != 0
	}
	return code&1 == 1
}

// ExitVerdict judges QEMU's exit status on a host with the redoxer exit device.
func ExitVerdict(arch string, code int) (record.Verdict, string) {
	dev := exitDevice(arch)
	wrote := ""
	if arch != "aarch64" {
		wrote = fmt.Sprintf(", wrote 0x%02x to port 0x501", code>>1)
	}
	switch {
	case code == ExitSuccess:
		return record.Pass, fmt.Sprintf("QEMU exited with %d: the guest reported success through %s%s", code, dev, wrote)
	case code == ExitFailure:
		return record.Fail, fmt.Sprintf("QEMU exited with %d: the guest reported failure through %s%s", code, dev, wrote)
	case ThroughExitDevice(arch, code):
		return record.Fail, fmt.Sprintf("QEMU exited with %d: the guest exited through %s%s with neither success (51) nor failure (53)", code, dev, wrote)
	case code == 0 && arch != "aarch64":
		// redoxerd's success path first writes 0x2000 to port 0x604, QEMU's ACPI PM1a
		// control register (SLP_EN, sleep type 0: soft power-off), then 0x19 to 0x501;
		// exit 0 is that power-off, or any other, without the 0x501 write being caught.
		return record.Infra, fmt.Sprintf("QEMU exited with %d, not through isa-debug-exit: a guest power-off (redoxerd's success path writes 0x2000 to the ACPI PM1a control port 0x604 before it writes to 0x501)", code)
	}
	return record.Infra, fmt.Sprintf("QEMU exited with %d, not through %s", code, dev)
}
