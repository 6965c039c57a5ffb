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

// FormatVersion is bumped on any incompatible change to Record.
const FormatVersion = 1

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
	// Screens are the captures of the machine's display, in order (each file is also in
	// Artifacts as "screen:<name>"); the last one is the screen at the verdict or the end.
	Screens []ScreenCapture `json:"screens,omitempty"`
	// ScreenNote says why there are no captures (a host kind without a display) or what
	// went wrong taking them; it is not an error of the job.
	ScreenNote string `json:"screen_note,omitempty"`
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
		if r.Format != FormatVersion {
			return nil, fmt.Errorf("%s: result format %d, this harness reads %d", p, r.Format, FormatVersion)
		}
		out = append(out, &r)
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
