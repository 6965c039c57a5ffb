package pikvm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/hosts/rfb"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	hosts.Register(hosts.Kind{Name: "pikvm", New: New, Options: checkOptions, Endpoints: Endpoints})
}

// Machine is a real machine behind a PiKVM, with no serial console: its boot is judged from
// the screen (hosts.ScreenOnly). The screen comes from kvmd's snapshots or over RFB
// (screen: vnc); the power from PiKVM's ATX or a power block (hosts/power), both read back
// as a power.Controller.
type Machine struct {
	host   matrix.Host
	img    matrix.Image
	env    hosts.Env
	opts   Options
	client *Client
	power  power.Controller
	pc     *power.Command // power by command; nil: ATX

	mu      sync.Mutex
	stream  *hosts.ScreenOnly
	vnc     *rfb.Redialer // screen: vnc, while the machine is on
	stop    chan struct{}
	exited  chan struct{}
	exitErr error
	once    sync.Once
	on      bool
}

// vncWindow bounds both the wait for the VNC server after power on (a KVM's VNC service
// may show the machine only once it has a signal) and a reconnection after the server
// dropped us (kvmd-vnc restarting); past it the server is gone: INFRA. It is short so a
// server that went away is INFRA well before a boot's silence timeout could call it HANG.
var vncWindow = 15 * time.Second // a var: tests shorten it

// New is the pikvm Factory.
func New(h matrix.Host, img matrix.Image, env hosts.Env) (hosts.Machine, error) {
	o, err := decode(&h)
	if err != nil {
		return nil, err
	}
	if o.Boot == "msd" && img.Path == "" {
		return nil, hosts.Infra(fmt.Errorf("host %s boots through the PiKVM's drive (boot: msd), which needs an image file (path:)", h.Name))
	}
	hc := &http.Client{Timeout: 60 * time.Second}
	if o.InsecureTLS {
		hc.Transport = &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}
	}
	m := &Machine{host: h, img: img, env: env, opts: o, exited: make(chan struct{}),
		client: &Client{Base: o.Address, User: o.User, HTTP: hc}}
	if o.Power == nil {
		m.power = &atx{c: m.client, timeout: o.PowerTimeout.Duration, minOff: power.MinOff{Min: o.MinOff.Duration}}
		return m, nil
	}
	pc, err := power.NewCommand(*o.Power, env.Log)
	if err != nil {
		return nil, hosts.Infra(fmt.Errorf("host %s: %w", h.Name, err))
	}
	// The commands get what serial hosts' commands get ($RHW_HOST, $RHW_IMAGE, ...): the
	// image is preinstalled or on PiKVM's drive, so preparing it does nothing else.
	p, err := power.Prepare(context.Background(), power.BootOptions{Boot: power.BootPreinstalled}, h, img, env, nil)
	if err != nil {
		return nil, err
	}
	p.Close()
	pc.SetEnv(p.Env...)
	m.power, m.pc = pc, pc
	return m, nil
}

func (m *Machine) logf(format string, args ...any) {
	if m.env.Log != nil {
		fmt.Fprintf(m.env.Log, "pikvm: "+format+"\n", args...)
	}
}

// powerErr is a power failure: INFRA naming the power method, never a boot verdict.
func (m *Machine) powerErr(err error) error {
	return hosts.Infra(fmt.Errorf("power method %s: %w", m.power.Describe(), err))
}

// PowerOn presents the image (boot: msd), powers the machine on (off first when it was
// on), attaches the VNC screen (screen: vnc), and returns the byteless console of a
// machine judged from its screen. Every power command is read back (the LED; a power
// block's status command where it has one).
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if pw, err := secrets.Load(m.opts.Source); err != nil {
		return nil, hosts.Infra(fmt.Errorf("pikvm password (%s): %w", m.opts.Source, err))
	} else {
		m.client.Passwd = pw
	}
	var vncPW string
	if m.opts.Screen == ScreenVNC {
		pw, err := secrets.Load(m.opts.VNCSource())
		if err != nil {
			return nil, hosts.Infra(fmt.Errorf("vnc password (%s): %w", m.opts.VNCSource(), err))
		}
		vncPW = pw
	}
	st, err := m.power.Status(ctx)
	if err != nil {
		return nil, m.powerErr(err)
	}
	m.logf("power: %s: %s before the run", m.power.Describe(), st)
	if st != power.Off { // on, or a power block that cannot tell: off first
		if err := m.power.Off(ctx); err != nil {
			return nil, m.powerErr(err)
		}
	}
	if m.opts.Boot == "msd" {
		if err := m.present(ctx); err != nil {
			return nil, hosts.Infra(fmt.Errorf("pikvm drive: %w", err))
		}
	}
	if err := m.power.On(ctx); err != nil {
		return nil, m.powerErr(err)
	}
	m.logf("power: %s: on", m.power.Describe())
	m.mu.Lock()
	m.on = true
	m.mu.Unlock()
	if m.opts.Screen == ScreenVNC {
		r, err := dialVNC(ctx, m.opts.VNCAddress, vncPW)
		if err != nil {
			m.PowerOff(context.Background())
			return nil, err
		}
		m.logf("screen: vnc %s", m.opts.VNCAddress)
		m.mu.Lock()
		m.vnc = r
		m.mu.Unlock()
	}
	m.mu.Lock()
	m.stream = hosts.NewScreenOnly()
	m.stop = make(chan struct{})
	s, stop := m.stream, m.stop
	m.mu.Unlock()
	go m.watch(s, stop)
	return s, nil
}

