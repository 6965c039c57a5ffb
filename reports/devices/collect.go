package devices

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// Boot is the records of one run, host and image: the suites of one boot (or of the
// boots of that pair in the run), the unit Grade reads.
type Boot struct {
	Run  *runs.Run
	Recs []*record.Record
}

// Boots groups the records of a run by host and image, in host then image order.
func Boots(r *runs.Run) []Boot {
	type key struct{ host, image string }
	groups := map[key][]*record.Record{}
	var order []key
	for _, rec := range r.Records {
		k := key{rec.Host.Name, rec.Image.Name}
		if groups[k] == nil {
			order = append(order, k)
		}
		groups[k] = append(groups[k], rec)
	}
	sort.Slice(order, func(i, j int) bool {
		if order[i].host != order[j].host {
			return order[i].host < order[j].host
		}
		return order[i].image < order[j].image
	})
	out := make([]Boot, 0, len(order))
	for _, k := range order {
		out = append(out, Boot{Run: r, Recs: groups[k]})
	}
	return out
}

// Collect grades every boot of the runs (sorted oldest first here) into a database.
// Boots without an inventory add nothing.
func Collect(rs []*runs.Run) *DB {
	sorted := append([]*runs.Run(nil), rs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Info.Started.Before(sorted[j].Info.Started) })
	db := NewDB()
	for _, r := range sorted {
		for _, b := range Boots(r) {
			if !hasDevices(b.Recs) {
				continue
			}
			db.Add(r.Info.ID, r.Info.Started, b.Recs[0].Host, b.Recs[0].Image, Grade(b.Recs))
		}
	}
	return db
}

func hasDevices(recs []*record.Record) bool {
	for _, r := range recs {
		if len(r.Devices) > 0 {
			return true
		}
	}
	return false
}

// maxExport bounds a devices.json read by `analyze --known`.
const maxExport = 64 << 20

// LoadKnown reads what is known about devices for `analyze --known`: a devices.json file
// (the support page's export), a run directory, or a directory of run directories (a
// nightly history).
func LoadKnown(path string, ids *IDs) (Export, error) {
	st, err := os.Stat(path)
	if err != nil {
		return Export{}, err
	}
	if !st.IsDir() {
		data, err := inputfile.ReadFile(path, maxExport, "devices export")
		if err != nil {
			return Export{}, err
		}
		x, err := ReadExport(bytes.NewReader(data))
		if err != nil {
			return x, fmt.Errorf("%s: %w", path, err)
		}
		return x, nil
	}
	var rs []*runs.Run
	if r, err := runs.Load(path); err == nil {
		rs = append(rs, r)
	} else {
		ents, rerr := os.ReadDir(path)
		if rerr != nil {
			return Export{}, rerr
		}
		for _, e := range ents {
			if !e.IsDir() {
				continue
			}
			if r, err := runs.Load(filepath.Join(path, e.Name())); err == nil {
				rs = append(rs, r)
			}
		}
		if len(rs) == 0 {
			return Export{}, fmt.Errorf("%s: neither a devices.json, a run directory nor a directory of runs (%v)", path, err)
		}
	}
	return ToExport(Collect(rs).Entries(ids), ids, nil, nil), nil
}
