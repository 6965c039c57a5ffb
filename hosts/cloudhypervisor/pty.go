package cloudhypervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"unsafe"
)

// A pseudo-terminal the harness creates before the VMM starts: the VMM gets the terminal
// side as stdin and stdout (--serial tty writes the guest's serial output to stdout and,
// because stdin is a terminal, feeds stdin to the guest), and the harness keeps the
// controlling side. Every byte the guest prints waits in the kernel's pty buffer until the
// console reads it (when the buffer is full the VMM's write blocks, the guest stalls, and
// nothing is dropped), so the console owns the stream from the first byte whatever the
// VMM version.

// pty is an open pseudo-terminal pair.
type pty struct {
	master *os.File // the harness's side
	// in and out are the terminal side opened twice: the VMM makes its stdin non-blocking
	// (O_NONBLOCK belongs to the open file, and shared with stdout it would turn a full
	// buffer into dropped output); stdout must stay blocking.
	in, out *os.File
	name    string // /dev/pts/N
}

func ioctl(f *os.File, req uint, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	// Control, not Fd(): Fd would switch the file to blocking mode and a Read blocked in
	// it could no longer be interrupted by Close.
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// openPTY creates a pseudo-terminal in raw mode (no echo, no line editing, no newline
// translation: the bytes on the wire are the guest's).
func openPTY() (*pty, error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("pty: %w", err)
	}
	fail := func(err error) (*pty, error) {
		m.Close()
		return nil, fmt.Errorf("pty: %w", err)
	}
	var unlock int32
	if err := ioctl(m, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		return fail(fmt.Errorf("unlock: %w", err))
	}
	var n uint32
	if err := ioctl(m, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		return fail(fmt.Errorf("TIOCGPTN: %w", err))
	}
	p := &pty{master: m, name: fmt.Sprintf("/dev/pts/%d", n)}
	if p.in, err = os.OpenFile(p.name, os.O_RDWR|syscall.O_NOCTTY, 0); err != nil {
		return fail(err)
	}
	if p.out, err = os.OpenFile(p.name, os.O_RDWR|syscall.O_NOCTTY, 0); err != nil {
		p.in.Close()
		return fail(err)
	}
	if err := makeRaw(p.out); err != nil {
		p.closeTerminal()
		return fail(err)
	}
	return p, nil
}

// makeRaw is cfmakeraw(3) on the terminal (settings belong to the terminal, not to one fd).
func makeRaw(f *os.File) error {
	var t syscall.Termios
	if err := ioctl(f, syscall.TCGETS, unsafe.Pointer(&t)); err != nil {
		return fmt.Errorf("TCGETS: %w", err)
	}
	t.Iflag &^= syscall.IGNBRK | syscall.BRKINT | syscall.PARMRK | syscall.ISTRIP | syscall.INLCR | syscall.IGNCR | syscall.ICRNL | syscall.IXON
	t.Oflag &^= syscall.OPOST
	t.Lflag &^= syscall.ECHO | syscall.ECHONL | syscall.ICANON | syscall.ISIG | syscall.IEXTEN
	t.Cflag &^= syscall.CSIZE | syscall.PARENB
	t.Cflag |= syscall.CS8
	t.Cc[syscall.VMIN] = 1
	t.Cc[syscall.VTIME] = 0
	if err := ioctl(f, syscall.TCSETS, unsafe.Pointer(&t)); err != nil {
		return fmt.Errorf("TCSETS: %w", err)
	}
	return nil
}

// closeTerminal closes the harness's copies of the terminal side (after the VMM has
// inherited them), so that the master reads EOF once the VMM is gone.
func (p *pty) closeTerminal() {
	if p.in != nil {
		p.in.Close()
		p.in = nil
	}
	if p.out != nil {
		p.out.Close()
		p.out = nil
	}
}

// stream is the console's view of the master: Linux reports EIO on a master whose
// terminal side is closed everywhere (the VMM exited); that is the end of the stream.
type ptyStream struct{ f *os.File }

func (s ptyStream) Read(b []byte) (int, error) {
	n, err := s.f.Read(b)
	if err != nil && errors.Is(err, syscall.EIO) {
		err = io.EOF
	}
	return n, err
}

func (s ptyStream) Write(b []byte) (int, error) { return s.f.Write(b) }
func (s ptyStream) Close() error                { return s.f.Close() }
