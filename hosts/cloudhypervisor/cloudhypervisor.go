// Package cloudhypervisor is the cloud-hypervisor host kind: Redox booted on Cloud Hypervisor
// the way the RedoxOS Pure Nix Build runs it (CLOUDHV.fd firmware, the disk on virtio-blk,
// --serial tty, --console off, optional TAP networking), with the API socket for control
// (pause, resume, snapshot, shutdown) through a small hand-written client (api.go).
//
// The command line comes from the matrix host: smp, memory and the options block (see
// Options). The Nix runner's environment knobs CH_CPUS, CH_MEMORY, CH_HUGEPAGES and
// CH_DIRECT_IO are defaults under the matrix: what the matrix sets wins. For example
//
//	cloud-hypervisor --firmware /fw/CLOUDHV.fd --disk path=<dir>/disk.img,direct=on
//	  --cpus boot=2 --memory size=1024M,hugepages=on --serial tty --console off
//	  --api-socket path=<dir>/api.sock --net tap=tap0
//
// # Serial without loss
//
// Cloud Hypervisor starts the guest as soon as it has a VM: there is no QEMU-style
// "wait for the serial client". Its --serial socket=<path> mode makes the VMM the listening
// side; what the guest prints before a client is accepted is dropped by older releases and
// kept only in a bounded buffer by the newest, and vm.create binds the socket only
// in recent releases (older ones bind it inside vm.boot, after which the guest already
// runs). So the default ("serial: pty") does not depend on any of that: the harness creates
// a pseudo-terminal before the VMM starts and gives its terminal side to the VMM as stdin
// and stdout with --serial tty (what the Nix runner uses). The console reads the other
// side; the kernel holds every byte until it does, and a full buffer blocks the guest
// rather than dropping output. Input works because stdin is a terminal.
//
// "serial: socket" uses the socket as RedoxOS-Nix's runner writes the command line: the VMM is started
// with --api-socket only, the VM is defined with vm.create, the harness connects to the
// serial socket, and only then vm.boot starts the guest. On a VMM that binds the socket at
// vm.create this loses nothing; on one that binds it only at vm.boot the harness connects
// right after the boot and says so in the log and the facts (serial_early_output).
//
// # Lifecycle
//
// As for the qemu host: the VMM runs in its own process group (PowerOff signals the group,
// never anyone else's VMM), is always reaped, and a VMM that dies closes Exited with
// ExitErr carrying the tail of its stderr (an INFRA verdict unless the console explains
// it). PowerOff asks the VMM to exit through the API (vmm.shutdown), then sends SIGTERM and
// SIGKILL to the group, and waits. Pause and Resume (vm.pause/vm.resume) are exposed for the
// harness; Paused lets the boot watchdog stop counting silence while the guest is paused.
package cloudhypervisor

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/vmproc"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Kind is the matrix host kind this package registers.
const Kind = "cloud-hypervisor"

// kvmDevice is checked before the start, for a clear INFRA message ("" skips the check:
// the tests' fake VMM needs no KVM).
var kvmDevice = "/dev/kvm"

func init() {
	hosts.Register(hosts.Kind{Name: Kind, New: New, Options: ValidateOptions})
}

// ValidateOptions is the cloud-hypervisor kind's options check when the matrix loads
// (matrix.RegisterOptions): unknown keys, wrong types, a bad serial mode or api_timeout are
// bad input at their file:line:col. What depends on the controller (the firmware file,
// the CH_* environment) is checked when the machine is built.
func ValidateOptions(h *matrix.Host) error {
	var o Options
	if err := h.DecodeOptions(&o); err != nil {
		return err
	}
	switch o.Serial {
	case "", SerialPTY, SerialSocket:
	default:
		return optErr(h, "options.serial", "serial in options of host %q must be %q or %q, got %q", h.Name, SerialPTY, SerialSocket, o.Serial)
	}
	if o.APITimeout.Duration < 0 {
		return optErr(h, "options.api_timeout", "api_timeout in options of host %q must be positive, got %s", h.Name, o.APITimeout)
	}
	return nil
}

// Machine is one Cloud Hypervisor VM.
type Machine struct {
	host  matrix.Host
	img   matrix.Image
	env   hosts.Env
	opts  Options
	plan  *Plan
	scale float64

	vmproc.Process // the VMM's process: PGID, Exited, ExitErr

	mu      sync.Mutex // guards the fields below against a concurrent PowerOff
	api     *Client
	serial  io.Closer
	version string
	early   string // socket mode: why output before the connection may be missing

	paused atomic.Bool
}

