package serial

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"golang.org/x/sys/unix"
)

func parseHost(t *testing.T, options string) (*matrix.Host, error) {
	t.Helper()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "redox.img"), nil, 0o644)
	y := fmt.Sprintf(`images:
  - {name: redox, arch: x86_64, path: redox.img}
hosts:
  - name: board
    kind: serial
    arch: x86_64
    options: %s
`, options)
	m, err := matrix.Parse("hw.yaml", []byte(y), dir)
	if err != nil {
		return nil, err // the kind's options validator runs when the matrix loads
	}
	h := m.Hosts[0]
	_, err = DecodeOptions(&h)
	return &h, err
}

func TestOptionsDefaultsAndErrors(t *testing.T) {
	h, err := parseHost(t, "{device: /dev/ttyUSB0}")
	if err != nil {
		t.Fatal(err)
	}
	o, _ := DecodeOptions(h)
	if o.Baud != 115200 || o.DataBits != 8 || o.Parity != "none" || o.StopBits != 1 || o.Flow != "none" ||
		o.Boot != "preinstalled" || o.Reconnect.GiveUp.Duration != DefaultGiveUp {
		t.Fatalf("defaults: %+v", o)
	}
	if d := o.Describe(); d != "tty /dev/ttyUSB0 115200 8N1" {
		t.Fatalf("describe %q", d)
	}
	for opts, want := range map[string]string{
		"{}":                                     "needs exactly one of options.device, options.usb_serial or options.address",
		"{device: /dev/ttyS0, address: \"a:1\"}": "hw.yaml:7:",
		"{address: nohost}":                      "needs the network serial port's TCP port",
		"{address: h, protocol: telnet, port: 3001, parity: odd}":     "no effect on a telnet port",
		"{address: \"h:1\", port: 2}":                                 "give one",
		"{address: h, port: 1, protocol: ssh}":                        "protocol of host \"board\" must be one of raw, telnet, rfc2217",
		"{address: \"h:3001\", baud: 9600}":                           "no effect on a raw port",
		"{device: /dev/ttyS0, protocol: rfc2217}":                     "are for a network serial port",
		"{device: /dev/ttyS0, parity: evn}":                           "parity of host \"board\" must be one of none, odd, even, mark, space",
		"{device: /dev/ttyS0, stop_bits: 3}":                          "stop_bits",
		"{device: /dev/ttyS0, flow: hw}":                              "flow of host",
		"{device: /dev/ttyS0, data_bits: 9}":                          "data_bits",
		"{device: /dev/ttyS0, baud: fast}":                            "hw.yaml:7:",
		"{device: /dev/ttyS0, boot: pxe}":                             "needs a power block",
		"{device: /dev/ttyS0, boot: usb}":                             "boot of host \"board\" must be one of",
		"{device: /dev/ttyS0, power: {on: x}}":                        "power.off of host \"board\" is required",
		"{device: /dev/ttyS0, power: {on: x, off: y, bogus: 1}}":      "unknown key",
		"{device: /dev/ttyS0, reconnect: {give_up: 5}}":               "needs a unit",
		"{device: /dev/ttyS0, power: {on: x, off: y}, boot: command}": "no flash command",
	} {
		_, err := parseHost(t, opts)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", opts, err, want)
		}
	}
	h, err = parseHost(t, `{address: ser2net, port: 3002, protocol: rfc2217, baud: 9600, parity: even, stop_bits: 1.5, flow: rtscts,
	  power: {on: "pdu on 3", off: "pdu off 3", min_off: 5s, password_env: PDU_PW}, boot: command, flash: "sdmux write $RHW_IMAGE"}`)
	if err != nil {
		t.Fatal(err)
	}
	o, _ = DecodeOptions(h)
	if o.Describe() != "rfc2217 ser2net:3002 9600 8E1.5 rtscts" || o.Power.MinOff.Duration != 5*time.Second || o.Power.Env != "PDU_PW" {
		t.Fatalf("%s %+v", o.Describe(), o.Power)
	}
}

