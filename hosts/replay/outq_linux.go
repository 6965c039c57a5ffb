package replay

import (
	"net"
	"syscall"
	"unsafe"
)

// unreadBytes is how much of what was written to c its peer has not read yet (SIOCOUTQ,
// which for a unix stream socket falls to 0 once the reader has consumed everything).
func unreadBytes(c net.Conn) (int, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return 0, nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return 0, err
	}
	var n int32
	var errno syscall.Errno
	err = rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&n)))
	})
	if err != nil {
		return 0, err
	}
	if errno != 0 {
		return 0, errno
	}
	return int(n), nil
}

// socketpairFDs makes a connected unix stream pair, close-on-exec from the start (the
// harness starts VMs concurrently; a child must not inherit the console).
func socketpairFDs() ([2]int, error) {
	return syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
}
