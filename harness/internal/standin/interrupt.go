package standin

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
)

// InterruptAt sends a real SIGINT to this process when con first shows pattern (a command
// the suite typed: its longest wait has begun), and returns a context that SIGINT cancels,
// as `redox-hwtest run`'s handler cancels the run; hit reports whether it was sent.
func InterruptAt(t testing.TB, con *console.Console, pattern string) (ctx context.Context, hit func() bool) {
	t.Helper()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	t.Cleanup(stop)
	var sent atomic.Bool
	go func() {
		if _, err := con.Expect(ctx, con.Offset(), pattern); err == nil {
			sent.Store(true)
			syscall.Kill(syscall.Getpid(), syscall.SIGINT)
		}
	}()
	return ctx, sent.Load
}
