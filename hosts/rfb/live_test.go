package rfb_test

import (
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/hosts/qemu"
	"github.com/redox-hwtest/redox-hwtest/hosts/qemu/qemutest"
	"github.com/redox-hwtest/redox-hwtest/hosts/rfb"
)

// vncVM is the stand-in (Debian kernel + busybox, fixtures/) booted by QEMU with a VGA
// display and QEMU's own VNC server on loopback with password authentication: the real RFB
// peer of these tests. Its kernel switches to a 1024x768 VESA mode (vga=0x318), so the VNC
// desktop changes size during the boot, and /dev/console is the VGA console (console=tty0
// last): the shell reads the keyboard the RFB client types on. The serial line goes to a
// file, so a command typed on the screen can prove it ran (echo ... > /dev/ttyS0).
type vncVM struct {
	cmd    *exec.Cmd
	qmp    *qemu.QMP
	addr   string
	serial string
}

const vncPassword = "rhw-pw42"

func startVNCVM(t *testing.T, extraArgs string) *vncVM {
	t.Helper()
	dir := fixtures.Require(t)
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	tmp, err := os.MkdirTemp("", "rfb")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(tmp) })
	qmpSock := filepath.Join(tmp, "qmp.sock")
	serial := filepath.Join(tmp, "serial.log")
	cmd := qemutest.Command(dir, qmpSock, "256M", "console=ttyS0 console=tty0 panic=-1 vga=0x318 "+extraArgs, "-S",
		"-chardev", "file,id=s0,path="+serial, "-serial", "chardev:s0",
		// to=99: QEMU takes the first free display from :0, so parallel tests and other
		// users' VNC servers do not collide; query-vnc says which it took.
		"-vnc", "127.0.0.1:0,to=99,password=on,lossy=on")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	vm := &vncVM{cmd: cmd, serial: serial}
	t.Cleanup(vm.kill)
	if vm.qmp, err = qemutest.DialQMP(qmpSock); err != nil {
		t.Fatalf("QMP: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := vm.qmp.Execute(ctx, "change-vnc-password", map[string]any{"password": vncPassword}); err != nil {
		t.Fatal(err)
	}
	raw, err := vm.qmp.Execute(ctx, "query-vnc", nil)
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Host, Service string
	}
	if err := json.Unmarshal(raw, &info); err != nil || info.Service == "" {
		t.Fatalf("query-vnc: %s (%v)", raw, err)
	}
	vm.addr = info.Host + ":" + info.Service
	return vm
}

func (vm *vncVM) cont(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := vm.qmp.Cont(ctx); err != nil {
		t.Fatal(err)
	}
}

// kill ends the QEMU this test started (its process group) and reaps it.
func (vm *vncVM) kill() {
	if vm.cmd.Process != nil && vm.cmd.ProcessState == nil {
		syscall.Kill(-vm.cmd.Process.Pid, syscall.SIGKILL)
		vm.cmd.Wait()
	}
	if vm.qmp != nil {
		vm.qmp.Close()
	}
}

// waitSerial waits (bounded) for s in the serial log.
func (vm *vncVM) serialHas(s string) bool {
	b, _ := os.ReadFile(vm.serial)
	return strings.Contains(string(b), s)
}

