package devices

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// The ID databases Debian ships (package pci.ids: /usr/share/misc/pci.ids; package
// usb.ids: /usr/share/misc/usb.ids), read when a report is built, so a newer database
// names more devices without a new harness.
const (
	PCIIDsPath = "/usr/share/misc/pci.ids"
	USBIDsPath = "/usr/share/misc/usb.ids"
)

// maxIDsFile bounds each database read (pci.ids is ~1.4 MB in 2026).
const maxIDsFile = 16 << 20

// IDs names devices and classes from pci.ids and usb.ids. The zero value (or a missing
// file) names nothing; reports then show the bare IDs.
type IDs struct {
	PCI, USB *IDFile
}

// IDFile is one parsed database.
type IDFile struct {
	// Version is the file's "Version:" header ("2023.04.10"), "" when it has none.
	Version string
	vendors map[string]*vendor
	classes map[string]string // "02", "0200", "020000" -> name
}

type vendor struct {
	name    string
	devices map[string]*product
}

type product struct {
	name string
	subs map[string]string // "vvvv:dddd" -> name
}

// LoadIDs reads the two databases from their Debian paths. A file that is absent is
// no error (the names are then missing and Describe says so); a malformed or oversized
// one is.
func LoadIDs() (*IDs, error) { return LoadIDFiles(PCIIDsPath, USBIDsPath) }

// LoadIDFiles reads the databases from the given paths ("" skips one).
func LoadIDFiles(pci, usb string) (*IDs, error) {
	ids := &IDs{}
	for _, f := range []struct {
		path string
		dst  **IDFile
	}{{pci, &ids.PCI}, {usb, &ids.USB}} {
		if f.path == "" {
			continue
		}
		data, err := inputfile.ReadFile(f.path, maxIDsFile, "ID database")
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		db, err := ParseIDs(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.path, err)
		}
		*f.dst = db
	}
	return ids, nil
}

// ParseIDs parses the pci.ids / usb.ids format: "vvvv  Vendor", "\tdddd  Device",
// "\t\tssss ssss  Subsystem" (PCI), and the class list "C cc  Class", "\tss  Subclass",
// "\t\tpp  Prog-if". Other sections of usb.ids (AT, HID, R, BIAS, ...) are skipped.
func ParseIDs(data []byte) (*IDFile, error) {
	db := &IDFile{vendors: map[string]*vendor{}, classes: map[string]string{}}
	var (
		v       *vendor
		p       *product
		class   string // "cc" while in a class block
		sub     string
		section = "vendor" // or "class" or "other"
	)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		if line[0] == '#' {
			if rest, ok := strings.CutPrefix(strings.TrimSpace(strings.TrimLeft(line, "#")), "Version:"); ok && db.Version == "" {
				db.Version = strings.TrimSpace(rest)
			}
			continue
		}
		depth := len(line) - len(strings.TrimLeft(line, "\t"))
		body := line[depth:]
		id, name, ok := strings.Cut(body, "  ")
		if !ok {
			id, name, _ = strings.Cut(body, " ")
		}
		name = strings.TrimSpace(name)
		if depth == 0 {
			v, p, class = nil, nil, ""
			switch {
			case strings.HasPrefix(body, "C ") && len(body) >= 4 && isHex(body[2:4], 2):
				section = "class"
				class = strings.ToLower(body[2:4])
				db.classes[class] = strings.TrimSpace(body[4:])
			case isHex(id, 4):
				section = "vendor"
				v = &vendor{name: name, devices: map[string]*product{}}
				db.vendors[strings.ToLower(id)] = v
			default:
				section = "other" // usb.ids: AT, HID, R, BIAS, PHY, HUT, L, HCC, VT
			}
			continue
		}
		switch section {
		case "vendor":
			switch {
			case v == nil:
				return nil, fmt.Errorf("line %d: device outside a vendor", n)
			case depth == 1 && isHex(id, 4):
				p = &product{name: name}
				v.devices[strings.ToLower(id)] = p
			case depth == 2 && p != nil:
				sv, sd, ok := strings.Cut(strings.TrimSpace(body), " ")
				if !ok {
					continue
				}
				sd, sname, _ := strings.Cut(strings.TrimSpace(sd), "  ")
				if isHex(sv, 4) && isHex(sd, 4) {
					if p.subs == nil {
						p.subs = map[string]string{}
					}
					p.subs[strings.ToLower(sv+":"+sd)] = strings.TrimSpace(sname)
				}
			}
		case "class":
			switch {
			case depth == 1 && isHex(id, 2):
				sub = strings.ToLower(id)
				db.classes[class+sub] = name
			case depth == 2 && isHex(id, 2):
				db.classes[class+sub+strings.ToLower(id)] = name
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("line %d: %w", n+1, err)
	}
	return db, nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

func (ids *IDs) file(bus string) *IDFile {
	if ids == nil {
		return nil
	}
	if bus == "usb" {
		return ids.USB
	}
	return ids.PCI
}

// Names returns the vendor, device and subsystem names ("" where the database has none).
// subsystem is "vvvv:dddd" or "".
func (ids *IDs) Names(bus, vendorID, deviceID, subsystem string) (vendorName, deviceName, subName string) {
	db := ids.file(bus)
	if db == nil {
		return "", "", ""
	}
	v := db.vendors[strings.ToLower(vendorID)]
	if v == nil {
		return "", "", ""
	}
	p := v.devices[strings.ToLower(deviceID)]
	if p == nil {
		return v.name, "", ""
	}
	return v.name, p.name, p.subs[strings.ToLower(subsystem)]
}

// ClassName names a "cc.ss.pp" class by its most precise entry ("Ethernet controller"
// for 02.00.00, which has no prog-if entry), "" when unknown.
func (ids *IDs) ClassName(bus, class string) string {
	db := ids.file(bus)
	if db == nil || class == "" {
		return ""
	}
	k := strings.ToLower(strings.ReplaceAll(class, ".", ""))
	for len(k) >= 2 {
		if n, ok := db.classes[k]; ok {
			return n
		}
		k = k[:len(k)-2]
	}
	return ""
}

// TopClass names the class's first level ("Network controller" for 02.00.00), the
// support page's class filter.
func (ids *IDs) TopClass(bus, class string) string {
	db := ids.file(bus)
	if db == nil || len(class) < 2 {
		return ""
	}
	return db.classes[strings.ToLower(class[:2])]
}

// Describe states the databases' versions for a page: "pci.ids 2023.04.10, usb.ids
// 2025.07.26".
func (ids *IDs) Describe() string {
	var parts []string
	for _, f := range []struct {
		name string
		db   *IDFile
	}{{"pci.ids", ids.file("pci")}, {"usb.ids", ids.file("usb")}} {
		switch {
		case f.db == nil:
			parts = append(parts, f.name+" not installed (names missing)")
		case f.db.Version == "":
			parts = append(parts, f.name+" (no version stated)")
		default:
			parts = append(parts, f.name+" "+f.db.Version)
		}
	}
	return strings.Join(parts, ", ")
}
