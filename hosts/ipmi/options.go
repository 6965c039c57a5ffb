package ipmi

import (
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/hosts/serial"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Options are the options of an ipmi host.
type Options struct {
	// Address is the BMC: host, or host:port; Port is the port when Address has none
	// (default 623).
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
	// User is the BMC user (default "admin"); the password comes from password_env or
	// password_file, never from the matrix.
	User           string `yaml:"user"`
	secrets.Source `yaml:",inline"`
	// Cipher is the RMCP+ cipher suite: 17 (default; HMAC-SHA256 + AES) or 3 (HMAC-SHA1
	// + AES, for older BMCs and OpenIPMI's ipmi_sim). Any suite go-ipmi knows is accepted.
	Cipher int `yaml:"cipher"`
	// Privilege is the session privilege: administrator (default) or operator.
	Privilege string `yaml:"privilege"`
	// Timeout is one IPMI request's wait for an answer (default 1s; each is resent twice),
	// Retries how many times a failed session is re-established before the BMC counts as
	// unreachable (default 3): the bound on how long a dead BMC takes to become INFRA.
	Timeout matrix.Duration `yaml:"timeout"`
	Retries int             `yaml:"retries"`
	// PowerTimeout bounds the wait for the chassis to really reach a power state after a
	// command (default 60s).
	PowerTimeout matrix.Duration `yaml:"power_timeout"`
	// MinOff is the least time the chassis stays off before power on (default 2s).
	MinOff matrix.Duration `yaml:"min_off"`
	// Poll is how often the chassis power is checked while the machine runs (default 5s);
	// a machine that goes off by itself ends the boot.
	Poll matrix.Duration `yaml:"poll"`
	// BootDevice is set as the next boot device (once, not persistent) before power on:
	// none, pxe, disk, cdrom or bios; default pxe for boot: pxe, else none. BootEFI asks
	// for an EFI boot of it.
	BootDevice string `yaml:"boot_device"`
	BootEFI    bool   `yaml:"boot_efi"`
	// SOLInstance is the SOL payload instance (default 1).
	SOLInstance int `yaml:"sol_instance"`
	// SOLPoll is how often the SOL stream polls the BMC for output (default 100ms).
	SOLPoll matrix.Duration `yaml:"sol_poll"`
	// Keepalive is the interval of a keepalive command on the SOL session (default 10s;
	// BMCs such as ipmi_sim end a session after ~30s without IPMI traffic and do not count
	// SOL packets).
	Keepalive matrix.Duration `yaml:"keepalive"`
	// Reconnect governs SOL when the BMC drops it (on a power transition, or a BMC reset).
	Reconnect serial.ReconnectOptions `yaml:"reconnect"`
	// Boot, Flash, PXE: how the image gets onto the machine.
	power.BootOptions `yaml:",inline"`
}

// Defaults.
const (
	DefaultPort         = 623
	DefaultCipher       = 17
	DefaultTimeout      = time.Second
	DefaultRetries      = 3
	DefaultPowerTimeout = 60 * time.Second
	DefaultMinOff       = 2 * time.Second
	DefaultPoll         = 5 * time.Second
	DefaultKeepalive    = 10 * time.Second
	DefaultSOLPoll      = 100 * time.Millisecond
)

var (
	bootDevices = []string{"none", "pxe", "disk", "cdrom", "bios"}
	privileges  = []string{"administrator", "operator"}
)

// DecodeOptions decodes and checks an ipmi host's options.
func DecodeOptions(h *matrix.Host) (Options, error) {
	var o Options
	if err := h.DecodeOptions(&o); err != nil {
		return o, err
	}
	if o.Address == "" {
		return o, h.Errorf("options.address", "host %q needs options.address (the BMC, host[:port])", h.Name)
	}
	host, port, err := splitAddress(o.Address)
	if err != nil {
		return o, h.Errorf("options.address", "address of host %q: %v", h.Name, err)
	}
	if o.Port != 0 {
		if _, _, e := net.SplitHostPort(o.Address); e == nil {
			return o, h.Errorf("options.port", "host %q has a port in options.address and options.port; give one", h.Name)
		}
		if o.Port < 0 || o.Port > 65535 {
			return o, h.Errorf("options.port", "port of host %q must be 1..65535", h.Name)
		}
		port = o.Port
	}
	o.Port = port
	o.Address = net.JoinHostPort(host, strconv.Itoa(port))
	if o.User == "" {
		o.User = "admin"
	}
	if o.Env != "" && o.File != "" {
		return o, h.Errorf("options.password_file", "host %q: give password_env or password_file, not both", h.Name)
	}
	if o.Cipher == 0 {
		o.Cipher = DefaultCipher
	}
	if _, ok := cipherSuite(o.Cipher); !ok {
		return o, h.Errorf("options.cipher", "cipher of host %q: %d is not a cipher suite this harness speaks (use 17, or 3 for older BMCs)", h.Name, o.Cipher)
	}
	if o.Privilege == "" || o.Privilege == "admin" {
		o.Privilege = "administrator"
	}
	if !slices.Contains(privileges, o.Privilege) {
		return o, h.Errorf("options.privilege", "privilege of host %q must be one of %s, got %q", h.Name, strings.Join(privileges, ", "), o.Privilege)
	}
	if o.Retries < 0 {
		return o, h.Errorf("options.retries", "retries of host %q must not be negative", h.Name)
	}
	if o.Retries == 0 {
		o.Retries = DefaultRetries
	}
	for _, d := range []struct {
		key string
		v   *matrix.Duration
		def time.Duration
	}{{"timeout", &o.Timeout, DefaultTimeout}, {"power_timeout", &o.PowerTimeout, DefaultPowerTimeout},
		{"min_off", &o.MinOff, DefaultMinOff}, {"poll", &o.Poll, DefaultPoll}, {"sol_poll", &o.SOLPoll, DefaultSOLPoll},
		{"keepalive", &o.Keepalive, DefaultKeepalive}} {
		if d.v.Duration < 0 {
			return o, h.Errorf("options."+d.key, "%s of host %q must not be negative", d.key, h.Name)
		}
		if d.v.Duration == 0 {
			d.v.Duration = d.def
		}
	}
	if o.SOLInstance == 0 {
		o.SOLInstance = 1
	}
	if o.SOLInstance < 1 || o.SOLInstance > 0x3f {
		return o, h.Errorf("options.sol_instance", "sol_instance of host %q must be 1..63", h.Name)
	}
	if err := o.BootOptions.Validate(h); err != nil {
		return o, err
	}
	if o.BootDevice == "" {
		o.BootDevice = "none"
		if o.Boot == power.BootPXE {
			o.BootDevice = "pxe"
		}
	}
	if !slices.Contains(bootDevices, o.BootDevice) {
		return o, h.Errorf("options.boot_device", "boot_device of host %q must be one of %s, got %q", h.Name, strings.Join(bootDevices, ", "), o.BootDevice)
	}
	return o, nil
}

// splitAddress parses host[:port].
func splitAddress(a string) (string, int, error) {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		// no port
		if strings.Contains(err.Error(), "missing port") {
			return a, DefaultPort, nil
		}
		return "", 0, err
	}
	p, err := strconv.Atoi(port)
	if err != nil || p <= 0 || p > 65535 {
		return "", 0, &net.AddrError{Err: "bad port", Addr: a}
	}
	return host, p, nil
}
