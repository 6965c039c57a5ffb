package sockdir

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestMain lets the test binary play a harness that makes its socket directory and is then
// killed with SIGKILL (a real process, really killed: nothing runs at its exit).
func TestMain(m *testing.M) {
	if parent := os.Getenv("SOCKDIR_TEST_HARNESS"); parent != "" {
		d, err := New(parent)
		if err != nil {
			os.Exit(1)
		}
		os.WriteFile(filepath.Join(d, "serial.sock"), nil, 0o600)
		os.Stdout.WriteString(d + "\n")
		select {} // until killed
	}
	os.Exit(m.Run())
}

func TestStaleDirectoryOfAKilledHarnessIsRemoved(t *testing.T) {
	parent := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SOCKDIR_TEST_HARNESS="+parent)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	dead, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("helper harness: %v", err)
	}
	dead = strings.TrimSpace(dead)

	// While it lives, its directory is not stale.
	if removed, err := CleanStale(parent); err != nil || len(removed) != 0 {
		t.Fatalf("live harness: removed %v, %v", removed, err)
	}
	syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
	cmd.Wait()

	mine, err := New(parent) // this process's own: alive, kept
	if err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(parent, "rhw-notmine") // another name: kept
	os.Mkdir(other, 0o700)

	removed, err := CleanStale(parent)
	if err != nil {
		t.Fatal(err)
	}
	if len(removed) != 1 || removed[0].Path != dead || removed[0].PID != cmd.Process.Pid {
		t.Fatalf("removed %+v, want only %s (pid %d)", removed, dead, cmd.Process.Pid)
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("stale directory still there: %v", err)
	}
	for _, keep := range []string{mine, other} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s was removed: %v", keep, err)
		}
	}
}

func TestReusedPIDIsStale(t *testing.T) {
	// Our own pid with another start time: the pid was reused, the owner is gone.
	parent := t.TempDir()
	start, err := startTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(parent, Prefix+itoa(os.Getpid())+"-"+itoa(int(start)+1)+"-x")
	os.Mkdir(d, 0o700)
	removed, err := CleanStale(parent)
	if err != nil || len(removed) != 1 {
		t.Fatalf("removed %v, %v", removed, err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
