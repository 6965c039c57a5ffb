package pikvm

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"image"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func init() {
	hosts.Register(hosts.Kind{Name: "pikvm", New: New, Options: checkOptions, Endpoints: Endpoints})
}

// Options are a pikvm host's options.
type Options struct {
	// Address is the PiKVM's URL, http(s)://host[:port].
	Address string `yaml:"address"`
	// User is kvmd's user (default "admin"); the password comes from password_env or
	// password_file, never from the matrix.
	User           string `yaml:"user"`
	secrets.Source `yaml:",inline"`
	// InsecureTLS accepts the PiKVM's self-signed certificate (its default install).
	InsecureTLS bool `yaml:"insecure_tls"`
	// Boot is how the image gets to the machine: preinstalled (default: power on what is
	// on its disk) or msd (the image is uploaded to PiKVM's mass-storage drive and
	// presented to the machine as a USB stick).
	Boot string `yaml:"boot"`
	// PowerTimeout bounds the wait for the power LED to show the state asked for (default
	// 30s); MinOff is the least time the machine stays off before power on (default 2s);
	// Poll is how often the LED is read while the machine runs (default 5s).
	PowerTimeout matrix.Duration `yaml:"power_timeout"`
	MinOff       matrix.Duration `yaml:"min_off"`
	Poll         matrix.Duration `yaml:"poll"`
}

func decode(h *matrix.Host) (Options, error) {
	var o Options
	if err := h.DecodeOptions(&o); err != nil {
		return o, err
	}
	u, err := url.Parse(o.Address)
	if o.Address == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return o, h.Errorf("options.address", "host %q needs options.address, the PiKVM's http(s)://host[:port], got %q", h.Name, o.Address)
	}
	if o.User == "" {
		o.User = "admin"
	}
	if o.Env != "" && o.File != "" {
		return o, h.Errorf("options.password_file", "host %q: give password_env or password_file, not both", h.Name)
	}
	switch o.Boot {
	case "":
		o.Boot = "preinstalled"
	case "preinstalled", "msd":
	default:
		return o, h.Errorf("options.boot", "boot in options of host %q must be preinstalled or msd, got %q", h.Name, o.Boot)
	}
	for _, d := range []struct {
		key string
		v   *matrix.Duration
		def time.Duration
	}{{"power_timeout", &o.PowerTimeout, 30 * time.Second}, {"min_off", &o.MinOff, 2 * time.Second}, {"poll", &o.Poll, 5 * time.Second}} {
		if d.v.Duration < 0 {
			return o, h.Errorf("options."+d.key, "%s of host %q must not be negative", d.key, h.Name)
		}
		if d.v.Duration == 0 {
			d.v.Duration = d.def
		}
	}
	return o, nil
}

func checkOptions(h *matrix.Host) error { _, err := decode(h); return err }

// Endpoints: one PiKVM drives one machine.
func Endpoints(h *matrix.Host) ([]string, error) {
	o, err := decode(h)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.Address)
	return []string{"pikvm:" + u.Host}, nil
}

// Machine is a real machine behind a PiKVM, with no serial console: its boot is judged from
// the screen (hosts.ScreenOnly).
type Machine struct {
	host   matrix.Host
	img    matrix.Image
	env    hosts.Env
	opts   Options
	client *Client

	mu      sync.Mutex
	stream  *hosts.ScreenOnly
	stop    chan struct{}
	exited  chan struct{}
	exitErr error
	once    sync.Once
	on      bool
}

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
	return &Machine{host: h, img: img, env: env, opts: o, exited: make(chan struct{}),
		client: &Client{Base: o.Address, User: o.User, HTTP: hc}}, nil
}

func (m *Machine) logf(format string, args ...any) {
	if m.env.Log != nil {
		fmt.Fprintf(m.env.Log, "pikvm: "+format+"\n", args...)
	}
}

// powerMethod names the power method in every power failure.
func (m *Machine) powerMethod() string { return "power method pikvm-atx (" + m.opts.Address + ")" }

