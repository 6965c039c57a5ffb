package site

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"
)

// BenchmarkSite is `report site` over a synthetic history (historyNight: 20 machines x 4
// suites a night) of 30 and of 365 nightly runs: loading every run directory (LoadRuns, as
// the command does) and building the site, fresh and as a nightly's rebuild in place. Besides the time it reports the largest page (goal: <= 2 MB), the size and
// file count of the site, and the peak live heap (sampled), which stays bounded as the
// history grows because only Options.EvidenceRuns runs are copied and pages are bounded.
// The goal (<= 10 s for 365 runs on the 2-core development machine) is checked by eye in
// `make bench`, as the timings there are the machine's, not the code's.
func BenchmarkSite(b *testing.B) {
	for _, nights := range []int{30, 365} {
		dirs := writeHistory(b, b.TempDir(), nights)
		// fresh: into an empty directory; rebuild: into the site of the same history, as a
		// nightly does (only changed runs' evidence is written again).
		for _, mode := range []string{"fresh", "rebuild"} {
			b.Run(fmt.Sprintf("runs=%d/%s", nights, mode), func(b *testing.B) { benchBuild(b, dirs, mode) })
		}
	}
}

// benchBuild loads the run directories and builds the site b.N times, fresh (into an
// empty directory) or as a rebuild in place, and reports the site's size, the largest page
// (goal <= 2 MB), the peak live heap, and wall and CPU time per build.
func benchBuild(b *testing.B, dirs []string, mode string) {
	out := filepath.Join(b.TempDir(), "site")
	build := func() {
		rs, err := LoadRuns(dirs)
		if err != nil {
			b.Fatal(err)
		}
		if err := Build(out, rs, Options{}); err != nil {
			b.Fatal(err)
		}
	}
	var peak uint64
	var cpu time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if mode == "fresh" {
			os.RemoveAll(out)
		} else if i == 0 {
			build()
		}
		runtime.GC()
		stop := sampleHeap(&peak)
		c0 := cpuTime()
		b.StartTimer()
		build()
		b.StopTimer()
		cpu += cpuTime() - c0
		stop()
	}
	largest, total, files := siteSize(b, out)
	b.ReportMetric(float64(largest)/1e6, "MB-largest-page")
	b.ReportMetric(float64(total)/1e6, "MB-site")
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(peak)/1e6, "MB-peak-heap")
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/build")
	// CPU time (user + system) does not depend on how busy the shared machine is;
	// wall time does, a lot.
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/build")
	if largest > 2e6 {
		b.Errorf("largest page is %d bytes, goal <= 2 MB", largest)
	}
}

// cpuTime is the process's user + system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// sampleHeap records the peak of live heap objects every few milliseconds until stopped.
func sampleHeap(peak *uint64) (stop func()) {
	s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			if v := s[0].Value.Uint64(); v > *peak {
				*peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// siteSize returns the largest HTML page, the total bytes and the file count of a site.
func siteSize(tb testing.TB, dir string) (largest, total int64, files int) {
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		files++
		total += info.Size()
		if filepath.Ext(p) == ".html" && info.Size() > largest {
			largest = info.Size()
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return
}

// BenchmarkSiteDevices is `report site` over a year of nightlies of a bigger lab with
// device inventories: 365 runs x 50 machines x 40 devices (two suites a machine: boot,
// carrying the inventory, and drivers), loading and building fresh as the command does.
// It reports the build time and the largest page (goals: <= 10 s, <= 2 MB) beside
// BenchmarkSite's.
func BenchmarkSiteDevices(b *testing.B) {
	dirs := writeDeviceHistory(b, b.TempDir(), 365, 50, 40)
	b.Run("runs=365/machines=50/devices=40/fresh", func(b *testing.B) { benchBuild(b, dirs, "fresh") })
}
