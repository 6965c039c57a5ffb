package site

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	cdppage "github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/redox-hwtest/redox-hwtest/reports/internal/testenv"
)

// The site is checked in a real browser: Debian's Chromium, driven over the DevTools
// protocol by chromedp. chromedp starts the browser with its own profile directory and
// kills every process that used it when the test ends (nothing else is touched).

// browser starts headless Chromium for one test.
func browser(t *testing.T) context.Context {
	t.Helper()
	bin := testenv.Need(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("allow-file-access-from-files", false),
		chromedp.UserDataDir(t.TempDir()))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// The first call starts the browser, with no deadline (one would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// stepTimeout bounds each browser step (the machine is shared and slow, but a step that
// takes this long is stuck).
const stepTimeout = 90 * time.Second

// do runs steps with a deadline.
func do(ctx context.Context, steps ...chromedp.Action[chromedp.Void]) error {
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	return chromedp.Do(c, steps...)
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](t *testing.T, ctx context.Context, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	c, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(c, chromedp.Evaluate[T](expr, opts...))
	if err != nil {
		t.Fatalf("evaluating %.80q: %v", expr, err)
	}
	return v
}

// call is one DevTools protocol command as a step.
func call[P, R any](c cdp.Command[P, R], p P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, c, p)
		return err
	})
}

// watch records what a page does that it must not: console errors and warnings, uncaught
// exceptions, browser log errors (a CSP violation lands there), and requests that leave
// file:// and data: (the site works offline).
type watch struct {
	mu       sync.Mutex
	problems []string
}

func (w *watch) add(s string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.problems = append(w.problems, s)
}

func (w *watch) take() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	p := w.problems
	w.problems = nil
	return p
}

