// Package qemutest starts the stand-in (fixtures/: a Debian kernel and a busybox initrd)
// under QEMU with a VGA screen and a QMP socket, for the tests that reach a machine only by
// its screen and keyboard: hosts/rfb's VNC peer and the machine behind the PiKVM stand-in
// (harness/engine/job). Test-only (internal/layers testOnly).
package qemutest

import (
	"context"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/qemu"
)

// Command is an x86_64 TCG QEMU, not yet started, that boots the stand-in's kernel and
// initrd from the fixtures directory fx with the kernel command line cmdline, memory of
// RAM, a std-VGA screen (no display window) and no default devices, with QMP on qmpSock;
// extra QEMU arguments follow. It gets its own process group, so a test ends it and
// anything it started by killing -pid.
func Command(fx, qmpSock, memory, cmdline string, extra ...string) *exec.Cmd {
	args := append([]string{"-nodefaults", "-display", "none", "-no-user-config", "-no-reboot",
		"-machine", "pc", "-accel", "tcg", "-m", memory, "-vga", "std",
		"-kernel", filepath.Join(fx, "vmlinuz-x86_64"), "-initrd", filepath.Join(fx, "initrd-x86_64.cpio.gz"),
		"-append", cmdline, "-qmp", "unix:" + qmpSock + ",server=on,wait=off"}, extra...)
	cmd := exec.Command("qemu-system-x86_64", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// DialQMP connects to the QMP socket of a QEMU that is starting, retrying while the socket
// is not there yet, for at most 30 seconds.
func DialQMP(sock string) (*qemu.QMP, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		q, err := qemu.DialQMP(ctx, sock)
		if err == nil || ctx.Err() != nil {
			return q, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}
