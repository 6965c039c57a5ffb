package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/harness/internal/standin"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The real stand-in guest with its background printer at 50 ms (fx.noise=50): marker
// commands stay exact, and a 1 MiB file crosses the console with matching checksums.
func TestLiveMarkersUnderNoiseAndFetch1MiB(t *testing.T) {
	m, j := standin.Job(t, standin.Spec{Image: standin.X86BIOS, BootArgs: "fx.noise=50"})
	b := standin.Boot(t, m, j, standin.Options())
	if b.Outcome.Verdict != record.Pass {
		t.Fatalf("boot: %s", b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	s, err := session.Open(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i := 1; i <= 400; i++ {
		fmt.Fprintf(&want, "line %d of the output\n", i)
	}
	noise0 := s.Stats.NoiseCut
	for i := 0; i < 6; i++ {
		// Output that takes a while (so noise lines land inside it), with a status.
		out, code, err := s.Run(ctx, fmt.Sprintf(`i=0; while [ $i -lt 400 ]; do i=$((i+1)); echo "line $i of the output"; usleep 1000; done; (exit %d)`, i+3))
		if err != nil {
			t.Fatal(err)
		}
		if out != want.String() || code != i+3 {
			t.Fatalf("run %d: exit %d (want %d); output %d bytes, want %d; first difference near %q", i, code, i+3, len(out), want.Len(), firstDiff(out, want.String()))
		}
		out, code, err = s.Run(ctx, "printf no-newline")
		if err != nil || out != "no-newline" || code != 0 {
			t.Fatalf("printf: %q %d %v", out, code, err)
		}
	}
	if s.Stats.NoiseCut == noise0 {
		t.Fatal("no FX-NOISE line landed in any output: the test proves nothing")
	}
	t.Logf("%d commands, %d noise lines cut from their output, %d split markers", s.Stats.Commands, s.Stats.NoiseCut-noise0, s.Stats.SplitMarkers)

	if out, code, err := s.Run(ctx, "head -c 1048576 /dev/urandom > /tmp/blob && sha256sum /tmp/blob"); err != nil || code != 0 {
		t.Fatalf("make blob: %q %d %v", out, code, err)
	}
	guestSum, _, _ := s.Run(ctx, "sha256sum /tmp/blob")
	noise0 = s.Stats.NoiseCut
	data, st, err := s.Fetch(ctx, "/tmp/blob")
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if len(data) != 1<<20 || !strings.HasPrefix(guestSum, hex.EncodeToString(sum[:])) {
		t.Fatalf("fetched %d bytes, sha256 %x, guest says %q", len(data), sum, guestSum)
	}
	t.Logf("fetch of 1 MiB under fx.noise=50: %s; %d noise lines cut from the chunks", st, s.Stats.NoiseCut-noise0)
}

func firstDiff(a, b string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			lo := max(0, i-40)
			return a[lo:min(len(a), i+40)]
		}
	}
	return "(one is a prefix of the other)"
}
