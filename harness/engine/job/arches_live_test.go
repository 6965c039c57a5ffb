package job_test

import (
	"context"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The riscv64 stand-in on QEMU virt: OpenSBI, U-Boot's distro boot and the payload reach
// the shell, judged by the boot suite, and the payload answers at its prompt.
func TestLiveRISCV64ReachesItsShell(t *testing.T) {
	m, j := standin.Job(t, standin.Spec{Image: standin.RV64UBoot})
	b := standin.Boot(t, m, j, standin.Options())
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("boot: %s: %s", b.Outcome.Verdict, b.Outcome.Reason)
	}
	for _, st := range []string{"firmware", "bootloader", "kernel", "init", "drivers", "shell"} {
		if _, ok := b.Outcome.StageAt[st]; !ok {
			t.Errorf("stage %s not reached (reached: %v)", st, b.Outcome.StageAt)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(float64(30*time.Second)*b.TimeScale()))
	defer cancel()
	cur := b.Console.Offset()
	if err := b.Console.Send(ctx, "echo rhw-rv64-answer\r"); err != nil {
		t.Fatal(err)
	}
	// The typed line echoes back first; the answer is the line after it, then the prompt.
	if _, err := b.Console.Expect(ctx, cur, "\nrhw-rv64-answer\r\nfx# ", "\nrhw-rv64-answer\nfx# "); err != nil {
		t.Fatalf("no answer at the payload's prompt: %v", err)
	}
	cur = b.Console.Offset()
	if err := b.Console.Send(ctx, "uname -m\r"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Console.Expect(ctx, cur, "\nriscv64\r\nfx# ", "\nriscv64\nfx# "); err != nil {
		t.Fatalf("uname -m: %v", err)
	}
}