func dial(t *testing.T, addr string, o rfb.Options) *rfb.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := rfb.Dial(ctx, addr, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestLiveQEMU: the client authenticates to QEMU's VNC server (a wrong password is refused),
// follows the boot's framebuffer through the mode change to 1024x768 in Tight, and types a
// command on the VM's keyboard that the stand-in's shell runs.
func TestLiveQEMU(t *testing.T) {
	// Linux probes the PS/2 keyboard with timeouts in guest time, which runs on while a
	// TCG guest waits for a loaded host's CPU: the probe can fail, and that guest has no
	// keyboard at all (no "input: AT Translated Set 2 keyboard" line). A CI run with three
	// test packages at once typed into a guest for 5 minutes, its prompt on the screen and
	// nothing echoed. A guest without a keyboard is the stand-in's fault, not the client's:
	// it is booted again, at most twice, with the reason logged; a guest with one that
	// runs nothing still fails, with its serial log.
	var vm *vncVM
	var c *rfb.Client
	for boot := 1; ; boot++ {
		vm = startVNCVM(t, "")
		c = bootToShell(t, vm, boot == 1)
		if c != nil {
			break
		}
		if boot == 3 {
			t.Fatal("three boots of the stand-in registered no keyboard")
		}
		t.Logf("boot %d: the guest registered no keyboard (Linux's i8042 probe timed out under load); booting again", boot)
		vm.kill() // its client is closed at the end of the test (dial)
	}
	deadline := time.Now().Add(5 * time.Minute)
	// Tight/JPEG: QEMU sends JPEG for an area that changes often (lossy=on keeps the update
	// statistics; a rarely updated area stays lossless) and has many colours, which a text
	// console never has. Random bytes written to the framebuffer over and over are both.
	before := c.Stats().Rects["tight-jpeg"]
	kctx, kcancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := c.SendKeys(kctx, typeChords(t, "while :; do cat /dev/urandom >/dev/fb0; done 2>/dev/null &\n")); err != nil {
		t.Fatal(err)
	}
	kcancel()
	for c.Stats().Rects["tight-jpeg"] == before {
		if time.Now().After(deadline) {
			t.Fatalf("no Tight/JPEG rectangle: %+v", c.Stats())
		}
		wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.WaitUpdate(wctx, c.Stats().Updates)
		wcancel()
		if err := c.Err(); err != nil {
			t.Fatal(err)
		}
	}
	im, err := c.Screendump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if b := im.Bounds(); b.Dx() != 1024 || b.Dy() != 768 {
		t.Fatalf("screen %v", b)
	}
	st := c.Stats()
	t.Logf("stats %+v", st)
	if st.Rects["tight-basic"]+st.Rects["tight-fill"]+st.Rects["tight-jpeg"] == 0 {
		t.Fatalf("no Tight rectangle from QEMU: %+v", st)
	}
}

func typeChords(t *testing.T, s string) []string {
	t.Helper()
	chords, err := screenChords(s)
	if err != nil {
		t.Fatal(err)
	}
	return chords
}

// saveScreen writes the client's framebuffer as a PNG beside the test's output, for a
// failure's message.
func saveScreen(t *testing.T, c *rfb.Client) string {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	im, err := c.Screendump(ctx)
	if err != nil {
		return err.Error()
	}
	f, err := os.CreateTemp("", "rfb-screen-*.png")
	if err != nil {
		return err.Error()
	}
	defer f.Close()
	png.Encode(f, im)
	return f.Name()
}

// TestLiveServerGone: QEMU (and so its VNC server) dies in the middle of the boot; the
// client ends with an error that says the server went away (ErrGone: INFRA for a host, never
// a stalled screen judged as a HANG), within a bounded time, and so does a Screendump.
func TestLiveServerGone(t *testing.T) {
	vm := startVNCVM(t, "")
	c := dial(t, vm.addr, rfb.Options{Password: vncPassword})
	vm.cont(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if _, err := c.WaitUpdate(ctx, 3); err != nil {
		t.Fatal(err)
	}
	vm.kill()
	select {
	case <-c.Done():
	case <-ctx.Done():
		t.Fatal("the client did not notice the server went away")
	}
	if err := c.Err(); !errors.Is(err, rfb.ErrGone) {
		t.Fatalf("err %v, want ErrGone", err)
	}
	if _, err := c.Screendump(ctx); !errors.Is(err, rfb.ErrGone) {
		t.Fatalf("Screendump: %v, want ErrGone", err)
	}
	if err := c.SendKeys(ctx, []string{"ret"}); !errors.Is(err, rfb.ErrGone) {
		t.Fatalf("SendKeys: %v, want ErrGone", err)
	}
}

// tcpProxy forwards a loopback port to QEMU's VNC server; stopping it and starting it again
// on the same port is the RFB server restarting, as a KVM device's VNC service can (QEMU's
// own server cannot be restarted under a running VM).
type tcpProxy struct {
	addr, to string
	mu       sync.Mutex
	ln       net.Listener
	conns    []net.Conn
}

func (p *tcpProxy) start(t *testing.T) {
	t.Helper()
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p.mu.Lock()
	p.ln, p.addr = ln, ln.Addr().String()
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", p.to)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, s)
			p.mu.Unlock()
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
}

func (p *tcpProxy) stop() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ln.Close()
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

// TestLiveServerRestart: the RFB server goes away and comes back on the same address; the
// Redialer reconnects and the screen is there again. A server that does not come back
// within the window is gone (ErrGone).
func TestLiveServerRestart(t *testing.T) {
	vm := startVNCVM(t, "")
	p := &tcpProxy{to: vm.addr}
	p.start(t)
	defer p.stop()
	r := &rfb.Redialer{Addr: p.addr, Opts: rfb.Options{Password: vncPassword}, Window: 60 * time.Second}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if err := r.Dial(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	vm.cont(t)
	if _, err := r.Screendump(ctx); err != nil {
		t.Fatal(err)
	}
	p.stop()
	time.Sleep(time.Second)
	p.start(t)
	im, err := r.Screendump(ctx)
	if err != nil || r.Redials != 1 {
		t.Fatalf("after the restart: %v, %d redials", err, r.Redials)
	}
	if b := im.Bounds(); b.Dx() == 0 {
		t.Fatalf("screen %v", b)
	}
	if err := r.SendKeys(ctx, []string{"ret"}); err != nil {
		t.Fatal(err)
	}
	p.stop()
	time.Sleep(time.Second) // until the client has seen its connection close (before that, the last frame is the screen)
	r.Window = 2 * time.Second
	start := time.Now()
	if _, err := r.Screendump(ctx); !errors.Is(err, rfb.ErrGone) {
		t.Fatalf("a server that stays away: %v, want ErrGone", err)
	}
	t.Logf("gone reported after %s", time.Since(start).Round(time.Millisecond))
}

// bootToShell authenticates to vm's VNC server (a wrong password must be refused, checked
// on the first boot), follows the boot through the mode change to 1024x768 in Tight and
// types a command until the shell ran it. It returns nil when the guest registered no
// keyboard (see TestLiveQEMU).
func bootToShell(t *testing.T, vm *vncVM, wrongPassword bool) *rfb.Client {
	t.Helper()
	if wrongPassword {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if _, err := rfb.Dial(ctx, vm.addr, rfb.Options{Password: "wrong"}); err == nil || errors.Is(err, rfb.ErrGone) {
			t.Fatalf("a wrong password: %v, want an authentication error", err)
		}
		cancel()
	}
	c := dial(t, vm.addr, rfb.Options{Password: vncPassword})
	vm.cont(t)
	deadline := time.Now().Add(5 * time.Minute)
	for {
		st := c.Stats()
		if st.Size.X == 1024 && st.Size.Y == 768 && st.Resizes > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mode change to 1024x768: %+v", st)
		}
		wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
		c.WaitUpdate(wctx, st.Updates)
		wcancel()
		if err := c.Err(); err != nil {
			t.Fatal(err)
		}
	}
	// The shell starts a little after the mode change; type until it has run the command
	// (input typed before the shell opens the console is dropped).
	typing := time.Now()
	for !vm.serialHas("rfb-key-42") {
		if time.Since(typing) > time.Minute && !vm.serialHas("input: AT Translated Set 2 keyboard") {
			return nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(vm.serial)
			t.Fatalf("the typed command never ran; stats %+v; last screen %s; the guest's serial log:\n%s", c.Stats(), saveScreen(t, c), log)
		}
		kctx, kcancel := context.WithTimeout(context.Background(), 10*time.Second)
		if err := c.SendKeys(kctx, typeChords(t, "echo rfb-key-$((6*7)) >/dev/ttyS0\n")); err != nil {
			t.Fatalf("%v (connection: %v)", err, c.Err())
		}
		kcancel()
		time.Sleep(3 * time.Second)
	}
	return c
}