func TestMatrixRefusesAPasswordInOptions(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "redox.img"), nil, 0o644)
	_, err := matrix.Parse("hw.yaml", []byte("images: [{name: r, arch: x86_64, path: redox.img}]\nhosts: [{name: b, kind: serial, arch: x86_64, options: {device: /dev/x, password: hunter2}}]\n"), dir)
	if err == nil || !strings.Contains(err.Error(), "must not hold a password") {
		t.Fatalf("got %v", err)
	}
}

// A fake sysfs with an FTDI adapter (usb-serial) and a CDC ACM board (usb).
func TestFindUSBSerial(t *testing.T) {
	root := t.TempDir()
	mk := func(p string) string { p = filepath.Join(root, p); os.MkdirAll(p, 0o755); return p }
	write := func(p, s string) { os.WriteFile(filepath.Join(root, p), []byte(s), 0o644) }
	link := func(target, name string) {
		os.MkdirAll(filepath.Dir(filepath.Join(root, name)), 0o755)
		os.Symlink(filepath.Join(root, target), filepath.Join(root, name))
	}
	mk("bus/usb-serial")
	mk("bus/usb")
	// ttyUSB0: devices/usb1/1-1 (device, serial A10K) / 1-1:1.0 (interface) / ttyUSB0 (port)
	mk("devices/usb1/1-1/1-1:1.0/ttyUSB0")
	write("devices/usb1/1-1/serial", "A10K1234\n")
	link("bus/usb-serial", "devices/usb1/1-1/1-1:1.0/ttyUSB0/subsystem")
	link("devices/usb1/1-1/1-1:1.0/ttyUSB0", "class/tty/ttyUSB0/device")
	// ttyACM0: devices/usb1/1-2 (device, serial BOARD7) / 1-2:1.0 (interface)
	mk("devices/usb1/1-2/1-2:1.0")
	write("devices/usb1/1-2/serial", "BOARD7\n")
	link("bus/usb", "devices/usb1/1-2/1-2:1.0/subsystem")
	link("devices/usb1/1-2/1-2:1.0", "class/tty/ttyACM0/device")
	// ttyS0: no device link of interest
	mk("class/tty/ttyS0")

	if p, err := FindUSBSerial(root, "A10K1234"); err != nil || p != "/dev/ttyUSB0" {
		t.Fatalf("%q %v", p, err)
	}
	if p, err := FindUSBSerial(root, "BOARD7"); err != nil || p != "/dev/ttyACM0" {
		t.Fatalf("%q %v", p, err)
	}
	_, err := FindUSBSerial(root, "NOPE")
	if err == nil || !strings.Contains(err.Error(), "ttyACM0=BOARD7, ttyUSB0=A10K1234") {
		t.Fatalf("%v", err)
	}
}

