// Package runs loads a run directory as a whole: its run.json (RunInfo) and every job
// record, so the report writers (merge, JUnit, tables, site, gate) share one reader.
package runs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
)

// Run is one loaded run directory.
type Run struct {
	// Dir is the directory as given (never written into a report).
	Dir string
	// Info is run.json; when the file is missing (a shard that died before writing it),
	// HasInfo is false and Info is synthesised from the records.
	Info    record.RunInfo
	HasInfo bool
	Records []*record.Record
}

// Load reads a run directory. A missing or unreadable directory, or one that holds
// neither run.json nor a jobs/ directory, is an error (a typo must not look like an
// empty run).
func Load(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	r := &Run{Dir: dir}
	info, err := ReadInfo(dir)
	switch {
	case err == nil:
		r.Info, r.HasInfo = info, true
	case errors.Is(err, fs.ErrNotExist):
		if _, jerr := os.Stat(filepath.Join(dir, record.JobsDir)); jerr != nil {
			return nil, fmt.Errorf("%s: not a run directory (no %s, no %s/)", dir, record.RunFile, record.JobsDir)
		}
	default:
		return nil, err
	}
	if err := checkReadable(filepath.Join(dir, record.JobsDir)); err != nil {
		return nil, err
	}
	r.Records, err = record.ReadRun(dir)
	if err != nil {
		return nil, err
	}
	if !r.HasInfo {
		r.Info = record.RunInfo{Format: record.FormatVersion, ID: filepath.Base(filepath.Clean(dir))}
		for _, rec := range r.Records {
			if r.Info.Started.IsZero() || (!rec.Started.IsZero() && rec.Started.Before(r.Info.Started)) {
				r.Info.Started = rec.Started
			}
			if rec.Finished.After(r.Info.Finished) {
				r.Info.Finished = rec.Finished
			}
		}
	}
	return r, nil
}

// checkReadable fails when the jobs directory exists but cannot be listed (Glob would
// silently report no matches).
func checkReadable(jobs string) error {
	// Stat before opening: the open of a FIFO put where the directory should be blocks.
	st, err := os.Stat(jobs)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() {
		return fmt.Errorf("%s is not a directory", jobs)
	}
	f, err := os.Open(jobs)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.ReadDir(-1)
	return err
}

// ReadInfo reads <dir>/run.json.
func ReadInfo(dir string) (record.RunInfo, error) {
	var info record.RunInfo
	data, err := inputfile.ReadFile(filepath.Join(dir, record.RunFile), inputfile.RecordLimit, "a run's run.json")
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, fmt.Errorf("%s: %w", filepath.Join(dir, record.RunFile), err)
	}
	if err := record.CheckFormat(info.Format); err != nil {
		return info, fmt.Errorf("%s: run %w", filepath.Join(dir, record.RunFile), err)
	}
	info.Format = record.FormatVersion
	return info, nil
}

// WriteInfo writes <dir>/run.json atomically.
func WriteInfo(dir string, info record.RunInfo) error {
	info.Format = record.FormatVersion
	data, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, record.RunFile+".tmp")
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, record.RunFile))
}

// JobDir is the directory of a record inside this run.
func (r *Run) JobDir(rec *record.Record) string {
	return filepath.Join(r.Dir, record.JobsDir, record.JobDirName(rec.Job))
}

// JobRel is the slash-separated path of a record's job directory relative to the run
// directory ("jobs/<job dir>"), the form used in links.
func JobRel(rec *record.Record) string {
	return record.JobsDir + "/" + record.JobDirName(rec.Job)
}

// Time is when the run started (for ordering history).
func (r *Run) Time() time.Time { return r.Info.Started }

// Combine returns the records of several runs with one record per job: the one that
// finished last (the rule `report merge` applies), sorted by job.
func Combine(rs []*Run) []*record.Record {
	byJob := map[string]*record.Record{}
	for _, r := range rs {
		for _, rec := range r.Records {
			if old, ok := byJob[rec.Job]; !ok || !rec.Finished.Before(old.Finished) {
				byJob[rec.Job] = rec
			}
		}
	}
	out := make([]*record.Record, 0, len(byJob))
	for _, rec := range byJob {
		out = append(out, rec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Job < out[j].Job })
	return out
}
