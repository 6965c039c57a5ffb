package abi

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"
)

// abidiff (libabigail) exit status bits: 1 error, 2 usage error, 4 ABI
// change, 8 incompatible ABI change.
const (
	abidiffError        = 1
	abidiffUsage        = 2
	abidiffChange       = 4
	abidiffIncompatible = 8
)

// runAbidiff compares two files with abidiff and reports whether it found
// a break.
//
// --no-added-syms: abidiff sets the "change" bit for a mere addition,
// which is compatible under any rule; with the flag, additions no longer
// count. What is left with bit 4 is a type or signature change, which
// abidiff does not call incompatible (bit 8 is only for removals and the
// like) but the Redox rules do, so bit 4 or 8 both mean "break" here.
func runAbidiff(t *testing.T, abidiff, old, new string) (bool, string) {
	t.Helper()
	cmd := exec.Command(abidiff, "--no-added-syms", old, new)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	status := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("running abidiff: %v", err)
	}
	if status&(abidiffError|abidiffUsage) != 0 {
		t.Fatalf("abidiff failed (status %d):\n%s", status, out.String())
	}
	return status&(abidiffChange|abidiffIncompatible) != 0, out.String()
}

// TestAbidiffAgreement runs abidiff on every pair of TestCompareVerdicts
// that it can judge, with DWARF and stripped, and requires the same
// break/no-break verdict.
func TestAbidiffAgreement(t *testing.T) {
	abidiff, err := exec.LookPath("abidiff")
	if err != nil {
		t.Skip("abidiff not on PATH (Debian: apt-get install abigail-tools); cannot cross-check verdicts")
	}
	libs := buildVariants(t, t.TempDir())
	for _, c := range pairCases {
		if !c.abidiffAgrees {
			continue
		}
		for _, prefix := range []string{"", "stripped/"} {
			name := prefix + c.name()
			t.Run(name, func(t *testing.T) {
				oldPath, newPath := libs[prefix+c.old], libs[prefix+c.new]
				theirs, out := runAbidiff(t, abidiff, oldPath, newPath)
				rep := Compare(mustLoad(t, oldPath, LoadOptions{}), mustLoad(t, newPath, LoadOptions{}), c.opts)
				if ours := rep.HasBreak(); ours != theirs {
					t.Errorf("disagreement: ours break=%v, abidiff break=%v\nours:\n%s\nabidiff:\n%s", ours, theirs, text(rep), out)
				}
			})
		}
	}
}
