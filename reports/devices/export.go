package devices

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
)

// ExportFormat is the version of devices.json. Fields are only ever added: a reader of
// format 1 reads every later file (docs/devices.md).
const ExportFormat = 1

// Export is devices.json.
type Export struct {
	Format int `json:"format"`
	// IDs names the ID databases the names come from ("pci.ids 2023.04.10, usb.ids ...").
	IDs string `json:"ids"`
	// Analyzer says where the states come from: "as recorded" by each run, or the
	// analyser that re-derived them from the stored transcripts (report site --rejudge).
	Analyzer string         `json:"analyzer,omitempty"`
	Devices  []ExportDevice `json:"devices"`
}

// ExportDevice is one device ID.
type ExportDevice struct {
	Key        string         `json:"key"` // "pci:8086:100e[:ssss:ssss]"
	Bus        string         `json:"bus"`
	VendorID   string         `json:"vendor_id"`
	DeviceID   string         `json:"device_id"`
	Subsystem  string         `json:"subsystem,omitempty"`
	Class      string         `json:"class,omitempty"` // "cc.ss.pp"
	ClassName  string         `json:"class_name,omitempty"`
	Vendor     string         `json:"vendor,omitempty"`
	Name       string         `json:"name,omitempty"`
	SubName    string         `json:"subsystem_name,omitempty"`
	Drivers    []string       `json:"drivers,omitempty"`
	Standing   string         `json:"standing"`
	Counts     map[string]int `json:"counts"` // grade -> machines
	Page       string         `json:"page,omitempty"`
	OnMachines []ExportOn     `json:"machines"`
}

// ExportOn is the device on one machine, from its newest boot.
type ExportOn struct {
	Machine  string      `json:"machine"`
	Kind     string      `json:"kind,omitempty"`
	Vendor   string      `json:"machine_vendor,omitempty"`
	Model    string      `json:"machine_model,omitempty"`
	Address  string      `json:"address,omitempty"`
	Grade    string      `json:"state"`
	Driver   string      `json:"driver,omitempty"`
	Why      string      `json:"why,omitempty"`
	Image    ExportImage `json:"image"`
	Run      string      `json:"run"`
	Date     string      `json:"date"`            // the run's day, YYYY-MM-DD
	Since    string      `json:"since,omitempty"` // the day the state began (its streak's first run)
	SinceRun string      `json:"since_run,omitempty"`
	From     string      `json:"from,omitempty"` // the state before, when it changed
	Boots    int         `json:"boots"`
	Evidence Evidence    `json:"evidence"`
}

// ExportImage is the image of a boot.
type ExportImage struct {
	Name    string `json:"name"`
	Version string `json:"version,omitempty"`
	Date    string `json:"date,omitempty"`
	SHA256  string `json:"sha256,omitempty"`
}

// Evidence points at what decided a state: transcript lines (1-based) and the check.
type Evidence struct {
	Transcript string `json:"transcript,omitempty"` // page of the transcript, relative to the site
	Lines      []int  `json:"lines,omitempty"`
	Check      string `json:"check,omitempty"`
	CheckPage  string `json:"check_page,omitempty"`
}

// Links gives the site pages of a record's transcript ("" when not in the site).
type Links func(rec *record.Record) string

// EvidenceOf is the evidence of a graded device with links from pages.
func EvidenceOf(s Seen, pages Links) Evidence {
	ev := Evidence{Lines: s.Evidence, Check: s.Check}
	if pages != nil && s.Rec != nil {
		ev.Transcript = pages(s.Rec)
	}
	if pages != nil && s.CheckRec != nil {
		ev.CheckPage = pages(s.CheckRec)
	}
	return ev
}

func imageOf(img record.Image) ExportImage {
	return ExportImage{Name: img.Name, Version: img.Version, Date: img.Date, SHA256: img.SHA256}
}

func day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02")
}

