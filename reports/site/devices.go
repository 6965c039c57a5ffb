package site

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/devices"
	"github.com/redox-hwtest/redox-hwtest/reports/internal/text"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// The Devices view: devices.html (one row per device ID, search and filters, then the
// driver-work ranking), devices/<key>.html (a stable URL per device: every machine that
// carries it, with the evidence of its state), devices.json and devices.csv (the export,
// docs/devices.md). Built from the records' device inventories (reports/devices).

// gradeSymbols mark a grade for readers who do not see colour (fixed set: CSS classes).
var gradeSymbols = map[string]string{
	devices.Works: "✓", devices.Detected: "○", devices.Malfunction: "✗", devices.Failed: "✗",
	devices.NoDriver: "–", devices.Listed: "?",
}

var gradeWords = map[string]string{
	devices.Works: "works", devices.Detected: "detected (driver bound, not exercised)", devices.Malfunction: "malfunction",
	devices.Failed: "failed", devices.NoDriver: "no driver", devices.Listed: "listed (boot ended before drivers)",
}

type devMark struct{ Machine, Href, State, Symbol, Title string }

// devView is one device ID in the Devices view.
type devView struct {
	Anchor, Page, ID, Key, Title, Class, TopClass, ClassSlug, Drivers, Standing string
	States, Search                                                              string
	Split                                                                       bool
	Since                                                                       string
	NeedsWork, Machines, MoreMarks                                              int
	Marks                                                                       []devMark
}

// maxRowMarks bounds the machine marks of one row of the Devices list (the device's page
// lists every machine), so the list grows by at most ~4 KB per device ID whatever the lab's
// size.
const maxRowMarks = 16

type devMachineRow struct {
	Machine, Page, Label, State, Symbol, Word, Driver, Address string
	Image, Date, Since, Why                                    string
	Evidence, Check, CheckHref                                 string
	Lines                                                      []int
}

type devExcerpt struct {
	Machine, From, Lines, Href string
}

type devicesPage struct {
	page
	IDs      string
	Judged   string
	Devices  []devView
	Work     []devView
	Filters  []filter
	Boots    int
	Machines int
}

type devicePage struct {
	page
	IDs      string
	D        devView
	Vendor   string
	Rows     []devMachineRow
	Excerpts []devExcerpt
}

// maxDeviceExcerpts bounds the failure excerpts on one device page (the table links the
// rest).
const maxDeviceExcerpts = 6

// collectDevices grades the inventory of every boot in the history.
func (b *builder) collectDevices() {
	rs := make([]*runs.Run, len(b.runs))
	for i, r := range b.runs {
		rs[i] = r.Run
	}
	b.devs = devices.Collect(rs).Entries(b.ids)
	b.devByMachine = map[string][]*devices.Entry{}
	for _, e := range b.devs {
		for m := range e.Machines {
			b.devByMachine[m] = append(b.devByMachine[m], e)
		}
	}
}

// shownID is the ID a reader searches for: "8086:100e", or the class of a device whose
// IDs the OS did not print.
func shownID(e *devices.Entry) string {
	if e.VendorID == "" && e.DeviceID == "" {
		return e.Bus + " class " + e.Class
	}
	return e.VendorID + ":" + e.DeviceID
}

func devicePagePath(e *devices.Entry) string { return "devices/" + devices.Slug(e.Key) + ".html" }

// evidenceHref links a transcript page at the first evidence line ("" without evidence
// in the site).
func (b *builder) evidenceHref(rec *record.Record, lines []int, root string) string {
	j := b.jobs[rec]
	p := j.page()
	if p == "" {
		return ""
	}
	if len(lines) > 0 {
		return root + p + fmt.Sprintf("#L%d", lines[0])
	}
	return root + p
}

