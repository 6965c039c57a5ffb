package matrix

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/testfiles"
)

const tinyMatrix = "images:\n  - {name: i, arch: x86_64, path: disk.img}\nhosts:\n  - {name: q, kind: qemu, arch: x86_64}\nsuites:\n  - {name: boot}\n"

// A deeply nested file is refused before the YAML parser (quadratic in depth) sees it,
// naming the limit and where it was crossed. Without the pre-scan, 100,000 nested lists
// (200 kB) took over a minute and 15 GB.
func TestDeepNestingRefusedBeforeParsing(t *testing.T) {
	deepIndent := &strings.Builder{}
	deepIndent.WriteString("settings:\n")
	for i := 1; i <= 80; i++ {
		deepIndent.WriteString(strings.Repeat("  ", i) + "k:\n")
	}
	for _, c := range []struct {
		name, data, at string
	}{
		{"flow lists", "images: " + strings.Repeat("[", 100000) + strings.Repeat("]", 100000) + "\n", "m.yaml:1:"},
		{"flow mappings", "images: " + strings.Repeat("{a: ", 50000) + "x" + strings.Repeat("}", 50000) + "\n", "m.yaml:1:"},
		{"compact sequences", "images:\n" + strings.Repeat("- ", 100000) + "x\n", "m.yaml:2:"},
		{"indentation", deepIndent.String(), "m.yaml:6"},
	} {
		_, err := LoadOptions{SkipFileChecks: true}.Parse("m.yaml", []byte(c.data), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "nesting deeper than 64 levels") || !strings.HasPrefix(err.Error(), c.at) {
			t.Errorf("%s: got %v, want the nesting limit at %s...", c.name, err, c.at)
		}
	}
}

// Legitimate nesting, quotes and block scalars holding brackets are not mistaken for depth.
func TestBoundsAcceptRealMatrices(t *testing.T) {
	root, err := ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(root, "*", "*", "testdata", "*.yaml"))
	more, _ := filepath.Glob(filepath.Join(root, "matrix", "examples", "*.yaml"))
	files = append(append(files, more...), filepath.Join(root, "hw.yaml"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if e := checkBounds(f, data); e != nil {
			t.Errorf("%v", e)
		}
	}
	tricky := "suites:\n  - name: guest\n    commands:\n      - run: |\n          echo '[[[[[[' \"{{{{\"\n" +
		strings.Repeat("          [\n", 100) + "        expect: \"[[[[[[[[\"\n      - {run: 'a [b', expect: \"c {d\"}\n" +
		strings.Repeat("      - {run: don't [stop], expect: it's}\n", 100)
	if e := checkBounds("t.yaml", []byte(tricky)); e != nil {
		t.Errorf("tricky but shallow matrix refused: %v", e)
	}
}

// Only a regular file is read as a matrix: /dev/zero, /dev/urandom and a FIFO without a
// writer are clear errors at once, not a hang; a file over the size limit names it.
func TestLoadReadsOnlyBoundedRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := testfiles.FIFO(t, filepath.Join(dir, "fifo.yaml"))
	big := testfiles.Write(t, filepath.Join(dir, "big.yaml"), tinyMatrix+"# "+strings.Repeat("x", MaxFileSize)+"\n")
	for path, want := range map[string]string{
		"/dev/zero":    "/dev/zero: cannot read the matrix: /dev/zero is a character device, not a regular file",
		"/dev/urandom": "is a character device, not a regular file",
		fifo:           "is a FIFO, not a regular file",
		dir:            "is a directory, not a regular file",
		big:            "is larger than the 1 MiB limit for a matrix file",
	} {
		_, err := LoadOptions{SkipFileChecks: true}.Load(path)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", path, err, want)
		}
	}
}

// A UTF-8 byte-order mark at the start of a matrix is accepted (issue 14 item 4).
func TestByteOrderMarkAccepted(t *testing.T) {
	m, err := LoadOptions{SkipFileChecks: true}.Parse("bom.yaml", []byte("\xef\xbb\xbf"+tinyMatrix), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Images) != 1 || m.Images[0].Name != "i" {
		t.Errorf("images: %+v", m.Images)
	}
}

