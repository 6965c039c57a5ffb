//go:build !linux

package replay

import (
	"net"
	"syscall"
)

// unreadBytes cannot be measured here: the written bytes count as delivered.
func unreadBytes(net.Conn) (int, error) { return 0, nil }

func socketpairFDs() ([2]int, error) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err == nil {
		syscall.CloseOnExec(fds[0])
		syscall.CloseOnExec(fds[1])
	}
	return fds, err
}
