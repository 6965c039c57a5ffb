package session

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// LogRoot is where Redox's logd keeps per-daemon logs:
// /scheme/logging/<category>/<subcategory>/<name>.log (DESIGN.md section 4).
const LogRoot = "/scheme/logging"

// LogFile is one collected log.
type LogFile struct {
	// Guest is the path in the guest; Rel is the path under the artifact directory
	// ("<category>/<subcategory>/<name>.log"); Name is the daemon ("nvmed").
	Guest, Rel, Name string
	Stats            FetchStats
	Err              error
}

var reLogName = regexp.MustCompile(`^[A-Za-z0-9_.+@-]+$`)

// CollectLogs copies every log under root (three levels: category, subcategory, file)
// into dir, each through a snapshot in the guest's scratch directory (logs grow while they
// are read, and the checksum must match what was sent). It returns what it found; a log
// that failed to copy carries its error and the others are still collected. Names that are
// not plain file names are passed over (they cannot be typed safely).
func CollectLogs(ctx context.Context, r Runner, d *Dialect, root, dir string) ([]LogFile, error) {
	list := func(p string) ([]string, error) {
		out, code, err := r.Run(ctx, d.ListCmd(p))
		if err != nil {
			return nil, err
		}
		if code != 0 {
			return nil, fmt.Errorf("%s: exit %d: %s", d.ListCmd(p), code, strings.TrimSpace(tail(out, 200)))
		}
		var names []string
		for _, l := range strings.Split(out, "\n") {
			l = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), "/"))
			if l != "" && reLogName.MatchString(l) && l != "." && l != ".." {
				names = append(names, l)
			}
		}
		return names, nil
	}
	cats, err := list(root)
	if err != nil {
		return nil, fmt.Errorf("collect logs: %w", err)
	}
	var logs []LogFile
	for _, c := range cats {
		subs, err := list(path.Join(root, c))
		if err != nil {
			logs = append(logs, LogFile{Guest: path.Join(root, c), Rel: c, Err: err})
			continue
		}
		for _, s := range subs {
			files, err := list(path.Join(root, c, s))
			if err != nil {
				logs = append(logs, LogFile{Guest: path.Join(root, c, s), Rel: path.Join(c, s), Err: err})
				continue
			}
			for _, f := range files {
				if !strings.HasSuffix(f, ".log") {
					continue
				}
				lf := LogFile{Guest: path.Join(root, c, s, f), Rel: path.Join(c, s, f), Name: strings.TrimSuffix(f, ".log")}
				lf.Stats, lf.Err = collectOne(ctx, r, d, lf.Guest, filepath.Join(dir, filepath.FromSlash(lf.Rel)))
				logs = append(logs, lf)
			}
		}
	}
	return logs, nil
}

func collectOne(ctx context.Context, r Runner, d *Dialect, guest, local string) (FetchStats, error) {
	snap := d.Tmp + "/.rhw-log"
	if out, code, err := r.Run(ctx, d.CopyCmd(guest, snap)); err != nil || code != 0 {
		if err == nil {
			err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(tail(out, 200)))
		}
		return FetchStats{}, fmt.Errorf("snapshot %s: %w", guest, err)
	}
	data, st, err := Fetch(ctx, r, d, snap)
	r.Run(ctx, d.RemoveCmd(snap))
	if err != nil {
		return st, err
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return st, err
	}
	return st, os.WriteFile(local, data, 0o644)
}
