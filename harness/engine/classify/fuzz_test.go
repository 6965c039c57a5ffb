package classify

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

// chunkReader returns its data in reads of a fixed odd size, to move every chunk
// boundary around.
type chunkReader struct {
	b []byte
	n int
}

func (r *chunkReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	k := min(len(p), r.n, len(r.b))
	copy(p, r.b[:k])
	r.b = r.b[k:]
	return k, nil
}

// FuzzAnalyze: any bytes (random, huge lines, NUL, invalid UTF-8, broken escapes) are
// analysed without a panic, within the fixed bounds, and the same way however they are
// chunked.
func FuzzAnalyze(f *testing.F) {
	logs, _ := filepath.Glob(filepath.Join(fixtureDir(f), "*.log"))
	for _, p := range logs {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(""))
	f.Add([]byte("# only\n# a header\n"))
	f.Add([]byte("\x00\x00\x00\xff\xfe\xfd\x1b[\x1b]0;\x1b"))
	f.Add([]byte(strings.Repeat("A", 3*MaxLineLen) + "\n"))
	f.Add([]byte("thread 'main' (1) panicked at src/bin/x.rs:1:1:\n\x1b[31mKERNEL PANIC: panicked at '\n"))
	f.Add([]byte("FATAL: Not an SVC induced synchronous exception\n" + strings.Repeat("X0: 0\n", 300) + "NAME /bin/\xff\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		a, in, err := Analyze(bytes.NewReader(data), profile.Redox)
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Events) > MaxEvents+1 {
			t.Fatalf("%d events", len(a.Events))
		}
		if len(a.Stages) > len(profile.Redox.Stages) {
			t.Fatalf("%d stages", len(a.Stages))
		}
		for _, e := range a.Events {
			// The hang title adds the stage and component to a fixed text.
			if len(e.Title) > MaxTitleLen+64 || len(e.Component) > MaxTitleLen || e.Count < 1 {
				t.Fatalf("unbounded event %d/%d bytes, count %d", len(e.Title), len(e.Component), e.Count)
			}
		}
		if in.Lines > len(data)/1+1 {
			t.Fatalf("%d lines from %d bytes", in.Lines, len(data))
		}
		b, _, err := Analyze(&chunkReader{b: data, n: 7}, profile.Redox)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("chunking changed the analysis:\n%+v\n%+v", a, b)
		}
	})
}

// genReader produces n bytes from a repeating pattern without holding them.
type genReader struct {
	pat  []byte
	off  int
	left int64
	// every reads, sample the heap
	every, reads int
	peak         uint64
}

func (g *genReader) Read(p []byte) (int, error) {
	if g.left <= 0 {
		return 0, io.EOF
	}
	k := 0
	for k < len(p) && g.left > 0 {
		c := copy(p[k:], g.pat[g.off:])
		if int64(c) > g.left {
			c = int(g.left)
		}
		k += c
		g.left -= int64(c)
		g.off = (g.off + c) % len(g.pat)
	}
	g.reads++
	if g.reads%g.every == 0 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		g.peak = max(g.peak, ms.HeapAlloc)
	}
	return k, nil
}

// Memory stays bounded on endless input: one huge line of garbage, and a flood of
// distinct crash titles.
func TestAnalyzeBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 128 MB")
	}
	var base runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&base)
	garbage := []byte("\x00\xff\x1b[31mUNHANDLED EXCEPTION\xfe, NAME ")
	var flood bytes.Buffer
	for i := 0; i < 4096; i++ {
		flood.WriteString("thread 'main' panicked at 'bug " + strings.Repeat("x", i%50) + string(rune('a'+i%26)) + "', src/main.rs:1:1\n")
	}
	size := int64(64 << 20)
	if raceEnabled {
		size = 8 << 20 // the race detector makes each byte ~20x dearer
	}
	for _, pat := range [][]byte{garbage, flood.Bytes()} {
		g := &genReader{pat: pat, left: size, every: 64}
		if _, _, err := Analyze(g, profile.Redox); err != nil {
			t.Fatal(err)
		}
		if grew := int64(g.peak) - int64(base.HeapAlloc); grew > 48<<20 {
			t.Errorf("heap grew by %d MB while streaming %d MB", grew>>20, size>>20)
		}
	}
}

var (
	benchOnce   sync.Once
	benchCorpus []byte
)

// corpus concatenates every transcript body (real ones when present, the fixtures always)
// until it holds at least 64 MB.
func corpus(b *testing.B) []byte {
	benchOnce.Do(func() {
		benchCorpus = fixtures.TranscriptCorpus(b, 64<<20, filepath.Join(moduleRoot(b), "..", "shared", "redox-logs"), fixtureDir(b))
	})
	return benchCorpus
}

// BenchmarkAnalyze: offline analysis throughput (MB/s) on a large concatenation of the
// transcripts.
func BenchmarkAnalyze(b *testing.B) {
	data := corpus(b)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, _, err := Analyze(bytes.NewReader(data), profile.Redox); err != nil {
			b.Fatal(err)
		}
	}
}
