package boot

import (
	"bufio"
	"context"
	"math/rand"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// guest plays a Redox-shaped boot on a real unix socket, as a VMM's serial backend would.
func guest(t *testing.T) (g net.Conn, con *console.Console) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	acc := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); acc <- c }()
	h, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	g = <-acc
	con, err = console.Open(h, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close(); con.Close() })
	return g, con
}

func TestBootloaderMenuGetsEnterAndLoginEndsTheBoot(t *testing.T) {
	g, con := guest(t)
	go func() {
		g.Write([]byte("Redox OS Bootloader 1.0.0 on x86_64/UEFI\r\nArrow keys and enter select mode\r\n"))
		// The real bootloader waits forever for Enter; so does this guest.
		r := bufio.NewReader(g)
		if b, err := r.ReadByte(); err != nil || b != '\r' {
			return
		}
		g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\r\n" +
			"[src/initnsmgr.rs:169 WARN] Scheme \"file\" not found in namespace\r\n" +
			"2026-03-17T23-54-16.348Z [@pcid:332 INFO] PCI 00-00:02.0 8086:100E\r\n" +
			"########## Redox OS ##########\r\nredox login: "))
	}()
	o := Run(context.Background(), con, nil, Config{Profile: profile.Redox, Silence: 5 * time.Second, Deadline: 20 * time.Second})
	if o.Verdict != record.Pass || !o.Analysis.ReachedLogin {
		t.Fatalf("outcome %s: %s (%+v)", o.Verdict, o.Reason, o.Analysis.Stages)
	}
	for _, st := range []string{"bootloader", "kernel", "drivers", "login"} {
		if _, ok := o.StageAt[st]; !ok {
			t.Errorf("stage %s has no time", st)
		}
	}
}

func TestSilenceAfterDriverSpawnIsHangNamingTheDriver(t *testing.T) {
	g, con := guest(t)
	g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\n" +
		"[src/initnsmgr.rs:169 WARN] Scheme \"file\" not found in namespace\n" +
		"pcid-spawner: spawn \"/usr/lib/drivers/ihdad\"\n"))
	const window = 700 * time.Millisecond
	o := Run(context.Background(), con, nil, Config{Profile: profile.Redox, Silence: window, Deadline: 20 * time.Second})
	if o.Verdict != record.Hang || o.Analysis.LastStage != "drivers" || o.Analysis.LastComponent != "ihdad" {
		t.Fatalf("outcome %s: %s (stage %q, component %q)", o.Verdict, o.Reason, o.Analysis.LastStage, o.Analysis.LastComponent)
	}
	if late := o.Decided.Sub(o.LastOutput); late < window || late > window+time.Second {
		t.Fatalf("decided %v after the last byte, window %v", late, window)
	}
	if !strings.Contains(o.Reason, "ihdad") {
		t.Errorf("reason does not name the component: %s", o.Reason)
	}
}

func TestClosedConsoleWithoutExplanationIsInfra(t *testing.T) {
	g, con := guest(t)
	g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\n"))
	time.AfterFunc(200*time.Millisecond, func() { g.Close() })
	o := Run(context.Background(), con, nil, Config{Profile: profile.Redox, Silence: 10 * time.Second, Deadline: 20 * time.Second})
	if o.Verdict != record.Infra {
		t.Fatalf("outcome %s: %s", o.Verdict, o.Reason)
	}
}

func TestKernelPanicEndsTheBootAsCrash(t *testing.T) {
	g, con := guest(t)
	g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\n" +
		"KERNEL PANIC: panicked at src/memory/mod.rs:42:9:\nout of memory\n  FP ffff80000a1b2c30: PC ffffffff8004a1b2\nHALT\n"))
	o := Run(context.Background(), con, nil, Config{Profile: profile.Redox, Silence: 10 * time.Second, Deadline: 20 * time.Second, Grace: 300 * time.Millisecond})
	if o.Verdict != record.Crash {
		t.Fatalf("outcome %s: %s", o.Verdict, o.Reason)
	}
}

// A console of noise (what a baud rate mismatch reads) is INFRA "console unreadable", not a
// HANG blamed on the image.
func TestConsoleOfRandomBytesIsUnreadableNotHang(t *testing.T) {
	g, con := guest(t)
	noise := make([]byte, 8<<10)
	rand.New(rand.NewSource(1)).Read(noise)
	g.Write(noise)
	o := Run(context.Background(), con, nil, Config{Profile: profile.Redox, Silence: 500 * time.Millisecond, Deadline: 20 * time.Second})
	if o.Verdict != record.Infra || !strings.Contains(o.Reason, "console unreadable") {
		t.Fatalf("outcome %s: %s", o.Verdict, o.Reason)
	}
}

// A real Redox log (box drawing, colour escapes, UTF-8) is text: its silence is a HANG.
func TestRealLogWithEscapesIsReadable(t *testing.T) {
	g, con := guest(t)
	var b strings.Builder
	for range 20 {
		b.WriteString("\x1b[1;32m✓\x1b[0m ░▒▓ a splash, no stage marker ┌──┐\r\n")
	}
	g.Write([]byte(b.String()))
	o := Run(context.Background(), con, nil, Config{Profile: profile.Redox, Silence: 500 * time.Millisecond, Deadline: 20 * time.Second})
	if o.Verdict != record.Hang {
		t.Fatalf("outcome %s: %s", o.Verdict, o.Reason)
	}
}

// An image that logs in by itself and prints no motd shows only ion's prompt, without a
// line break after it (ion 1440704 src/lib/shell/variables.rs PROMPT: the title escape,
// colours, "${USER}:${SWD}$ "): that is a shell, so the boot passes instead of hanging.
func TestIonPromptWithoutMotdIsAShell(t *testing.T) {
	g, con := guest(t)
	go func() {
		g.Write([]byte("kernel::arch::x86_shared::start:INFO -- Redox OS starting...\r\n" +
			"[src/initnsmgr.rs:169 WARN] Scheme \"file\" not found in namespace\r\n" +
			"\x1b]0;user: /home/user\x07\x1b[38;5;85;1muser\x1b[39m:\x1b[38;5;75m~\x1b[39m$ \x1b[0m"))
	}()
	o := Run(context.Background(), con, nil, Config{Profile: profile.Redox, Silence: 5 * time.Second, Deadline: 20 * time.Second})
	if o.Verdict != record.Pass || !o.Analysis.ReachedLogin {
		t.Fatalf("outcome %s: %s (%+v)", o.Verdict, o.Reason, o.Analysis.Stages)
	}
	if _, ok := o.StageAt["shell"]; !ok {
		t.Errorf("no shell stage: %+v", o.Analysis.Stages)
	}
}
