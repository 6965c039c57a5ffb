package console

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// kernelUnread sees bytes a socket holds for a reader that has not read them yet.
func TestKernelUnread(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "pair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	a, b := conn(fds[0]), conn(fds[1])
	if kernelUnread(b) {
		t.Fatal("unread before anything was written")
	}
	if _, err := a.Write([]byte("login:")); err != nil {
		t.Fatal(err)
	}
	if !kernelUnread(b) {
		t.Fatal("6 bytes waiting, not seen")
	}
	buf := make([]byte, 16)
	if _, err := b.Read(buf); err != nil {
		t.Fatal(err)
	}
	if kernelUnread(b) || kernelUnread(struct{}{}) {
		t.Fatal("unread after the read / on a stream without a descriptor")
	}
}
