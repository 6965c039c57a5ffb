package all

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// twoHosts is a matrix with two serial hosts whose options are a and b.
func twoHosts(t *testing.T, a, b string) *matrix.Matrix {
	t.Helper()
	y := `images:
  - {name: img, arch: x86_64, path: img.raw}
hosts:
  - {name: board-a, kind: serial, arch: x86_64, options: {` + a + `}}
  - {name: board-b, kind: serial, arch: x86_64, options: {` + b + `}}
suites:
  - name: boot
`
	m, err := matrix.LoadOptions{SkipFileChecks: true, Kinds: hosts.OptionChecks()}.Parse("lab.yaml", []byte(y), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// One console under two host names is refused when the matrix loads, at the second host,
// however the two names spell the endpoint.
func TestMatrixWithTwoHostsOnOneEndpointIsRefused(t *testing.T) {
	dir := t.TempDir()
	tty := filepath.Join(dir, "ttyUSB0")
	os.WriteFile(tty, nil, 0o600)
	byID := filepath.Join(dir, "usb-FTDI_FT232R_A10K-if00-port0")
	if err := os.Symlink(tty, byID); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, a, b string }{
		{"same ser2net port, two spellings", "address: 'localhost:3001'", "address: '127.0.0.1', port: 3001"},
		{"a tty and its by-id link", "device: " + tty, "device: " + byID},
		{"one PDU outlet", "device: /dev/ttyS0, power: {on: 'pdu on 3', off: 'pdu off 3'}",
			"device: /dev/ttyS1, power: {on: 'pdu  on 3', off: 'pdu off 3'}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := hosts.CheckEndpoints(twoHosts(t, c.a, c.b))
			if err == nil {
				t.Fatal("accepted two hosts on one endpoint")
			}
			if !strings.Contains(err.Error(), `"board-b"`) || !strings.Contains(err.Error(), `"board-a"`) || !strings.HasPrefix(err.Error(), "lab.yaml:5:") {
				t.Fatalf("error %q should name both hosts at lab.yaml:5", err)
			}
		})
	}
	for _, c := range []struct{ name, a, b string }{
		{"two ports", "address: 'localhost:3001'", "address: 'localhost:3002'"},
		{"outlets by host", "device: /dev/ttyS0, power: {on: 'pdu on $RHW_HOST', off: 'pdu off $RHW_HOST'}",
			"device: /dev/ttyS1, power: {on: 'pdu on $RHW_HOST', off: 'pdu off $RHW_HOST'}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := hosts.CheckEndpoints(twoHosts(t, c.a, c.b)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestIPMIEndpointIsTheBMC(t *testing.T) {
	h := matrix.Host{Name: "r630", Kind: "ipmi", Arch: "x86_64",
		Options: map[string]any{"address": "LocalHost", "user": "admin", "password_env": "X"}}
	eps, err := hosts.Endpoints(&h)
	if err != nil {
		t.Fatal(err)
	}
	if len(eps) != 1 || eps[0] != "bmc:127.0.0.1:623" {
		t.Fatalf("endpoints %v", eps)
	}
}
