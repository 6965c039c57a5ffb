package abicheck

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/abi"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// A sysroot built with gcc at test time stands in for a Redox build tree: usr/lib/libc.so
// (a v1 and a v2 of a small library) and usr/bin/hello linked against it.
const libV1 = `
struct redox_stat { long size; int mode; };
int redox_open_v1(const char *p, int flags) { return flags; }
int redox_fstat_v0(int fd, struct redox_stat *st) { return fd; }
int getpid(void) { return 1; }
`

func gcc(t *testing.T, args ...string) {
	t.Helper()
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc not installed")
	}
	if out, err := exec.Command("gcc", args...).CombinedOutput(); err != nil {
		t.Fatalf("gcc %v: %v\n%s", args, err, out)
	}
}

func sysroot(t *testing.T, src string) string {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "usr/lib"), 0o755)
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	c := filepath.Join(root, "libc.c")
	os.WriteFile(c, []byte(src), 0o644)
	gcc(t, "-g", "-shared", "-fPIC", "-Wl,-soname,libc.so.6", "-o", filepath.Join(root, "usr/lib/libc.so"), c)
	h := filepath.Join(root, "hello.c")
	os.WriteFile(h, []byte("int main(void){return 0;}\n"), 0o644)
	gcc(t, "-o", filepath.Join(root, "usr/bin/hello"), h)
	return root
}

func run(t *testing.T, baselineSrc, currentSrc string) map[string]string {
	t.Helper()
	base := sysroot(t, baselineSrc)
	lib, err := abi.Load(filepath.Join(base, "usr/lib/libc.so"))
	if err != nil {
		t.Fatal(err)
	}
	bl := filepath.Join(t.TempDir(), "baseline.json")
	f, _ := os.Create(bl)
	if err := abi.WriteBaseline(f, lib); err != nil {
		t.Fatal(err)
	}
	f.Close()
	cur := sysroot(t, currentSrc)
	got := map[string]string{}
	for _, c := range Checks(matrix.Image{Name: "i", ABIBaseline: bl, Sysroot: cur}) {
		got[c.Name] = string(c.Verdict) + " " + c.Message
	}
	return got
}

func TestNoChangePassesEveryClassExceptTheHostLoader(t *testing.T) {
	got := run(t, libV1, libV1)
	for _, name := range CheckNames() {
		v := got[name]
		if name == "abi/loader" {
			// The sysroot's hello is a Linux binary: its loader is not Redox's /lib/ld64.so.1,
			// which is exactly what the loader check exists to catch.
			if !strings.HasPrefix(v, "FAIL") || !strings.Contains(v, "ld64.so.1") {
				t.Errorf("%s = %s", name, v)
			}
			continue
		}
		if !strings.HasPrefix(v, "PASS") {
			t.Errorf("%s = %s", name, v)
		}
	}
}

func TestBreaksLandInTheirClass(t *testing.T) {
	v2 := strings.NewReplacer(
		"struct redox_stat { long size; int mode; };", "struct redox_stat { long size; int mode; long mtime; };",
		"int getpid(void) { return 1; }", "",
	).Replace(libV1)
	got := run(t, libV1, v2)
	for name, want := range map[string]string{
		"abi/symbols": "FAIL", "abi/layouts": "FAIL", "abi/soname": "PASS", "abi/signatures": "PASS", "abi/versioned": "PASS",
	} {
		if !strings.HasPrefix(got[name], want) {
			t.Errorf("%s = %s, want %s", name, got[name], want)
		}
	}
	if !strings.Contains(got["abi/symbols"], "getpid") || !strings.Contains(got["abi/layouts"], "redox_stat") {
		t.Errorf("messages do not name the breaks: %v", got)
	}
}