// dialVNC connects to the VNC server, waiting up to vncWindow for it to answer (the
// Redialer's own wait); a refusal (authentication) or a server that never answers is INFRA.
func dialVNC(ctx context.Context, addr, pw string) (*rfb.Redialer, error) {
	r := &rfb.Redialer{Addr: addr, Opts: rfb.Options{Password: pw}, Window: vncWindow}
	if err := r.Dial(ctx); err != nil {
		return nil, hosts.Infra(fmt.Errorf("vnc %s: %w", addr, err))
	}
	return r, nil
}

// present uploads the image to the drive, selects it and plugs the drive in.
func (m *Machine) present(ctx context.Context) error {
	m.client.MSDConnect(ctx, false) // unplugged first: a connected drive cannot change image
	f, err := os.Open(m.img.Path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	name := filepath.Base(m.img.Path)
	if err := m.client.MSDWrite(ctx, name, f, fi.Size()); err != nil {
		return err
	}
	if err := m.client.MSDSelect(ctx, name); err != nil {
		return err
	}
	return m.client.MSDConnect(ctx, true)
}

// watch reads the power state while the machine runs: off by itself ends the boot
// (Exited); a power method that stops answering (the PiKVM gone, a failing status command)
// ends the console as INFRA. A power block without a status command cannot tell (Unknown).
func (m *Machine) watch(s *hosts.ScreenOnly, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(m.opts.Poll.Duration):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := m.power.Status(ctx)
		cancel()
		switch {
		case err != nil:
			s.Gone(m.powerErr(err))
			return
		case st == power.Off:
			m.once.Do(func() {
				m.exitErr = fmt.Errorf("the machine powered off by itself (%s reports off)", m.power.Describe())
				close(m.exited)
			})
			s.Close()
			return
		}
	}
}

// Exited is closed when the machine powered off by itself.
func (m *Machine) Exited() <-chan struct{} { return m.exited }

// ExitErr says how it stopped.
func (m *Machine) ExitErr() error { return m.exitErr }

// PowerOff powers the machine off (hard) and reads the state back; unplugs the drive and
// closes the VNC connection.
func (m *Machine) PowerOff(ctx context.Context) error {
	m.mu.Lock()
	if m.stop != nil {
		close(m.stop)
		m.stop = nil
	}
	if m.stream != nil {
		m.stream.Close()
	}
	if m.vnc != nil {
		m.vnc.Close()
		m.vnc = nil
	}
	wasOn := m.on
	m.on = false
	m.mu.Unlock()
	if !wasOn {
		return nil
	}
	var err error
	if e := m.power.Off(ctx); e != nil {
		err = m.powerErr(e)
	}
	if m.opts.Boot == "msd" {
		if e := m.client.MSDConnect(ctx, false); e != nil && err == nil {
			err = hosts.Infra(fmt.Errorf("pikvm drive: unplug: %w", e))
		}
	}
	return err
}

// TimeScale: a real machine runs at its own speed.
func (m *Machine) TimeScale() float64 { return 1 }

// Facts for the record.
func (m *Machine) Facts() map[string]string {
	f := map[string]string{"pikvm": m.opts.Address, "power": "pikvm-atx", "boot": m.opts.Boot, "screen": m.opts.Screen}
	if m.pc != nil {
		f["power"] = m.pc.Describe()
	}
	if m.opts.Screen == ScreenVNC {
		f["screen"] = "vnc " + m.opts.VNCAddress
	}
	return f
}

// Exclusive: one run at a time on a real machine.
func (m *Machine) Exclusive() bool { return true }

// vncScreen is the RFB connection when the screen is vnc (nil otherwise).
func (m *Machine) vncScreen() (*rfb.Redialer, error) {
	if m.opts.Screen != ScreenVNC {
		return nil, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.vnc == nil {
		return nil, hosts.Infra(fmt.Errorf("vnc %s: not connected (the machine is off)", m.opts.VNCAddress))
	}
	return m.vnc, nil
}

// screenErr makes a screen transport that went away (kvmd, the VNC server) a lab fault.
func screenErr(err error) error {
	if errors.Is(err, ErrUnreachable) || errors.Is(err, rfb.ErrGone) {
		return hosts.Infra(err)
	}
	return err
}

// Screendump is the streamer's snapshot, or the VNC framebuffer.
func (m *Machine) Screendump(ctx context.Context) (image.Image, error) {
	v, err := m.vncScreen()
	if err != nil {
		return nil, err
	}
	var im image.Image
	if v != nil {
		im, err = v.Screendump(ctx)
	} else {
		im, err = m.client.Snapshot(ctx)
	}
	return im, screenErr(err)
}

// SendKeys presses each chord as RFB key events (screen: vnc) or through kvmd's HID
// (send_shortcut: pressed together, released in reverse).
func (m *Machine) SendKeys(ctx context.Context, chords []string) error {
	v, err := m.vncScreen()
	if err != nil {
		return err
	}
	if v != nil {
		return screenErr(v.SendKeys(ctx, chords))
	}
	for _, c := range chords {
		keys, err := chordKeys(c)
		if err != nil {
			return err
		}
		if err := m.client.SendShortcut(ctx, keys); err != nil {
			return screenErr(err)
		}
	}
	return nil
}

// HasDisplay: the PiKVM captures the machine's video output.
func (m *Machine) HasDisplay() bool { return true }

var (
	_ hosts.Screen    = (*Machine)(nil)
	_ hosts.Exclusive = (*Machine)(nil)
)
