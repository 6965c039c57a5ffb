package schedule

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
	"github.com/redox-hwtest/redox-hwtest/transcript"
)

// lab300Silence is the Lab300 matrix's silence window (time_scale 1): a log that ends
// before login is a HANG this long after its last byte.
const lab300Silence = 3 * time.Second

// lab300Consoles is how many machines BenchmarkLab300 plays at once (LAB_CONSOLES, default
// 300: the figure; it fits the 2-core machine, see docs/pipeline.md).
func lab300Consoles(b *testing.B) int {
	n := 300
	if s := os.Getenv("LAB_CONSOLES"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 {
			b.Fatalf("LAB_CONSOLES=%q: want a count >= 1", s)
		}
		n = v
	}
	return n
}

// BenchmarkLab300 is one controller driving a lab of 300 machines at once: each a replay
// host pacing a real Redox serial transcript (../shared/redox-logs, the boots cycled over
// the machines) at 115200 baud in real time, each through a real socket, the console, the
// stage machine and the boot suite, as `redox-hwtest run` does. Reported:
//   - cpu_cores: the process's CPU time / wall time (goal <= 1 core)
//   - peak_rss_MiB: the process's peak RSS (VmHWM; goal <= 2048)
//   - worst_delay_s: the longest time from a machine's last byte reaching the console to
//     its job's verdict (record.Decided; goal <= the silence window + 1 s)
//   - worst_finish_s: the same to the job's end, teardown included (record.Finished: the
//     machine powered off, the transcript closed, the device inventory taken)
//   - bytes_lost: transcript bytes that did not reach the job's transcript.log byte for
//     byte (goal 0)
//   - peak_goroutines, peak_fds: what the consoles cost in goroutines and file handles
//
// Run with -benchtime 1x.
func BenchmarkLab300(b *testing.B) {
	n := lab300Consoles(b)
	logs := fixtures.SharedDir(b, "redox-logs")
	all, _ := filepath.Glob(filepath.Join(logs, "*.log"))
	sort.Strings(all)
	// Boots only: a shell session log starts at its login prompt, so the boot suite's
	// verdict comes at its first line and the session after it is, by design, not read
	// (the job ends at login + linger, as on a real machine).
	var srcs []string
	for _, p := range all {
		if !strings.Contains(filepath.Base(p), "shell-session") {
			srcs = append(srcs, p)
		}
	}
	if len(srcs) == 0 {
		b.Skipf("no transcripts in %s", logs)
	}
	var y strings.Builder
	fmt.Fprintf(&y, "settings: {silence: %s, boot_timeout: 120s}\nimages:\n", lab300Silence)
	for i, p := range srcs {
		fmt.Fprintf(&y, "  - {name: log-%d, arch: x86_64, variant: recorded, profile: redox, transcript: %s}\n", i, p)
	}
	y.WriteString("hosts:\n")
	for i := 0; i < n; i++ {
		fmt.Fprintf(&y, "  - {name: lab-%03d, kind: replay, arch: x86_64, time_scale: 1, options: {baud: 115200}}\n", i)
	}
	y.WriteString("suites:\n  - {name: boot}\n")
	m, err := matrix.Parse("lab300.yaml", []byte(y.String()), b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	// One transcript per machine: machine i plays log i mod len(srcs) (every transcript
	// image fits every replay host; the rest of the product is not this lab).
	var jobs []matrix.Job
	src := map[string]string{} // job -> transcript
	for _, j := range m.Jobs(matrix.Filter{}) {
		var host, img int
		fmt.Sscanf(j.Host.Name, "lab-%d", &host)
		fmt.Sscanf(j.Image.Name, "log-%d", &img)
		if host%len(srcs) == img {
			jobs = append(jobs, j)
			src[j.ID()] = srcs[img]
		}
	}
	if len(jobs) != n {
		b.Fatalf("%d jobs for %d machines", len(jobs), n)
	}
	for b.Loop() {
		dir := b.TempDir()
		if d := os.Getenv("LAB_DIR"); d != "" { // keep the run to look at
			dir = d
		}
		stop := make(chan struct{})
		var peakG, peakFD int
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { // sample what the consoles cost while they run
			defer wg.Done()
			t := time.NewTicker(100 * time.Millisecond)
			defer t.Stop()
			for {
				peakG = max(peakG, runtimeGoroutines())
				peakFD = max(peakFD, openFDs())
				select {
				case <-stop:
					return
				case <-t.C:
				}
			}
		}()
		var ru0, ru1 syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
		start := time.Now()
		res := Run(context.Background(), Config{Matrix: m, Options: job.Options{RunDir: dir}}, Plan(jobs, nil))
		wall := time.Since(start)
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
		close(stop)
		wg.Wait()
		cpu := time.Duration(ru1.Utime.Nano()+ru1.Stime.Nano()-ru0.Utime.Nano()-ru0.Stime.Nano()) * time.Nanosecond

		var worst, worstFinish time.Duration
		worstJob := ""
		lost := 0
		verdicts := map[string]int{}
		for _, r := range res {
			if r.Err != nil {
				b.Fatalf("%s: %v", r.Job.ID(), r.Err)
			}
			jd := filepath.Join(dir, "jobs", record.JobDirName(r.Rec.Job))
			l, last := lostBytes(b, src[r.Rec.Job], jd)
			if l > 0 {
				b.Logf("%s: %d bytes lost", r.Rec.Job, l)
			}
			lost += l
			if d := r.Rec.Decided.Sub(last); d > worst {
				worst, worstJob = d, r.Rec.Job
			}
			worstFinish = max(worstFinish, r.Rec.Finished.Sub(last))
			for _, c := range r.Rec.Checks {
				if c.Name == "boot/login" {
					verdicts[string(c.Verdict)]++
				}
			}
		}
		b.Logf("%d consoles at 115200 baud: wall %s, CPU %s, worst verdict delay %s (%s), to the job's end %s, boot/login %v",
			n, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), worst.Round(time.Millisecond), worstJob, worstFinish.Round(time.Millisecond), verdicts)
		b.ReportMetric(float64(n), "consoles")
		b.ReportMetric(cpu.Seconds()/wall.Seconds(), "cpu_cores")
		b.ReportMetric(float64(peakRSS())/(1<<20), "peak_rss_MiB")
		b.ReportMetric(worst.Seconds(), "worst_delay_s")
		b.ReportMetric(worstFinish.Seconds(), "worst_finish_s")
		b.ReportMetric(lab300Silence.Seconds()+1, "delay_goal_s")
		b.ReportMetric(float64(lost), "bytes_lost")
		b.ReportMetric(float64(peakG), "peak_goroutines")
		b.ReportMetric(float64(peakFD), "peak_fds")
		b.ReportMetric(wall.Seconds(), "wall_s")
	}
}

