package serial

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/power"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Options are the options of a serial (or power) host.
type Options struct {
	// Exactly one of Device, USBSerial and Address says where the console is.
	//
	// Device is a local tty: /dev/ttyUSB0, or better a stable /dev/serial/by-id/... name.
	Device string `yaml:"device"`
	// USBSerial finds the local tty by its USB adapter's serial number (sysfs).
	USBSerial string `yaml:"usb_serial"`
	// Address is a network serial port, "host:port" or "host" with Port: ser2net's
	// accepter for this UART.
	Address string `yaml:"address"`
	Port    int    `yaml:"port"`
	// Protocol is what the port speaks: raw (default: bytes as they are, ser2net's
	// "tcp,..." accepter), telnet ("telnet,tcp,...") or rfc2217 (telnet with com port
	// control, "telnet(rfc2217),tcp,...": the line settings below are sent to the server).
	Protocol string `yaml:"protocol"`

	// Line settings for a local tty (and sent to the server with protocol rfc2217; a raw
	// or telnet port has them in the server's configuration). Defaults 115200 8N1, no flow control.
	Baud     int     `yaml:"baud"`
	DataBits int     `yaml:"data_bits"`
	Parity   string  `yaml:"parity"`    // none, odd, even, mark, space
	StopBits float64 `yaml:"stop_bits"` // 1, 1.5, 2
	Flow     string  `yaml:"flow"`      // none, rtscts, xonxoff

	// Reconnect governs a console that drops (ser2net restarted, USB adapter re-plugged).
	Reconnect ReconnectOptions `yaml:"reconnect"`

	// Power switches the machine (PDU, relay). Without it the host is powered by hand
	// (or is always on) and only boot: preinstalled makes sense.
	Power *power.Options `yaml:"power"`

	// Boot, Flash, PXE: how the image gets onto the machine.
	power.BootOptions `yaml:",inline"`
}

// ReconnectOptions are the backoff of a dropped console.
type ReconnectOptions struct {
	// Min is the first retry delay (default 100ms), doubled up to Max (default 2s).
	Min matrix.Duration `yaml:"min"`
	Max matrix.Duration `yaml:"max"`
	// GiveUp ends the retries: the console is lost for good and the boot is INFRA
	// (default 60s; it also bounds the first connection).
	GiveUp matrix.Duration `yaml:"give_up"`
}

// Defaults of the line and the reconnection.
const (
	DefaultBaud         = 115200
	DefaultReconnectMin = 100 * time.Millisecond
	DefaultReconnectMax = 2 * time.Second
	DefaultGiveUp       = 60 * time.Second
)

var (
	parities  = []string{"none", "odd", "even", "mark", "space"}
	protocols = []string{"raw", "telnet", "rfc2217"}
	flows     = []string{"none", "rtscts", "xonxoff"}
)

// withDefaults fills in the reconnect defaults.
func (r ReconnectOptions) withDefaults() ReconnectOptions {
	if r.Min.Duration <= 0 {
		r.Min.Duration = DefaultReconnectMin
	}
	if r.Max.Duration <= 0 {
		r.Max.Duration = DefaultReconnectMax
	}
	if r.Max.Duration < r.Min.Duration {
		r.Max.Duration = r.Min.Duration
	}
	if r.GiveUp.Duration <= 0 {
		r.GiveUp.Duration = DefaultGiveUp
	}
	return r
}