func (b *builder) devView(e *devices.Entry, root string) devView {
	v := devView{Anchor: devices.Slug(e.Key), Page: root + devicePagePath(e), Key: e.Key, ID: shownID(e),
		Title: e.Title(), Class: e.ClassName, TopClass: e.TopClass, Drivers: text.OneLine(strings.Join(e.Drivers(), ", "), 200),
		Standing: e.Standing(), Split: e.Split(), NeedsWork: e.NeedsWork(), Machines: len(e.Machines)}
	if v.Class == "" {
		v.Class = e.Class
	}
	if v.TopClass == "" {
		v.TopClass = "unknown class"
	}
	v.ClassSlug = devices.Slug(strings.ToLower(v.TopClass))
	if e.Subsystem != "" {
		v.ID += " (subsystem " + e.Subsystem + ")"
	}
	states := map[string]bool{}
	for _, on := range e.Sorted() {
		states[on.Seen.Grade] = true
		if len(v.Marks) == maxRowMarks {
			v.MoreMarks++
			continue
		}
		v.Marks = append(v.Marks, devMark{Machine: on.Machine, Href: root + "machines/" + slug(on.Machine) + ".html",
			State: on.Seen.Grade, Symbol: gradeSymbols[on.Seen.Grade], Title: text.OneLine(on.Seen.Why, 200)})
	}
	v.States = strings.Join(keys(states), " ")
	if on, ok := e.Changed(); ok {
		v.Since = fmt.Sprintf("%s on %s: %s → %s (%s)", fmtDay(on.Since), on.Machine, gradeWords[on.From], gradeWords[on.Seen.Grade], imageVersion(on.SinceImage))
	}
	words := []string{e.Key, e.VendorID + ":" + e.DeviceID, e.Subsystem, e.Vendor, e.Name, e.SubName, e.ClassName, e.TopClass, v.Drivers, v.Standing}
	v.Search = strings.ToLower(text.OneLine(strings.Join(words, " "), 2000))
	return v
}

func (b *builder) writeDevices() error {
	dp := devicesPage{page: newPage("Devices — "+b.opt.Title, "").withScript(), IDs: b.ids.Describe(), Machines: len(b.devByMachine),
		Judged: "as each run recorded them"}
	if b.opt.Analyzer != "" {
		dp.Judged = "re-judged from the stored transcripts by " + b.opt.Analyzer
	}
	classes := map[string]string{}
	stateSet := map[string]bool{}
	for _, e := range b.devs {
		v := b.devView(e, "")
		classes[v.ClassSlug] = v.TopClass
		for _, s := range strings.Fields(v.States) {
			stateSet[s] = true
		}
		dp.Devices = append(dp.Devices, v)
	}
	for _, e := range devices.DriverWork(b.devs) {
		dp.Work = append(dp.Work, b.devView(e, ""))
	}
	cl := filter{Name: "class", Label: "Class"}
	for _, k := range keys(classes) {
		cl.Options = append(cl.Options, option{k, classes[k]})
	}
	st := filter{Name: "state", Label: "State on some machine"}
	for _, g := range devices.Grades {
		if stateSet[g] {
			st.Options = append(st.Options, option{g, gradeWords[g]})
		}
	}
	dp.Filters = []filter{cl, st}
	if err := b.render("devices.html", "devices", dp); err != nil {
		return err
	}
	x := devices.ToExport(b.devs, b.ids, func(rec *record.Record) string { return b.jobs[rec].page() }, devicePagePath)
	x.Analyzer = b.opt.Analyzer
	var buf bytes.Buffer
	if err := devices.WriteJSON(&buf, x); err != nil {
		return err
	}
	if err := b.writeFile("devices.json", buf.Bytes()); err != nil {
		return err
	}
	buf.Reset()
	if err := devices.WriteCSV(&buf, x); err != nil {
		return err
	}
	if err := b.writeFile("devices.csv", buf.Bytes()); err != nil {
		return err
	}
	if err := parallel(b.devs, b.writeDevice); err != nil {
		return err
	}
	return b.pruneDevices()
}

