package boot

import (
	"context"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/record"
)

type pipeRWC struct {
	*io.PipeReader
	w *io.PipeWriter
}

func (p pipeRWC) Write(b []byte) (int, error) { return len(b), nil }
func (p pipeRWC) Close() error                { p.w.Close(); return p.PipeReader.Close() }

// gapCase feeds a stand-in boot that stops after the drivers stage; gaps(stageSeen) gives
// the console gaps relative to the moment the last stage line was written.
func gapCase(t *testing.T, gaps func(stageSeen time.Time) []hosts.Gap) Outcome {
	t.Helper()
	pr, pw := io.Pipe()
	con, err := console.Open(pipeRWC{pr, pw}, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	var (
		mu   sync.Mutex
		seen time.Time
	)
	go func() {
		io.WriteString(pw, "Linux version 6.1\nFX: init started (x86_64)\n")
		time.Sleep(50 * time.Millisecond)
		mu.Lock()
		seen = time.Now()
		mu.Unlock()
		io.WriteString(pw, "FX: stage modules\n")
		// then silence
	}()
	cfg := Config{Profile: profile.Standin, Silence: 400 * time.Millisecond, Deadline: 10 * time.Second, Scale: 1}
	if gaps != nil {
		cfg.Gaps = func() []hosts.Gap {
			mu.Lock()
			defer mu.Unlock()
			return gaps(seen)
		}
	}
	return Run(context.Background(), con, nil, cfg)
}

func TestSilenceWithoutGapIsHang(t *testing.T) {
	o := gapCase(t, nil)
	if o.Verdict != record.Hang {
		t.Fatalf("%s: %s", o.Verdict, o.Reason)
	}
}

func TestGapAfterLastStageMakesHangInfra(t *testing.T) {
	o := gapCase(t, func(seen time.Time) []hosts.Gap {
		return []hosts.Gap{{Start: seen.Add(20 * time.Millisecond), End: seen.Add(120 * time.Millisecond), Reason: "ser2net closed the connection"}}
	})
	if o.Verdict != record.Infra || !strings.Contains(o.Reason, "ser2net closed the connection") ||
		!strings.Contains(o.Reason, "after stage drivers") || !strings.Contains(o.Reason, "no output for") {
		t.Fatalf("%s: %s", o.Verdict, o.Reason)
	}
}

func TestOpenGapMakesHangInfra(t *testing.T) {
	o := gapCase(t, func(seen time.Time) []hosts.Gap {
		return []hosts.Gap{{Start: seen.Add(20 * time.Millisecond), Reason: "SOL deactivated"}}
	})
	if o.Verdict != record.Infra || !strings.Contains(o.Reason, "still lost") {
		t.Fatalf("%s: %s", o.Verdict, o.Reason)
	}
}

func TestGapBeforeLastStageHidesNothing(t *testing.T) {
	o := gapCase(t, func(seen time.Time) []hosts.Gap {
		return []hosts.Gap{{Start: seen.Add(-40 * time.Millisecond), End: seen.Add(-10 * time.Millisecond), Reason: "early drop"}}
	})
	if o.Verdict != record.Hang {
		t.Fatalf("%s: %s", o.Verdict, o.Reason)
	}
}
