package cloudhypervisor

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// A FAKE cloud-hypervisor process, for the lifecycle tests only: the test binary re-executed
// with fakeCHEnv=1 takes cloud-hypervisor's arguments, serves the fake API (fakeVMM) on
// --api-socket, and runs a fake "guest" that prints numbered lines on the serial port
// (stdout with --serial tty, or the serial socket in socket mode), echoes what it is sent,
// stops printing while paused, and then prints a tick every 50ms. The real VMM cannot run
// here; this exercises everything around it: the pty, the process group, reaping, the API
// wait, INFRA on death, PowerOff's escalation. FAKE_CH_MODE picks a behaviour:
//
//	""                 as the VMM: vmm.shutdown exits
//	"die"              the guest's lines, then exit status 3 with a message on stderr
//	"ignore-shutdown"  vmm.shutdown and SIGTERM are ignored (only SIGKILL ends it)
//	"exit-at-start"    a command-line error: message on stderr, exit status 1
//	"die-at-boot"      at vm.boot, before the guest printed anything: message on stderr,
//	                   exit status 1 (a firmware file that cannot be loaded)
//	"no-api"           never serves its API socket
//	"old-socket"       socket mode as older VMMs: the serial socket appears at vm.boot and
//	                   output before a client connects is dropped
const (
	fakeCHEnv      = "REDOX_HWTEST_FAKE_CH"
	fakeModeEnv    = "FAKE_CH_MODE"
	fakePIDFileEnv = "FAKE_CH_PIDFILE" // where the fake writes the pid of a child it starts
	fakeChildEnv   = "FAKE_CH_CHILD"
	fakeLines      = 2000 // ~200 KB: more than a pty holds, so the guest must wait for the reader
)

func TestMain(m *testing.M) {
	switch {
	case os.Getenv(fakeChildEnv) == "1":
		time.Sleep(5 * time.Minute) // a helper in the VMM's process group
		os.Exit(0)
	case os.Getenv(fakeCHEnv) == "1":
		os.Exit(fakeCHMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func fakeCHMain(args []string) int {
	mode := os.Getenv(fakeModeEnv)
	var apiSock string
	vmOnCommandLine := false
	var cfg VMConfig
	for i := 0; i < len(args); i++ {
		next := func() string {
			if i+1 < len(args) {
				i++
				return args[i]
			}
			return ""
		}
		switch args[i] {
		case "--api-socket":
			apiSock = strings.TrimPrefix(next(), "path=")
		case "--firmware":
			vmOnCommandLine, cfg.Payload.Firmware = true, next()
		case "--kernel":
			vmOnCommandLine, cfg.Payload.Kernel = true, next()
		case "--disk", "--cpus", "--memory", "--console", "--net", "--initramfs", "--cmdline", "--serial":
			next()
		}
	}
	if mode == "exit-at-start" {
		fmt.Fprintln(os.Stderr, "fake-ch: Error parsing config: bad things")
		return 1
	}
	if mode == "ignore-shutdown" {
		signal.Ignore(syscall.SIGTERM)
	}
	if pf := os.Getenv(fakePIDFileEnv); pf != "" {
		exe, _ := os.Executable()
		child := exec.Command(exe)
		child.Env = append(os.Environ(), fakeChildEnv+"=1")
		if err := child.Start(); err == nil {
			os.WriteFile(pf, []byte(fmt.Sprint(child.Process.Pid)), 0o644)
		}
	}
	if mode == "no-api" {
		select {}
	}
	g := &fakeGuest{mode: mode}
	g.cond = sync.NewCond(&g.mu)
	f, err := startFakeVMM(apiSock)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake-ch:", err)
		return 1
	}
	f.onStateChange = g.setState
	f.onShutdownVMM = func() {
		if mode != "ignore-shutdown" {
			time.Sleep(10 * time.Millisecond)
			os.Exit(0)
		}
	}
	if vmOnCommandLine {
		// --serial tty: the guest's serial port is stdout, its input stdin.
		f.setRunning(&cfg)
		g.setOut(os.Stdout)
		go g.echo(os.Stdin)
		go g.run()
		select {}
	}
	// Socket mode: the VM comes from vm.create.
	var (
		ln       net.Listener
		sockPath string
	)
	listen := func() error {
		var err error
		ln, err = net.Listen("unix", sockPath)
		return err
	}
	acceptLoop := func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.setOut(c)
			go g.echo(c)
		}
	}
	f.onCreate = func(c VMConfig) error {
		if c.Serial == nil || c.Serial.Mode != ModeSocket || c.Serial.Socket == "" {
			return fmt.Errorf("fake: want a socket serial, got %+v", c.Serial)
		}
		sockPath = c.Serial.Socket
		if mode == "old-socket" {
			return nil
		}
		return listen()
	}
	f.onBoot = func() error {
		if mode == "old-socket" {
			if err := listen(); err != nil {
				return err
			}
		} else if ul, ok := ln.(*net.UnixListener); ok {
			// As the VMM's serial manager: a connection made before the boot is accepted
			// before the guest runs.
			ul.SetDeadline(time.Now().Add(2 * time.Second))
			if c, err := ul.Accept(); err == nil {
				g.setOut(c)
				go g.echo(c)
			}
			ul.SetDeadline(time.Time{})
		}
		go acceptLoop()
		go g.run()
		return nil
	}
	select {}
}