func watchPage(t *testing.T, ctx context.Context) *watch {
	w := &watch{}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeWarning || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				w.add(fmt.Sprintf("console.%s: %s", ev.Type, strings.Join(args, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			w.add("uncaught exception: " + msg)
		case *log.EventEntryAdded:
			if ev.Entry.Level == log.EntryLevelError || ev.Entry.Level == log.EntryLevelWarning {
				w.add(fmt.Sprintf("log %s (%s): %s %s", ev.Entry.Level, ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		case *network.EventRequestWillBeSent:
			u := ev.Request.URL
			if !strings.HasPrefix(u, "file://") && !strings.HasPrefix(u, "data:") {
				w.add("network request: " + u)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// open loads a page at a viewport width (height 900) and waits for it to be complete.
func open(ctx context.Context, url string, width int) error {
	return do(ctx,
		call(network.Enable, network.EnableParams{}), call(log.Enable, cdp.Empty{}),
		chromedp.EmulateViewport(int64(width), 900),
		chromedp.Navigate(url),
		chromedp.WaitReady(chromedp.CSS("body")),
	)
}

func fileURL(p string) string {
	abs, _ := filepath.Abs(p)
	return "file://" + filepath.ToSlash(abs)
}

// pagesToCheck are the kinds of page, all but the Devices list carrying hostile console
// text (the list shows none: it is in its rows' titles).
func pagesToCheck(out string) map[string]string {
	return map[string]string{
		"index":      filepath.Join(out, "index.html"),
		"machine":    filepath.Join(out, "machines", "optiplex.html"),
		"devices":    filepath.Join(out, "devices.html"),
		"device":     filepath.Join(out, "devices", "pci-8086-2668.html"),
		"transcript": filepath.Join(out, "runs", "nightly-2026-03-19", "jobs", "redox-0.9.0-desktop-uefi_at_optiplex__drivers", "transcript.html"),
	}
}

var widths = []int{390, 1400}

// TestBrowserControl proves the checks below can fail: a page whose script changes the
// title, logs an error, throws and is wider than the viewport is seen to do all four.
func TestBrowserControl(t *testing.T) {
	ctx := browser(t)
	p := filepath.Join(t.TempDir(), "bad.html")
	os.WriteFile(p, []byte(`<!DOCTYPE html><html><head><title>orig</title></head><body><div style="width:2000px">wide</div>`+
		`<script>document.title='pwned'; console.error('boom'); undefinedFunction();</script></body></html>`), 0o644)
	w := watchPage(t, ctx)
	if err := open(ctx, fileURL(p), 390); err != nil {
		t.Fatal(err)
	}
	title := eval[string](t, ctx, `document.title`)
	sw := eval[int](t, ctx, `document.documentElement.scrollWidth`)
	vw := eval[int](t, ctx, `window.innerWidth`)
	if title != "pwned" {
		t.Errorf("control script did not run (title %q): the script check would prove nothing", title)
	}
	if sw <= vw {
		t.Errorf("control page not seen overflowing (scroll width %d, viewport %d)", sw, vw)
	}
	probs := strings.Join(w.take(), "\n")
	if !strings.Contains(probs, "boom") || !strings.Contains(probs, "undefinedFunction") {
		t.Errorf("control console error and exception not both seen: %q", probs)
	}
}

// TestBrowserPages loads every kind of page at 390 and 1400 px: nothing overflows
// sideways, nothing is logged, no script from a transcript runs (the hostile text sets
// the title and would be a script element), no request leaves the page's files; a
// screenshot of each is written to the test's artifact directory
// (go test -artifacts -outputdir DIR keeps them).
func TestBrowserPages(t *testing.T) {
	out := build(t, 4)
	ctx := browser(t)
	w := watchPage(t, ctx)
	for name, p := range pagesToCheck(out) {
		for _, width := range widths {
			t.Run(fmt.Sprintf("%s-%d", name, width), func(t *testing.T) {
				w.take()
				if err := open(ctx, fileURL(p), width); err != nil {
					t.Fatal(err)
				}
				title := eval[string](t, ctx, `document.title`)
				sw := eval[int](t, ctx, `document.documentElement.scrollWidth`)
				vw := eval[int](t, ctx, `window.innerWidth`)
				scripts := eval[int](t, ctx, `document.scripts.length`)
				text := eval[string](t, ctx, `document.body.innerText`)
				sctx, cancel := context.WithTimeout(ctx, stepTimeout)
				shot, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
				cancel()
				if err != nil {
					t.Fatal(err)
				}
				if vw != width {
					t.Fatalf("viewport is %d px, want %d", vw, width)
				}
				if sw > vw {
					t.Errorf("horizontal overflow: document scroll width %d > viewport %d", sw, vw)
				}
				if strings.Contains(title, "pwned") {
					t.Errorf("a script from the console text ran: title %q", title)
				}
				want := 0
				if name == "index" || name == "devices" {
					want = 1 // the filter
				}
				if scripts != want {
					t.Errorf("%d script elements, want %d", scripts, want)
				}
				if name != "devices" && !strings.Contains(text, "<script>document.title='pwned'</script>") {
					t.Errorf("the hostile console text is not shown as text")
				}
				if name == "machine" {
					// The last screen loads under the page's CSP, from file:// too.
					if !eval[bool](t, ctx, `document.images.length > 0 && Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)`) {
						t.Errorf("the screen capture did not load")
					}
				}
				for _, pr := range w.take() {
					t.Errorf("%s", pr)
				}
				f := filepath.Join(t.ArtifactDir(), fmt.Sprintf("%s-%d.png", name, width))
				if err := os.WriteFile(f, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				if d := os.Getenv("SITE_SCREENSHOTS"); d != "" {
					os.MkdirAll(d, 0o755)
					os.WriteFile(filepath.Join(d, filepath.Base(f)), shot, 0o644)
				}
			})
		}
	}
}

// TestBrowserFilters: the filters and the search box change which machines are shown,
// with no network (the watch would see a request).
func TestBrowserFilters(t *testing.T) {
	out := build(t, 3)
	ctx := browser(t)
	w := watchPage(t, ctx)
	if err := open(ctx, fileURL(filepath.Join(out, "index.html")), 1400); err != nil {
		t.Fatal(err)
	}
	visible := func() []string {
		t.Helper()
		return eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#machines tbody tr")).filter(r => !r.hidden && r.offsetParent !== null).map(r => r.id)`)
	}
	set := func(sel, value string) { t.Helper(); setControl(t, ctx, sel, value) }
	typeIn := func(sel, text string) { t.Helper(); typeInto(t, ctx, sel, text) }
	all := visible()
	if len(all) != 7 {
		t.Fatalf("unfiltered: %d machines shown, want 7: %v", len(all), all)
	}
	if eval[bool](t, ctx, `document.getElementById("filters").hidden`) {
		t.Fatal("the filter form is still hidden: the script did not run")
	}
	set(`select[name=status]`, "broken")
	if got := visible(); len(got) != 1 || got[0] != "m-aspire" {
		t.Errorf("status broken: %v, want [m-aspire]", got)
	}
	set(`select[name=status]`, "")
	set(`select[name=arch]`, "aarch64")
	if got := visible(); len(got) != 3 {
		t.Errorf("arch aarch64: %v, want the 3 aarch64 hosts", got)
	}
	set(`select[name=arch]`, "")
	typeIn(`input[name=q]`, "thinkpad")
	if got := visible(); len(got) != 1 || got[0] != "m-x220" {
		t.Errorf("search thinkpad: %v, want [m-x220]", got)
	}
	typeIn(`input[name=q]`, "ihdad nvme")
	if got := visible(); len(got) != 1 || got[0] != "m-optiplex" {
		t.Errorf("search 'ihdad nvme': %v, want [m-optiplex]", got)
	}
	typeIn(`input[name=q]`, "no such machine")
	noneHidden := eval[bool](t, ctx, `document.getElementById("none").hidden`)
	if got := visible(); len(got) != 0 || noneHidden {
		t.Errorf("search with no match: %v shown, 'no machine' note hidden=%v", got, noneHidden)
	}
	set(`input[name=q]`, "")
	set(`select[name=kind]`, "qemu")
	if got := visible(); len(got) != 2 {
		t.Errorf("kind qemu: %v, want the 2 VMs", got)
	}
	for _, pr := range w.take() {
		t.Errorf("%s", pr)
	}
}

// TestBrowserDeviceFilters: the Devices view's search (by ID, by name) and its class and
// state filters change which devices are shown, with no network.
func TestBrowserDeviceFilters(t *testing.T) {
	out := build(t, 3)
	ctx := browser(t)
	w := watchPage(t, ctx)
	if err := open(ctx, fileURL(filepath.Join(out, "devices.html")), 390); err != nil {
		t.Fatal(err)
	}
	visible := func() []string {
		t.Helper()
		return eval[[]string](t, ctx, `Array.from(document.querySelectorAll("#devices tbody tr")).filter(r => !r.hidden && r.offsetParent !== null).map(r => r.id)`)
	}
	set := func(sel, value string) { t.Helper(); setControl(t, ctx, sel, value) }
	all := visible()
	if len(all) != 9 {
		t.Fatalf("unfiltered: %d devices shown, want 9: %v", len(all), all)
	}
	typeInto(t, ctx, `input[name=q]`, "8086:100e")
	if got := visible(); len(got) != 1 || got[0] != "pci-8086-100e" {
		t.Errorf("search 8086:100e: %v", got)
	}
	typeInto(t, ctx, `input[name=q]`, "RTL8111")
	if got := visible(); len(got) != 1 || got[0] != "pci-10ec-8168" {
		t.Errorf("search by name RTL8111: %v", got)
	}
	typeInto(t, ctx, `input[name=q]`, "")
	set(`select[name=state]`, "no-driver")
	if got := visible(); len(got) != 1 || got[0] != "pci-10ec-8168" {
		t.Errorf("state no-driver: %v", got)
	}
	set(`select[name=state]`, "failed")
	if got := visible(); len(got) != 2 {
		t.Errorf("state failed: %v, want the OptiPlex's HDA and NVMe", got)
	}
	set(`select[name=state]`, "")
	set(`select[name=class]`, "network-controller")
	if got := visible(); len(got) != 2 {
		t.Errorf("class network: %v, want e1000 and RTL8168", got)
	}
	for _, pr := range w.take() {
		t.Errorf("%s", pr)
	}
}

// setControl changes a filter control: a select's value with the change event a user's
// choice fires; the search box is cleared (with its input event) whatever value says.
func setControl(t *testing.T, ctx context.Context, sel, value string) {
	t.Helper()
	ev := "change"
	if strings.HasPrefix(sel, "input") {
		ev, value = "input", ""
	}
	eval[bool](t, ctx, `(e => { e.value = `+quoteJS(value)+`; return e.dispatchEvent(new Event("`+ev+`", {bubbles: true})) })(document.querySelector(`+quoteJS(sel)+`))`)
}

// typeInto clears a search box, then types into it key by key.
func typeInto(t *testing.T, ctx context.Context, sel, text string) {
	t.Helper()
	setControl(t, ctx, sel, "")
	if text == "" {
		return
	}
	if err := do(ctx, chromedp.SendKeys(chromedp.CSS(sel), text)); err != nil {
		t.Fatal(err)
	}
}

func quoteJS(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}

// TestBrowserAccessibility runs axe-core (npm package axe-core, installed by axeSource)
// on every kind of page at both widths: no serious or critical violation.
func TestBrowserAccessibility(t *testing.T) {
	axe := axeSource(t)
	out := build(t, 3)
	ctx := browser(t)
	// Control: a page with an image without text and an unlabelled field must be
	// reported, or the scan proves nothing.
	bad := filepath.Join(t.TempDir(), "bad.html")
	os.WriteFile(bad, []byte(`<!DOCTYPE html><html lang="en"><head><title>bad</title></head><body><main><img src="data:,"><input type="text"></main></body></html>`), 0o644)
	checks := map[string]string{"control": bad}
	for name, p := range pagesToCheck(out) {
		checks[name] = p
	}
	for name, p := range checks {
		for _, width := range widths {
			t.Run(fmt.Sprintf("%s-%d", name, width), func(t *testing.T) {
				// The pages forbid scripts other than their own by CSP; the scan is
				// injected through DevTools with CSP bypassed for this load only.
				if err := do(ctx, call(cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: true})); err != nil {
					t.Fatal(err)
				}
				defer do(ctx, call(cdppage.SetBypassCSP, cdppage.SetBypassCSPParams{Enabled: false}))
				if err := open(ctx, fileURL(p), width); err != nil {
					t.Fatal(err)
				}
				type violation struct {
					ID     string `json:"id"`
					Impact string `json:"impact"`
					Help   string `json:"help"`
					Nodes  []any  `json:"nodes"`
				}
				eval[any](t, ctx, axe+"\n;true")
				res := eval[[]violation](t, ctx, `axe.run(document, {resultTypes: ["violations"]}).then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map(n => n.target)})))`,
					chromedp.EvalAwaitPromise)
				serious := 0
				for _, v := range res {
					msg := fmt.Sprintf("axe %s (%s): %s; e.g. %v", v.ID, v.Impact, v.Help, v.Nodes)
					if v.Impact == "serious" || v.Impact == "critical" {
						serious++
						if name != "control" {
							t.Error(msg)
						}
					} else {
						t.Log(msg)
					}
				}
				if name == "control" && serious < 2 {
					t.Errorf("the control page's violations were not reported (%v): the scan proves nothing", res)
				}
			})
		}
	}
}

// axeVersion is the axe-core release the scan uses (npm).
const axeVersion = "4.14.1"

var axeOnce struct {
	sync.Once
	src, skip string
	fatal     bool
}

// axeSource returns axe.min.js: from $AXE_CORE_JS, else from a cache directory
// (<user cache>/redox-hwtest/axe-core-<version>), installing it there with npm on first
// use (Debian's npm package, installed by testenv when root). Offline after the first
// install. Unavailable outside CI: skip with the reason; in CI (CI set): fail.
func axeSource(t *testing.T) string {
	t.Helper()
	axeOnce.Do(func() {
		if p := os.Getenv("AXE_CORE_JS"); p != "" {
			data, err := os.ReadFile(p)
			if err != nil {
				axeOnce.skip, axeOnce.fatal = fmt.Sprintf("AXE_CORE_JS: %v", err), true
				return
			}
			axeOnce.src = string(data)
			return
		}
		cache, err := os.UserCacheDir()
		if err != nil {
			axeOnce.skip = fmt.Sprintf("no cache directory for axe-core: %v", err)
			return
		}
		dir := filepath.Join(cache, "redox-hwtest", "axe-core-"+axeVersion)
		js := filepath.Join(dir, "node_modules", "axe-core", "axe.min.js")
		if data, err := os.ReadFile(js); err == nil {
			axeOnce.src = string(data)
			return
		}
		// Need skips the test when npm is missing and cannot be installed; the reason then
		// stays for the other tests that ask.
		axeOnce.skip = "npm (Debian package npm) is not installed and could not be installed"
		npm := testenv.Need(t, "npm", "npm")
		os.MkdirAll(filepath.Dir(dir), 0o755)
		tmp, err := os.MkdirTemp(filepath.Dir(dir), "axe-install-")
		if err != nil {
			axeOnce.skip = err.Error()
			return
		}
		defer os.RemoveAll(tmp)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, npm, "install", "--prefix", tmp, "--no-audit", "--no-fund", "--no-save",
			"--ignore-scripts", "--no-package-lock", "axe-core@"+axeVersion)
		if outp, err := cmd.CombinedOutput(); err != nil {
			axeOnce.skip = fmt.Sprintf("npm install axe-core@%s failed: %v\n%s", axeVersion, err, outp)
			return
		}
		if err := os.Rename(tmp, dir); err != nil && !exists(js) {
			axeOnce.skip = fmt.Sprintf("installing axe-core into %s: %v", dir, err)
			return
		}
		data, err := os.ReadFile(js)
		if err != nil {
			axeOnce.skip = fmt.Sprintf("axe-core installed but unreadable: %v", err)
			return
		}
		axeOnce.src = string(data)
	})
	if axeOnce.src == "" {
		if axeOnce.fatal || os.Getenv("CI") != "" {
			t.Fatalf("axe-core unavailable: %s", axeOnce.skip)
		}
		t.Skipf("axe-core unavailable, skipping the accessibility scan: %s", axeOnce.skip)
	}
	return axeOnce.src
}

func exists(p string) bool { _, err := os.Stat(p); return err == nil }
