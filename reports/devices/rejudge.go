package devices

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/internal/inputfile"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/reports/runs"
)

// Analyser re-derives a boot's device inventory from its stored transcript, so that
// when the analyser or the Redox facts improve, a year of results is judged again
// instead of keeping the inventory each run recorded.
type Analyser struct {
	// Version names the analyser; pages and devices.json state it.
	Version string
	// Inventory reads a transcript of a boot with the named profile.
	Inventory func(transcript io.Reader, profile string) ([]record.Device, error)
}

// Rejudge replaces the inventory of every record that links a transcript with what the
// analyser reads from it now (the suites of a shared boot link the same file, read
// once). Records without a transcript or a profile keep theirs. It returns how many
// transcripts were read; an unreadable transcript is reported with its path and leaves
// that record as it was.
func Rejudge(rs []*runs.Run, a Analyser) (int, []error) {
	type item struct {
		rec     *record.Record
		path    string
		profile string
	}
	var items []item
	for _, r := range rs {
		for _, rec := range r.Records {
			t, ok := rec.Artifacts["transcript"]
			if !ok || rec.Image.Profile == "" {
				continue
			}
			items = append(items, item{rec, filepath.Join(r.JobDir(rec), filepath.FromSlash(t)), rec.Image.Profile})
		}
	}
	type result struct {
		devs []record.Device
		err  error
		once sync.Once
	}
	var (
		mu   sync.Mutex
		memo = map[string]*result{}
		wg   sync.WaitGroup
		next = make(chan item)
	)
	get := func(it item) *result {
		mu.Lock()
		res := memo[it.path]
		if res == nil {
			res = &result{}
			memo[it.path] = res
		}
		mu.Unlock()
		res.once.Do(func() {
			f, err := inputfile.Open(it.path)
			if err != nil {
				res.err = err
				return
			}
			defer f.Close()
			res.devs, res.err = a.Inventory(f, it.profile)
			if res.err != nil {
				res.err = fmt.Errorf("%s: %w", it.path, res.err)
			}
		})
		return res
	}
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range next {
				if res := get(it); res.err == nil {
					it.rec.Devices = res.devs
				}
			}
		}()
	}
	for _, it := range items {
		next <- it
	}
	close(next)
	wg.Wait()
	var errs []error
	for _, p := range slices.Sorted(maps.Keys(memo)) {
		if memo[p].err != nil {
			errs = append(errs, memo[p].err)
		}
	}
	return len(memo), errs
}
