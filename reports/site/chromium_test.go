package site

import (
	"bytes"
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/reports/internal/testenv"
)

// chromium runs headless Chromium (Debian's package) on a URL with the given extra
// flags and returns stdout and stderr. Every process it starts is in one process group,
// killed when the browser exits or the deadline passes.
func chromium(t *testing.T, url string, extra ...string) (string, string) {
	t.Helper()
	bin := testenv.Need(t, "chromium", "chromium")
	profile := t.TempDir()
	args := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"}
	args = append(append(args, extra...), url)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // helpers left behind
	}
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", url, err, tail(stderr.String()))
	}
	return stdout.String(), stderr.String()
}

func tail(s string) string {
	if len(s) > 3000 {
		return s[len(s)-3000:]
	}
	return s
}

var consoleRe = regexp.MustCompile(`(?m)^.*(:CONSOLE|Uncaught|Refused to).*$`)

// consoleErrors returns the page console lines Chromium logged.
func consoleErrors(stderr string) []string { return consoleRe.FindAllString(stderr, -1) }

func fileURL(p string) string {
	abs, _ := filepath.Abs(p)
	return "file://" + filepath.ToSlash(abs)
}

// pagesToCheck are the three kinds of page, all carrying hostile console text.
func pagesToCheck(out string) map[string]string {
	return map[string]string{
		"index":      filepath.Join(out, "index.html"),
		"machine":    filepath.Join(out, "machines", "optiplex.html"),
		"transcript": filepath.Join(out, "runs", "nightly-2026-03-19", "jobs", "redox-0.9.0-desktop-uefi_at_optiplex__drivers", "transcript.html"),
	}
}

// TestChromiumControl proves the checks below can fail: a page with a script that sets
// the title and logs errors is seen to do both.
func TestChromiumControl(t *testing.T) {
	p := filepath.Join(t.TempDir(), "bad.html")
	os.WriteFile(p, []byte(`<!DOCTYPE html><html><head><title>orig</title></head><body><script>document.title='pwned'; console.error('boom'); undefinedFunction();</script></body></html>`), 0o644)
	dom, stderr := chromium(t, fileURL(p), "--dump-dom")
	if !strings.Contains(dom, "<title>pwned</title>") {
		t.Errorf("control script did not run; the XSS check would prove nothing:\n%s", dom)
	}
	if len(consoleErrors(stderr)) < 2 {
		t.Errorf("control console errors not seen; the console check would prove nothing:\n%s", tail(stderr))
	}
}

// TestChromiumNoScriptRuns: console text containing <script> is shown as text and runs
// nothing; the pages log nothing to the console.
func TestChromiumNoScriptRuns(t *testing.T) {
	out := build(t, 3)
	for name, p := range pagesToCheck(out) {
		t.Run(name, func(t *testing.T) {
			dom, stderr := chromium(t, fileURL(p), "--dump-dom")
			if strings.Contains(dom, "pwned</title>") || !strings.Contains(dom, "<title>") {
				t.Errorf("title changed:\n%s", dom[:min(len(dom), 600)])
			}
			if !strings.Contains(dom, "&lt;script&gt;document.title='pwned'&lt;/script&gt;") {
				t.Errorf("the hostile text is not shown escaped")
			}
			if strings.Contains(strings.ToLower(dom), "<script") {
				t.Errorf("the DOM has a script element")
			}
			if errs := consoleErrors(stderr); len(errs) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(errs, "\n"))
			}
		})
	}
}

// TestChromiumScreenshot renders the index and a machine page and checks the image is a
// real rendering (sized as asked, many colours), not a blank or error page.
func TestChromiumScreenshot(t *testing.T) {
	out := build(t, 4)
	shots := os.Getenv("SITE_SCREENSHOTS") // keep the PNGs here when set
	for name, p := range pagesToCheck(out) {
		t.Run(name, func(t *testing.T) {
			png1 := filepath.Join(t.TempDir(), name+".png")
			_, stderr := chromium(t, fileURL(p), "--screenshot="+png1, "--window-size=1280,1600", "--hide-scrollbars")
			if errs := consoleErrors(stderr); len(errs) > 0 {
				t.Errorf("console messages:\n%s", strings.Join(errs, "\n"))
			}
			f, err := os.Open(png1)
			if err != nil {
				t.Fatalf("no screenshot: %v\n%s", err, tail(stderr))
			}
			defer f.Close()
			img, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != 1280 || b.Dy() != 1600 {
				t.Errorf("screenshot is %v", b)
			}
			if n := colours(img); n < 16 {
				t.Errorf("screenshot has only %d colours: blank page?", n)
			}
			if shots != "" {
				os.MkdirAll(shots, 0o755)
				data, _ := os.ReadFile(png1)
				os.WriteFile(filepath.Join(shots, name+".png"), data, 0o644)
			}
		})
	}
}

func colours(img image.Image) int {
	seen := map[uint32]bool{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y += 3 {
		for x := b.Min.X; x < b.Max.X; x += 3 {
			r, g, bl, _ := img.At(x, y).RGBA()
			seen[(r>>11)<<10|(g>>11)<<5|bl>>11] = true
		}
	}
	return len(seen)
}
