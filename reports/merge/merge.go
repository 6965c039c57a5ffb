// Package merge combines run directories written by several shards or controllers into
// one run directory: every job directory is copied with its artifacts, and a merged
// run.json says where the jobs came from.
//
// When two runs hold the same job (the same job directory), the record that finished
// later is kept (a re-run supersedes the first attempt); on equal finish times the run
// named later on the command line wins. Every such conflict is reported.
package merge

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// Source names one input run in a report (by its position and ID, never by host path).
type Source struct {
	Index    int       `json:"index"` // position on the command line, from 0
	RunID    string    `json:"run"`
	Finished time.Time `json:"finished"`
}

func (s Source) String() string {
	return fmt.Sprintf("run %q (argument %d, finished %s)", s.RunID, s.Index+1, s.Finished.UTC().Format(time.RFC3339))
}

// Conflict is a job present in more than one input run.
type Conflict struct {
	Job     string   `json:"job"`
	Kept    Source   `json:"kept"`
	Dropped []Source `json:"dropped"`
	// Tie is true when the finish times were equal and argument order decided.
	Tie bool `json:"tie,omitempty"`
}

func (c Conflict) String() string {
	var d []string
	for _, s := range c.Dropped {
		d = append(d, s.String())
	}
	why := "finished later"
	if c.Tie {
		why = "same finish time, named later"
	}
	return fmt.Sprintf("job %s: kept %s (%s); dropped %s", c.Job, c.Kept, why, strings.Join(d, ", "))
}

// Report says what a merge did.
type Report struct {
	Info      record.RunInfo `json:"info"`
	Jobs      int            `json:"jobs"`
	Conflicts []Conflict     `json:"conflicts,omitempty"`
	// Incomplete lists job directories without result.json (a job the harness did not
	// finish); they are copied as evidence when no input has a finished record for them.
	Incomplete []string `json:"incomplete,omitempty"`
	Warnings   []string `json:"warnings,omitempty"`
}

type candidate struct {
	src Source
	run *runs.Run
	rec *record.Record // nil for an incomplete job directory
	dir string         // job directory name
}

// Merge writes the union of dirs into out, which must not exist or be an empty directory.
func Merge(out string, dirs []string) (*Report, error) {
	if len(dirs) == 0 {
		return nil, errors.New("merge: no run directories")
	}
	if err := prepareOut(out); err != nil {
		return nil, err
	}
	rep := &Report{}
	var loaded []*runs.Run
	byDir := map[string][]candidate{}
	for i, d := range dirs {
		r, err := runs.Load(d)
		if err != nil {
			return nil, err
		}
		if !r.HasInfo {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("argument %d has no %s; using %q as its run ID", i+1, record.RunFile, r.Info.ID))
		}
		loaded = append(loaded, r)
		have := map[string]bool{}
		for _, rec := range r.Records {
			name := record.JobDirName(rec.Job)
			have[name] = true
			byDir[name] = append(byDir[name], candidate{src: Source{Index: i, RunID: r.Info.ID, Finished: rec.Finished}, run: r, rec: rec, dir: name})
		}
		ents, err := os.ReadDir(filepath.Join(d, record.JobsDir))
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		for _, e := range ents {
			if e.IsDir() && !have[e.Name()] {
				byDir[e.Name()] = append(byDir[e.Name()], candidate{src: Source{Index: i, RunID: r.Info.ID}, run: r, dir: e.Name()})
			}
		}
	}

	names := make([]string, 0, len(byDir))
	for n := range byDir {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		cands := byDir[name]
		var complete []candidate
		for _, c := range cands {
			if c.rec != nil {
				complete = append(complete, c)
			}
		}
		var pick candidate
		if len(complete) == 0 {
			pick = cands[len(cands)-1]
			rep.Incomplete = append(rep.Incomplete, name)
		} else {
			pick = complete[0]
			tie := false
			for _, c := range complete[1:] {
				switch {
				case c.rec.Finished.After(pick.rec.Finished):
					pick, tie = c, false
				case c.rec.Finished.Equal(pick.rec.Finished):
					pick, tie = c, true
				}
			}
			if len(complete) > 1 {
				cf := Conflict{Job: pick.rec.Job, Kept: pick.src, Tie: tie}
				for _, c := range complete {
					if c.src.Index != pick.src.Index {
						cf.Dropped = append(cf.Dropped, c.src)
						if c.rec.Job != pick.rec.Job {
							rep.Warnings = append(rep.Warnings, fmt.Sprintf("jobs %q and %q share the directory name %s", c.rec.Job, pick.rec.Job, name))
						}
					}
				}
				rep.Conflicts = append(rep.Conflicts, cf)
			}
			rep.Jobs++
		}
		src := filepath.Join(pick.run.Dir, record.JobsDir, name)
		dst := filepath.Join(out, record.JobsDir, name)
		skipped, err := copyTree(src, dst)
		if err != nil {
			return nil, err
		}
		for _, s := range skipped {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("job %s: %s is not a regular file; not copied", name, s))
		}
	}

	rep.Info = mergedInfo(loaded, rep)
	if err := runs.WriteInfo(out, rep.Info); err != nil {
		return nil, err
	}
	return rep, nil
}

