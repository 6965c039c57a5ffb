package console

import (
	"context"
	"io"
	"net"
	"os"
	"strconv"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/consolebench"
	"github.com/redox-hwtest/redox-hwtest/internal/heappeak"
)

// benchStreamMB is the synthetic stream size per benchmark op (the goal is stated for
// 256 MB; BENCH_STREAM_MB shortens it for a quick look).
func benchStreamMB() int {
	if v, err := strconv.Atoi(os.Getenv("BENCH_STREAM_MB")); err == nil && v > 0 {
		return v
	}
	return 256
}

// syntheticBlock is 1 MiB of the benchmarks' Redox-like console output.
func syntheticBlock() []byte { return consolebench.Stream(1 << 20) }

// feed writes total bytes of the block into a real unix socket in 4 KiB writes, the way a
// VMM's serial backend delivers output.
func feed(b *testing.B, total int) net.Conn {
	g, h := socketPair(b)
	block := syntheticBlock()
	go func() {
		defer g.Close()
		for sent := 0; sent < total; {
			for off := 0; off < len(block) && sent < total; off += 4096 {
				n := min(4096, len(block)-off, total-sent)
				if _, err := g.Write(block[off : off+n]); err != nil {
					return
				}
				sent += n
			}
		}
	}()
	return h
}

// BenchmarkPlainRead is the baseline: read the same socket stream and throw it away.
func BenchmarkPlainRead(b *testing.B) {
	total := benchStreamMB() << 20
	b.SetBytes(int64(total))
	for i := 0; i < b.N; i++ {
		h := feed(b, total)
		buf := make([]byte, 32<<10)
		for {
			if _, err := h.Read(buf); err == io.EOF {
				break
			} else if err != nil {
				b.Fatal(err)
			}
		}
		h.Close()
	}
}

// BenchmarkConsoleMatch20 is the console with its transcript on disk, normalisation, and an
// expect of 20 patterns that never match, over the same stream.
func BenchmarkConsoleMatch20(b *testing.B) {
	total := benchStreamMB() << 20
	b.SetBytes(int64(total))
	m := NewMatcher(consolebench.Patterns...)
	var peak uint64
	for i := 0; i < b.N; i++ {
		h := feed(b, total)
		p := heappeak.During(func() {
			c, err := Open(h, Options{Transcript: b.TempDir() + "/t.log"})
			if err != nil {
				b.Fatal(err)
			}
			if _, err := c.ExpectMatcher(context.Background(), 0, m); err != ErrClosed {
				b.Fatal(err)
			}
			if got := c.RawBytes(); got != int64(total) {
				b.Fatalf("read %d of %d bytes", got, total)
			}
			c.Close()
		})
		peak = max(peak, p)
	}
	b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
}
