package pikvm

import (
	"net"
	"net/url"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Screen sources and the power method PiKVM itself offers.
const (
	ScreenSnapshot = "snapshot" // kvmd's streamer snapshots, keys through kvmd's HID API
	ScreenVNC      = "vnc"      // RFB (kvmd-vnc, or any VNC server showing the machine)
	PowerATX       = "atx"      // PiKVM's ATX board, the power LED read back
)

// DefaultVNCPort is kvmd-vnc's port (pikvm/kvmd kvmd/apps/_scheme.py, vnc.server.port).
const DefaultVNCPort = "5900"

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
	// Screen is where the screen and the keyboard are: snapshot (default: kvmd's streamer
	// snapshots and HID API) or vnc (RFB to VNCAddress: kvmd-vnc, VNC authentication).
	Screen string `yaml:"screen"`
	// VNCAddress is the RFB server, host:port (default: the PiKVM's host, port 5900).
	VNCAddress string `yaml:"vnc_address"`
	// VNCPasswordEnv/File hold kvmd-vnc's VNCAuth password (its /etc/kvmd/vncpasswd, which
	// kvmd's own config says must differ from the kvmd password); without them the kvmd
	// password (password_env/password_file) is tried.
	VNCPasswordEnv  string `yaml:"vnc_password_env"`
	VNCPasswordFile string `yaml:"vnc_password_file"`
	// PowerTimeout bounds the wait for the power LED to show the state asked for (default
	// 30s); MinOff is the least time the machine stays off before power on (default 2s);
	// Poll is how often the power state is read while the machine runs (default 5s).
	PowerTimeout matrix.Duration `yaml:"power_timeout"`
	MinOff       matrix.Duration `yaml:"min_off"`
	Poll         matrix.Duration `yaml:"poll"`

	// Power is the `power:` key, decoded by decode: nil is PiKVM's ATX (power: atx, the
	// default); a block is power by command, the block serial hosts take (hosts/power).
	Power *power.Options `yaml:"-"`
}

// The `power:` key is either the word atx or a block of commands; the matrix decoder
// checks a key against one Go type, so decode picks the type by what the key holds and
// the block gets the same strict checking (unknown keys, did you mean) as a serial host's.
type atxOptions struct {
	Options `yaml:",inline"`
	Power   string `yaml:"power"`
}

type commandOptions struct {
	Options `yaml:",inline"`
	Power   *power.Options `yaml:"power"`
}

// VNCSource is where the VNC password comes from.
func (o *Options) VNCSource() secrets.Source {
	if o.VNCPasswordEnv != "" || o.VNCPasswordFile != "" {
		return secrets.Source{Env: o.VNCPasswordEnv, File: o.VNCPasswordFile}
	}
	return o.Source
}

func decode(h *matrix.Host) (Options, error) {
	var o Options
	if _, block := h.Options["power"].(map[string]any); block {
		var c commandOptions
		if err := h.DecodeOptions(&c); err != nil {
			return o, err
		}
		if c.Power != nil {
			if err := c.Power.Validate(h, "options.power"); err != nil {
				return o, err
			}
		}
		o, o.Power = c.Options, c.Power
	} else {
		var a atxOptions
		if err := h.DecodeOptions(&a); err != nil {
			return o, err
		}
		if a.Power != "" && a.Power != PowerATX {
			return o, h.Errorf("options.power", "power of host %q must be %s (PiKVM's ATX, the default) or a block of power commands as serial hosts take (power: {on: ..., off: ..., status: ...}), got %q%s",
				h.Name, PowerATX, a.Power, hint(a.Power, PowerATX))
		}
		o = a.Options
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
		return o, h.Errorf("options.boot", "boot in options of host %q must be preinstalled or msd, got %q%s", h.Name, o.Boot, hint(o.Boot, "preinstalled", "msd"))
	}
	switch o.Screen {
	case "":
		o.Screen = ScreenSnapshot
	case ScreenSnapshot, ScreenVNC:
	default:
		return o, h.Errorf("options.screen", "screen in options of host %q must be %s or %s, got %q%s", h.Name, ScreenSnapshot, ScreenVNC, o.Screen, hint(o.Screen, ScreenSnapshot, ScreenVNC))
	}
	if o.Screen != ScreenVNC {
		for _, k := range []struct{ key, v string }{{"vnc_address", o.VNCAddress}, {"vnc_password_env", o.VNCPasswordEnv}, {"vnc_password_file", o.VNCPasswordFile}} {
			if k.v != "" {
				return o, h.Errorf("options."+k.key, "%s of host %q is used only with screen: %s (the screen comes from kvmd's snapshots now)", k.key, h.Name, ScreenVNC)
			}
		}
	}
	if o.VNCPasswordEnv != "" && o.VNCPasswordFile != "" {
		return o, h.Errorf("options.vnc_password_file", "host %q: give vnc_password_env or vnc_password_file, not both", h.Name)
	}
	if o.Screen == ScreenVNC {
		if o.VNCAddress == "" {
			o.VNCAddress = net.JoinHostPort(u.Hostname(), DefaultVNCPort)
		} else if host, port, err := net.SplitHostPort(o.VNCAddress); err != nil || host == "" || port == "" {
			return o, h.Errorf("options.vnc_address", "vnc_address of host %q must be host:port (kvmd-vnc listens on port %s), got %q", h.Name, DefaultVNCPort, o.VNCAddress)
		}
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

// hint is " (did you mean \"vnc\"?)" for a value close to a known one.
func hint(got string, known ...string) string {
	if h := matrix.DidYouMean(got, known...); h != "" {
		return " (" + h + ")"
	}
	return ""
}

func checkOptions(h *matrix.Host) error { _, err := decode(h); return err }

// Endpoints: one PiKVM drives one machine; a power command that names its outlet is the
// outlet's too (two hosts on one outlet must not run at once).
func Endpoints(h *matrix.Host) ([]string, error) {
	o, err := decode(h)
	if err != nil {
		return nil, err
	}
	u, _ := url.Parse(o.Address)
	eps := []string{"pikvm:" + u.Host}
	if ep := o.Power.Endpoint(); ep != "" {
		eps = append(eps, ep)
	}
	return eps, nil
}
