package secrets

import (
	"bytes"
	"errors"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRedactEveryOccurrence(t *testing.T) {
	r := New("hunter2", "s3cr3t-longer")
	got := r.Redact("a hunter2 b hunter2hunter2 s3cr3t-longer end")
	if strings.Contains(got, "hunter2") || strings.Contains(got, "s3cr3t") {
		t.Fatalf("not redacted: %q", got)
	}
	if want := "a [REDACTED] b [REDACTED][REDACTED] [REDACTED] end"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if s := "nothing here"; r.Redact(s) != s {
		t.Fatal("changed a clean string")
	}
}

func TestMaskNeverContainsASecret(t *testing.T) {
	r := New("RED")
	got := r.Redact("a RED b")
	if strings.Contains(got, "RED") {
		t.Fatalf("mask contains the secret: %q", got)
	}
}

func TestLongestSecretWinsOverItsPrefix(t *testing.T) {
	r := New("abc", "abcdef")
	if got := r.Redact("xxabcdefyy abc"); got != "xx[REDACTED]yy [REDACTED]" {
		t.Fatalf("got %q", got)
	}
	// Streaming: "abc" complete at a chunk end must wait: it may become "abcdef".
	f := r.NewFilter()
	out := string(f.Filter([]byte("xxabc"))) + string(f.Filter([]byte("def yy"))) + string(f.Flush())
	if out != "xx[REDACTED] yy" {
		t.Fatalf("streamed %q", out)
	}
}

// Every way of cutting a text into chunks gives the same redacted text as redacting it whole.
func TestFilterSplitAcrossChunks(t *testing.T) {
	secrets := []string{"fxpass-9Qz", "aab", "pw"}
	r := New(secrets...)
	text := "login fxpass-9Qz then aaab and fxpass-9fxpass-9Qz pw ppw fxpas"
	want := r.Redact(text)
	for _, s := range secrets {
		if strings.Contains(want, s) {
			t.Fatalf("whole-text redaction left %q in %q", s, want)
		}
	}
	rng := rand.New(rand.NewSource(1))
	for trial := 0; trial < 2000; trial++ {
		got := streamInChunks(r, text, func(left int) int {
			if trial < len(text) { // also every single cut point
				return 1 + trial%7
			}
			return 1 + rng.Intn(left)
		})
		if got != want {
			t.Fatalf("trial %d: streamed %q, want %q", trial, got, want)
		}
	}
}

// streamInChunks filters text through a new Filter of r in chunks of the sizes next gives
// (told how much is left), and returns what came out.
func streamInChunks(r *Redactor, text string, next func(left int) int) string {
	f := r.NewFilter()
	var out bytes.Buffer
	for rest := []byte(text); len(rest) > 0; {
		n := min(len(rest), next(len(rest)))
		out.Write(f.Filter(rest[:n]))
		rest = rest[n:]
	}
	out.Write(f.Flush())
	return out.String()
}

func TestFilterWithoutSecretsPassesThrough(t *testing.T) {
	f := New().NewFilter()
	if got := string(f.Filter([]byte("abc"))); got != "abc" {
		t.Fatal(got)
	}
}

func TestWriterFlushesOnClose(t *testing.T) {
	var buf bytes.Buffer
	w := New("topsecret").NewWriter(&buf)
	io.WriteString(w, "pass top")
	io.WriteString(w, "secret ok to")
	w.Close()
	if got := buf.String(); got != "pass [REDACTED] ok to" {
		t.Fatalf("got %q", got)
	}
}

type pipeRWC struct {
	io.Reader
	io.Writer
	closer func() error
}

func (p pipeRWC) Close() error { return p.closer() }

func TestStreamRedactsAndReleasesAPrefixAfterAPause(t *testing.T) {
	r := New("fxpass")
	pr, pw := io.Pipe()
	s := r.Stream(pipeRWC{Reader: pr, Writer: io.Discard, closer: pr.Close}, 50*time.Millisecond)
	go func() {
		pw.Write([]byte("user fxp"))
		time.Sleep(10 * time.Millisecond)
		pw.Write([]byte("ass ok\nprompt fx"))
		// the prompt ends like the secret begins: it must still reach the reader
		time.Sleep(300 * time.Millisecond)
		pw.Write([]byte("# more"))
		pw.Close()
	}()
	var got []byte
	buf := make([]byte, 64)
	var sawPrompt time.Time
	start := time.Now()
	for {
		n, err := s.Read(buf)
		got = append(got, buf[:n]...)
		if sawPrompt.IsZero() && strings.HasSuffix(string(got), "prompt fx") {
			sawPrompt = time.Now()
		}
		if err != nil {
			break
		}
	}
	if string(got) != "user [REDACTED] ok\nprompt fx# more" {
		t.Fatalf("got %q", got)
	}
	if sawPrompt.IsZero() || sawPrompt.Sub(start) > 250*time.Millisecond {
		t.Fatalf("held prompt released after %v", sawPrompt.Sub(start))
	}
}

func TestLoadFromEnvAndFile(t *testing.T) {
	t.Setenv("RHW_TEST_SECRET_X", "from-env-7731")
	v, err := Load(Source{Env: "RHW_TEST_SECRET_X"})
	if err != nil || v != "from-env-7731" {
		t.Fatalf("%q %v", v, err)
	}
	if strings.Contains(Redact("x from-env-7731 y"), "from-env") {
		t.Fatal("loaded secret not registered for redaction")
	}
	if _, err := Load(Source{Env: "RHW_TEST_SECRET_UNSET_Q"}); !errors.Is(err, ErrNoSecret) {
		t.Fatalf("unset variable: %v", err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "pw")
	os.WriteFile(p, []byte("from-file-99\n"), 0o600)
	v, err = Load(Source{File: p})
	if err != nil || v != "from-file-99" {
		t.Fatalf("%q %v", v, err)
	}
	os.Chmod(p, 0o644)
	if _, err := Load(Source{File: p}); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("world-readable file accepted: %v", err)
	}
	if _, err := Load(Source{Env: "A", File: p}); err == nil {
		t.Fatal("both sources accepted")
	}
	if v, err := Load(Source{}); v != "" || err != nil {
		t.Fatalf("empty source: %q %v", v, err)
	}
}

func TestEnvReplaces(t *testing.T) {
	got := Env([]string{"A=1", "IPMI_PASSWORD=old", "B=2"}, "IPMI_PASSWORD", "new")
	if strings.Join(got, ",") != "A=1,B=2,IPMI_PASSWORD=new" {
		t.Fatal(got)
	}
}

func FuzzFilterMatchesWhole(f *testing.F) {
	f.Add("abcfxpassdef", uint8(3))
	f.Add("ab fx\x1b[1mpa\r\x00ss\x1b]0;t\x07def fx\x1b[", uint8(2))
	f.Fuzz(func(t *testing.T, text string, cut uint8) {
		r := New("fxpass", "xpa", "ssss")
		want := r.Redact(text)
		fl := r.NewFilter()
		var out []byte
		step := int(cut%11) + 1
		for i := 0; i < len(text); i += step {
			out = append(out, fl.Filter([]byte(text[i:min(len(text), i+step)]))...)
		}
		out = append(out, fl.Flush()...)
		if string(out) != want {
			t.Fatalf("streamed %q, whole %q", out, want)
		}
	})
}

// A password_file that is a FIFO (or /dev/zero) is refused at once through the bounded
// reader: it never blocks the harness in open and never reads without end.
func TestPasswordFileNotRegularIsRefused(t *testing.T) {
	p := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(p, 0o600); err != nil {
		t.Skip("no mkfifo here:", err)
	}
	if _, err := Load(Source{File: p}); err == nil || !strings.Contains(err.Error(), "password_file") {
		t.Fatalf("FIFO: %v", err)
	}
}
