// Command benchratio reads `go test -bench` output on stdin, echoes it, and prints the
// ratios the project's speed goals are stated in, each against a baseline measured in the
// same run (machines here are noisy; absolute figures are not comparable across runs).
package main

import (
	"bufio"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// goal is one ratio: num/den of a metric, with the goal stated for humans.
type goal struct {
	name, num, den, metric string
	goal                   string
	ok                     func(r float64) bool
}

var goals = []goal{
	{"P3 goexpect vs console+matcher (20 patterns, same stream), throughput", "BenchmarkPeerGoexpect", "BenchmarkPeerConsole", "MB/s",
		"report", func(r float64) bool { return true }},
	{"P3 Netflix go-expect vs console+matcher (same small stream), throughput", "BenchmarkPeerNetflix", "BenchmarkPeerConsoleSmall", "MB/s",
		"report", func(r float64) bool { return true }},
	{"console+matcher (20 patterns) vs plain read, throughput", "BenchmarkConsoleMatch20", "BenchmarkPlainRead", "MB/s",
		">= 0.25", func(r float64) bool { return r >= 0.25 }},
}

var line = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func main() {
	metrics := map[string]map[string]float64{}
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		fmt.Println(l)
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		vals := map[string]float64{}
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				vals[f[i+1]] = v
			}
		}
		metrics[m[1]] = vals
	}
	fmt.Println("\n== ratios (same run) ==")
	for _, g := range goals {
		n, d := metrics[g.num][g.metric], metrics[g.den][g.metric]
		if n == 0 || d == 0 {
			fmt.Printf("%-60s  not measured\n", g.name)
			continue
		}
		r := n / d
		fmt.Printf("%-60s  %.3f (%.1f / %.1f %s)  goal %s: %s\n", g.name, r, n, d, g.metric, g.goal, verdict(g.ok(r)))
	}
	if v, ok := metrics["BenchmarkConsoleMatch20"]["MB/s"]; ok {
		fmt.Printf("%-60s  %.1f MB/s  goal >= 200: %s\n", "console+matcher absolute throughput", v, verdict(v >= 200))
	}
	if v, ok := metrics["BenchmarkConsoleMatch20"]["peak-heap-MiB"]; ok {
		fmt.Printf("%-60s  %.1f MiB over a %s MB stream (bounded: window 1 MiB)\n", "console+matcher peak heap", v, envOr("BENCH_STREAM_MB", "256"))
	}
	if r, ok := metrics["BenchmarkBootToShell"]["ratio"]; ok {
		m := metrics["BenchmarkBootToShell"]
		fmt.Printf("%-60s  %.3f (%.2f s / %.2f s)  goal <= 1.03: %s\n", "boot-to-shell, harness vs bare reader", r, m["harness-s/boot"], m["bare-s/boot"], verdict(r <= 1.03))
	}
	if m, ok := metrics["BenchmarkLab20"]; ok {
		r := m["makespan/longest"]
		fmt.Printf("%-60s  %.3f (%.1f s / %.1f s, %.0f jobs at once)  goal <= 1.15: %s\n", "P4a simulated 20-machine lab: makespan vs longest job", r, m["makespan_s"], m["longest_s"], m["peak_jobs"], verdict(r <= 1.15))
	}
	if m, ok := metrics["BenchmarkLab300"]; ok {
		ok := m["cpu_cores"] <= 1 && m["peak_rss_MiB"] <= 2048 && m["worst_delay_s"] <= m["delay_goal_s"] && m["bytes_lost"] == 0
		fmt.Printf("%-60s  CPU %.2f cores, RSS %.0f MiB, worst verdict delay %.2f s (goal <= %.0f s; %.2f s to the job's end), %.0f bytes lost; %.0f goroutines, %.0f fds at peak  goal <= 1 core, <= 2048 MiB, 0 lost: %s\n",
			fmt.Sprintf("Lab300: %.0f consoles at 115200 baud on one controller", m["consoles"]),
			m["cpu_cores"], m["peak_rss_MiB"], m["worst_delay_s"], m["delay_goal_s"], m["worst_finish_s"], m["bytes_lost"], m["peak_goroutines"], m["peak_fds"], verdict(ok))
	}
	if m, ok := metrics["BenchmarkMakeRunVMs"]; ok {
		fmt.Printf("%-60s  %.0f (before: %.0f)  goal = image x host pairs\n", "P4b make run: boots per run (VM jobs)", m["boots_now"], m["boots_before"])
		r := m["scheduled/serial"]
		fmt.Printf("%-60s  %.3f (%.1f s / %.1f s)  goal <= 0.45: %s\n", "P4b make run VM jobs: scheduled vs serial one boot per suite", r, m["scheduled_s"], m["serial_s"], verdict(r <= 0.45))
	}
	if r, ok := metrics["BenchmarkScreenOverhead"]["ratio"]; ok {
		m := metrics["BenchmarkScreenOverhead"]
		fmt.Printf("%-60s  %.3f (%.2f s / %.2f s; %.0f dumps, %.1f OCR runs per boot)  goal <= 1.05: %s\n", "boot-to-shell, screen work on vs off",
			r, m["screen-on-s/boot"], m["screen-off-s/boot"], m["dumps/boot"], m["ocr/boot"], verdict(r <= 1.05))
	}
	if m, ok := metrics["BenchmarkScreenOnly"]; ok {
		r := m["ratio"]
		fmt.Printf("%-60s  %.3f (%.2f s / %.2f s)  goal <= 1.3: %s\n", "boot to shell judged from the screen alone vs from serial",
			r, m["screen-only-s/boot"], m["serial-s/boot"], verdict(r > 0 && r <= 1.3))
		fmt.Printf("%-60s  %.0f ms (%.1f reads per boot, %.0f %% by the cell recogniser)  goal <= 500 ms: %s\n", "screen-only boot: OCR per capture read",
			m["ocr-ms/capture"], m["ocr/boot"], m["cells-%"], verdict(m["ocr-ms/capture"] > 0 && m["ocr-ms/capture"] <= 500))
	}
	for _, enc := range []struct{ name, base string }{{"Raw", "Copy"}, {"TightJPEG", "JPEG"}} {
		m, ok := metrics["BenchmarkRFBDecode"+enc.name]
		if !ok {
			continue
		}
		ms, base := m["ms/update"], metrics["BenchmarkRFBBaseline"+enc.base]["ms/update"]
		fmt.Printf("%-60s  %.1f ms (baseline %s %.1f ms), peak heap %.1f MiB  goal <= 50 ms: %s\n", "RFB full-screen 1024x768 update, "+enc.name,
			ms, enc.base, base, m["peak-heap-MiB"], verdict(ms > 0 && ms <= 50))
	}
	if m, ok := metrics["BenchmarkOCR"]; ok {
		fmt.Printf("%-60s  %.1f %% found, %.0f false hits, %.0f ms per capture  goal >= 95 %%, 0: %s\n", "OCR on the fixed set of captures",
			m["recognised-%"], m["false-hits"], m["ms/capture"], verdict(m["recognised-%"] >= 95 && m["false-hits"] == 0))
		if t, ok := metrics["BenchmarkOCRTesseract"]; ok && t["ms/capture"] > 0 {
			r := m["ms/capture"] / t["ms/capture"]
			fmt.Printf("%-60s  %.4f (%.1f ms / %.0f ms; tesseract alone: %.1f %% found)  goal <= 500 ms per capture: %s\n", "OCR per capture: cell recogniser vs tesseract alone",
				r, m["ms/capture"], t["ms/capture"], t["recognised-%"], verdict(m["ms/capture"] <= 500))
		}
	}
	if m, ok := metrics["BenchmarkImageFetch"]; ok {
		r := m["ratio"]
		fmt.Printf("%-60s  %.3f (%.1f / %.1f MB/s of a %.0f MiB image)  goal >= 0.8: %s\n", "image download+decompress+verify vs curl|zstd -d|sha256sum", r, m["fetch-MB/s"], m["curl-zstd-sha256sum-MB/s"], m["image-MiB"], verdict(r >= 0.8))
		fmt.Printf("%-60s  %.1f MiB (bounded: zstd window <= 128 MiB, 1 MiB read buffer)\n", "image fetch peak heap", m["peak-heap-MiB"])
	}
	for name, m := range metrics {
		if mb, ok := m["MB/s"]; ok && strings.HasPrefix(name, "BenchmarkAnalyze") {
			fmt.Printf("%-60s  %.1f MB/s\n", "analyze throughput ("+name+")", mb)
		}
	}
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func envOr(k, d string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return d
}
