package serial

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	bugst "go.bug.st/serial"
	"golang.org/x/sys/unix"
)

// openTTY opens a local serial port with the line settings. go.bug.st/serial sets raw mode,
// speed, size, parity and stop bits, and takes the port exclusively (TIOCEXCL); flow control
// is not in its Mode, so it is set here through a second descriptor opened before that.
func openTTY(path string, o Options) (io.ReadWriteCloser, error) {
	side, err := os.OpenFile(path, os.O_RDWR|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer side.Close()
	mode := &bugst.Mode{
		BaudRate: o.Baud,
		DataBits: o.DataBits,
		Parity:   map[string]bugst.Parity{"none": bugst.NoParity, "odd": bugst.OddParity, "even": bugst.EvenParity, "mark": bugst.MarkParity, "space": bugst.SpaceParity}[o.Parity],
		StopBits: map[float64]bugst.StopBits{1: bugst.OneStopBit, 1.5: bugst.OnePointFiveStopBits, 2: bugst.TwoStopBits}[o.StopBits],
	}
	port, err := bugst.Open(path, mode)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if o.Flow != "none" {
		if err := setFlow(int(side.Fd()), o.Flow); err != nil {
			port.Close()
			return nil, fmt.Errorf("%s: flow control %s: %w", path, o.Flow, err)
		}
	}
	return port, nil
}

func setFlow(fd int, flow string) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	switch flow {
	case "rtscts":
		t.Cflag |= unix.CRTSCTS
		t.Iflag &^= unix.IXON | unix.IXOFF
	case "xonxoff":
		t.Cflag &^= unix.CRTSCTS
		t.Iflag |= unix.IXON | unix.IXOFF
		t.Cc[unix.VSTART], t.Cc[unix.VSTOP] = 0x11, 0x13
	}
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// Flow reads back the flow control of an open tty (for tests).
func flowOf(path string) (string, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|unix.O_NOCTTY|unix.O_NONBLOCK, 0)
	if err != nil {
		return "", err
	}
	defer f.Close()
	t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	if err != nil {
		return "", err
	}
	switch {
	case t.Cflag&unix.CRTSCTS != 0:
		return "rtscts", nil
	case t.Iflag&unix.IXON != 0:
		return "xonxoff", nil
	}
	return "none", nil
}

// FindUSBSerial returns the tty device whose USB adapter has the serial number serial,
// from sysfs (sysRoot is "/sys" on a real system; devices are named /dev/<tty>). No device
// node is opened: opening another board's port would toggle its DTR. An adapter with
// several ports matches once per port; then name the port by /dev/serial/by-id instead.
func FindUSBSerial(sysRoot, serial string) (string, error) {
	entries, err := os.ReadDir(filepath.Join(sysRoot, "class", "tty"))
	if err != nil {
		return "", fmt.Errorf("usb_serial %s: %w", serial, err)
	}
	var found, seen []string
	for _, e := range entries {
		dev := filepath.Join(sysRoot, "class", "tty", e.Name(), "device")
		real, err := filepath.EvalSymlinks(dev)
		if err != nil {
			continue
		}
		sub, err := filepath.EvalSymlinks(filepath.Join(real, "subsystem"))
		if err != nil {
			continue
		}
		var usbDev string
		switch filepath.Base(sub) {
		case "usb-serial": // ftdi_sio, pl2303, cp210x: ttyUSBn -> port -> interface -> device
			usbDev = filepath.Dir(filepath.Dir(real))
		case "usb": // cdc_acm: ttyACMn -> interface -> device
			usbDev = filepath.Dir(real)
		default:
			continue
		}
		b, err := os.ReadFile(filepath.Join(usbDev, "serial"))
		if err != nil {
			continue
		}
		sn := strings.TrimSpace(string(b))
		seen = append(seen, e.Name()+"="+sn)
		if sn == serial {
			found = append(found, "/dev/"+e.Name())
		}
	}
	sort.Strings(found)
	switch len(found) {
	case 0:
		have := "no USB serial adapters"
		if len(seen) > 0 {
			sort.Strings(seen)
			have = "USB serial ports: " + strings.Join(seen, ", ")
		}
		return "", fmt.Errorf("no USB serial adapter with serial number %q (%s)", serial, have)
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("USB serial number %q names %d ports (%s): use device: /dev/serial/by-id/... to pick one", serial, len(found), strings.Join(found, ", "))
}
