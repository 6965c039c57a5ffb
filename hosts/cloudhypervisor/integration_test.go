package cloudhypervisor

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/boot"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// EnvFirmware names CLOUDHV.fd for the integration test (the host itself takes it from
// options.firmware).
const EnvFirmware = "REDOX_HWTEST_CLOUDHV_FD"

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) { l.t.Logf("%s", p); return len(p), nil }

// TestBootStandinOnCloudHypervisor boots the project's stand-in (fixtures/) on the real
// Cloud Hypervisor, in both serial modes, pauses it for longer than the silence window in
// the middle of the boot (the watchdog must not call that a hang), snapshots it once booted,
// and powers it off. It needs cloud-hypervisor on PATH, CLOUDHV.fd (REDOX_HWTEST_CLOUDHV_FD)
// and /dev/kvm, and skips with the reason otherwise.
func TestBootStandinOnCloudHypervisor(t *testing.T) {
	bin, err := exec.LookPath(DefaultBinary)
	if err != nil {
		t.Skipf("cloud-hypervisor is not on PATH (Debian has no package for it): the stand-in boot on Cloud Hypervisor is not run here (%v)", err)
	}
	fw := os.Getenv(EnvFirmware)
	if fw == "" {
		t.Skipf("%s is not set: point it at CLOUDHV.fd (edk2's CloudHv build, e.g. nixpkgs OVMF-cloud-hypervisor.fd/FV/CLOUDHV.fd) to boot the stand-in on Cloud Hypervisor", EnvFirmware)
	}
	if f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0); err != nil {
		t.Skipf("Cloud Hypervisor needs KVM: %v", err)
	} else {
		f.Close()
	}
	dir := fixtures.Require(t)
	arch := hostArch()
	img := matrix.Image{Name: "standin-" + arch + "-uefi", Arch: arch, Variant: "standin", Firmware: "uefi",
		Profile: "standin", Path: filepath.Join(dir, "disk-uefi-"+arch+".img")}
	for _, serial := range []string{SerialPTY, SerialSocket} {
		t.Run(serial, func(t *testing.T) {
			h := matrix.Host{Name: "ch", Kind: Kind, Arch: arch, Firmware: "uefi", SMP: 2, Memory: "1024M",
				Options: map[string]any{"binary": bin, "firmware": fw, "serial": serial}}
			m, err := hosts.New(h, img, hosts.Env{Dir: sockDir(t), Log: testLog{t}})
			if err != nil {
				t.Fatal(err)
			}
			cm := m.(*Machine)
			defer m.PowerOff(context.Background())
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
			defer cancel()
			stream, err := m.PowerOn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			con, err := console.Open(stream, console.Options{Transcript: filepath.Join(t.TempDir(), "transcript.log")})
			if err != nil {
				t.Fatal(err)
			}
			defer con.Close()
			const silence = 20 * time.Second
			pctx, pcancel := context.WithCancel(ctx)
			paused := make(chan error, 1)
			go func() {
				if _, err := con.Expect(pctx, 0, "Linux version "); err != nil {
					paused <- err
					return
				}
				if err := cm.Pause(pctx); err != nil {
					paused <- err
					return
				}
				select {
				case <-time.After(silence + 5*time.Second):
				case <-pctx.Done():
				}
				paused <- cm.Resume(ctx)
			}()
			out := boot.Run(ctx, con, m, boot.Config{Profile: profile.Standin, Silence: silence, Deadline: 3 * time.Minute})
			pcancel()
			if out.Verdict != record.Pass {
				t.Fatalf("verdict %s (%s)\n%s", out.Verdict, out.Reason, con.Tail(2000))
			}
			if err := <-paused; err != nil {
				t.Errorf("pause/resume: %v", err)
			}
			snap := t.TempDir()
			if err := cm.Snapshot(ctx, snap); err != nil {
				t.Errorf("snapshot: %v", err)
			} else if _, err := os.Stat(filepath.Join(snap, "config.json")); err != nil {
				t.Errorf("snapshot: %v", err)
			}
			t.Logf("facts: %v", m.Facts())
			if err := m.PowerOff(ctx); err != nil {
				t.Fatal(err)
			}
		})
	}
}