// New is the cloud-hypervisor host Factory.
func New(h matrix.Host, img matrix.Image, env hosts.Env) (hosts.Machine, error) {
	var o Options
	if err := h.DecodeOptions(&o); err != nil {
		return nil, err // a configuration error (bad input), as at load time
	}
	plan, err := BuildPlan(h, img, o, env.Dir, env.BootArgs, os.Getenv)
	if err != nil {
		return nil, hosts.Infra(err)
	}
	if !archMatchesController(h.Arch) {
		return nil, hosts.Infra(fmt.Errorf("cloud-hypervisor: host %s: a %s guest cannot run on this %s controller (Cloud Hypervisor does not emulate)", h.Name, h.Arch, runtime.GOARCH))
	}
	if fw := plan.Config.Payload.Firmware; fw != "" {
		if _, err := os.Stat(fw); err != nil {
			return nil, hosts.Infra(fmt.Errorf("cloud-hypervisor: host %s: options.firmware: %w", h.Name, err))
		}
	}
	scale := h.TimeScale
	if scale <= 0 {
		scale = 1 // always KVM
	}
	m := &Machine{host: h, img: img, env: env, opts: o, plan: plan, scale: scale}
	m.logf("cloud-hypervisor: serial %s; cpus from %s, memory from %s, hugepages from %s, direct_io from %s",
		plan.Serial, plan.Sources["cpus"], plan.Sources["memory"], plan.Sources["hugepages"], plan.Sources["direct_io"])
	for _, n := range plan.Notes {
		m.logf("cloud-hypervisor: %s", n)
	}
	return m, nil
}

func archMatchesController(arch string) bool {
	return (arch == "x86_64" && runtime.GOARCH == "amd64") || (arch == "aarch64" && runtime.GOARCH == "arm64")
}

func (m *Machine) logf(format string, args ...any) {
	if m.env.Log != nil {
		fmt.Fprintf(m.env.Log, format+"\n", args...)
	}
}

// Plan returns the VM plan (for logs and tests).
func (m *Machine) Plan() *Plan { return m.plan }

// API returns the API client (nil before PowerOn).
func (m *Machine) API() *Client {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.api
}

// TimeScale implements hosts.Machine.
func (m *Machine) TimeScale() float64 { return m.scale }

// Facts implements hosts.Machine.
func (m *Machine) Facts() map[string]string {
	f := map[string]string{
		"accel":   "kvm",
		"serial":  m.plan.Serial,
		"ch_argv": strings.Join(m.plan.Argv, " "),
		// where each setting came from: matrix, a CH_* variable, or default
		"ch_cpus_from":      m.plan.Sources["cpus"],
		"ch_memory_from":    m.plan.Sources["memory"],
		"ch_hugepages_from": m.plan.Sources["hugepages"],
		"ch_direct_io_from": m.plan.Sources["direct_io"],
	}
	if m.plan.Serial == SerialSocket {
		f["ch_command_line"] = strings.Join(m.plan.CommandLine, " ")
	}
	if fw := m.plan.Config.Payload.Firmware; fw != "" {
		f["firmware"] = fw
	}
	m.mu.Lock()
	if m.version != "" {
		f["ch_version"] = m.version
	}
	if m.early != "" {
		f["serial_early_output"] = m.early
	}
	m.mu.Unlock()
	return f
}

// PowerOn starts the VMM and returns the guest's serial stream (see the package
// documentation for why no byte is lost).
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := vmproc.Prepare(m.env.Dir, m.plan.Scratch, m.plan.APISock, m.plan.SerialSock); err != nil {
		return nil, hosts.Infra(err)
	}
	if kvmDevice != "" {
		if _, err := os.Stat(kvmDevice); err != nil {
			return nil, hosts.Infra(fmt.Errorf("cloud-hypervisor needs KVM: %w", err))
		}
	}
	if m.plan.DiskTo != "" {
		if err := vmproc.CopyFile(m.plan.DiskFrom, m.plan.DiskTo); err != nil {
			return nil, hosts.Infra(fmt.Errorf("disk copy: %w", err))
		}
	}
	if m.plan.Serial == SerialPTY {
		return m.powerOnPTY(ctx)
	}
	return m.powerOnSocket(ctx)
}

func (m *Machine) start(stdin, stdout *os.File) error {
	if err := m.Start("cloud-hypervisor", m.plan.Argv, stdin, stdout, m.env.Log); err != nil {
		return err
	}
	m.mu.Lock()
	m.api = NewClient(m.plan.APISock)
	m.api.Timeout = m.plan.APITimeout
	m.mu.Unlock()
	m.logf("cloud-hypervisor: started pid %d: %s", m.PGID(), strings.Join(m.plan.Argv, " "))
	return nil
}

func (m *Machine) powerOnPTY(ctx context.Context) (io.ReadWriteCloser, error) {
	p, err := openPTY()
	if err != nil {
		return nil, hosts.Infra(err)
	}
	if err := m.start(p.in, p.out); err != nil {
		p.closeTerminal()
		p.master.Close()
		return nil, hosts.Infra(err)
	}
	// The VMM holds the terminal side now; ours must go, or the master never sees the end.
	p.closeTerminal()
	stream := ptyStream{p.master}
	m.mu.Lock()
	m.serial = stream
	m.mu.Unlock()
	// From here the guest's output waits in the pty for the console, which the caller
	// opens on stream; the API must answer before the machine counts as on.
	if err := m.waitAPI(ctx); err != nil {
		m.PowerOff(context.Background())
		p.master.Close()
		return nil, hosts.Infra(fmt.Errorf("api socket: %w", err))
	}
	return stream, nil
}

