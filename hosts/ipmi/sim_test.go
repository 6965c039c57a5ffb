package ipmi_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bougou/go-ipmi/pkg/client"
	"github.com/bougou/go-ipmi/pkg/types"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/hosts/internal/labproc"
)

// bmcSim is OpenIPMI's ipmi_sim on loopback whose chassis power starts and stops a QEMU
// running the stand-in (fixtures.md section 5, "relay" recipe): a persistent socat relay owns
// the pty ipmi_sim reads as the SOL serial port, and each VM dials into the relay with
// -serial tcp:. Ports are chosen at run time; everything runs in process groups of its
// own and is killed at cleanup.
type bmcSim struct {
	t        *testing.T
	dir      string
	fx       string
	lanPort  int
	password string
	relay    *labproc.Proc
	sim      *labproc.Proc
	qemuArgs string
}

func itoa(i int) string { return strconv.Itoa(i) }

func randomPassword(t *testing.T) string {
	b := make([]byte, 6)
	rand.Read(b)
	return "bmc-" + hex.EncodeToString(b)
}

// newBMCSim starts the relay and ipmi_sim; qemuArgs are the stand-in's boot arguments
// (kernel, network) with "@FX@" (the fixtures), "@DIR@" (the private directory) and "@PW@"
// (the BMC password: a test puts it where the guest prints it) replaced.
func newBMCSim(t *testing.T, qemuArgs string) *bmcSim {
	t.Helper()
	labproc.Need(t, "ipmi_sim", "socat", "qemu-system-x86_64")
	fx := fixtures.Require(t)
	dir, err := os.MkdirTemp("", "rhw-bmc-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &bmcSim{t: t, dir: dir, fx: fx, lanPort: labproc.FreeUDP(t), password: randomPassword(t)}
	relayPort, vmPort := labproc.FreeTCP(t), labproc.FreeTCP(t)
	relayLog := filepath.Join(dir, "relay.log")
	s.relay = labproc.Start(t, relayLog, "socat", "-d", "-d", "PTY,rawer", fmt.Sprintf("TCP-LISTEN:%d,bind=127.0.0.1,reuseaddr,fork", relayPort))
	re := regexp.MustCompile(`PTY is (/dev/pts/\d+)`)
	deadline := time.Now().Add(10 * time.Second)
	var pty string
	for pty == "" {
		b, _ := os.ReadFile(relayLog)
		if m := re.FindSubmatch(b); m != nil {
			pty = string(m[1])
			break
		}
		if time.Now().After(deadline) || !s.relay.Alive() {
			t.Fatalf("socat relay did not come up: %s", b)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The link by hand: socat's own link= is removed by the first forked child that ends.
	// Its name must be unique on the machine: ipmi_sim takes a UUCP lock named after the
	// device's base name (/run/lock/LCK..<name>), so two simulators whose SOL devices are
	// both called con0 refuse each other ("SOL device ... is already owned by process N").
	con := filepath.Join(dir, "sol-"+filepath.Base(dir))
	if err := os.Symlink(pty, con); err != nil {
		t.Fatal(err)
	}
	s.qemuArgs = strings.NewReplacer("@DIR@", dir, "@FX@", fx, "@PW@", s.password).Replace(qemuArgs)
	startcmd := fmt.Sprintf("qemu-system-x86_64 -accel tcg -cpu max -m 512 -display none -monitor none %s"+
		" -chardev socket,id=ipmi0,host=127.0.0.1,port=%d,reconnect=10 -device ipmi-bmc-extern,id=bmc0,chardev=ipmi0 -device isa-ipmi-kcs,bmc=bmc0"+
		" -serial tcp:127.0.0.1:%d -pidfile %s/vm.pid", s.qemuArgs, vmPort, relayPort, dir)
	conf := fmt.Sprintf(`name "fxbmc"
set_working_mc 0x20
  startlan 1
    addr 127.0.0.1 %d
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid a123456789abcdefa123456789abcdef
  endlan
  serial 15 127.0.0.1 %d codec VM
  startcmd "%s"
  sol "%s" 115200 history=65536 nortscts
  startnow false
  poweroff_wait 5
  kill_wait 5
  user 1 true  ""        "test"   user  10  none md2 md5 straight
  user 2 true  "admin"   "%s" admin 10  none md2 md5 straight
`, s.lanPort, vmPort, startcmd, con, s.password)
	if err := os.WriteFile(filepath.Join(dir, "lan.conf"), []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	emu := "mc_setbmc 0x20\nmc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr\nsel_enable 0x20 1000 0x0a\nmc_enable 0x20\n"
	os.WriteFile(filepath.Join(dir, "fxbmc.emu"), []byte(emu), 0o644)
	os.Mkdir(filepath.Join(dir, "state"), 0o755)
	s.startSim()
	t.Cleanup(s.killVM)
	return s
}

func (s *bmcSim) startSim() {
	t := s.t
	t.Helper()
	s.sim = labproc.Start(t, filepath.Join(s.dir, "sim.log"), "ipmi_sim", "-n", "-c", filepath.Join(s.dir, "lan.conf"),
		"-f", filepath.Join(s.dir, "fxbmc.emu"), "-s", filepath.Join(s.dir, "state"))
	deadline := time.Now().Add(15 * time.Second)
	for {
		if _, err := s.status(); err == nil {
			return
		}
		if time.Now().After(deadline) || !s.sim.Alive() {
			b, _ := os.ReadFile(filepath.Join(s.dir, "sim.log"))
			t.Fatalf("ipmi_sim did not come up on udp port %d: %s", s.lanPort, b)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// status asks the simulated BMC for the chassis power (our own session, cipher 3).
func (s *bmcSim) status() (bool, error) {
	c, err := client.NewClient("127.0.0.1", s.lanPort, "admin", s.password)
	if err != nil {
		return false, err
	}
	c.WithCipherSuiteID(types.CipherSuiteID3).WithTimeout(500 * time.Millisecond).WithRetry(1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Connect(ctx); err != nil {
		c.Close(ctx)
		return false, err
	}
	defer c.Close(ctx)
	st, err := c.GetChassisStatus(ctx)
	if err != nil {
		return false, err
	}
	return st.PowerIsOn, nil
}

// vmPID is the stand-in QEMU's pid (0 if not running).
func (s *bmcSim) vmPID() int { return labproc.Board{Dir: s.dir}.PID() }

func (s *bmcSim) killVM() { labproc.Board{Dir: s.dir}.Kill() }

// kernelArgs boots the stand-in kernel directly; extra goes on the kernel command line.
func kernelArgs(extra string) string {
	return "-nic none -kernel @FX@/vmlinuz-x86_64 -initrd @FX@/initrd-x86_64.cpio.gz -append 'console=ttyS0 panic=-1 " + extra + "'"
}
