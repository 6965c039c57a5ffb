package pikvm

import (
	"bytes"
	"context"
	"errors"
	"image/color"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/pikvm/kvmdstandin"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

const testPW = "kvmd-test-pw"

// standin starts a stand-in kvmd (kvmdstandin) wired to an in-memory machine.
func newKVMDStandin(t *testing.T, passwd string) (*kvmdstandin.Server, *kvmdstandin.Model, *httptest.Server) {
	mach := kvmdstandin.NewModel()
	k := kvmdstandin.New(passwd, mach)
	srv := httptest.NewServer(k.Handler())
	t.Cleanup(srv.Close)
	return k, mach, srv
}

func machine(t *testing.T, url string, opts map[string]any, img matrix.Image) *Machine {
	t.Helper()
	t.Setenv("RHW_TEST_PIKVM_PW", testPW)
	o := map[string]any{"address": url, "password_env": "RHW_TEST_PIKVM_PW", "power_timeout": "2s", "min_off": "10ms", "poll": "100ms"}
	for k, v := range opts {
		o[k] = v
	}
	h := matrix.Host{Name: "laptop", Kind: "pikvm", Arch: "x86_64", Options: o}
	m, err := New(h, img, hosts.Env{})
	if err != nil {
		t.Fatal(err)
	}
	return m.(*Machine)
}

// The machine powers on (LED read back), its screen and keys go through kvmd, and it powers
// off (LED read back); its console is screen-only.
func TestPowerScreenKeys(t *testing.T) {
	k, mach, srv := newKVMDStandin(t, testPW)
	m := machine(t, srv.URL, nil, matrix.Image{Name: "i"})
	ctx := context.Background()
	s, err := m.PowerOn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := s.(*hosts.ScreenOnly); !ok {
		t.Fatalf("console %T, want hosts.ScreenOnly", s)
	}
	if !mach.Powered() {
		t.Fatal("power LED off after PowerOn")
	}
	mach.Paint(color.RGBA{200, 10, 10, 255})
	im, err := hosts.ScreenOf(m).Screendump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, _, _ := im.At(5, 5).RGBA(); r>>8 < 180 || g>>8 > 40 {
		t.Errorf("snapshot pixel %v, want the stand-in's red", im.At(5, 5))
	}
	if err := m.SendKeys(ctx, []string{"shift-a", "ret", "ctrl-alt-delete", "f2"}); err != nil {
		t.Fatal(err)
	}
	k.Lock()
	sc := append([]string(nil), k.Shortcuts...)
	k.Unlock()
	if got := strings.Join(sc, " | "); got != "ShiftLeft,KeyA | Enter | ControlLeft,AltLeft,Delete | F2" {
		t.Errorf("shortcuts %q", got)
	}
	if err := m.PowerOff(ctx); err != nil {
		t.Fatal(err)
	}
	if mach.Powered() {
		t.Fatal("power LED on after PowerOff")
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("console after power off: %v, want EOF", err)
	}
}

// A machine whose power does not respond is INFRA naming the power method, on the way up
// and on the way down.
func TestPowerNotChangingIsInfra(t *testing.T) {
	k, _, srv := newKVMDStandin(t, testPW)
	k.Lock()
	k.Stuck = true
	k.Unlock()
	m := machine(t, srv.URL, map[string]any{"power_timeout": "300ms"}, matrix.Image{Name: "i"})
	_, err := m.PowerOn(context.Background())
	if !hosts.IsInfra(err) || !strings.Contains(err.Error(), "power method pikvm-atx") || !strings.Contains(err.Error(), "did not change state") {
		t.Fatalf("PowerOn of a machine that stays off: %v", err)
	}
	k.Lock()
	k.Stuck = false
	k.Unlock()
	if _, err := m.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	k.Lock()
	k.Stuck = true
	k.Unlock()
	if err := m.PowerOff(context.Background()); !hosts.IsInfra(err) || !strings.Contains(err.Error(), "power LED still on") {
		t.Fatalf("PowerOff of a machine that stays on: %v", err)
	}
}

// boot: msd uploads the image, selects it and plugs the drive in before power on; power
// off unplugs it.
func TestMassStorageBoot(t *testing.T) {
	k, _, srv := newKVMDStandin(t, testPW)
	path := filepath.Join(t.TempDir(), "redox.img")
	data := bytes.Repeat([]byte("redox-disk "), 5000)
	os.WriteFile(path, data, 0o644)
	m := machine(t, srv.URL, map[string]any{"boot": "msd"}, matrix.Image{Name: "i", Path: path})
	if _, err := m.PowerOn(context.Background()); err != nil {
		t.Fatal(err)
	}
	k.Lock()
	conn, atOn, sel, img := k.Connected, k.ConnectedAtPowerOn, k.Selected, k.Images["redox.img"]
	k.Unlock()
	if !conn || !atOn || sel != "redox.img" || !bytes.Equal(img, data) {
		t.Fatalf("drive: connected %v (at power on %v), selected %q, %d bytes", conn, atOn, sel, len(img))
	}
	if err := m.PowerOff(context.Background()); err != nil {
		t.Fatal(err)
	}
	k.Lock()
	conn = k.Connected
	k.Unlock()
	if conn {
		t.Error("drive still connected after power off")
	}
}

// A machine that powers off by itself ends the boot (Exited); a PiKVM that stops answering
// ends the console as INFRA; bad credentials are INFRA naming kvmd's refusal.
func TestMachineOffAndPiKVMGone(t *testing.T) {
	_, mach, srv := newKVMDStandin(t, testPW)
	m := machine(t, srv.URL, nil, matrix.Image{Name: "i"})
	s, err := m.PowerOn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	mach.Press(false)
	select {
	case <-m.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("a machine that went off was not noticed")
	}
	if m.ExitErr() == nil {
		t.Error("no exit error")
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("console: %v", err)
	}

	_, _, srv2 := newKVMDStandin(t, testPW)
	m2 := machine(t, srv2.URL, nil, matrix.Image{Name: "i"})
	s2, err := m2.PowerOn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	srv2.CloseClientConnections()
	srv2.Close()
	done := make(chan error, 1)
	go func() { _, err := s2.Read(make([]byte, 1)); done <- err }()
	select {
	case err := <-done:
		if !hosts.IsInfra(err) {
			t.Errorf("console after the PiKVM went away: %v, want INFRA", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the PiKVM going away was not noticed")
	}
	if _, err := m2.Screendump(context.Background()); !hosts.IsInfra(err) {
		t.Errorf("Screendump: %v, want INFRA", err)
	}

	_, _, srv3 := newKVMDStandin(t, "other")
	m3 := machine(t, srv3.URL, nil, matrix.Image{Name: "i"})
	_, err = m3.PowerOn(context.Background())
	var ae *APIError
	if !hosts.IsInfra(err) || !errors.As(err, &ae) || ae.Status != 403 {
		t.Errorf("bad password: %v", err)
	}
}

func TestChordKeys(t *testing.T) {
	for _, bad := range []string{"", "nosuch", "f13", "a--b"} {
		if _, err := chordKeys(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}