// pruneDevices removes device pages an earlier build into the same directory wrote for
// devices no longer in the history given (only *.html under devices/).
func (b *builder) pruneDevices() error {
	want := map[string]bool{}
	for _, e := range b.devs {
		want[filepath.Base(devicePagePath(e))] = true
	}
	ents, err := os.ReadDir(filepath.Join(b.out, "devices"))
	if err != nil {
		return err
	}
	for _, e := range ents {
		if e.Type().IsRegular() && strings.HasSuffix(e.Name(), ".html") && !want[e.Name()] {
			if err := os.Remove(filepath.Join(b.out, "devices", e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

func (b *builder) writeDevice(e *devices.Entry) error {
	root := "../"
	dp := devicePage{page: newPage(e.Title()+" — Redox OS hardware support", root), IDs: b.ids.Describe(), D: b.devView(e, root), Vendor: e.Vendor}
	for _, on := range e.Sorted() {
		s := on.Seen
		row := devMachineRow{Machine: on.Machine, Page: root + "machines/" + slug(on.Machine) + ".html", Label: label(on.Host),
			State: s.Grade, Symbol: gradeSymbols[s.Grade], Word: gradeWords[s.Grade], Driver: text.OneLine(s.Driver, 60), Address: text.OneLine(s.Address, 60),
			Image: imageVersion(on.Image), Date: fmtDay(on.Date), Why: text.OneLine(s.Why, 300), Check: s.Check, Lines: s.Evidence}
		if on.From != "" {
			row.Since = fmt.Sprintf("since %s (%s; was %s)", fmtDay(on.Since), imageVersion(on.SinceImage), gradeWords[on.From])
		} else {
			row.Since = fmt.Sprintf("since %s (first boot seen)", fmtDay(on.Since))
		}
		if s.Rec != nil {
			row.Evidence = b.evidenceHref(s.Rec, s.Evidence, root)
		}
		if s.CheckRec != nil {
			row.CheckHref = b.evidenceHref(s.CheckRec, nil, root)
		}
		dp.Rows = append(dp.Rows, row)
		if devices.Failing(s.Grade) && len(dp.Excerpts) < maxDeviceExcerpts && s.Rec != nil {
			if ex, ok := b.deviceExcerpt(s, on.Machine, row.Evidence); ok {
				dp.Excerpts = append(dp.Excerpts, ex)
			}
		}
	}
	return b.render(devicePagePath(e), "device", dp)
}

// deviceExcerpt is the transcript around the line that decided a failing device's state.
func (b *builder) deviceExcerpt(s devices.Seen, machine, href string) (devExcerpt, bool) {
	t, ok := s.Rec.Artifacts["transcript"]
	if !ok || len(s.Evidence) == 0 {
		return devExcerpt{}, false
	}
	j := b.jobs[s.Rec]
	data, err := readHead(filepath.Join(j.run.JobDir(s.Rec), filepath.FromSlash(t)), b.opt.MaxTranscript)
	if err != nil || len(data) == 0 {
		return devExcerpt{}, false
	}
	lines := strings.Split(strings.TrimRight(text.Clean(string(data)), "\n"), "\n")
	at := s.Evidence[len(s.Evidence)-1]
	if at < 1 || at > len(lines) {
		return devExcerpt{}, false
	}
	from := max(0, at-1-contextLines/2)
	to := min(len(lines), from+contextLines)
	return devExcerpt{Machine: machine, Href: href, Lines: numbered(lines[from:to], from+1),
		From: fmt.Sprintf("transcript lines %d–%d (the deciding line is %d)", from+1, to, at)}, true
}

// machineDevices lists a machine's devices for its page, by bus and address.
func (b *builder) machineDevices(m *machine, root string) []devMachineRow {
	var out []devMachineRow
	for _, e := range b.devByMachine[m.name] {
		on := e.Machines[m.name]
		s := on.Seen
		row := devMachineRow{Machine: e.Title(), Page: root + devicePagePath(e), Label: shownID(e),
			State: s.Grade, Symbol: gradeSymbols[s.Grade], Word: gradeWords[s.Grade], Driver: text.OneLine(s.Driver, 60), Address: text.OneLine(s.Bus+" "+s.Address, 70),
			Image: imageVersion(on.Image), Date: fmtDay(on.Date), Why: text.OneLine(s.Why, 300), Check: s.Check, Lines: s.Evidence}
		if e.Subsystem != "" {
			row.Label += " (" + e.Subsystem + ")"
		}
		if s.Rec != nil {
			row.Evidence = b.evidenceHref(s.Rec, s.Evidence, root)
		}
		if s.CheckRec != nil {
			row.CheckHref = b.evidenceHref(s.CheckRec, nil, root)
		}
		out = append(out, row)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Address < out[j].Address })
	return out
}

// deviceHref is where a front-page device mark ("e1000") links: the Devices row of the
// device the machine's newest boot drove with that check's driver ("" when its inventory
// has none).
func (b *builder) deviceHref(machine, mark, root string) string {
	for _, e := range b.devByMachine[machine] {
		if check, _ := devices.ExerciseCheck(e.Machines[machine].Seen.Driver); check == "drivers/"+mark {
			return root + devicePagePath(e)
		}
	}
	return ""
}

func (b *builder) writeFile(rel string, data []byte) error {
	return os.WriteFile(filepath.Join(b.out, filepath.FromSlash(rel)), data, 0o644)
}
