package ipmi_test

import (
	"context"
	"maps"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/bmc"
	"github.com/bougou/go-ipmi/pkg/clock"
	"github.com/bougou/go-ipmi/pkg/hal/mock"
	"github.com/bougou/go-ipmi/pkg/server"
	"github.com/bougou/go-ipmi/pkg/transport/udp"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/hosts/internal/labproc"
	"github.com/redox-hwtest/redox-hwtest/hosts/ipmi"
	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// goBMC is go-ipmi's reference BMC (pkg/server) on UDP loopback, accepting cipher suite 17
// only, with an in-memory chassis and console.
type goBMC struct {
	port    int
	pw      string
	chassis *mock.Chassis
	console *mock.FakeConsoleConn
	bmc     *bmc.BMC
}

func newGoBMC(t *testing.T, onPower func(on bool)) *goBMC {
	t.Helper()
	g := &goBMC{pw: randomPassword(t), console: &mock.FakeConsoleConn{}}
	m := mock.New()
	m.SetConsole(&mock.Console{Conn: g.console})
	g.chassis = m.Chassis().(*mock.Chassis)
	g.chassis.SetPowerHook = func(on bool) error {
		g.chassis.On = on // called with the chassis lock held
		if onPower != nil {
			go onPower(on)
		}
		return nil
	}
	b := bmc.New(bmc.DeviceInfo{IPMIVersion: 0x20}, [16]byte{1, 2, 3}, m, bmc.WithClock(clock.Real),
		bmc.WithCipherSuites([]types.CipherSuiteID{types.CipherSuiteID17}))
	g.bmc = b
	u, err := b.Users.Add(2, "admin")
	if err != nil {
		t.Fatal(err)
	}
	u.SetPassword([]byte(g.pw))
	u.Enabled = true
	u.ChannelAccess[1] = bmc.UserChannelAccess{MaxPrivilege: bmc.PrivilegeLevelAdministrator, Enabled: true}
	pc, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	g.port = pc.LocalAddr().(*net.UDPAddr).Port
	srv := server.NewServer(b, udp.Wrap(pc))
	ctx, cancel := context.WithCancel(context.Background())
	go srv.Serve(ctx)
	t.Cleanup(func() { cancel(); srv.Close(); pc.Close() })
	return g
}

func (g *goBMC) on() bool {
	on, _ := g.chassis.PowerState(context.Background())
	return on
}

func bmcOptions(port, cipher int) ipmi.Options {
	return ipmi.Options{Address: "127.0.0.1:" + itoa(port), User: "admin", Cipher: cipher, Privilege: "administrator",
		Retries: 2, Timeout: matrix.Duration{Duration: 500 * time.Millisecond},
		PowerTimeout: matrix.Duration{Duration: 5 * time.Second}, MinOff: matrix.Duration{Duration: 100 * time.Millisecond}}
}

// Chassis control over cipher suite 17 against go-ipmi's own server; a cipher-3 client
// is refused by it, so the suite really is 17.
func TestCipherSuite17ChassisControl(t *testing.T) {
	g := newGoBMC(t, nil)
	ctx := context.Background()
	b := ipmi.NewBMC(bmcOptions(g.port, 17), g.pw, nil)
	defer b.Close()
	if st, err := b.Status(ctx); err != nil || st != power.Off {
		t.Fatalf("status over cipher 17: %v %v", st, err)
	}
	if err := b.On(ctx); err != nil || !g.on() {
		t.Fatalf("on: %v (chassis on %v)", err, g.on())
	}
	if err := b.SetBootDevice(ctx, "pxe", true); err != nil {
		t.Fatal(err)
	}
	if f, _ := g.chassis.GetBootFlags(ctx); f == nil || f.BootDeviceSelector != types.BootDeviceSelectorForcePXE || f.BIOSBootType != types.BIOSBootTypeEFI || f.Persist {
		t.Fatalf("boot flags %+v", f)
	}
	if err := b.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if err := b.Off(ctx); err != nil || g.on() {
		t.Fatalf("off: %v (chassis on %v)", err, g.on())
	}
	b3 := ipmi.NewBMC(bmcOptions(g.port, 3), g.pw, nil)
	defer b3.Close()
	if _, err := b3.Status(ctx); err == nil {
		t.Fatal("a cipher-3 session was accepted by a cipher-17-only BMC")
	}
	bad := ipmi.NewBMC(bmcOptions(g.port, 17), "wrong-password", nil)
	defer bad.Close()
	if _, err := bad.Status(ctx); err == nil || !strings.Contains(err.Error(), "BMC unreachable after 2 session attempts") {
		t.Fatalf("wrong password: %v", err)
	}
}

// boot runs the boot suite's boot of the stand-in on an ipmi host named name whose BMC is g,
// with the console silence limit and options beyond the BMC's address and password.
func (g *goBMC) boot(t *testing.T, runDir, name string, silence time.Duration, options map[string]any) *job.Booted {
	t.Setenv("RHW_TEST_GOBMC_PW", g.pw)
	o := map[string]any{"address": "127.0.0.1:" + itoa(g.port), "password_env": "RHW_TEST_GOBMC_PW", "min_off": "100ms", "poll": "1s"}
	maps.Copy(o, options)
	m := &matrix.Matrix{Settings: matrix.Settings{Silence: matrix.Duration{Duration: silence}, BootTimeout: matrix.Duration{Duration: 30 * time.Second}}}
	j := matrix.Job{
		Image: matrix.Image{Name: "standin", Arch: "x86_64", Profile: "standin", Path: "/nonexistent/preinstalled.img"},
		Host:  matrix.Host{Name: name, Kind: "ipmi", Arch: "x86_64", Options: o},
		Suite: matrix.Suite{Name: "boot"},
	}
	return job.Boot(context.Background(), m, j, job.Options{RunDir: runDir, LockDir: t.TempDir()})
}

// A whole job over cipher 17 (the default) against go-ipmi's server: its SOL console is
// fed a stand-in boot when the chassis powers on.
func TestCipherSuite17BootOverSOL(t *testing.T) {
	var g *goBMC
	g = newGoBMC(t, func(on bool) {
		if !on {
			return
		}
		for _, l := range []string{"Linux version 6.1 (fake)\r\n", "FX: init started (x86_64)\r\n", "FX: stage modules\r\n", "FX: stage shell\r\n", "FX: boot complete\r\n", "fx# "} {
			time.Sleep(100 * time.Millisecond)
			g.console.FeedRX([]byte(l))
		}
	})
	runDir := t.TempDir()
	b := g.boot(t, runDir, "gobmc", 5*time.Second, nil)
	b.WriteRecord(runDir, b.BootChecks())
	b.Close()
	if b.Outcome.Verdict != record.Pass {
		hl, _ := os.ReadFile(filepath.Join(b.Dir, "host.log"))
		t.Fatalf("%s: %s\n%s", b.Outcome.Verdict, b.Outcome.Reason, hl)
	}
	if g.on() {
		t.Error("chassis still on after Close")
	}
	if f := b.Machine.Facts(); !strings.HasSuffix(f["bmc"], "cipher 17") {
		t.Errorf("facts %v", f)
	}
	labproc.NoSecretIn(t, runDir, g.pw)
}

// A BMC that drops SOL on a power transition (some do): the console reconnects, the gap is
// marked, and the boot, whose output the BMC buffered meanwhile, still passes.
func TestSOLDroppedOnPowerOnReconnects(t *testing.T) {
	var g *goBMC
	g = newGoBMC(t, func(on bool) {
		if !on {
			return
		}
		g.bmc.SOL.DeactivateBySession(g.bmc.SOL.ActiveSessionID(1))
		for _, l := range []string{"Linux version 6.1 (fake)\r\n", "FX: init started (x86_64)\r\n", "FX: stage modules\r\n", "FX: boot complete\r\n"} {
			time.Sleep(300 * time.Millisecond)
			g.console.FeedRX([]byte(l))
		}
	})
	b := g.boot(t, t.TempDir(), "gobmc-drop", 10*time.Second, map[string]any{
		"timeout": "300ms", "reconnect": map[string]any{"min": "100ms", "max": "500ms", "give_up": "10s"}})
	b.Close()
	hl, _ := os.ReadFile(filepath.Join(b.Dir, "host.log"))
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("%s: %s\n%s", b.Outcome.Verdict, b.Outcome.Reason, hl)
	}
	tr, _ := os.ReadFile(filepath.Join(b.Dir, job.Transcript))
	if !strings.Contains(string(tr), "### redox-hwtest: console back after") {
		t.Fatalf("no reconnection marked:\n%s\nhost.log:\n%s", tr, hl)
	}
	for _, l := range strings.Split(string(tr), "\n") {
		if strings.Contains(l, "console back after") {
			t.Logf("%s", strings.TrimSpace(l))
		}
	}
}
