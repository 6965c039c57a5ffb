// Package record is the leaf every layer reads: the verdict of a check (verdict.go) and the
// versioned JSON record every job writes into its run directory (record.go). It is the one
// interface between the suites (writers) and the reports (readers): JUnit, tables, the
// support page and the nightly gate are all computed from these records. It imports nothing
// of this module, so hosts, harness and reports can all depend on it without a cycle or an
// upward import (internal/layers checks this).
package record

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// FormatVersion is bumped on any incompatible change to Record or RunInfo. Version 2
// (suites of one image x host share a boot) added Record.Boot, Record.NotRun and
// RunInfo.Interrupted; a version 1 record or run.json still loads (Upgrade): it is a
// record whose suite had a boot of its own.
const FormatVersion = 2

// OldestFormat is the oldest format this harness still reads.
const OldestFormat = 1

// CheckFormat accepts the formats this harness reads.
func CheckFormat(v int) error {
	if v < OldestFormat || v > FormatVersion {
		return fmt.Errorf("format %d, this harness reads %d to %d", v, OldestFormat, FormatVersion)
	}
	return nil
}

// File names inside a run directory:
//
//	<run>/run.json                     RunInfo
//	<run>/jobs/<job dir>/result.json   Record
//	<run>/jobs/<job dir>/transcript.log, transcript.times, logs/...  artifacts
const (
	RunFile    = "run.json"
	JobsDir    = "jobs"
	ResultFile = "result.json"
)

