package session

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// testDialect is the stand-in's dialect without its guest-only setup command.
func testDialect() *Dialect {
	return &Dialect{Name: "test", Shell: "posix", Noise: []*regexp.Regexp{regexp.MustCompile(`FX-NOISE \d+`)},
		Interrupt: "\x15\x03", Tmp: "/tmp"}
}

func fakeSession(t *testing.T, noise time.Duration, setup ...func(*fakeGuest)) (*Session, *fakeGuest) {
	t.Helper()
	g, conn := newFakeGuest(noise, setup...)
	g.dir = t.TempDir()
	con, err := console.Open(conn, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { con.Close() })
	s := New(con, profile.Standin, Options{Dialect: testDialect(), CommandTimeout: 20 * time.Second, LoginTimeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := s.Login(ctx); err != nil {
		t.Fatal(err)
	}
	return s, g
}

func TestWrapNeverShowsTheNonceInTheEcho(t *testing.T) {
	for _, d := range []*Dialect{Standin, Redox} {
		line := d.Wrap("rhw0a1b2c3d", "uname -a")
		if strings.Contains(line, "rhw0a1b2c3d") {
			t.Errorf("%s: typed line %q contains the nonce", d.Name, line)
		}
		if line != "echo rhw0a''1b2c3d-S; uname -a; echo rhw0a''1b2c3d-E $?" {
			t.Errorf("%s: %q", d.Name, line)
		}
	}
}

func TestCutNoiseJoinsSplitLines(t *testing.T) {
	d := testDialect()
	in := "FX-NOISE 1\nhello woFX-NOISE 2\nrld\nline 2\nFX-NOISE 3\n"
	out, n := d.CutNoise(in)
	if out != "hello world\nline 2\n" || n != 3 {
		t.Fatalf("got %q, %d cut", out, n)
	}
	// Redox: daemon log lines and the line editor's complaint, in the middle of output.
	in = "total 3\n2026-03-09T16-13-52.236Z [orbital@orbital::config:114 ERROR] failed\nbin  etcopen(path: ''): Attempting to open an unnamed socket without O_CREAT.\n  usr\n"
	out, n = Redox.CutNoise(in)
	if out != "total 3\nbin  etc  usr\n" || n != 2 {
		t.Fatalf("redox: got %q, %d cut", out, n)
	}
	// Since base 55146b6e (2026-05-02) ipcd prints eprintln!("uds_stream: open({:?}, {:x}):
	// Attempting to open an unnamed socket without O_CREAT.", path, flags)
	// (ipcd/src/uds/stream.rs:1275 at base 9dd6901d).
	in = "bin  etcuds_stream: open(\"\", 20000): Attempting to open an unnamed socket without O_CREAT.\n  usr\n"
	out, n = Redox.CutNoise(in)
	if out != "bin  etc  usr\n" || n != 1 {
		t.Fatalf("redox uds_stream: got %q, %d cut", out, n)
	}
}

func TestRunOutputAndStatus(t *testing.T) {
	s, _ := fakeSession(t, 0)
	ctx := context.Background()
	for _, tc := range []struct {
		cmd  string
		out  string
		exit int
	}{
		{"echo hello", "hello\n", 0},
		{"printf abc", "abc", 0},
		{"false", "", 1},
		{"sh -c 'exit 42'", "", 42},
		{"sh -c 'exit 255'", "", 255},
		{"printf 'a\\nb\\n\\n'", "a\nb\n\n", 0},
		{"echo 'rhw-S not a marker'", "rhw-S not a marker\n", 0},
	} {
		out, code, err := s.Run(ctx, tc.cmd)
		if err != nil {
			t.Fatalf("%s: %v", tc.cmd, err)
		}
		if out != tc.out || code != tc.exit {
			t.Errorf("%s: got %q exit %d, want %q exit %d", tc.cmd, out, code, tc.out, tc.exit)
		}
	}
	if _, _, err := s.Run(ctx, "echo a\necho b"); err == nil {
		t.Error("a two-line command was accepted")
	}
}

// Noise lands between any two writes of the command's output, which comes in pieces of
// 1-7 bytes: most output lines are split by a noise line somewhere.
func TestRunSurvivesNoiseMidLine(t *testing.T) {
	s, g := fakeSession(t, 200*time.Microsecond)
	ctx := context.Background()
	var want strings.Builder
	for i := 1; i <= 3000; i++ {
		fmt.Fprintf(&want, "%d\n", i)
	}
	for round := 0; round < 5; round++ {
		r, err := s.RunResult(ctx, "seq 1 3000; sh -c 'exit 7'")
		if err != nil {
			t.Fatal(err)
		}
		if r.Stdout != want.String() || r.Exit != 7 {
			t.Fatalf("round %d: exit %d, output differs (%d bytes, want %d); raw starts %q", round, r.Exit, len(r.Stdout), want.Len(), r.Raw[:200])
		}
		if r.NoiseCut == 0 {
			t.Fatalf("round %d: no noise was cut (noise writer printed %d lines)", round, g.n)
		}
	}
	t.Logf("noise lines cut: %d", s.Stats.NoiseCut)
}

func TestRunRecoversFromAStuckCommand(t *testing.T) {
	s, _ := fakeSession(t, 0)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	_, _, err := s.Run(ctx, "sleep 1")
	cancel()
	if err == nil {
		t.Fatal("a command past its deadline did not fail")
	}
	out, code, err := s.Run(context.Background(), "echo back")
	if err != nil || out != "back\n" || code != 0 {
		t.Fatalf("after the stuck command: %q %d %v", out, code, err)
	}
}

func TestFetchMatchesChecksum(t *testing.T) {
	s, g := fakeSession(t, time.Millisecond, func(g *fakeGuest) { g.pieces = 600 })
	data := make([]byte, 300<<10+17)
	rand.Read(data)
	if err := os.WriteFile(filepath.Join(g.dir, "blob"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	got, st, err := s.Fetch(context.Background(), filepath.Join(g.dir, "blob"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatal("fetched bytes differ")
	}
	sum := sha256.Sum256(data)
	if st.SHA256 != hex.EncodeToString(sum[:]) || st.Chunks != 7 || st.Retries != 0 {
		t.Fatalf("stats %+v", st)
	}
	t.Logf("fake console fetch: %s", st)
}

func TestFetchRetriesACorruptChunkAndFailsLoudlyWhenItStays(t *testing.T) {
	s, g := fakeSession(t, 0)
	data := make([]byte, 100<<10)
	rand.Read(data)
	path := filepath.Join(g.dir, "blob")
	os.WriteFile(path, data, 0o644)
	flip := func(out []byte) []byte {
		// Flip one base64 character in a chunk's output (a line error on the wire).
		if i := bytes.Index(out, []byte("-S\n")); i >= 0 && bytes.Contains(out, []byte(".rhw-chunk")) {
			j := i + 10
			if out[j] == 'A' {
				out[j] = 'B'
			} else {
				out[j] = 'A'
			}
		}
		return out
	}
	n := 0
	g.corrupt = func(out []byte) []byte {
		if bytes.Contains(out, []byte(".rhw-chunk")) && n == 0 {
			n++
			return flip(out)
		}
		return out
	}
	got, st, err := s.Fetch(context.Background(), path)
	if err != nil || !bytes.Equal(got, data) || st.Retries != 1 {
		t.Fatalf("one corrupt chunk: err %v, retries %d, equal %v", err, st.Retries, bytes.Equal(got, data))
	}
	g.corrupt = flip
	_, _, err = s.Fetch(context.Background(), path)
	var me *MismatchError
	if !errors.As(err, &me) || me.Chunk != 0 {
		t.Fatalf("always corrupt: want a MismatchError on chunk 0, got %v", err)
	}
	t.Logf("loud failure: %v", err)
}

func TestCollectLogsCommandsForRedox(t *testing.T) {
	r := &fakeRunner{answers: map[string]string{
		"ls -1 /scheme/logging":                                      "misc\ndrivers\n",
		"ls -1 /scheme/logging/misc":                                 "hwd\n",
		"ls -1 /scheme/logging/misc/hwd":                             "hwd.log\n",
		"ls -1 /scheme/logging/drivers":                              "storage\n",
		"ls -1 /scheme/logging/drivers/storage":                      "nvmed.log\nweird name.log\n",
		"cp /scheme/logging/misc/hwd/hwd.log /tmp/.rhw-log":          "",
		"cp /scheme/logging/drivers/storage/nvmed.log /tmp/.rhw-log": "",
		"wc -c < /tmp/.rhw-log":                                      "6\n",
		"sha256sum /tmp/.rhw-log":                                    sumLine([]byte("hello\n")) + "  /tmp/.rhw-log\n",
		"dd if=/tmp/.rhw-log of=/tmp/.rhw-chunk bs=49152 skip=0 count=1 ^>/dev/null; base64 /tmp/.rhw-chunk; sha256sum /tmp/.rhw-chunk": "aGVsbG8K\n" + sumLine([]byte("hello\n")) + "  /tmp/.rhw-chunk\n",
		"rm -f /tmp/.rhw-chunk": "",
		"rm -f /tmp/.rhw-log":   "",
	}}
	dir := t.TempDir()
	logs, err := CollectLogs(context.Background(), r, Redox, LogRoot, dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(logs) != 2 || logs[0].Rel != "misc/hwd/hwd.log" || logs[1].Name != "nvmed" {
		t.Fatalf("logs %+v", logs)
	}
	for _, l := range logs {
		if l.Err != nil {
			t.Fatalf("%s: %v", l.Guest, l.Err)
		}
		b, err := os.ReadFile(filepath.Join(dir, l.Rel))
		if err != nil || string(b) != "hello\n" {
			t.Fatalf("%s: %q %v", l.Rel, b, err)
		}
	}
	for _, c := range r.seen {
		if strings.Contains(c, "weird") {
			t.Errorf("a name with a space was typed: %q", c)
		}
		if strings.Contains(c, "2>") {
			t.Errorf("POSIX redirection typed to ion: %q", c)
		}
	}
}

func sumLine(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// A writer that ignores the tty's write lock (a kernel message) can split a marker line;
// the noise-cut rescan still finds it, a little later.
func TestRunFindsMarkersSplitByNoise(t *testing.T) {
	s, _ := fakeSession(t, 300*time.Microsecond, func(g *fakeGuest) { g.splitMarkers = true; g.pieces = 3 })
	for i := 0; i < 3; i++ {
		out, code, err := s.Run(context.Background(), "seq 1 200; sh -c 'exit 3'")
		if err != nil || code != 3 || out != seq(200) {
			t.Fatalf("run %d: exit %d err %v out %q", i, code, err, out)
		}
	}
	t.Logf("commands whose markers were split: %d of %d", s.Stats.SplitMarkers, s.Stats.Commands)
}

func seq(n int) string {
	var b strings.Builder
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "%d\n", i)
	}
	return b.String()
}

func TestCharDelayPacesTyping(t *testing.T) {
	g, conn := newFakeGuest(0)
	g.dir = t.TempDir()
	con, err := console.Open(conn, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	s := New(con, profile.Standin, Options{Dialect: testDialect(), CharDelay: 2 * time.Millisecond})
	ctx := context.Background()
	if err := s.Login(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, _, err := s.Run(ctx, "echo paced")
	took := time.Since(start)
	line := s.Dialect().Wrap("rhw01234567", "echo paced") + "\r"
	if err != nil || out != "paced\n" {
		t.Fatalf("%q %v", out, err)
	}
	if min := time.Duration(len(line)-1) * 2 * time.Millisecond; took < min {
		t.Fatalf("typing %d bytes with 2ms between them took %v (< %v)", len(line), took, min)
	}
}

// The noisy Redox session in ../shared/redox-logs: the line editor's complaint lands after
// every keystroke, inside the echo and the output.
func TestRedoxNoiseOnARealTranscript(t *testing.T) {
	dir := fixtures.SharedDir(t, "redox-logs")
	raw, err := os.ReadFile(filepath.Join(dir, "nixredox-x86_64-shell-session-open-unnamed-socket.log"))
	if err != nil {
		fixtures.MissingShared(t, "%v", err)
	}
	var body []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "# ") {
			body = append(body, l)
		}
	}
	text := strings.Join(body, "\n")
	out, n := Redox.CutNoise(text)
	if strings.Contains(out, "Attempting to open an unnamed socket") || n < 30 {
		t.Fatalf("%d cut; left:\n%s", n, out)
	}
	if !strings.Contains(out, "redox# rg /scheme/logging/misc/hwd/hwd.log\nrg: No files were searched") {
		t.Errorf("the echo was not joined again:\n%s", out)
	}
}

// A boot shared by suites is never trusted for more than its first login gave: logged in
// as Redox's "user", a later suite that needs the driver logs is refused with the reason.
func TestSharedBootAccountMustReachTheNeeds(t *testing.T) {
	l := profile.Redox.Login
	if err := reaches(l, "user", []string{NeedLogs}); err == nil || !strings.Contains(err.Error(), `logged in as user, which does not reach "logging"`) {
		t.Errorf("user for the driver logs: %v", err)
	}
	if err := reaches(l, "root", []string{NeedLogs, NeedNetcfg}); err != nil {
		t.Errorf("root: %v", err)
	}
	if err := reaches(l, "user", nil); err != nil {
		t.Errorf("user with no needs: %v", err)
	}
	if err := reaches(profile.Standin.Login, "", []string{NeedLogs}); err != nil {
		t.Errorf("an image that logged in by itself: %v", err)
	}
}

// O5, O6 of the facts audit: ipcd's datagram twin of the unnamed-socket complaint (base
// 9dd6901d ipcd/src/uds/dgram.rs:683 `"uds_dgram: open({:?}, {:x}): Attempting to open an
// unnamed socket without O_CREAT."`) and relibc's own log lines (relibc 63599227
// src/platform/logger.rs:272 `"[{level} {process_name}@{target}{line}] {message}"`) are
// cut out of command output.
func TestRedoxNoiseDgramAndRelibcLog(t *testing.T) {
	in := "bin  etcuds_dgram: open(\"\", 20000): Attempting to open an unnamed socket without O_CREAT.\n  usr\n[INFO ls@src/header/sys_stat/mod.rs:120] TODO: fstatat flags\nlib\n"
	out, n := Redox.CutNoise(in)
	if out != "bin  etc  usr\nlib\n" || n != 2 {
		t.Fatalf("got %q, %d cut", out, n)
	}
}
