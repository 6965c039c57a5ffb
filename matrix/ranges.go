package matrix

import (
	"bufio"
	"math/bits"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Ranges of the sizes, counts and durations a matrix takes, checked when it loads (at the
// value's file:line:col, exit 2) so that a typo is a load error instead of a VMM that
// refuses to start and is read as the guest's failure (issue 24: `memory:
// 99999999999999999999T` passed a pattern check, and QEMU's exit 1 was read as the
// guest's isa-debug-exit status).
const (
	// MaxDuration bounds silence and boot_timeout before time scaling.
	MaxDuration = 24 * time.Hour
	// MinMemory: below it no firmware starts (OVMF alone reserves more).
	MinMemory = 16 << 20
	// MaxSMP: QEMU's pc machine accepts at most 255 CPUs (q35 288, virt 512); more is a
	// mistake for any lab VM.
	MaxSMP = 255
	// MaxTimeScale bounds time_scale (TCG is ~10x).
	MaxTimeScale = 100
	// MaxSlots bounds a VM host's slots, MaxJobs settings.jobs.
	MaxSlots = 256
	MaxJobs  = 4096
)

// parseSize reads a size as the matrix writes it (digits, then an optional K, M, G or T;
// none means MiB, as QEMU's -m) in bytes; ok is false when it does not fit in 64 bits
// (QEMU: "Parameter 'size' expects a non-negative number below 2^64").
func parseSize(s string) (n uint64, ok bool) {
	mult := uint64(1 << 20)
	switch s[len(s)-1] {
	case 'K', 'k':
		mult, s = 1<<10, s[:len(s)-1]
	case 'M', 'm':
		s = s[:len(s)-1]
	case 'G', 'g':
		mult, s = 1<<30, s[:len(s)-1]
	case 'T', 't':
		mult, s = 1<<40, s[:len(s)-1]
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil {
		return 0, false
	}
	hi, lo := bits.Mul64(v, mult)
	return lo, hi == 0
}

// controllerMemory is this machine's RAM in bytes (/proc/meminfo MemTotal), 0 when
// unknown: a VM host's memory must fit in it.
var controllerMemory = sync.OnceValue(func() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
})

// formatBytes writes n in the largest binary unit that divides it.
func formatBytes(n uint64) string {
	for _, u := range []struct {
		shift uint
		s     string
	}{{40, "T"}, {30, "G"}, {20, "M"}, {10, "K"}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return strconv.FormatUint(n>>u.shift, 10) + u.s
		}
	}
	return strconv.FormatUint(n, 10) + " bytes"
}

// hostRanges checks a host's memory, smp, time_scale, silence and slots.
func (v *validator) hostRanges(h *Host, p, ctx string) *Error {
	if h.Memory != "" {
		n, ok := parseSize(h.Memory)
		switch {
		case !ok:
			return v.errorf(childPath(p, "memory"), false, "memory in %s is %q, over what a VMM accepts (below 2^64 bytes)", ctx, clip(h.Memory))
		case n < MinMemory:
			return v.errorf(childPath(p, "memory"), false, "memory in %s is %s, under the %s minimum", ctx, formatBytes(n), formatBytes(MinMemory))
		case isVirtual(h.Kind) && controllerMemory() > 0 && n > controllerMemory():
			return v.errorf(childPath(p, "memory"), false, "memory in %s is %s, more than this controller has (%s)", ctx, formatBytes(n), formatBytes(controllerMemory()))
		}
	}
	if h.SMP > MaxSMP {
		return v.errorf(childPath(p, "smp"), false, "smp in %s is %d, over the maximum of %d", ctx, h.SMP, MaxSMP)
	}
	if h.TimeScale > MaxTimeScale {
		return v.errorf(childPath(p, "time_scale"), false, "time_scale in %s is %g, over the maximum of %d", ctx, h.TimeScale, MaxTimeScale)
	}
	if h.Slots > MaxSlots {
		return v.errorf(childPath(p, "slots"), false, "slots in %s is %d, over the maximum of %d", ctx, h.Slots, MaxSlots)
	}
	return v.atMost(childPath(p, "silence"), h.Silence, "silence", ctx)
}

// atMost refuses a duration over MaxDuration.
func (v *validator) atMost(path string, d Duration, key, ctx string) *Error {
	if d.Duration > MaxDuration {
		return v.errorf(path, false, "%s in %s is %s, over the maximum of %s", key, ctx, d, MaxDuration)
	}
	return nil
}

// settingsRanges checks settings.silence, boot_timeout, jobs and image_cache_size.
func (v *validator) settingsRanges(s *Settings) *Error {
	if e := v.atMost("settings.silence", s.Silence, "silence", "settings"); e != nil {
		return e
	}
	if e := v.atMost("settings.boot_timeout", s.BootTimeout, "boot_timeout", "settings"); e != nil {
		return e
	}
	if s.Jobs > MaxJobs {
		return v.errorf("settings.jobs", false, "jobs in settings is %d, over the maximum of %d", s.Jobs, MaxJobs)
	}
	if s.ImageCacheSize != "" {
		if n, ok := parseSize(s.ImageCacheSize); !ok || n > 1<<62 {
			return v.errorf("settings.image_cache_size", false, "image_cache_size in settings is %q, too large", clip(s.ImageCacheSize))
		}
	}
	return nil
}
