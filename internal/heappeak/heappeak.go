// Package heappeak measures the most heap a piece of work holds at once, for the
// benchmarks whose goal is memory that does not grow with the input (a console stream, an
// image download).
package heappeak

import (
	"runtime"
	"sync/atomic"
	"time"
)

// During samples the heap in use (runtime.MemStats.HeapInuse) every 20 ms while f runs
// and returns the largest sample.
func During(f func()) uint64 {
	var peak atomic.Uint64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	f()
	close(stop)
	<-done
	return peak.Load()
}
