package qemu_test

import (
	"context"
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/qemu"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// TestQMPControlsARealVM boots the stand-in, freezes it over QMP (stop: no output while
// paused), resumes it, resets it (the kernel banner appears again) and quits it.
func TestQMPControlsARealVM(t *testing.T) {
	fx := fixtures.Require(t)
	h := matrix.Host{Name: "pc", Kind: "qemu", Arch: "x86_64", Firmware: "bios", Machine: "pc", Memory: "512M", Accel: "tcg", TimeScale: 10}
	img := matrix.Image{Name: "s", Arch: "x86_64", Firmware: "bios", Kernel: fx + "/vmlinuz-x86_64",
		Initrd: fx + "/initrd-x86_64.cpio.gz", Cmdline: "console=ttyS0"}
	m, err := qemu.New(h, img, hosts.Env{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	vm := m.(*qemu.Machine)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	stream, err := vm.PowerOn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	con, _ := console.Open(stream, console.Options{})
	defer func() {
		vm.PowerOff(context.Background())
		con.Close()
		if err := syscall.Kill(-vm.PGID(), 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("QEMU process group survives PowerOff: %v", err)
		}
	}()
	q := vm.QMP()
	if _, err := con.Expect(ctx, 0, "FX: boot complete"); err != nil {
		t.Fatal(err)
	}
	if err := q.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := q.Status(ctx); err != nil || st != "paused" {
		t.Fatalf("status after stop = %q, %v", st, err)
	}
	if _, err := q.WaitEvent(ctx, "STOP", time.Time{}); err != nil {
		t.Fatal(err)
	}
	// Typed input is not echoed while the VM is frozen.
	mark := con.Offset()
	con.Send(ctx, "echo frozen-$((6*7))\r")
	short, c2 := context.WithTimeout(ctx, 2*time.Second)
	_, err = con.Expect(short, mark, "frozen-42")
	c2()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a paused VM answered: %v", err)
	}
	if err := q.Cont(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := con.Expect(ctx, mark, "frozen-42"); err != nil {
		t.Fatalf("no answer after cont: %v", err)
	}
	// -no-reboot turns a reset into an exit (no boot loops): the machine reports it.
	q.Reset(ctx) // the reply may be lost as QEMU exits
	select {
	case <-vm.Exited():
	case <-ctx.Done():
		t.Fatal("VM did not exit after reset with -no-reboot")
	}
}
