// Package consolebench is the console benchmarks' workload: Redox-like console output and
// the 20 patterns an expect waits for in it, none of which occurs in that output.
// harness/engine/console's benchmarks and internal/peerbench (the console against the
// expect libraries a harness would otherwise use) read the same one, so their figures
// compare. Test-only (internal/layers testOnly).
package consolebench

import "fmt"

// Patterns are the 20 patterns the benchmarks wait for; the 12th, "redox login:", is the
// one a stream may be ended with to make an expect return.
var Patterns = []string{
	"KERNEL PANIC", "UNHANDLED EXCEPTION", "panicked at", "relibc: abort() called",
	"failed with exit status", "exited without notifying readiness", "timeout on CORB command",
	"timeout on RIRB response", "failed to wait for ready", "Local apic internal error",
	"[ld.so]: failed to link", "redox login:", "Welcome to Redox OS", "Redox OS Bootloader",
	"Looking for RedoxFS", "kernel::arch::x86_shared::start", "DHCP: New IP", "IHDA: No output pins",
	"smoltcpd: no network adapter found", "END-OF-STREAM-NEVER",
}

// Stream is total bytes of Redox-like console output: colour codes, CR LF, daemon log
// lines; none of Patterns occurs in it.
func Stream(total int) []byte {
	var b []byte
	for i := 0; len(b) < total; i++ {
		b = fmt.Appendf(b, "2026-03-17T23-54-16.%03dZ [@pcid::cfg_access:%d \x1b[33mWARN\x1b[0m] PCI %02x:00.0 8086:100E config read\r\n", i%1000, i%400, i%256)
		b = fmt.Appendf(b, "kernel::startup::memory:INFO -- Memory: %d MB\r\n", i)
	}
	return b[:total]
}