// setPower asks for action and reads the power LED back until it shows want: a machine
// that did not change state is INFRA naming the power method, never a boot verdict.
func (m *Machine) setPower(ctx context.Context, action string, want bool) error {
	if err := m.client.ATXPower(ctx, action); err != nil {
		return hosts.Infra(fmt.Errorf("%s: %s: %w", m.powerMethod(), action, err))
	}
	ok, err := m.client.WaitPower(ctx, want, m.opts.PowerTimeout.Duration, 500*time.Millisecond)
	if err != nil {
		return hosts.Infra(fmt.Errorf("%s: reading the power LED after %s: %w", m.powerMethod(), action, err))
	}
	if !ok {
		state := map[bool]string{true: "on", false: "off"}
		return hosts.Infra(fmt.Errorf("%s: the machine did not change state: power LED still %s %s after %s",
			m.powerMethod(), state[!want], m.opts.PowerTimeout.Duration, action))
	}
	m.logf("%s: power LED %v", action, want)
	return nil
}

// PowerOn presents the image (boot: msd), powers the machine on (off first when it was
// on), and returns the byteless console of a machine judged from its screen.
func (m *Machine) PowerOn(ctx context.Context) (io.ReadWriteCloser, error) {
	if pw, err := secrets.Load(m.opts.Source); err != nil {
		return nil, hosts.Infra(fmt.Errorf("pikvm password (%s): %w", m.opts.Source, err))
	} else {
		m.client.Passwd = pw
		if pw != "" {
			secrets.Register(pw)
		}
	}
	st, err := m.client.ATX(ctx)
	if err != nil {
		return nil, hosts.Infra(fmt.Errorf("%s: %w", m.powerMethod(), err))
	}
	if !st.Enabled {
		return nil, hosts.Infra(fmt.Errorf("%s: ATX is disabled on this PiKVM", m.powerMethod()))
	}
	if st.LEDs.Power {
		if err := m.setPower(ctx, "off_hard", false); err != nil {
			return nil, err
		}
		time.Sleep(m.opts.MinOff.Duration)
	}
	if m.opts.Boot == "msd" {
		if err := m.present(ctx); err != nil {
			return nil, hosts.Infra(fmt.Errorf("pikvm drive: %w", err))
		}
	}
	if err := m.setPower(ctx, "on", true); err != nil {
		return nil, err
	}
	m.mu.Lock()
	m.on = true
	m.stream = hosts.NewScreenOnly()
	m.stop = make(chan struct{})
	s, stop := m.stream, m.stop
	m.mu.Unlock()
	go m.watch(s, stop)
	return s, nil
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

// watch reads the power LED while the machine runs: off by itself ends the boot (Exited);
// a PiKVM that stops answering ends the console as INFRA.
func (m *Machine) watch(s *hosts.ScreenOnly, stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-time.After(m.opts.Poll.Duration):
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		st, err := m.client.ATX(ctx)
		cancel()
		switch {
		case err != nil:
			s.Gone(hosts.Infra(fmt.Errorf("%s: %w", m.powerMethod(), err)))
			return
		case !st.LEDs.Power:
			m.once.Do(func() {
				m.exitErr = errors.New("the machine powered off by itself (PiKVM power LED off)")
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

// PowerOff powers the machine off (hard) and reads the LED back; unplugs the drive.
func (m *Machine) PowerOff(ctx context.Context) error {
	m.mu.Lock()
	if m.stop != nil {
		close(m.stop)
		m.stop = nil
	}
	if m.stream != nil {
		m.stream.Close()
	}
	wasOn := m.on
	m.on = false
	m.mu.Unlock()
	if !wasOn {
		return nil
	}
	err := m.setPower(ctx, "off_hard", false)
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
	return map[string]string{"pikvm": m.opts.Address, "power": "pikvm-atx", "boot": m.opts.Boot}
}

// Exclusive: one run at a time on a real machine.
func (m *Machine) Exclusive() bool { return true }

// Screendump is the streamer's snapshot.
func (m *Machine) Screendump(ctx context.Context) (image.Image, error) {
	im, err := m.client.Snapshot(ctx)
	if errors.Is(err, ErrUnreachable) {
		return nil, hosts.Infra(err)
	}
	return im, err
}

// SendKeys presses each chord through kvmd's HID (send_shortcut: pressed together,
// released in reverse).
func (m *Machine) SendKeys(ctx context.Context, chords []string) error {
	for _, c := range chords {
		keys, err := chordKeys(c)
		if err != nil {
			return err
		}
		if err := m.client.SendShortcut(ctx, keys); err != nil {
			if errors.Is(err, ErrUnreachable) {
				return hosts.Infra(err)
			}
			return err
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