// ToExport builds devices.json's content; page gives a device's page ("" for none).
func ToExport(es []*Entry, ids *IDs, pages Links, page func(*Entry) string) Export {
	x := Export{Format: ExportFormat, IDs: ids.Describe(), Devices: []ExportDevice{}}
	for _, e := range es {
		d := ExportDevice{Key: e.Key, Bus: e.Bus, VendorID: e.VendorID, DeviceID: e.DeviceID, Subsystem: e.Subsystem,
			Class: e.Class, ClassName: e.ClassName, Vendor: e.Vendor, Name: e.Name, SubName: e.SubName,
			Drivers: e.Drivers(), Standing: e.Standing(), Counts: e.Counts()}
		if page != nil {
			d.Page = page(e)
		}
		for _, on := range e.Sorted() {
			o := ExportOn{Machine: on.Machine, Kind: on.Host.Kind, Vendor: on.Host.Vendor, Model: on.Host.Model,
				Address: on.Seen.Address, Grade: on.Seen.Grade, Driver: on.Seen.Driver, Why: on.Seen.Why,
				Image: imageOf(on.Image), Run: on.Run, Date: day(on.Date), Boots: on.Boots,
				Evidence: EvidenceOf(on.Seen, pages)}
			if on.From != "" {
				o.Since, o.SinceRun, o.From = day(on.Since), on.SinceRun, on.From
			}
			d.OnMachines = append(d.OnMachines, o)
		}
		x.Devices = append(x.Devices, d)
	}
	return x
}

// WriteJSON writes devices.json.
func WriteJSON(w io.Writer, x Export) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", " ")
	return enc.Encode(x)
}

// CSVHeader is the first row of devices.csv (columns are only ever added, at the end).
var CSVHeader = []string{"key", "bus", "vendor_id", "device_id", "subsystem", "class", "class_name", "vendor", "name",
	"machine", "state", "driver", "image", "image_version", "image_date", "image_sha256", "run", "date", "since", "from", "why"}

// WriteCSV writes devices.csv: one row per device and machine.
func WriteCSV(w io.Writer, x Export) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	for _, d := range x.Devices {
		for _, o := range d.OnMachines {
			row := []string{d.Key, d.Bus, d.VendorID, d.DeviceID, d.Subsystem, d.Class, d.ClassName, d.Vendor, d.Name,
				o.Machine, o.Grade, o.Driver, o.Image.Name, o.Image.Version, o.Image.Date, o.Image.SHA256, o.Run, o.Date, o.Since, o.From, o.Why}
			for i, f := range row {
				row[i] = csvSafe(f)
			}
			if err := cw.Write(row); err != nil {
				return err
			}
		}
	}
	cw.Flush()
	return cw.Error()
}

// csvSafe keeps a cell from being read as a formula by a spreadsheet (console text reaches
// "why") and from carrying control characters.
func csvSafe(s string) string {
	s = text.OneLine(s, 400)
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		s = "'" + s
	}
	return s
}

// ReadExport reads devices.json (any format up to ExportFormat's fields; unknown fields of
// later formats are ignored).
func ReadExport(r io.Reader) (Export, error) {
	var x Export
	if err := json.NewDecoder(r).Decode(&x); err != nil {
		return x, fmt.Errorf("devices.json: %w", err)
	}
	if x.Format < 1 {
		return x, fmt.Errorf("devices.json: no format number: not a devices export")
	}
	return x, nil
}

// Known says what is known about a device elsewhere: "works on 3 tested machines, last
// 2026-12-05; fails on 1 (last 2026-12-01)", "" when no machine carried it.
func (d ExportDevice) Known() string {
	type group struct {
		n    int
		last string
	}
	gs := map[string]*group{}
	for _, o := range d.OnMachines {
		w := groupWord(o.Grade)
		g := gs[w]
		if g == nil {
			g = &group{}
			gs[w] = g
		}
		g.n++
		if o.Date > g.last {
			g.last = o.Date
		}
	}
	var parts []string
	for _, w := range standingWords {
		g := gs[w.words]
		if g == nil {
			continue
		}
		unit := "tested machines"
		if g.n == 1 {
			unit = "tested machine"
		}
		p := fmt.Sprintf("%s on %d %s", w.words, g.n, unit)
		if g.last != "" {
			p += ", last " + g.last
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, "; ")
}

func groupWord(grade string) string {
	for _, w := range standingWords {
		for _, g := range w.grades {
			if g == grade {
				return w.words
			}
		}
	}
	return grade
}

// Lookup finds a device of an export by its key, falling back to vendor:device without
// the subsystem (a log that printed no subsystem still matches a device known with one,
// and the other way round); nil when unknown.
func (x Export) Lookup(d record.Device) []ExportDevice {
	k := Key(d)
	var exact, loose []ExportDevice
	id := strings.ToLower(d.Bus + ":" + d.VendorID + ":" + d.DeviceID)
	for _, e := range x.Devices {
		switch {
		case e.Key == k:
			exact = append(exact, e)
		case e.Bus+":"+e.VendorID+":"+e.DeviceID == id:
			loose = append(loose, e)
		}
	}
	if len(exact) > 0 {
		return exact
	}
	sort.Slice(loose, func(i, j int) bool { return loose[i].Key < loose[j].Key })
	return loose
}