// DecodeOptions decodes and checks a serial or power host's options, with errors at their
// place in the matrix.
func DecodeOptions(h *matrix.Host) (Options, error) {
	var o Options
	if err := h.DecodeOptions(&o); err != nil {
		return o, err
	}
	given := 0
	for _, v := range []string{o.Device, o.USBSerial, o.Address} {
		if v != "" {
			given++
		}
	}
	if given != 1 {
		key := "options"
		if given > 1 {
			key = "options.address"
			if o.Address == "" {
				key = "options.usb_serial"
			}
		}
		return o, h.Errorf(key, "host %q needs exactly one of options.device, options.usb_serial or options.address (got %d)", h.Name, given)
	}
	if o.Address != "" {
		host, port, err := net.SplitHostPort(o.Address)
		switch {
		case err == nil && o.Port != 0:
			return o, h.Errorf("options.port", "host %q has a port in options.address and options.port; give one", h.Name)
		case err == nil:
			p, perr := strconv.Atoi(port)
			if perr != nil || p <= 0 || p > 65535 {
				return o, h.Errorf("options.address", "address of host %q: bad port %q", h.Name, port)
			}
			o.Port = p
		case o.Port <= 0 || o.Port > 65535:
			return o, h.Errorf("options.port", "host %q needs the network serial port's TCP port (options.port, or host:port in options.address)", h.Name)
		default:
			host = o.Address
			if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
				host = "[" + host + "]"
			}
		}
		o.Address = net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(o.Port))
		if o.Protocol == "" {
			o.Protocol = "raw"
		}
		if !slices.Contains(protocols, o.Protocol) {
			return o, h.Errorf("options.protocol", "protocol of host %q must be one of %s, got %q", h.Name, strings.Join(protocols, ", "), o.Protocol)
		}
		if o.Protocol != "rfc2217" {
			// Only RFC 2217 carries line settings: otherwise they live in ser2net's config.
			for _, k := range []struct {
				key string
				set bool
			}{{"baud", o.Baud != 0}, {"data_bits", o.DataBits != 0}, {"parity", o.Parity != ""}, {"stop_bits", o.StopBits != 0}, {"flow", o.Flow != ""}} {
				if k.set {
					return o, h.Errorf("options."+k.key, "%s of host %q has no effect on a %s port (set it in the serial server's configuration, or use protocol: rfc2217)", k.key, h.Name, o.Protocol)
				}
			}
		}
	} else if o.Protocol != "" || o.Port != 0 {
		key := "options.protocol"
		if o.Protocol == "" {
			key = "options.port"
		}
		return o, h.Errorf(key, "port and protocol of host %q are for a network serial port (options.address)", h.Name)
	}
	if o.Baud == 0 {
		o.Baud = DefaultBaud
	}
	if o.Baud < 50 || o.Baud > 16000000 {
		return o, h.Errorf("options.baud", "baud of host %q must be between 50 and 16000000, got %d", h.Name, o.Baud)
	}
	if o.DataBits == 0 {
		o.DataBits = 8
	}
	if o.DataBits < 5 || o.DataBits > 8 {
		return o, h.Errorf("options.data_bits", "data_bits of host %q must be 5, 6, 7 or 8, got %d", h.Name, o.DataBits)
	}
	if o.Parity == "" {
		o.Parity = "none"
	}
	if !slices.Contains(parities, o.Parity) {
		return o, h.Errorf("options.parity", "parity of host %q must be one of %s, got %q", h.Name, strings.Join(parities, ", "), o.Parity)
	}
	if o.StopBits == 0 {
		o.StopBits = 1
	}
	if o.StopBits != 1 && o.StopBits != 1.5 && o.StopBits != 2 {
		return o, h.Errorf("options.stop_bits", "stop_bits of host %q must be 1, 1.5 or 2, got %g", h.Name, o.StopBits)
	}
	if o.StopBits == 1.5 && o.Address == "" {
		return o, h.Errorf("options.stop_bits", "stop_bits 1.5 of host %q: Linux ttys do not support it", h.Name)
	}
	if o.Flow == "" {
		o.Flow = "none"
	}
	if !slices.Contains(flows, o.Flow) {
		return o, h.Errorf("options.flow", "flow of host %q must be one of %s, got %q", h.Name, strings.Join(flows, ", "), o.Flow)
	}
	for _, d := range []struct {
		key string
		v   time.Duration
	}{{"min", o.Reconnect.Min.Duration}, {"max", o.Reconnect.Max.Duration}, {"give_up", o.Reconnect.GiveUp.Duration}} {
		if d.v < 0 {
			return o, h.Errorf("options.reconnect."+d.key, "reconnect.%s of host %q must not be negative", d.key, h.Name)
		}
	}
	o.Reconnect = o.Reconnect.withDefaults()
	if o.Power != nil {
		if err := o.Power.Validate(h, "options.power"); err != nil {
			return o, err
		}
	}
	if err := o.BootOptions.Validate(h); err != nil {
		return o, err
	}
	if o.Power == nil && o.Boot != power.BootPreinstalled {
		return o, h.Errorf("options.boot", "boot: %s of host %q needs a power block (the machine must be switched off and on)", o.Boot, h.Name)
	}
	if h.Kind == "power" && o.Power == nil {
		return o, h.Errorf("options", "host %q of kind power needs options.power (on and off commands)", h.Name)
	}
	return o, nil
}

// Describe is the console for Facts.
func (o Options) Describe() string {
	line := fmt.Sprintf("%d %d%s%g", o.Baud, o.DataBits, strings.ToUpper(o.Parity[:1]), o.StopBits)
	if o.Flow != "none" {
		line += " " + o.Flow
	}
	switch {
	case o.Protocol == "rfc2217":
		return "rfc2217 " + o.Address + " " + line
	case o.Address != "":
		return o.Protocol + " " + o.Address
	case o.USBSerial != "":
		return "tty usb_serial " + o.USBSerial + " " + line
	}
	return "tty " + o.Device + " " + line
}