// RunInfo describes one run (one controller, one shard).
type RunInfo struct {
	Format   int       `json:"format"`
	ID       string    `json:"id"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitempty"`
	Matrix   string    `json:"matrix"`
	Shard    int       `json:"shard,omitempty"`
	Shards   int       `json:"shards,omitempty"`
	Host     string    `json:"controller,omitempty"`
	// Merged lists the runs a merged run was made from ("<id> shard i/n"); empty for a
	// run written by one controller.
	Merged []string `json:"merged,omitempty"`
	// Interrupted is set when SIGINT/SIGTERM stopped the run: the jobs that did not run
	// have records with NotRun set, so the run does not read as a complete, shorter one.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Record is the result of one job (image x host x suite).
type Record struct {
	Format   int       `json:"format"`
	Job      string    `json:"job"` // matrix.Job.ID(): image@host/suite
	Suite    string    `json:"suite"`
	Image    Image     `json:"image"`
	Host     Host      `json:"host"`
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished"`
	// Decided is when the boot's verdict was reached (the silence window closed, the
	// target stage was seen and the linger ended, a crash or the machine's exit); Finished
	// adds the teardown (power off, transcript, device inventory). Empty for a job that
	// booted nothing.
	Decided time.Time `json:"decided,omitempty"`
	// Checks are the per-check verdicts, e.g. "boot/kernel", "boot/login", "drivers/nvme".
	Checks []Check `json:"checks"`
	// Stages reached during boot, in order, with the time since power-on.
	Stages []Stage `json:"stages,omitempty"`
	// Events are crash and failure signatures seen anywhere in the log.
	Events []Event `json:"events,omitempty"`
	// LastComponent is the component that printed last (names the culprit of a hang).
	LastComponent string `json:"last_component,omitempty"`
	// Artifacts maps a name ("transcript", "junit", "driver-log:nvmed") to a path relative
	// to the job directory.
	Artifacts map[string]string `json:"artifacts,omitempty"`
	// Attempts counts boots of this job (re-runs by the gate).
	Attempts int `json:"attempts,omitempty"`
	// Boot is the boot the suite ran in: the suites of one image x host share one boot,
	// so several records name the same boot (and share its transcript). Nil in a format 1
	// record, where every suite booted on its own.
	Boot *Boot `json:"boot,omitempty"`
	// NotRun says why the job never ran (the run was interrupted first); such a record
	// has no checks.
	NotRun string `json:"not_run,omitempty"`
	// Screens are the captures of the machine's display, in order (each file is also in
	// Artifacts as "screen:<name>"); the last one is the screen at the verdict or the end.
	Screens []ScreenCapture `json:"screens,omitempty"`
	// ScreenNote says why there are no captures (a host kind without a display) or what
	// went wrong taking them; it is not an error of the job.
	ScreenNote string `json:"screen_note,omitempty"`
	// Devices is the boot's device inventory: every function the OS enumerated, the
	// driver that claimed it and how far that driver got (see Device). Empty where the
	// profile prints no device table (the stand-in's own dialect) or the boot never
	// reached enumeration.
	Devices []Device `json:"devices,omitempty"`
}

// Device states, in the order a driver goes through them. A device ends in exactly one.
const (
	DeviceEnumerated = "enumerated"  // the bus driver listed it; nothing claimed it yet
	DeviceNoDriver   = "no-driver"   // the boot went on past driver start and nothing claimed it
	DeviceSpawned    = "spawned"     // a driver was started for it
	DeviceInit       = "initialised" // the driver printed a line that needs the device to answer
	DeviceError      = "error"       // the driver printed an error line for it
	DeviceExited     = "exited"      // the driver crashed or exited
	DeviceStalled    = "stalled"     // the boot stalled with this driver printing last
)

// Device is one function of the machine's device table as the boot's transcript shows
// it. The fields are only ever added to (docs/analyze.md documents them): results of
// past nights stay readable.
type Device struct {
	Bus       string `json:"bus"`                 // "pci" or "usb"
	Address   string `json:"address"`             // as the OS printed it, e.g. "0000:00:02.0" or "00-00:02.0"
	VendorID  string `json:"vendor_id"`           // four lower-case hex digits, e.g. "8086"
	DeviceID  string `json:"device_id"`           // four lower-case hex digits, e.g. "100e"
	Subsystem string `json:"subsystem,omitempty"` // "vvvv:dddd" where the OS printed it
	Class     string `json:"class,omitempty"`     // "cc.ss.pp" class, subclass, prog-if (hex)
	Driver    string `json:"driver,omitempty"`    // the driver that claimed it, e.g. "e1000d"
	State     string `json:"state"`               // one of the Device* constants
	// Evidence are the transcript lines (1-based) that decided State, first the
	// enumeration line, last the line that set the state.
	Evidence []int `json:"evidence,omitempty"`
	// Note says in words why the state is what it is ("ihdad: IHDA: No output pins?!").
	Note string `json:"note,omitempty"`
}

// ID is "vendor:device", the key a device is known by across machines.
func (d Device) ID() string { return d.VendorID + ":" + d.DeviceID }

// Boot is one power-on of a host with an image, shared by the suites that ran in it.
type Boot struct {
	// ID is "<image>@<host>#<n>", n counting the boots of that pair in the run from 1.
	ID string `json:"id"`
	// Dir is the job directory (under <run>/jobs) that holds the boot's transcript and
	// host log: the directory of the first suite that ran in it.
	Dir string `json:"dir"`
	// Fresh says why this suite got a new boot rather than the previous suite's ("first
	// suite of the pair", "drivers declares a fresh boot", "guest unusable after drivers:
	// ..."); empty when the suite ran in the boot of the suite before it.
	Fresh string `json:"fresh,omitempty"`
}

// ScreenCapture is one look at the machine's display kept as evidence.
type ScreenCapture struct {
	// File is the PNG relative to the job directory; an identical screen taken again
	// names the earlier file (Same).
	File string        `json:"file"`
	Why  string        `json:"why"`
	At   time.Duration `json:"at_ns"`
	Same bool          `json:"same,omitempty"`
}

// LastScreen is the file of the last capture ("" when none).
func (r *Record) LastScreen() string {
	if len(r.Screens) == 0 {
		return ""
	}
	return r.Screens[len(r.Screens)-1].File
}

// Image is what was booted.
type Image struct {
	Name    string `json:"name"`
	Arch    string `json:"arch"`
	Variant string `json:"variant,omitempty"`
	Version string `json:"version,omitempty"`
	// Date is the image's build date, ISO 8601 (YYYY-MM-DD), for HARDWARE.md's
	// "Image Date" column; empty when unknown.
	Date     string `json:"date,omitempty"`
	Firmware string `json:"firmware,omitempty"`
	Profile  string `json:"profile,omitempty"`
	// File, SHA256 and URL say exactly which published file was tested, for an image
	// downloaded by url (hosts/imagecache): its name, the digest of the file as published
	// (compressed, as its SHA256SUM lists it) and where it came from.
	File   string `json:"file,omitempty"`
	SHA256 string `json:"sha256,omitempty"`
	URL    string `json:"url,omitempty"`
}

// Host is where it was booted, with the hardware facts that make two results comparable.
type Host struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`
	Arch     string   `json:"arch"`
	Firmware string   `json:"firmware,omitempty"`
	Machine  string   `json:"machine,omitempty"`
	CPU      string   `json:"cpu,omitempty"`
	Memory   string   `json:"memory,omitempty"`
	SMP      int      `json:"smp,omitempty"`
	Accel    string   `json:"accel,omitempty"`
	Devices  []string `json:"devices,omitempty"`
	Vendor   string   `json:"vendor,omitempty"`
	Model    string   `json:"model,omitempty"`
}

// Facts is the hardware identity used to compare like with like across runs.
func (h Host) Facts() string {
	d := append([]string(nil), h.Devices...)
	sort.Strings(d)
	return strings.Join([]string{h.Name, h.Kind, h.Arch, h.Firmware, h.Machine, h.CPU, h.Memory,
		fmt.Sprint(h.SMP), strings.Join(d, ","), h.Vendor, h.Model}, "|")
}

// Check is one verdict.
type Check struct {
	Name    string  `json:"name"`
	Verdict Verdict `json:"verdict"`
	// Message says why, in one line ("no output for 30s after stage drivers (last: nvmed)").
	Message   string `json:"message,omitempty"`
	Stage     string `json:"stage,omitempty"`
	Component string `json:"component,omitempty"`
	// Title is the normalised crash title (same bug, same title, across machines and nights).
	Title string `json:"title,omitempty"`
	// Reference is the xfail reference when the verdict is XFAIL/XPASS.
	Reference string `json:"reference,omitempty"`
	// Excerpt is the transcript around the failure.
	Excerpt  string        `json:"excerpt,omitempty"`
	Duration time.Duration `json:"duration_ns,omitempty"`
	// Metrics are measurements the check made, by name with the unit in it
	// ("http_bytes_per_s").
	Metrics map[string]float64 `json:"metrics,omitempty"`
}

// Stage is one boot stage reached.
type Stage struct {
	Name string        `json:"name"`
	Line int           `json:"line"`
	At   time.Duration `json:"at_ns"`
}

// Event is a failure signature seen in the log.
type Event struct {
	Kind      string `json:"kind"`
	Component string `json:"component,omitempty"`
	Title     string `json:"title"`
	Line      int    `json:"line"`
	Count     int    `json:"count"`
}

// JobDirName turns a job ID into a safe directory name.
func JobDirName(job string) string {
	r := strings.NewReplacer("/", "__", "@", "_at_", " ", "_", "\\", "_", ":", "_")
	return r.Replace(job)
}

// Write stores a record as <runDir>/jobs/<job dir>/result.json (atomically: a crash of
// the harness never leaves half a record).
func Write(runDir string, r *Record) (string, error) {
	r.Format = FormatVersion
	redactStrings(r)
	dir := filepath.Join(runDir, JobsDir, JobDirName(r.Job))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return "", err
	}
	tmp := filepath.Join(dir, ResultFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return "", err
	}
	return dir, os.Rename(tmp, filepath.Join(dir, ResultFile))
}

// ReadRun loads every record of a run directory, sorted by job ID.
func ReadRun(runDir string) ([]*Record, error) {
	paths, err := filepath.Glob(filepath.Join(runDir, JobsDir, "*", ResultFile))
	if err != nil {
		return nil, err
	}
	var out []*Record
	for _, p := range paths {
		data, err := inputfile.ReadFile(p, inputfile.RecordLimit, "a job record")
		if err != nil {
			return nil, err
		}
		var r Record
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if err := CheckFormat(r.Format); err != nil {
			return nil, fmt.Errorf("%s: result %w", p, err)
		}
		out = append(out, Upgrade(&r))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Job < out[j].Job })
	return out, nil
}

// WriteRunInfo stores run.json in a run directory.
func WriteRunInfo(runDir string, info RunInfo) error {
	info.Format = FormatVersion
	redactStrings(&info)
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(runDir, RunFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(runDir, RunFile))
}

// Upgrade brings a record of an older format to the current one. A format 1 record had
// no shared boots: the suite booted on its own, in its own job directory.
func Upgrade(r *Record) *Record {
	if r.Format == 1 && r.Boot == nil && r.NotRun == "" {
		r.Boot = &Boot{ID: r.Image.Name + "@" + r.Host.Name + "#" + r.Suite, Dir: JobDirName(r.Job)}
	}
	r.Format = FormatVersion
	return r
}
