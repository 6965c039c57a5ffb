package console

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/consolebench"
)

func BenchmarkScanOnly(b *testing.B) {
	blk := syntheticBlock()
	m := NewMatcher(consolebench.Patterns...)
	b.SetBytes(int64(len(blk)))
	sc := m.Scanner()
	for i := 0; i < b.N; i++ {
		if e, _ := sc.Scan(blk); e >= 0 {
			b.Fatal("match")
		}
	}
}

func BenchmarkNormalizeOnly(b *testing.B) {
	blk := syntheticBlock()
	b.SetBytes(int64(len(blk)))
	var n Normalizer
	var dst []byte
	for i := 0; i < b.N; i++ {
		dst = n.Append(dst[:0], blk)
	}
}