// A password written into the matrix, at any depth of a host's options, is a load error
// naming the key, never its value (issue 14 item 1).
func TestPasswordInOptionsRefused(t *testing.T) {
	for opts, key := range map[string]string{
		"{password: hunter2}":                       "options.password",
		"{bmc_password: hunter2}":                   "options.bmc_password",
		"{power: {on: x, PassWord: hunter2}}":       "options.power.PassWord",
		"{pdus: [{outlet: 1}, {outlet: 2, pw: h}]}": "options.pdus[1].pw",
		"{vnc_password_env: X, vnc_password: h}":    "options.vnc_password",
	} {
		y := "images:\n  - {name: i, arch: x86_64, path: d.img}\nhosts:\n  - {name: b, kind: ipmi, arch: x86_64, options: " + opts + "}\nsuites:\n  - {name: boot}\n"
		_, err := LoadOptions{SkipFileChecks: true}.Parse("m.yaml", []byte(y), t.TempDir())
		if err == nil || !strings.Contains(err.Error(), "must not hold a password (key "+key+")") || strings.Contains(err.Error(), "hunter2") || !strings.HasPrefix(err.Error(), "m.yaml:4:") {
			t.Errorf("%s: got %v", opts, err)
		}
	}
}

// A VM host's memory must fit in the controller that runs it (issue 24: QEMU then fails
// "cannot set up guest memory 'pc.ram': Cannot allocate memory" at start).
func TestMemoryOverTheControllerRefused(t *testing.T) {
	have := controllerMemory()
	if have == 0 {
		t.Skip("no /proc/meminfo MemTotal here")
	}
	y := "images:\n  - {name: i, arch: x86_64, path: disk.img}\nhosts:\n  - {name: q, kind: qemu, arch: x86_64, memory: " + formatBytes(have+1<<30) + "}\n"
	_, err := LoadOptions{SkipFileChecks: true}.Parse("m.yaml", []byte(y), t.TempDir())
	if err == nil || !strings.HasPrefix(err.Error(), "m.yaml:4:") || !strings.Contains(err.Error(), "more than this controller has") {
		t.Fatalf("got %v", err)
	}
	// A real machine's memory is its own.
	y = "images:\n  - {name: i, arch: x86_64, path: disk.img}\nhosts:\n  - {name: s, kind: serial, arch: x86_64, memory: " + formatBytes(have+1<<30) + ", options: {device: /dev/ttyS0}}\n"
	if _, err := (LoadOptions{SkipFileChecks: true}).Parse("m.yaml", []byte(y), t.TempDir()); err != nil && strings.Contains(err.Error(), "controller") {
		t.Fatalf("a real machine's memory checked against the controller: %v", err)
	}
}

// Files a matrix names are checked without opening them when it loads: a FIFO (whose open
// would block the harness), a device (/dev/zero: an endless read), a transcript over the
// replay host's limit (a sparse 2 GiB file) and a FIFO as a transcript's .times file are
// bad input at their place in the matrix (issue 24).
func TestNamedFilesBoundedAtLoad(t *testing.T) {
	dir := t.TempDir()
	fifo := testfiles.FIFO(t, filepath.Join(dir, "fifo"))
	big := testfiles.Sparse(t, filepath.Join(dir, "big.log"), 2<<30)
	timed := testfiles.Write(t, filepath.Join(dir, "timed.log"), "redox login: \n")
	testfiles.FIFO(t, timed+".times")
	replay := func(path string) string {
		return "images:\n  - {name: i, arch: x86_64, transcript: " + path + "}\nhosts:\n  - {name: r, kind: replay, arch: x86_64}\n"
	}
	guest := func(expect string) string {
		return "images:\n  - {name: i, arch: x86_64, kernel: " + big + "}\nhosts:\n  - {name: q, kind: qemu, arch: x86_64}\n" +
			"suites:\n  - name: guest\n    commands:\n      - {name: c, run: 'true', expect: " + expect + "}\n"
	}
	for _, c := range []struct{ name, y, want string }{
		{"fifo transcript", replay(fifo), "m.yaml:2:41: transcript in image \"i\": " + fifo + " is a FIFO, not a regular file"},
		{"2 GiB transcript", replay(big), "m.yaml:2:41: transcript in image \"i\": " + big + " is larger than the 1024 MiB limit for a replayed transcript"},
		{"fifo times", replay(timed), "transcript in image \"i\": " + timed + ".times is a FIFO, not a regular file"},
		{"expect /dev/zero", guest("/dev/zero"), "m.yaml:8:40: expect in command \"c\" of suite \"guest\": /dev/zero is a character device, not a regular file"},
		{"expect fifo", guest(fifo), "expect in command \"c\" of suite \"guest\": " + fifo + " is a FIFO, not a regular file"},
		{"image fifo", "images:\n  - {name: i, arch: x86_64, path: " + fifo + "}\nhosts:\n  - {name: q, kind: qemu, arch: x86_64}\n", "m.yaml:2:35: path in image \"i\": " + fifo + " is a FIFO"},
	} {
		_, err := Parse("m.yaml", []byte(c.y), dir)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "m.yaml:") {
			t.Errorf("%s: got %v, want %q", c.name, err, c.want)
		}
	}
}