func (m *Machine) powerOnSocket(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := m.start(nil, nil); err != nil {
		return nil, hosts.Infra(err)
	}
	fail := func(what string, err error) (io.ReadWriteCloser, error) {
		m.PowerOff(context.Background())
		return nil, hosts.Infra(fmt.Errorf("%s: %w", what, err))
	}
	if err := m.waitAPI(ctx); err != nil {
		return fail("api socket", err)
	}
	if err := m.api.Create(ctx, m.plan.Config); err != nil {
		return fail("vm.create", err)
	}
	var conn net.Conn
	if _, err := os.Stat(m.plan.SerialSock); err == nil {
		// Bound at vm.create: connect, then boot; the guest starts with us listening.
		if conn, err = m.dial(ctx, m.plan.SerialSock); err != nil {
			return fail("serial socket", err)
		}
	} else {
		m.mu.Lock()
		m.early = "the VMM binds the serial socket only at vm.boot; output before the connection may be missing"
		m.mu.Unlock()
		m.logf("cloud-hypervisor: %s", m.early)
	}
	if err := m.api.Boot(ctx); err != nil {
		if conn != nil {
			conn.Close()
		}
		return fail("vm.boot", err)
	}
	if conn == nil {
		var err error
		if conn, err = m.dial(ctx, m.plan.SerialSock); err != nil {
			return fail("serial socket", err)
		}
	}
	m.mu.Lock()
	m.serial = conn
	m.mu.Unlock()
	return conn, nil
}

// waitAPI waits until vmm.ping answers, giving up when the VMM exits or APITimeout passes.
func (m *Machine) waitAPI(ctx context.Context) error {
	return m.WaitFor(ctx, m.plan.APISock, m.plan.APITimeout, func(ctx context.Context) error {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		r, err := m.api.Ping(pctx)
		if err != nil {
			return err
		}
		m.mu.Lock()
		m.version = r.Version
		m.mu.Unlock()
		m.logf("cloud-hypervisor: API up, version %s", r.Version)
		return nil
	})
}

// dial connects to a unix socket the VMM creates, giving up when the VMM exits.
func (m *Machine) dial(ctx context.Context, path string) (net.Conn, error) {
	return m.DialUnix(ctx, path, m.plan.APITimeout)
}

// Pause pauses the guest (vm.pause). The console stays open; Paused reports true until
// Resume.
func (m *Machine) Pause(ctx context.Context) error { return m.setPaused(ctx, (*Client).Pause, true) }

// Resume continues a paused guest (vm.resume).
func (m *Machine) Resume(ctx context.Context) error { return m.setPaused(ctx, (*Client).Resume, false) }

// setPaused makes the API call and, once the VMM did it, notes the new state.
func (m *Machine) setPaused(ctx context.Context, call func(*Client, context.Context) error, paused bool) error {
	api := m.API()
	if api == nil {
		return errors.New("cloud-hypervisor: not powered on")
	}
	if err := call(api, ctx); err != nil {
		return err
	}
	m.paused.Store(paused)
	return nil
}

// Paused reports whether the guest is paused by Pause (the boot watchdog does not count a
// paused guest's silence as a hang). A pause made behind the harness's back (ch-remote) is
// not seen.
func (m *Machine) Paused() bool { return m.paused.Load() }

// Snapshot writes the VM's state into dir (vm.snapshot; the VMM wants the VM paused, so a
// running VM is paused for the snapshot and resumed after).
func (m *Machine) Snapshot(ctx context.Context, dir string) error {
	api := m.API()
	if api == nil {
		return errors.New("cloud-hypervisor: not powered on")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return err
	}
	wasPaused := m.Paused()
	if !wasPaused {
		if err := m.Pause(ctx); err != nil {
			return err
		}
	}
	err = api.Snapshot(ctx, (&url.URL{Scheme: "file", Path: abs}).String())
	if !wasPaused {
		if rerr := m.Resume(ctx); rerr != nil && err == nil {
			err = rerr
		}
	}
	return err
}

// PowerOff asks the VMM to exit (vmm.shutdown), then terminates and kills its process group,
// and always reaps it. Safe to call more than once.
func (m *Machine) PowerOff(ctx context.Context) error {
	api := m.API()
	err := m.Stop(ctx, func(ctx context.Context) {
		if api == nil {
			return
		}
		if err := api.ShutdownVMM(ctx); err != nil {
			m.logf("cloud-hypervisor: vmm.shutdown: %v", err)
		}
	})
	if api != nil {
		api.Close()
	}
	m.mu.Lock()
	if m.serial != nil {
		m.serial.Close()
	}
	m.mu.Unlock()
	if m.Started() {
		if m.plan.DiskTo != "" {
			os.Remove(m.plan.DiskTo)
		}
		for path := range m.plan.Scratch {
			os.Remove(path)
		}
	}
	return err
}