// The RFC 2217 client against a scripted server.
func TestTelnetNegotiatesComPortAndUnescapes(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	var log bytes.Buffer
	var logMu sync.Mutex
	lw := writerFunc(func(p []byte) (int, error) { logMu.Lock(); defer logMu.Unlock(); return log.Write(p) })
	o := Options{Protocol: "rfc2217", Baud: 57600, DataBits: 7, Parity: "even", StopBits: 2, Flow: "rtscts"}
	got := make(chan []byte, 1)
	go func() {
		// read the client's opening offer
		buf := make([]byte, 64)
		n, _ := io.ReadAtLeast(server, buf, 15)
		got <- append([]byte(nil), buf[:n]...)
	}()
	tc, err := newTelnet(client, o, lw)
	if err != nil {
		t.Fatal(err)
	}
	offer := <-got
	if !bytes.Contains(offer, []byte{tIAC, tWILL, optComPort}) || !bytes.Contains(offer, []byte{tIAC, tDO, optBinary}) {
		t.Fatalf("offer % x", offer)
	}
	// Server: agree to com port, send data with an escaped 0xFF, a confirmation, more data.
	var baud [4]byte
	binary.BigEndian.PutUint32(baud[:], 57600)
	serverMsg := append([]byte{tIAC, tDO, optComPort, 'h', 'i', tIAC, tIAC, '!'},
		append(append([]byte{tIAC, tSB, optComPort, 100 + cpSetBaud}, baud[:]...), tIAC, tSE, '\n')...)
	settings := make(chan []byte, 1)
	go func() {
		server.Write(serverMsg)
		buf := make([]byte, 256)
		var all []byte
		for len(all) < 35 {
			n, err := server.Read(buf)
			if err != nil {
				break
			}
			all = append(all, buf[:n]...)
		}
		settings <- all
	}()
	var data []byte
	buf := make([]byte, 64)
	for !bytes.Contains(data, []byte{'\n'}) {
		n, err := tc.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		data = append(data, buf[:n]...)
	}
	if string(data) != "hi\xff!\n" {
		t.Fatalf("data %q", data)
	}
	s := <-settings
	for _, want := range [][]byte{
		append(append([]byte{tIAC, tSB, optComPort, cpSetBaud}, baud[:]...), tIAC, tSE),
		{tIAC, tSB, optComPort, cpSetDataSize, 7, tIAC, tSE},
		{tIAC, tSB, optComPort, cpSetParity, 3, tIAC, tSE},
		{tIAC, tSB, optComPort, cpSetStopSize, 2, tIAC, tSE},
		{tIAC, tSB, optComPort, cpSetControl, 3, tIAC, tSE},
	} {
		if !bytes.Contains(s, want) {
			t.Errorf("settings % x lack % x", s, want)
		}
	}
	if a := tc.Acks(); len(a) != 1 || a[0] != "baud 57600" {
		t.Errorf("acks %v", a)
	}
	wrote := make(chan []byte, 1)
	go func() { b := make([]byte, 16); n, _ := server.Read(b); wrote <- b[:n] }()
	tc.Write([]byte{'a', 0xff, 'b'})
	if w := <-wrote; !bytes.Equal(w, []byte{'a', 0xff, 0xff, 'b'}) {
		t.Fatalf("escaped write % x", w)
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// Redial against a TCP server that drops the connection and comes back.
func TestRedialMarksGapsAndGivesUp(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	conns := make(chan net.Conn, 4)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	var mu sync.Mutex
	down := false
	dial := func(ctx context.Context) (io.ReadWriteCloser, error) {
		mu.Lock()
		defer mu.Unlock()
		if down {
			return nil, fmt.Errorf("connection refused (pretend)")
		}
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	r, err := NewRedial(context.Background(), "test", dial, ReconnectOptions{
		Min: matrix.Duration{Duration: 20 * time.Millisecond}, Max: matrix.Duration{Duration: 50 * time.Millisecond},
		GiveUp: matrix.Duration{Duration: 700 * time.Millisecond}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var notes []string
	r.SetNote(func(s string) { mu.Lock(); notes = append(notes, s); mu.Unlock() })
	c1 := <-conns
	c1.Write([]byte("before\n"))
	mu.Lock()
	down = true
	mu.Unlock()
	c1.Close()
	go func() {
		time.Sleep(200 * time.Millisecond)
		mu.Lock()
		down = false
		mu.Unlock()
		c2 := <-conns
		c2.Write([]byte("after\n"))
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		down = true // and now for good
		mu.Unlock()
		c2.Close()
	}()
	var out []byte
	buf := make([]byte, 256)
	var rerr error
	for {
		n, err := r.Read(buf)
		out = append(out, buf[:n]...)
		if err != nil {
			rerr = err
			break
		}
	}
	s := string(out)
	for _, want := range []string{"before\n", "### redox-hwtest: console lost at", "### redox-hwtest: console back after", "after\n"} {
		if !strings.Contains(s, want) {
			t.Errorf("stream lacks %q:\n%s", want, s)
		}
	}
	if rerr == nil || !strings.Contains(rerr.Error(), "console lost for good") {
		t.Fatalf("read error %v", rerr)
	}
	g := r.Gaps()
	if len(g) != 2 || g[0].Open() || !g[1].Open() || g[0].Duration() < 150*time.Millisecond {
		t.Fatalf("gaps %+v", g)
	}
	time.Sleep(50 * time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	if len(notes) < 3 || !strings.Contains(strings.Join(notes, "|"), "console back after") {
		t.Fatalf("notes %q", notes)
	}
	if _, err := r.Write([]byte("x")); err == nil {
		t.Fatal("write after the console was lost for good succeeded")
	}
}

func TestRedialFirstConnectionIsBounded(t *testing.T) {
	start := time.Now()
	_, err := NewRedial(context.Background(), "nowhere", func(ctx context.Context) (io.ReadWriteCloser, error) {
		return nil, fmt.Errorf("refused")
	}, ReconnectOptions{GiveUp: matrix.Duration{Duration: 300 * time.Millisecond}}, nil)
	if err == nil || time.Since(start) > 2*time.Second || !strings.Contains(err.Error(), "no connection after") {
		t.Fatalf("%v after %v", err, time.Since(start))
	}
}

// openPTY makes a pty pair with /dev/ptmx and returns the master and the slave's path.
func openPTY(t *testing.T) (*os.File, string) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no ptys here: %v", err)
	}
	t.Cleanup(func() { m.Close() })
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	return m, fmt.Sprintf("/dev/pts/%d", n)
}

func TestOpenTTYSetsLineAndFlowControl(t *testing.T) {
	for _, flow := range []string{"rtscts", "xonxoff", "none"} {
		m, slave := openPTY(t)
		p, err := openTTY(slave, Options{Baud: 57600, DataBits: 7, Parity: "even", StopBits: 2, Flow: flow})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := flowOf(slave); err != nil || got != flow {
			t.Errorf("flow %s: read back %q %v", flow, got, err)
		}
		m.Write([]byte("ping"))
		buf := make([]byte, 8)
		n, err := p.Read(buf)
		if err != nil || string(buf[:n]) != "ping" {
			t.Fatalf("read %q %v", buf[:n], err)
		}
		p.Close()
	}
}

func TestPlainTelnetRefusesComPort(t *testing.T) {
	client, server := net.Pipe()
	defer server.Close()
	first := make(chan []byte, 1)
	go func() {
		buf := make([]byte, 64)
		n, _ := io.ReadAtLeast(server, buf, 12)
		first <- append([]byte(nil), buf[:n]...)
	}()
	tc, err := newTelnet(client, Options{Protocol: "telnet"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if offer := <-first; bytes.Contains(offer, []byte{tIAC, tWILL, optComPort}) {
		t.Fatalf("plain telnet offered com port control: % x", offer)
	}
	reply := make(chan []byte, 1)
	go func() {
		server.Write([]byte{tIAC, tDO, optComPort, 'o', 'k'})
		buf := make([]byte, 16)
		n, _ := server.Read(buf)
		reply <- buf[:n]
	}()
	buf := make([]byte, 8)
	n, err := tc.Read(buf)
	if err != nil || string(buf[:n]) != "ok" {
		t.Fatalf("%q %v", buf[:n], err)
	}
	if r := <-reply; !bytes.Equal(r, []byte{tIAC, tWONT, optComPort}) {
		t.Fatalf("reply % x", r)
	}
}

// The example hosts in testdata/lab.yaml (and the serial host of matrix/examples/redox.yaml)
// are accepted by the host kind.
func TestExampleMatrix(t *testing.T) {
	t.Setenv("LAB_PDU_PASSWORD", "example-pdu-password")
	m, err := matrix.LoadOptions{SkipFileChecks: true}.Load("testdata/lab.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range m.Hosts {
		mach, err := New(h, m.Images[0], hosts.Env{Dir: t.TempDir()})
		if err != nil {
			t.Errorf("%s: %v", h.Name, err)
			continue
		}
		t.Logf("%s: %v", h.Name, mach.Facts())
	}
}
