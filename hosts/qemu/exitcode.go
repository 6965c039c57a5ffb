package qemu

// ExitCode is QEMU's exit status once it has exited by itself; ok is false while it runs
// or when a signal ended it. A guest that writes v to the isa-debug-exit device makes QEMU
// exit with (v<<1)|1: redoxer's images exit 51 on success and 53 on failure. Read it
// before PowerOff, which ends QEMU itself.
func (m *Machine) ExitCode() (code int, ok bool) { return m.Process.ExitCode() }