// mergedInfo builds the run.json of the merged run.
func mergedInfo(in []*runs.Run, rep *Report) record.RunInfo {
	info := record.RunInfo{Format: record.FormatVersion}
	var ids, matrices, controllers []string
	seen := map[string]bool{}
	add := func(list *[]string, kind, v string) {
		if v != "" && !seen[kind+"\x00"+v] {
			seen[kind+"\x00"+v] = true
			*list = append(*list, v)
		}
	}
	shards := map[string]map[int]bool{}
	shardCount := map[string]int{}
	for _, r := range in {
		ri := r.Info
		add(&ids, "id", ri.ID)
		add(&matrices, "matrix", ri.Matrix)
		add(&controllers, "host", ri.Host)
		if !ri.Started.IsZero() && (info.Started.IsZero() || ri.Started.Before(info.Started)) {
			info.Started = ri.Started
		}
		if ri.Finished.After(info.Finished) {
			info.Finished = ri.Finished
		}
		if len(ri.Merged) > 0 {
			info.Merged = append(info.Merged, ri.Merged...)
		} else if ri.Shards > 0 {
			info.Merged = append(info.Merged, fmt.Sprintf("%s shard %d/%d", ri.ID, ri.Shard, ri.Shards))
			if shards[ri.ID] == nil {
				shards[ri.ID] = map[int]bool{}
			}
			shards[ri.ID][ri.Shard] = true
			shardCount[ri.ID] = ri.Shards
		} else {
			info.Merged = append(info.Merged, ri.ID)
		}
	}
	info.ID = strings.Join(ids, "+")
	info.Matrix = strings.Join(matrices, ", ")
	info.Host = strings.Join(controllers, ", ")
	if len(matrices) > 1 {
		rep.Warnings = append(rep.Warnings, fmt.Sprintf("the runs used %d different matrices: %s", len(matrices), info.Matrix))
	}
	for _, id := range ids {
		if n := shardCount[id]; n > 0 && len(shards[id]) != n {
			rep.Warnings = append(rep.Warnings, fmt.Sprintf("run %q: %d of %d shards merged", id, len(shards[id]), n))
		}
	}
	return info
}

func prepareOut(out string) error {
	ents, err := os.ReadDir(out)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return os.MkdirAll(filepath.Join(out, record.JobsDir), 0o755)
	case err != nil:
		return err
	case len(ents) > 0:
		return fmt.Errorf("merge: output directory %s is not empty", out)
	}
	return os.MkdirAll(filepath.Join(out, record.JobsDir), 0o755)
}

// copyTree copies the regular files and directories under src to dst and returns the
// relative paths of entries it did not copy (symlinks, devices).
func copyTree(src, dst string) ([]string, error) {
	var skipped []string
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(target, 0o755)
		case d.Type().IsRegular():
			return CopyFile(p, target)
		default:
			skipped = append(skipped, filepath.ToSlash(rel))
			return nil
		}
	})
	return skipped, err
}

// CopyFile copies one regular file, creating the parent directory.
func CopyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
