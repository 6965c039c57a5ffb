package pikvm

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// parseHost loads a matrix with one pikvm host whose options are the given lines (indented
// under options:, from line 8 of hw.yaml), so errors carry real positions.
func parseHost(t *testing.T, options string) (Options, error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "redox.img"), nil, 0o644)
	y := "images: [{name: r, arch: x86_64, path: redox.img}]\nhosts:\n  - name: laptop\n    kind: pikvm\n    arch: x86_64\n    options:\n      address: https://pikvm.lab\n" + options
	m, err := matrix.Parse("hw.yaml", []byte(y), dir)
	if err != nil {
		return Options{}, err // the kind's options check runs when the matrix loads
	}
	return decode(&m.Hosts[0])
}

func TestOptionsScreenAndPower(t *testing.T) {
	o, err := parseHost(t, "")
	if err != nil {
		t.Fatal(err)
	}
	if o.Screen != ScreenSnapshot || o.Power != nil || o.VNCAddress != "" {
		t.Fatalf("defaults: screen %q, power %+v, vnc %q", o.Screen, o.Power, o.VNCAddress)
	}
	o, err = parseHost(t, "      screen: vnc\n      power: atx\n      vnc_password_env: VNC_PW\n")
	if err != nil {
		t.Fatal(err)
	}
	if o.VNCAddress != "pikvm.lab:5900" || o.Power != nil || o.VNCSource().Env != "VNC_PW" {
		t.Fatalf("vnc %q, power %+v, source %v", o.VNCAddress, o.Power, o.VNCSource())
	}
	o, err = parseHost(t, "      screen: vnc\n      vnc_address: \"[::1]:5901\"\n      password_env: KVMD_PW\n      power:\n        on: pdu on 3\n        off: pdu off 3\n        status: pdu status 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if o.VNCAddress != "[::1]:5901" || o.Power == nil || o.Power.Status != "pdu status 3" || o.VNCSource().Env != "KVMD_PW" {
		t.Fatalf("vnc %q, power %+v, source %v", o.VNCAddress, o.Power, o.VNCSource())
	}
	h := matrix.Host{Name: "laptop", Kind: "pikvm", Options: map[string]any{"address": "http://10.0.0.9", "power": map[string]any{"on": "pdu on 3", "off": "pdu off 3"}}}
	if eps, err := Endpoints(&h); err != nil || strings.Join(eps, " ") != "pikvm:10.0.0.9 power:pdu on 3" {
		t.Fatalf("endpoints %v %v", eps, err)
	}
}

// Bad values of the new keys are matrix errors at file:line:col, with a "did you mean"
// where a value is close to a known one.
func TestOptionsErrors(t *testing.T) {
	for opts, want := range map[string]string{
		"      screen: vcn\n":                                `hw.yaml:8:15: screen in options of host "laptop" must be snapshot or vnc, got "vcn" (did you mean "vnc"?)`,
		"      screan: vnc\n":                                `hw.yaml:8:7: unknown key "screan" in options of host "laptop" (did you mean "screen"?`,
		"      power: atc\n":                                 `hw.yaml:8:14: power of host "laptop" must be atx (PiKVM's ATX, the default) or a block of power commands`,
		"      power: ipmi\n":                                `hw.yaml:8:14: power of host "laptop" must be atx`,
		"      power: {on: a, of: b}\n":                      `hw.yaml:8:22: unknown key "of" in power`,
		"      power: {on: a}\n":                             `power.off of host "laptop" is required`,
		"      power: {on: a, off: b, settle: x}\n":          `hw.yaml:8:38: settle in power of options of host "laptop": invalid duration "x"`,
		"      vnc_address: h:5900\n":                        `hw.yaml:8:20: vnc_address of host "laptop" is used only with screen: vnc`,
		"      screen: vnc\n      vnc_address: nohostport\n": `hw.yaml:9:20: vnc_address of host "laptop" must be host:port`,
		"      screen: vnc\n      vnc_password_env: A\n      vnc_password_file: B\n": `hw.yaml:10:26: host "laptop": give vnc_password_env or vnc_password_file, not both`,
		"      boot: mds\n": `hw.yaml:8:13: boot in options of host "laptop" must be preinstalled or msd, got "mds" (did you mean "msd"?)`,
	} {
		_, err := parseHost(t, opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v\nwant %s", opts, err, want)
		}
	}
}
