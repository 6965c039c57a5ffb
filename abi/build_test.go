package abi

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// The tests compile their libraries with the machine's gcc at test time,
// so what they check is what a real toolchain emits, not a frozen binary.

// variant is one build of testdata/libabitest.c.
type variant struct {
	name    string
	defines []string // -D flags (without -D)
	soname  string   // default libabitest.so.1
	script  string   // linker version script, empty for none
}

// Version scripts for the GNU symbol-version pairs. symverV2 moves
// abitest_add to a new node: exact names beat the wildcard, so everything
// else stays in LIBABITEST_1.
const (
	symverV1 = "LIBABITEST_1 { global: *; };\n"
	symverV2 = "LIBABITEST_1 { global: *; };\nLIBABITEST_2 { global: abitest_add; } LIBABITEST_1;\n"
)

var variants = []variant{
	{name: "v1"},
	{name: "same"},
	{name: "added", defines: []string{"V2_ADDED"}},
	{name: "removed", defines: []string{"V2_REMOVED"}},
	{name: "grown", defines: []string{"V2_GROWN"}},
	{name: "reordered", defines: []string{"V2_REORDERED"}},
	{name: "param", defines: []string{"V2_PARAM"}},
	{name: "soname", soname: "libabitest.so.2"},
	{name: "vkeep", defines: []string{"V2_VERSIONED_KEEP"}},
	{name: "vretire", defines: []string{"V2_VERSIONED_RETIRE"}},
	{name: "symver1", script: symverV1},
	{name: "symver-added", defines: []string{"V2_ADDED"}, script: symverV1},
	{name: "symver-moved", script: symverV2},
}

// needTool returns the path of a program the test cannot run without, or
// skips the test saying which program is missing.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not on PATH: this test compiles and inspects real binaries", name)
	}
	return p
}

func run(t testing.TB, name string, args ...string) {
	t.Helper()
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out.String())
	}
}

// built is a set of compiled variants: path by name, plus the stripped
// copy of each under "stripped/<name>".
type built map[string]string

// buildVariants compiles every variant with -g into dir, and a stripped
// copy of each. The builds run in parallel: they are independent and gcc
// dominates the test time.
func buildVariants(t testing.TB, dir string) built {
	t.Helper()
	gcc := needTool(t, "gcc")
	strip := needTool(t, "strip")
	src, err := filepath.Abs(filepath.Join("testdata", "libabitest.c"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "stripped"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := built{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan string, len(variants))
	for _, v := range variants {
		soname := v.soname
		if soname == "" {
			soname = "libabitest.so.1"
		}
		lib := filepath.Join(dir, v.name+".so")
		stripped := filepath.Join(dir, "stripped", v.name+".so")
		args := []string{"-shared", "-fPIC", "-g", "-O0", "-Wl,-soname," + soname, "-o", lib}
		for _, d := range v.defines {
			args = append(args, "-D"+d)
		}
		if v.script != "" {
			script := filepath.Join(dir, v.name+".map")
			if err := os.WriteFile(script, []byte(v.script), 0o644); err != nil {
				t.Fatal(err)
			}
			args = append(args, "-Wl,--version-script="+script)
		}
		args = append(args, src)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if b, err := exec.Command(gcc, args...).CombinedOutput(); err != nil {
				errs <- "gcc " + strings.Join(args, " ") + ": " + err.Error() + "\n" + string(b)
				return
			}
			if b, err := exec.Command(strip, "-o", stripped, lib).CombinedOutput(); err != nil {
				errs <- "strip " + lib + ": " + err.Error() + "\n" + string(b)
				return
			}
			mu.Lock()
			out[v.name], out["stripped/"+v.name] = lib, stripped
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	return out
}

// compile builds one C file from testdata with extra gcc arguments.
func compile(t testing.TB, out, src string, args ...string) string {
	t.Helper()
	gcc := needTool(t, "gcc")
	all := append([]string{"-o", out}, args...)
	all = append(all, filepath.Join("testdata", src))
	run(t, gcc, all...)
	return out
}

func mustLoad(t testing.TB, path string, opts LoadOptions) *Library {
	t.Helper()
	lib, err := LoadWith(path, opts)
	if err != nil {
		t.Fatalf("LoadWith(%s): %v", filepath.Base(path), err)
	}
	return lib
}

// hostMachine is this machine's name in Library.Machine terms.
func hostMachine() string {
	switch runtime.GOARCH {
	case "amd64":
		return "x86_64"
	case "arm64":
		return "aarch64"
	case "386":
		return "i686"
	}
	return runtime.GOARCH
}

// systemGlibc finds the machine's libc.so.6 the way the toolchain does.
func systemGlibc(t testing.TB) string {
	t.Helper()
	gcc := needTool(t, "gcc")
	out, err := exec.Command(gcc, "-print-file-name=libc.so.6").Output()
	p := strings.TrimSpace(string(out))
	if err != nil || !filepath.IsAbs(p) {
		t.Skipf("gcc does not know a libc.so.6 (%q, %v): no glibc to test against", p, err)
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return p
}

// systemMusl finds Debian's musl libc.so: from the package's file list,
// else from the multiarch directory Debian installs it in.
func systemMusl(t testing.TB) string {
	t.Helper()
	if out, err := exec.Command("dpkg-query", "-L", "musl").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			if filepath.Base(line) == "libc.so" {
				return line
			}
		}
	}
	if m, _ := filepath.Glob("/usr/lib/*-linux-musl/libc.so"); len(m) > 0 {
		return m[0]
	}
	t.Skip("musl's libc.so not installed (Debian package musl)")
	return ""
}
