package job_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Errors on the way out of a job (issue 12 item 8) are kept: in the record as the INFRA
// check job/teardown with the reason, and in the host log. Each fault here is real: a
// transcript on a device that answers ENOSPC, a power-off command that fails, a lock file
// removed while it is held.

// cleanLog is a whole Redox boot to login (a fixture transcript of the repository).
func cleanLog(t *testing.T) string {
	root, err := matrix.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "fixtures", "transcripts", "clean-uefi-boot.log")
}

func teardownCheck(t *testing.T, r *record.Record) record.Check {
	t.Helper()
	for _, c := range r.Checks {
		if c.Name == job.TeardownCheck {
			return c
		}
	}
	t.Fatalf("no %s check in the record: %+v", job.TeardownCheck, r.Checks)
	return record.Check{}
}

func TestTranscriptOnAFullDiskIsInfraWithTheReason(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	m, j := parse(t, `
settings: {silence: 5s, boot_timeout: 60s}
images: [{name: clean, arch: x86_64, profile: redox, transcript: `+cleanLog(t)+`}]
hosts: [{name: r, kind: replay, arch: x86_64}]
suites: [{name: boot}]
`)
	run := t.TempDir()
	dir := filepath.Join(run, record.JobsDir, record.JobDirName(j.ID()))
	os.MkdirAll(dir, 0o755)
	// The disk is full where the transcript goes: /dev/full fails every write with ENOSPC.
	if err := os.Symlink("/dev/full", filepath.Join(dir, job.Transcript)); err != nil {
		t.Fatal(err)
	}
	r, err := runBoot(context.Background(), m, j, job.Options{RunDir: run})
	if err != nil {
		t.Fatal(err)
	}
	c := teardownCheck(t, r)
	if c.Verdict != record.Infra || !strings.Contains(c.Message, "transcript") || !strings.Contains(c.Message, "no space left on device") {
		t.Fatalf("%s: %s %q", c.Name, c.Verdict, c.Message)
	}
	hostLog, _ := os.ReadFile(filepath.Join(dir, "host.log"))
	if !strings.Contains(string(hostLog), "teardown: transcript") {
		t.Fatalf("host log does not say it:\n%s", hostLog)
	}
}

// A real machine on a serial line (a loopback TCP port standing in for ser2net, serving a
// real boot log) whose power-off command fails, and whose lock file someone removed while
// the job held it: both are in the record and the host log.
func TestFailedPowerOffAndLostLockAreInfraWithTheReasons(t *testing.T) {
	log, err := os.ReadFile(cleanLog(t))
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				c.Write(log)
				buf := make([]byte, 512) // keep the line open, take what is typed
				for {
					if _, err := c.Read(buf); err != nil {
						c.Close()
						return
					}
				}
			}()
		}
	}()
	state := t.TempDir()
	// The PDU switches the board off once (the clean start), then refuses.
	off := `if [ -e ` + state + `/was-off ]; then echo "pdu: outlet 3 does not answer" >&2; exit 1; fi; touch ` + state + `/was-off`
	m, j := parse(t, `
settings: {silence: 5s, boot_timeout: 60s}
images: [{name: clean, arch: x86_64, profile: redox, path: `+cleanLog(t)+`}]
hosts:
  - name: board
    kind: power
    arch: x86_64
    options:
      address: `+l.Addr().String()+`
      boot: preinstalled
      power: {on: "true", off: '`+off+`', min_off: 1ms}
suites: [{name: boot}]
`)
	lockDir := t.TempDir()
	run := t.TempDir()
	r, err := runBoot(context.Background(), m, j, job.Options{RunDir: run, LockDir: lockDir,
		OnProgress: func(stage, _ string) {
			if stage == "kernel" {
				// Someone cleans the lock directory while the job holds the board.
				files, _ := filepath.Glob(filepath.Join(lockDir, "*.lock"))
				for _, f := range files {
					os.Remove(f)
				}
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	c := teardownCheck(t, r)
	for _, want := range []string{"power off", "outlet 3 does not answer", "lock release", "removed or replaced while held"} {
		if c.Verdict != record.Infra || !strings.Contains(c.Message, want) {
			t.Errorf("%s: %s %q lacks %q", c.Name, c.Verdict, c.Message, want)
		}
	}
	hostLog, _ := os.ReadFile(filepath.Join(run, record.JobsDir, record.JobDirName(j.ID()), "host.log"))
	for _, want := range []string{"teardown: power off", "teardown: lock release"} {
		if !strings.Contains(string(hostLog), want) {
			t.Errorf("host log lacks %q:\n%s", want, hostLog)
		}
	}
}

// runBoot runs the boot suite on a boot of its own, as its registration builds it.
func runBoot(ctx context.Context, m *matrix.Matrix, j matrix.Job, o job.Options) (*record.Record, error) {
	d, err := job.LookupSuite("boot")
	if err != nil {
		return nil, err
	}
	return d.Run(ctx, m, j, o)
}
