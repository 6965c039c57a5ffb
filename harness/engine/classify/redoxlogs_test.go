package classify

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// ev is an expected event: kind, component, how often, and a piece of its title.
type ev struct {
	Kind, Component string
	Count           int
	TitleHas        string
}

type verdict struct {
	ReachedLogin  bool
	LastStage     string
	LastComponent string
	Stages        []string // names, in the order first seen
	Events        []ev
}

// realVerdicts states, for each real transcript in ../shared/redox-logs, the verdict as we
// read the log by hand (see the comments); the analysis must agree. A transcript added
// there without a row here fails the test, so every real log keeps a stated verdict.
var realVerdicts = map[string]verdict{
	// aarch64 UEFI from NVMe straight to login and a shell (the doc elides the middle).
	// The "# harness milestones" lines at the end are not at the top, so they are log
	// text; "[OK]   login:" is not a login prompt and nothing in them is a failure.
	"aios-edge-aarch64-qemu-nvme-login-excerpt.log": {
		ReachedLogin: true, LastStage: "shell", LastComponent: "",
		Stages: []string{"firmware", "bootloader", "login", "shell"},
	},
	// Kernel-only direct boot: the kernel logs and stops by design, no userspace. As a
	// boot it never reaches login, so offline it is a hang after the kernel stage.
	"lerux-x86_64-qemu-direct-boot-kernel-only.log": {
		ReachedLogin: false, LastStage: "kernel", LastComponent: "kernel",
		Stages: []string{"kernel"},
		Events: []ev{{"hang", "kernel", 1, "no output after stage kernel"}},
	},
	// A userspace panic at src/lib.rs (no binary named) on the way, then the login prompt
	// with a log line on it. The panic names no process: the component in context is pcid
	// (its PCIe fallback warning is the last line naming a component before it). The
	// runner's trailer repeats the last 50 lines, so the same panic is seen twice: one
	// event counted twice. The abort() after each is part of the panic.
	"nixredox-qemu-x86_64-graphical-panic-then-login.log": {
		ReachedLogin: true, LastStage: "login", LastComponent: "usbhidd",
		Stages: []string{"bootloader", "kernel", "init", "drivers", "login"},
		Events: []ev{{"panic", "pcid", 2, "panic at src/lib.rs: called `Result::unwrap()` on an `Err` value: NotPresent"}},
	},
	// Interactive session after login; every keystroke triggers relibc's unnamed-socket
	// complaint interleaved with the echo. Noise, not failures.
	"nixredox-x86_64-shell-session-open-unnamed-socket.log": {
		ReachedLogin: true, LastStage: "shell", LastComponent: "",
		Stages: []string{"login", "shell"},
	},
	// Login, then su panics (src/bin/su.rs names it) and aborts. Command-not-found and
	// permission errors are the user's, not crashes.
	"nixredox-x86_64-shell-session-su-panic.log": {
		ReachedLogin: true, LastStage: "shell", LastComponent: "su",
		Stages: []string{"login", "shell"},
		Events: []ev{{"panic", "su", 1, "panic at src/bin/su.rs: called `Result::unwrap()` on an `Err` value: Error `No such device` 19"}},
	},
	// Cloud Hypervisor without a NIC: smolnetd exits before readiness ("no network
	// adapter found" itself is absent hardware, not a failure; the VMM's WARN line is
	// benign), getty panics creating its PTY and exits 134. No login prompt ever comes:
	// a hang after the network stage, blamed on getty.
	"redoxos-nix-cloud-hypervisor-x86_64-getty-panic.log": {
		ReachedLogin: false, LastStage: "network", LastComponent: "getty",
		Stages: []string{"bootloader", "kernel", "init", "network"},
		Events: []ev{
			{"exit", "smolnetd", 1, "smolnetd exited without notifying readiness"},
			{"panic", "getty", 1, "panic at src/bin/getty.rs: getty: failed to create PTY"},
			{"exit", "getty", 1, "getty failed with exit status: 134"},
			{"hang", "getty", 1, "no output after stage network"},
		},
	},
	// Starts at "kernel: 1/1 MiB" (the bootloader loading the kernel); this image logs in
	// by itself, so the shell (motd and prompt) is reached without a login prompt. The
	// user's complaint is about the display; the serial log is a clean boot.
	"redoxos-nix-qemu-x86_64-graphical-boot-partial.log": {
		ReachedLogin: true, LastStage: "shell", LastComponent: "netcfg-auto",
		Stages: []string{"bootloader", "kernel", "init", "drivers", "network", "shell"},
	},
	// Same boot with the bootloader menu: a clean boot to the shell (Orbital not starting
	// leaves no trace on the serial console).
	"redoxos-nix-qemu-x86_64-graphical-boot-stuck.log": {
		ReachedLogin: true, LastStage: "shell", LastComponent: "netcfg-auto",
		Stages: []string{"bootloader", "kernel", "init", "drivers", "network", "shell"},
	},
	// Full boot to the shell; then Orbital logs config and image errors and exits with
	// status 1 (failed to read font): one exit event in orbital, no crash.
	"redoxos-nix-qemu-x86_64-graphical-boot.log": {
		ReachedLogin: true, LastStage: "shell", LastComponent: "netcfg-auto",
		Stages: []string{"bootloader", "kernel", "init", "drivers", "network", "shell"},
		Events: []ev{{"exit", "orbital", 1, "daemon exited with status 1: failed to read font"}},
	},
}

