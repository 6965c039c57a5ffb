package all

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Every host kind checks its options when the matrix loads (hosts.OptionChecks, given to
// the loader), and every kind the matrix knows is a kind the hosts implement.
func TestEveryKindValidatesOptionsAtLoad(t *testing.T) {
	checks := hosts.OptionChecks()
	for _, k := range hosts.Kinds() {
		if checks[k] == nil {
			t.Errorf("host kind %s registers no options check", k)
		}
	}
	for _, k := range matrix.KnownKinds {
		if !slices.Contains(hosts.Kinds(), k) {
			t.Errorf("matrix kind %s has no host implementation", k)
		}
	}
}

// A typo or a bad value in a host's options is bad input at its file:line:col when the
// matrix loads (exit 2), not an INFRA verdict when the job boots.
func TestOptionsErrorsAtLoad(t *testing.T) {
	for _, c := range []struct{ host, want string }{
		{`{name: q, kind: qemu, arch: x86_64, options: {disk_buss: nvme}}`,
			`m.yaml:6:51: unknown key "disk_buss" in options of host "q" (did you mean "disk_bus"?`},
		{`{name: q, kind: qemu, arch: x86_64, options: {disk_bus: scsi}}`,
			`m.yaml:6:61: disk_bus in options of host "q" must be one of nvme, virtio, ahci, ide, got "scsi"`},
		{`{name: c, kind: cloud-hypervisor, arch: x86_64, options: {serial: tty}}`,
			`m.yaml:6:71: serial in options of host "c" must be "pty" or "socket", got "tty"`},
		{`{name: r, kind: replay, arch: x86_64, options: {speed: 0}}`,
			`m.yaml:6:60: speed must be a number > 0, got 0`},
		{`{name: s, kind: serial, arch: x86_64, options: {device: /dev/ttyS0, baud: fast}}`,
			`m.yaml:6:79: baud in options of host "s" must be an integer`},
		{`{name: s, kind: serial, arch: x86_64, options: {}}`,
			`needs exactly one of options.device, options.usb_serial or options.address`},
		{`{name: b, kind: ipmi, arch: x86_64, options: {address: 192.0.2.1, cipher: 99}}`,
			`m.yaml:6:79: cipher of host "b": 99 is not a cipher suite`},
	} {
		img := "{name: i, arch: x86_64, path: disk.img}"
		if strings.Contains(c.host, "replay") {
			img = "{name: i, arch: x86_64, variant: recorded, transcript: boot.log}"
		}
		y := "images:\n  - " + img + "\nsuites:\n  - {name: boot}\nhosts:\n  - " + c.host + "\n"
		_, err := matrix.LoadOptions{SkipFileChecks: true, Kinds: hosts.OptionChecks()}.Parse("m.yaml", []byte(y), t.TempDir())
		var me *matrix.Error
		if !errors.As(err, &me) {
			t.Errorf("%s: got %v, want a *matrix.Error", c.host, err)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got  %v\n want %s", c.host, err, c.want)
		}
	}
}
