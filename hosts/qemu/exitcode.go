package qemu

import "syscall"

// ExitCode is QEMU's exit status once it has exited by itself; ok is false while it runs
// or when a signal ended it. A guest that writes v to the isa-debug-exit device makes QEMU
// exit with (v<<1)|1: redoxer's images exit 51 on success and 53 on failure. Read it
// before PowerOff, which ends QEMU itself.
func (m *Machine) ExitCode() (code int, ok bool) {
	select {
	case <-m.exited:
	default:
		return 0, false
	}
	if m.cmd == nil || m.cmd.ProcessState == nil {
		return 0, false
	}
	if ws, isWS := m.cmd.ProcessState.Sys().(syscall.WaitStatus); isWS && ws.Signaled() {
		return 0, false
	}
	return m.cmd.ProcessState.ExitCode(), true
}
