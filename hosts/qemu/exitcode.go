package qemu

// ExitCode is QEMU's exit status once it has exited by itself; ok is false while it runs
// or when a signal ended it. Read it before PowerOff, which ends QEMU itself.
//
// Through the redoxer exit device (RedoxerExit) a redoxer image ends QEMU with 51 on
// success and 53 on failure (redoxer src/exec.rs: `Some(51) => success`, `Some(53) =>
// failure`; redox mk/qemu.mk "redoxer exit code: 51 => success, 53 => failure"):
//   - x86_64: isa-debug-exit turns a write of v to its port into the exit status (v<<1)|1,
//     and redoxerd writes 51/2 = 0x19 or 53/2 = 0x1a to port 0x501;
//   - aarch64: semihosting SYS_EXIT with ADP_Stopped_ApplicationExit passes redoxerd's
//     status (51 or 53) through unchanged.
func (m *Machine) ExitCode() (code int, ok bool) { return m.Process.ExitCode() }