// cleanBoots are the real transcripts that must not raise a crash event.
var cleanBoots = []string{
	"aios-edge-aarch64-qemu-nvme-login-excerpt.log",
	"lerux-x86_64-qemu-direct-boot-kernel-only.log",
	"nixredox-x86_64-shell-session-open-unnamed-socket.log",
	"redoxos-nix-qemu-x86_64-graphical-boot-partial.log",
	"redoxos-nix-qemu-x86_64-graphical-boot-stuck.log",
	"redoxos-nix-qemu-x86_64-graphical-boot.log",
}

func analyzeFile(t testing.TB, path string) (Analysis, Input) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	a, in, err := Analyze(f, profile.Redox)
	if err != nil {
		t.Fatal(err)
	}
	return a, in
}

func TestRealRedoxTranscripts(t *testing.T) {
	dir := sharedLogs(t)
	files, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(files) == 0 {
		t.Skipf("no transcripts in %s", dir)
	}
	seen := map[string]bool{}
	for _, path := range files {
		name := filepath.Base(path)
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			want, ok := realVerdicts[name]
			if !ok {
				t.Fatalf("no expected verdict stated for %s: read it and add a row to realVerdicts", name)
			}
			a, in := analyzeFile(t, path)
			if in.HeaderLines == 0 {
				t.Errorf("expected the '# ' source header to be skipped")
			}
			if a.ReachedLogin != want.ReachedLogin || a.LastStage != want.LastStage || a.LastComponent != want.LastComponent {
				t.Errorf("got reached_login=%v last_stage=%q last_component=%q, want %v %q %q",
					a.ReachedLogin, a.LastStage, a.LastComponent, want.ReachedLogin, want.LastStage, want.LastComponent)
			}
			var stages []string
			for _, s := range a.Stages {
				stages = append(stages, s.Name)
			}
			if !reflect.DeepEqual(stages, want.Stages) {
				t.Errorf("stages %v, want %v", stages, want.Stages)
			}
			if len(a.Events) != len(want.Events) {
				t.Fatalf("events:\n%s\nwant %d: %+v", dumpEvents(a.Events), len(want.Events), want.Events)
			}
			for i, w := range want.Events {
				e := a.Events[i]
				if e.Kind != w.Kind || e.Component != w.Component || e.Count != w.Count || !strings.Contains(e.Title, w.TitleHas) {
					t.Errorf("event %d: %+v, want %+v", i, e, w)
				}
			}
		})
	}
	var missing []string
	for name := range realVerdicts {
		if !seen[name] {
			missing = append(missing, name)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Logf("stated verdicts for transcripts not present: %v", missing)
	}
}

// No false alarm: the clean real boots raise no kernel-panic, exception or panic event.
func TestRealCleanBootsNoCrashEvents(t *testing.T) {
	dir := sharedLogs(t)
	for _, name := range cleanBoots {
		path := filepath.Join(dir, name)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		a, _ := analyzeFile(t, path)
		for _, e := range a.Events {
			switch e.Kind {
			case profile.KindKernelPanic, profile.KindException, profile.KindPanic:
				t.Errorf("%s: false alarm %+v", name, e)
			}
		}
	}
}

func dumpEvents(es []Event) string {
	var b strings.Builder
	for _, e := range es {
		b.WriteString("  ")
		b.WriteString(e.Kind + " " + e.Component + " x")
		b.WriteString(strings.Repeat("I", e.Count))
		b.WriteString(" " + e.Title + "\n")
	}
	return b.String()
}