// lostBytes compares a job's transcript.log with the source transcript's body (the part a
// replay plays) and returns how many source bytes are missing or different, and when the
// last byte reached the console (the transcript's .times file).
func lostBytes(b *testing.B, src, jobDir string) (int, time.Time) {
	raw, err := os.ReadFile(src)
	if err != nil {
		b.Fatal(err)
	}
	_, want, _ := transcript.SplitHeader(raw)
	gotRaw, err := os.ReadFile(filepath.Join(jobDir, "transcript.log"))
	if err != nil {
		b.Fatal(err)
	}
	_, got, _ := transcript.SplitHeader(gotRaw)
	times, err := os.ReadFile(transcript.TimesPath(filepath.Join(jobDir, "transcript.log")))
	if err != nil {
		b.Fatal(err)
	}
	es, err := transcript.ParseTimes(times)
	if err != nil {
		b.Fatal(err)
	}
	last := time.Unix(0, es[len(es)-1].NS)
	if bytes.Equal(got, want) {
		return 0, last
	}
	same := 0
	for same < len(got) && same < len(want) && got[same] == want[same] {
		same++
	}
	return len(want) - same, last
}

// peakRSS is the process's peak resident set (VmHWM), in bytes.
func peakRSS() int64 {
	s, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(s), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

func openFDs() int {
	es, _ := os.ReadDir("/proc/self/fd")
	return len(es)
}

func runtimeGoroutines() int { return runtime.NumGoroutine() }
