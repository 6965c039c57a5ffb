package standin

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts/qemu"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// BareBoot is the benchmarks' baseline: the job's QEMU command started by hand and its
// serial socket read by a bare reader until the stand-in's "FX: boot complete", without any
// of the harness (no host kind, console, transcript or stage machine). It returns the time
// from the start to the marker and to the socket being connected.
func BareBoot(tb testing.TB, j matrix.Job) (toShell, toAttach time.Duration) {
	dir, _ := os.MkdirTemp("", "rhw-bench-")
	defer os.RemoveAll(dir)
	plan, err := qemu.BuildPlan(j.Host, j.Image, qemu.Options{}, dir, "tcg", "")
	if err != nil {
		tb.Fatal(err)
	}
	for p, size := range plan.Scratch {
		os.WriteFile(p, nil, 0o644)
		os.Truncate(p, size)
	}
	start := time.Now()
	cmd := exec.Command(plan.Argv[0], plan.Argv[1:]...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); cmd.Wait() }()
	var conn net.Conn
	for conn == nil {
		conn, _ = net.Dial("unix", plan.SerialSock)
		if conn == nil {
			time.Sleep(20 * time.Millisecond)
		}
	}
	toAttach = time.Since(start)
	defer conn.Close()
	var seen []byte
	buf := make([]byte, 32<<10)
	for !bytes.Contains(seen, []byte("FX: boot complete")) {
		n, err := conn.Read(buf)
		if err != nil {
			tb.Fatalf("bare read: %v", err)
		}
		seen = append(seen, buf[:n]...)
	}
	return time.Since(start), toAttach
}
