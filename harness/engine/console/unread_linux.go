package console

import (
	"syscall"
	"unsafe"
)

// kernelUnread says whether bytes wait in the kernel for the reader (FIONREAD on a socket,
// pty or tty): output the machine has sent that this process has not been scheduled to read.
func kernelUnread(rw any) bool {
	sc, ok := rw.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	var n int32
	var errno syscall.Errno
	if raw.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCINQ, uintptr(unsafe.Pointer(&n)))
	}) != nil || errno != 0 {
		return false
	}
	return n > 0
}
