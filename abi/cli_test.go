package abi

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI builds cmd/redox-hwtest and runs the abi subcommand the way CI
// and people do, checking output and exit status (0 no break, 1 break,
// 2 bad input). It lives here because the command is a thin layer over
// this package and this package's tests own the fixtures.
func TestCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command; skipped in -short")
	}
	gobin := needTool(t, "go")
	dir := t.TempDir()
	bin := filepath.Join(dir, "redox-hwtest")
	build := exec.Command(gobin, "build", "-o", bin, "../cmd/redox-hwtest")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	libs := buildVariants(t, filepath.Join(dir, "libs"))

	abi := func(args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(bin, append([]string{"abi"}, args...)...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			return stdout.String(), stderr.String(), exit.ExitCode()
		case err != nil:
			t.Fatalf("running %v: %v", args, err)
		}
		return stdout.String(), stderr.String(), 0
	}
	expect := func(code, want int, what, stdout, stderr string) {
		t.Helper()
		if code != want {
			t.Errorf("%s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", what, code, want, stdout, stderr)
		}
	}

	// dump to stdout and with -o give the same baseline.
	out, errOut, code := abi("dump", libs["v1"])
	expect(code, 0, "dump", out, errOut)
	if _, err := ParseBaseline([]byte(out)); err != nil {
		t.Fatalf("dump output is not a baseline: %v", err)
	}
	base := filepath.Join(dir, "baseline.json")
	_, errOut, code = abi("dump", "-o", base, libs["v1"])
	expect(code, 0, "dump -o", "", errOut)
	if b, _ := os.ReadFile(base); string(b) != out {
		t.Error("dump -o wrote something other than dump to stdout")
	}
	if strings.Contains(out, dir) {
		t.Error("baseline contains the host path of the library")
	}
	_, errOut, _ = abi("dump", libs["stripped/v1"])
	if !strings.Contains(errOut, "symbol level only: no DWARF") {
		t.Errorf("dump of a stripped library does not say so: %q", errOut)
	}

	// diff: baseline or library on either side.
	out, errOut, code = abi("diff", base, libs["v1"])
	expect(code, 0, "diff baseline v1", out, errOut)
	if !strings.Contains(out, "no ABI changes") {
		t.Errorf("diff of identical ABIs: %q", out)
	}
	out, errOut, code = abi("diff", base, libs["added"])
	expect(code, 0, "diff v1 added", out, errOut)
	if !strings.Contains(out, "compatible  symbol-added  abitest_added") {
		t.Errorf("addition not listed as compatible: %q", out)
	}
	out, errOut, code = abi("diff", libs["v1"], libs["grown"])
	expect(code, 1, "diff v1 grown", out, errOut)
	if !strings.Contains(out, "break") || !strings.Contains(out, "type-size-changed") || !strings.Contains(out, "struct buf") {
		t.Errorf("break not reported: %q", out)
	}
	out, errOut, code = abi("diff", libs["stripped/v1"], libs["stripped/removed"])
	expect(code, 1, "diff stripped", out, errOut)
	if !strings.Contains(out, "symbol level only: no DWARF") {
		t.Errorf("stripped diff does not say so: %q", out)
	}
	out, errOut, code = abi("diff", libs["v1"], libs["vretire"])
	expect(code, 1, "diff vretire", out, errOut)
	out, errOut, code = abi("diff", "-allow-version-retire", libs["v1"], libs["vretire"])
	expect(code, 0, "diff -allow-version-retire vretire", out, errOut)
	out, errOut, code = abi("diff", "-json", libs["v1"], libs["removed"])
	expect(code, 1, "diff -json", out, errOut)
	if !strings.Contains(out, `"kind": "symbol-removed"`) {
		t.Errorf("-json output: %q", out)
	}

	// Bad input: exit 2 with a message naming the problem.
	garbage := filepath.Join(dir, "garbage.txt")
	if err := os.WriteFile(garbage, []byte("not an abi"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"diff", garbage, libs["v1"]}, "neither an ELF file nor an ABI baseline"},
		{[]string{"diff", libs["v1"], filepath.Join(dir, "missing.so")}, "no such file"},
		{[]string{"diff", libs["v1"]}, "want OLD and NEW"},
		{[]string{"dump"}, "want one file"},
		{[]string{"dump", "-nope", libs["v1"]}, "flag provided but not defined"},
		{[]string{"frobnicate"}, "unknown subcommand"},
		{[]string{"interp", libs["v1"]}, "not an executable"},
	} {
		out, errOut, code := abi(c.args...)
		expect(code, 2, strings.Join(c.args, " "), out, errOut)
		if !strings.Contains(errOut, c.msg) {
			t.Errorf("%v: stderr %q does not contain %q", c.args, errOut, c.msg)
		}
	}

	// interp: the Redox loader passes, the host's does not.
	if want := ExpectedInterp(hostMachine()); want != "" {
		good := compile(t, filepath.Join(dir, "hello-redox"), "hello.c", "-Wl,--dynamic-linker="+want)
		bad := compile(t, filepath.Join(dir, "hello-host"), "hello.c")
		out, errOut, code = abi("interp", good)
		expect(code, 0, "interp redox", out, errOut)
		out, errOut, code = abi("interp", bad)
		expect(code, 1, "interp host", out, errOut)
		if !strings.Contains(out, "interp-mismatch") {
			t.Errorf("interp mismatch not reported: %q", out)
		}
	}
}
