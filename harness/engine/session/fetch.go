package session

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// FetchStats describe one file transfer over the console.
type FetchStats struct {
	Bytes  int64
	Chunks int
	// Retries counts chunks fetched again after a checksum mismatch.
	Retries int
	Took    time.Duration
	// ConsoleBytes is how many bytes crossed the serial line (base64, echoes, markers).
	ConsoleBytes int64
	SHA256       string
}

// Rate is the payload rate in bytes per second.
func (f FetchStats) Rate() float64 {
	if f.Took <= 0 {
		return 0
	}
	return float64(f.Bytes) / f.Took.Seconds()
}

// LineRate is the serial line's rate in bytes per second during the transfer.
func (f FetchStats) LineRate() float64 {
	if f.Took <= 0 {
		return 0
	}
	return float64(f.ConsoleBytes) / f.Took.Seconds()
}

func (f FetchStats) String() string {
	return fmt.Sprintf("%d bytes in %s (%d chunks, %d retried): %.1f KiB/s payload, %.1f KiB/s on the line",
		f.Bytes, f.Took.Round(time.Millisecond), f.Chunks, f.Retries, f.Rate()/1024, f.LineRate()/1024)
}

// FetchChunk is the payload per command (48 KiB: 64 KiB of base64, well inside the console
// window and short enough that a retry costs little).
const FetchChunk = 48 << 10

// MismatchError is a transfer whose checksum did not match after retries: the harness
// never hands on a corrupted file.
type MismatchError struct {
	Path, Want, Got string
	Chunk           int
}

func (e *MismatchError) Error() string {
	if e.Chunk >= 0 {
		return fmt.Sprintf("fetch %s: chunk %d: checksum mismatch after retries: guest %s, received %s", e.Path, e.Chunk, e.Want, e.Got)
	}
	return fmt.Sprintf("fetch %s: checksum mismatch: guest %s, received %s", e.Path, e.Want, e.Got)
}

var (
	reSum     = regexp.MustCompile(`(?m)^([0-9a-f]{64})(?:\s|$)`)
	reB64Line = regexp.MustCompile(`^[A-Za-z0-9+/]+={0,2}$`)
	reSize    = regexp.MustCompile(`(?m)^\s*(\d+)\s*$`)
)

// Fetch copies a file from the guest over the console: its size and SHA-256 first, then
// chunks of base64, each with its own SHA-256 (a chunk that does not match is fetched again,
// twice at most), and last the whole file's SHA-256 is compared. Any mismatch that retries
// do not cure is a *MismatchError.
func Fetch(ctx context.Context, r Runner, d *Dialect, path string) ([]byte, FetchStats, error) {
	return fetch(ctx, r, d, path, nil)
}

// Fetch is the package Fetch on this session, with the console's byte count in the stats.
func (s *Session) Fetch(ctx context.Context, path string) ([]byte, FetchStats, error) {
	return fetch(ctx, s, s.d, path, s.con.RawBytes)
}

func fetch(ctx context.Context, r Runner, d *Dialect, path string, rawBytes func() int64) ([]byte, FetchStats, error) {
	var st FetchStats
	start := time.Now()
	var raw0 int64
	if rawBytes != nil {
		raw0 = rawBytes()
	}
	out, code, err := r.Run(ctx, d.SizeCmd(path))
	if err != nil {
		return nil, st, fmt.Errorf("fetch %s: %w", path, err)
	}
	m := reSize.FindStringSubmatch(out)
	if code != 0 || m == nil {
		return nil, st, fmt.Errorf("fetch %s: size: exit %d: %q", path, code, strings.TrimSpace(out))
	}
	size, _ := strconv.ParseInt(m[1], 10, 64)
	out, code, err = r.Run(ctx, d.SumCmd(path))
	if err != nil {
		return nil, st, fmt.Errorf("fetch %s: %w", path, err)
	}
	sm := reSum.FindStringSubmatch(out)
	if code != 0 || sm == nil {
		return nil, st, fmt.Errorf("fetch %s: sha256sum: exit %d: %q", path, code, strings.TrimSpace(out))
	}
	want := sm[1]
	data := make([]byte, 0, size)
	chunks := int((size + FetchChunk - 1) / FetchChunk)
	for c := 0; c < chunks; c++ {
		var chunk []byte
		var lastGot, lastWant string
		ok := false
		for attempt := 0; attempt < 3 && !ok; attempt++ {
			if attempt > 0 {
				st.Retries++
			}
			out, code, err := r.Run(ctx, d.ChunkCmd(path, FetchChunk, c))
			if err != nil {
				return nil, st, fmt.Errorf("fetch %s: chunk %d: %w", path, c, err)
			}
			if code != 0 {
				return nil, st, fmt.Errorf("fetch %s: chunk %d: exit %d: %q", path, c, code, tail(out, 200))
			}
			chunk, lastWant, err = decodeChunk(out)
			if err != nil {
				lastGot = err.Error()
				continue
			}
			sum := sha256.Sum256(chunk)
			lastGot = hex.EncodeToString(sum[:])
			ok = lastGot == lastWant
		}
		if !ok {
			return nil, st, &MismatchError{Path: path, Want: lastWant, Got: lastGot, Chunk: c}
		}
		data = append(data, chunk...)
		st.Chunks++
	}
	r.Run(ctx, d.RemoveCmd(d.Tmp+"/.rhw-chunk"))
	sum := sha256.Sum256(data)
	got := hex.EncodeToString(sum[:])
	st.Bytes = int64(len(data))
	st.Took = time.Since(start)
	st.SHA256 = got
	if rawBytes != nil {
		st.ConsoleBytes = rawBytes() - raw0
	}
	if got != want || int64(len(data)) != size {
		return nil, st, &MismatchError{Path: path, Want: fmt.Sprintf("%s (%d bytes)", want, size), Got: fmt.Sprintf("%s (%d bytes)", got, len(data)), Chunk: -1}
	}
	return data, st, nil
}

// decodeChunk takes the base64 lines and the trailing checksum line from a chunk command's
// output. Lines that are neither (noise nobody declared, a dd message) are passed over: the
// checksum decides whether what is left is the chunk.
func decodeChunk(out string) ([]byte, string, error) {
	var b64 strings.Builder
	sum := ""
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		if m := reSum.FindStringSubmatch(l); m != nil && len(l) > 64 {
			sum = m[1]
			continue
		}
		if reB64Line.MatchString(l) {
			b64.WriteString(l)
		}
	}
	if sum == "" {
		return nil, "", fmt.Errorf("no checksum line in chunk output %q", tail(out, 200))
	}
	data, err := base64.StdEncoding.DecodeString(b64.String())
	if err != nil {
		return nil, sum, fmt.Errorf("base64: %v", err)
	}
	return data, sum, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}
