package serial_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/hosts/internal/labproc"
)

// A pretend lab board for the integration tests: a socat pty pair is the serial cable
// (QEMU's UART on one end, the "lab" end a real tty the harness or ser2net opens), and the
// power commands start and stop a QEMU running the stand-in (daemonized, with a pidfile):
// the board is "preinstalled" with the stand-in kernel.

type lab struct {
	dir    string
	fx     string
	vmEnd  string // the tty QEMU's UART uses
	labEnd string // the tty the lab side opens
	pair   *labproc.Proc
}

func newLab(t *testing.T) *lab {
	t.Helper()
	labproc.Need(t, "socat", "qemu-system-x86_64")
	fx := fixtures.Require(t)
	// Short private directory: paths end up in ser2net configs and QEMU arguments.
	dir, err := os.MkdirTemp("", "rhw-lab-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l := &lab{dir: dir, fx: fx}
	l.pair = labproc.Start(t, filepath.Join(dir, "socat.log"), "socat", "-d", "-d",
		"PTY,rawer,link="+filepath.Join(dir, "vm"), "PTY,rawer,link="+filepath.Join(dir, "lab"))
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, errA := filepath.EvalSymlinks(filepath.Join(dir, "vm"))
		b, errB := filepath.EvalSymlinks(filepath.Join(dir, "lab"))
		if errA == nil && errB == nil {
			l.vmEnd, l.labEnd = a, b
			break
		}
		if time.Now().After(deadline) || !l.pair.Alive() {
			log, _ := os.ReadFile(filepath.Join(dir, "socat.log"))
			t.Fatalf("socat pty pair did not come up: %s", log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Cleanup(l.killVM)
	return l
}

// vmPID is the stand-in QEMU's pid (0 if not running).
func (l *lab) vmPID() int { return labproc.Board{Dir: l.dir}.PID() }

func (l *lab) killVM() { labproc.Board{Dir: l.dir}.Kill() }

// powerYAML is the host's power block: QEMU (daemonized) is the board; $RHW_BOOT_ARGS
// reaches the stand-in through fw_cfg. extraArgs go into the fw_cfg string as well.
func (l *lab) powerYAML(extraArgs string) string {
	pid := filepath.Join(l.dir, "vm.pid")
	q := fmt.Sprintf(`qemu-system-x86_64 -accel tcg -cpu max -m 512 -display none -monitor none -nic none`+
		` -kernel %s/vmlinuz-x86_64 -initrd %s/initrd-x86_64.cpio.gz -append 'console=ttyS0 panic=-1'`+
		` -serial %s -fw_cfg name=opt/fx/args,string=\"$RHW_BOOT_ARGS %s\" -name rhw-lab,process=rhw-lab-vm`+
		` -daemonize -pidfile %s`, l.fx, l.fx, l.vmEnd, extraArgs, pid)
	return fmt.Sprintf(`{on: "rm -f %s; %s", off: "[ -f %s ] && kill $(cat %s) 2>/dev/null; for i in $(seq 50); do kill -0 $(cat %s) 2>/dev/null || exit 0; sleep 0.1; done; kill -9 $(cat %s)",
      status: "kill -0 $(cat %s 2>/dev/null) 2>/dev/null && echo on || echo off", min_off: 500ms`,
		pid, q, pid, pid, pid, pid, pid)
}

// ser2net serves the lab end on a raw TCP port and an RFC 2217 telnet port.
type ser2net struct {
	t            *testing.T
	l            *lab
	conf         string
	raw, telnet  int
	p            *labproc.Proc
	starts, logf string
}

func startSer2net(t *testing.T, l *lab) *ser2net {
	t.Helper()
	labproc.Need(t, "ser2net")
	s := &ser2net{t: t, l: l, raw: labproc.FreeTCP(t), telnet: labproc.FreeTCP(t)}
	s.conf = filepath.Join(l.dir, "ser2net.yaml")
	s.logf = filepath.Join(l.dir, "ser2net.log")
	y := fmt.Sprintf(`%%YAML 1.1
---
connection: &lab0raw
    accepter: tcp,127.0.0.1,%d
    connector: serialdev,%s,115200n81,local
    options:
      kickolduser: true
connection: &lab0telnet
    accepter: telnet(rfc2217),tcp,127.0.0.1,%d
    connector: serialdev,%s,115200n81,local
    options:
      kickolduser: true
`, s.raw, l.labEnd, s.telnet, l.labEnd)
	if err := os.WriteFile(s.conf, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start()
	return s
}

func (s *ser2net) start() {
	s.t.Helper()
	s.p = labproc.Start(s.t, s.logf, "ser2net", "-n", "-u", "-c", s.conf)
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", s.raw))
		if err == nil {
			c.Close()
			// That probe connection opened the tty; give ser2net a moment to close it.
			time.Sleep(100 * time.Millisecond)
			return
		}
		if time.Now().After(deadline) || !s.p.Alive() {
			log, _ := os.ReadFile(s.logf)
			s.t.Fatalf("ser2net did not come up: %v: %s", err, log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// transcriptLines reads a transcript as lines.
func transcriptLines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	return lines
}
