package console

import (
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/record/redact"
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

// unread sees through the redaction of secrets (record/redact's stream, which hosts put
// between a machine and its console when a secret is registered): bytes its pump took from
// the socket, and bytes its filter holds back because they may begin a secret, are unread
// until the console reads them.
func TestUnreadThroughTheRedactionStream(t *testing.T) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	f0, f1 := os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	defer f0.Close()
	a, err := net.FileConn(f0)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := net.FileConn(f1)
	f1.Close()
	if err != nil {
		t.Fatal(err)
	}
	s := redact.New("hunter2-secret").Stream(b.(io.ReadWriteCloser), time.Hour)
	defer s.Close()
	if unread(s) {
		t.Fatal("unread before anything was written")
	}
	// "hunter2" may begin the secret: the filter holds it back (for an hour here).
	if _, err := a.Write([]byte("login: hunter2")); err != nil {
		t.Fatal(err)
	}
	// The pump takes the bytes off the socket on its own goroutine: until then the kernel
	// holds them, after it the stream does (the instant between its read and its count is
	// the same as the console's own, between its read and its clock).
	for i := 0; kernelUnread(b); i++ {
		if i == 10000 {
			t.Fatal("the stream's pump never read the socket")
		}
		time.Sleep(time.Millisecond)
	}
	for i := 0; !unread(s); i++ {
		if i == 10000 {
			t.Fatal("14 bytes the pump took are not seen as unread")
		}
		time.Sleep(time.Millisecond)
	}
	buf := make([]byte, 64)
	n, err := s.Read(buf)
	if err != nil || string(buf[:n]) != "login: " {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if !unread(s) {
		t.Fatal("the held-back bytes are not seen as unread")
	}
}