type fakeGuest struct {
	mode   string
	mu     sync.Mutex
	cond   *sync.Cond
	paused bool
	out    io.Writer // nil: no client, output is dropped
	wmu    sync.Mutex
}

func (g *fakeGuest) setOut(w io.Writer) {
	g.mu.Lock()
	g.out = w
	g.mu.Unlock()
}

func (g *fakeGuest) setState(s string) {
	g.mu.Lock()
	g.paused = s == StatePaused
	g.cond.Broadcast()
	g.mu.Unlock()
}

// write prints one line on the serial port, once the guest runs.
func (g *fakeGuest) write(s string) {
	g.mu.Lock()
	for g.paused {
		g.cond.Wait()
	}
	w := g.out
	g.mu.Unlock()
	if w == nil {
		return
	}
	g.wmu.Lock()
	io.WriteString(w, s)
	g.wmu.Unlock()
}

func (g *fakeGuest) run() {
	filler := strings.Repeat("=", 72)
	if g.mode == "die-at-boot" {
		fmt.Fprintln(os.Stderr, "fake-ch: cannot load the firmware")
		os.Exit(1)
	}
	for i := 0; i < fakeLines; i++ {
		g.write(fmt.Sprintf("FAKE-GUEST line %05d %s\n", i, filler))
	}
	if g.mode == "die" {
		g.write("FAKE-GUEST dying\n")
		fmt.Fprintln(os.Stderr, "fake-ch: the guest died")
		os.Exit(3)
	}
	g.write("FAKE-GUEST done\n")
	for {
		time.Sleep(50 * time.Millisecond)
		g.write("FAKE-GUEST tick\n")
	}
}

// echo answers every line the guest is sent (ended by CR or LF) with "FAKE-ECHO <line>".
func (g *fakeGuest) echo(r io.Reader) {
	buf := make([]byte, 256)
	var line []byte
	for {
		n, err := r.Read(buf)
		for _, b := range buf[:n] {
			if b == '\r' || b == '\n' {
				g.write("FAKE-ECHO " + string(line) + "\n")
				line = line[:0]
				continue
			}
			line = append(line, b)
		}
		if err != nil {
			if n == 0 && isTemporary(err) {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return
		}
	}
}

func isTemporary(err error) bool {
	return err == syscall.EAGAIN || strings.Contains(err.Error(), "resource temporarily unavailable")
}
