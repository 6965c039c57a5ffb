package pikvm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/pikvm/kvmdstandin"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// A power block that does not change the machine's state is INFRA naming the power method,
// on the way up and on the way down; its status command is the read-back.
func TestPowerCommandNotChangingIsInfra(t *testing.T) {
	_, _, srv := newKVMDStandin(t, testPW)
	dir := t.TempDir()
	state := filepath.Join(dir, "on")
	status := "[ -f " + state + " ] && echo on || echo off"
	block := func(on, off string) map[string]any {
		return map[string]any{"on": on, "off": off, "status": status, "settle": "300ms", "min_off": "10ms"}
	}
	m := machine(t, srv.URL, map[string]any{"power": block("true", "rm -f "+state)}, matrix.Image{Name: "i"})
	_, err := m.PowerOn(context.Background())
	if !hosts.IsInfra(err) || !strings.Contains(err.Error(), "power method command (with status)") || !strings.Contains(err.Error(), "did not change state") {
		t.Fatalf("PowerOn of a machine that stays off: %v", err)
	}
	m = machine(t, srv.URL, map[string]any{"power": block("touch "+state, "true")}, matrix.Image{Name: "i"})
	if _, err := m.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	if f := m.Facts()["power"]; f != "command (with status)" {
		t.Errorf("facts power %q", f)
	}
	if err := m.PowerOff(context.Background()); !hosts.IsInfra(err) || !strings.Contains(err.Error(), "power method command") || !strings.Contains(err.Error(), "status still on") {
		t.Fatalf("PowerOff of a machine that stays on: %v", err)
	}
}

// startPausedVNC is QEMU's VNC server in front of a paused VM (its VGA screen, nothing
// running): a real RFB peer with VNC authentication, on a unix socket, behind the stand-in
// kvmd-vnc port (kvmdstandin.VNC) whose Close makes the server go away.
func startPausedVNC(t *testing.T, password string) *kvmdstandin.VNC {
	t.Helper()
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		t.Skip("qemu-system-x86_64 not installed")
	}
	dir := t.TempDir()
	pw, sock := filepath.Join(dir, "vnc.pw"), filepath.Join(dir, "vnc.sock")
	os.WriteFile(pw, []byte(password), 0o600)
	cmd := exec.Command("qemu-system-x86_64", "-S", "-nodefaults", "-display", "none", "-no-user-config",
		"-machine", "pc", "-accel", "tcg", "-m", "64M", "-vga", "std",
		"-object", "secret,id=vncpw,file="+pw, "-vnc", "unix:"+sock+",password-secret=vncpw")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() })
	for i := 0; ; i++ {
		if _, err := os.Stat(sock); err == nil {
			break
		}
		if i > 300 {
			t.Fatal("QEMU's VNC socket did not appear")
		}
		time.Sleep(20 * time.Millisecond)
	}
	v, err := kvmdstandin.StartVNC(sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return v
}

// screen: vnc takes the screen over RFB with the VNC password; a server that goes away
// under a running machine is INFRA, never a stalled screen; a wrong password is INFRA at
// power on, and the machine is not left on.
func TestVNCScreen(t *testing.T) {
	old := vncWindow
	vncWindow = time.Second
	t.Cleanup(func() { vncWindow = old })
	k, mach, srv := newKVMDStandin(t, testPW)
	v := startPausedVNC(t, "vnc-pw-1")
	t.Setenv("RHW_TEST_PIKVM_VNC_PW", "vnc-pw-1")
	m := machine(t, srv.URL, map[string]any{"screen": "vnc", "vnc_address": v.Addr, "vnc_password_env": "RHW_TEST_PIKVM_VNC_PW"}, matrix.Image{Name: "i"})
	ctx := context.Background()
	if _, err := m.PowerOn(ctx); err != nil {
		t.Fatal(err)
	}
	im, err := m.Screendump(ctx)
	if err != nil || im.Bounds().Dx() < 320 {
		t.Fatalf("screendump over VNC: %v %v", im, err)
	}
	if err := m.SendKeys(ctx, []string{"shift-a", "ret"}); err != nil {
		t.Fatal(err)
	}
	k.Lock()
	n := len(k.Shortcuts)
	k.Unlock()
	if n != 0 {
		t.Errorf("%d chords went through kvmd's HID, want RFB", n)
	}
	if f := m.Facts()["screen"]; f != "vnc "+v.Addr {
		t.Errorf("facts screen %q", f)
	}
	v.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := m.Screendump(ctx)
		if err != nil {
			if !hosts.IsInfra(err) {
				t.Fatalf("screendump after the VNC server went away: %v, want INFRA", err)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the VNC server going away was not noticed")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err := m.PowerOff(ctx); err != nil {
		t.Fatal(err)
	}

	v2 := startPausedVNC(t, "vnc-pw-1")
	t.Setenv("RHW_TEST_PIKVM_VNC_PW", "wrong-pw")
	m2 := machine(t, srv.URL, map[string]any{"screen": "vnc", "vnc_address": v2.Addr, "vnc_password_env": "RHW_TEST_PIKVM_VNC_PW"}, matrix.Image{Name: "i"})
	if _, err := m2.PowerOn(ctx); !hosts.IsInfra(err) || !strings.Contains(err.Error(), "vnc "+v2.Addr) {
		t.Fatalf("wrong VNC password: %v, want INFRA naming the VNC server", err)
	}
	if mach.Powered() {
		t.Error("the machine was left on after the VNC screen failed")
	}
}
