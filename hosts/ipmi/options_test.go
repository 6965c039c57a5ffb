package ipmi

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

func parse(t *testing.T, options string) (Options, error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "redox.img"), nil, 0o644)
	y := fmt.Sprintf("images: [{name: r, arch: x86_64, path: redox.img}]\nhosts:\n  - name: bmc\n    kind: ipmi\n    arch: x86_64\n    options: %s\n", options)
	m, err := matrix.Parse("hw.yaml", []byte(y), dir)
	if err != nil {
		return Options{}, err // the kind's options validator runs when the matrix loads
	}
	return DecodeOptions(&m.Hosts[0])
}

func TestOptions(t *testing.T) {
	o, err := parse(t, "{address: 10.0.0.50, password_env: BMC_PW}")
	if err != nil {
		t.Fatal(err)
	}
	if o.Cipher != 17 || o.User != "admin" || o.Privilege != "administrator" || o.Retries != 3 || o.BootDevice != "none" ||
		o.SOLInstance != 1 || o.Keepalive.Duration != 10*time.Second || o.Boot != "preinstalled" {
		t.Fatalf("defaults %+v", o)
	}
	if h, p, _ := splitAddress(o.Address); h != "10.0.0.50" || p != 623 {
		t.Fatalf("%s %d", h, p)
	}
	o, err = parse(t, "{address: bmc.lab, port: 6230}")
	if err != nil || o.Address != "bmc.lab:6230" {
		t.Fatalf("%q %v", o.Address, err)
	}
	if _, err := parse(t, `{address: "bmc.lab:6230", port: 623}`); err == nil || !strings.Contains(err.Error(), "give one") {
		t.Fatalf("port twice: %v", err)
	}
	o, err = parse(t, `{address: "bmc.lab:6230", password_file: /etc/rhw/bmc.pw, cipher: 3, boot: pxe, pxe: {listen: "0.0.0.0:8069", url: "http://10.0.0.1:8069"}}`)
	if err != nil {
		t.Fatal(err)
	}
	if o.BootDevice != "pxe" || o.PXE.Listen != "0.0.0.0:8069" {
		t.Fatalf("%+v", o)
	}
	for opts, want := range map[string]string{
		"{}":                                              "needs options.address",
		"{address: h, cipher: 99}":                        "99 is not a cipher suite",
		"{address: h, boot_device: usb}":                  "boot_device of host \"bmc\" must be one of none, pxe, disk, cdrom, bios",
		"{address: h, privilege: root}":                   "privilege",
		"{address: \"h:99999\"}":                          "address of host",
		"{address: h, sol_instance: 99}":                  "sol_instance",
		"{address: h, password_env: A, password_file: B}": "not both",
		"{address: h, boot: command}":                     "no flash command",
		"{address: h, timeout: 1}":                        "needs a unit",
	} {
		_, err := parse(t, opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", opts, err, want)
		}
	}
}

// The example hosts in testdata/bmc.yaml (and the ipmi host of matrix/examples/redox.yaml)
// are accepted by the host kind.
func TestExampleMatrix(t *testing.T) {
	t.Setenv("REDOX_LAB_BMC_PASSWORD", "example-bmc-password")
	m, err := matrix.LoadOptions{SkipFileChecks: true}.Load("testdata/bmc.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range m.Hosts {
		o, err := DecodeOptions(&h)
		if err != nil {
			t.Errorf("%s: %v", h.Name, err)
			continue
		}
		t.Logf("%s: %s cipher %d boot %s boot_device %s", h.Name, o.Address, o.Cipher, o.Boot, o.BootDevice)
	}
	if _, err := New(m.Hosts[0], m.Images[0], hosts.Env{}); err != nil {
		t.Errorf("r630: %v", err)
	}
}
