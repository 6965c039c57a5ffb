package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache/imagecachetest"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// A matrix that names the newest daily of a folder published like Redox's build server
// (a loopback server this test starts, with the stand-in UEFI disk zstd-compressed under two
// dated ci.mk-style names) boots the downloaded image to the shell, and the record, the
// JUnit file and the table say which file was tested. A second image whose server is gone
// makes only its own jobs INFRA, with the network's reason.
func TestRunBootsTheNewestDailyDownloadedAndGoneImageIsInfra(t *testing.T) {
	fx := fixtures.Require(t)
	disk, err := os.ReadFile(filepath.Join(fx, "disk-uefi-x86_64.img"))
	if err != nil {
		t.Fatal(err)
	}
	srv := imagecachetest.New()
	defer srv.Close()
	const older, newer = "redox_standin_2026-12-03_1_harddrive.img.zst", "redox_standin_2026-12-04_2_harddrive.img.zst"
	srv.Publish(older, []byte("not this one"))
	digest := srv.PublishZstd(newer, disk)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := ln.Addr().String()
	ln.Close()

	dir := t.TempDir()
	matrixFile := filepath.Join(dir, "hw.yaml")
	y := fmt.Sprintf(`
settings: {silence: 3s, boot_timeout: 30s, image_cache: cache, image_cache_size: 1G}
images:
  - {name: daily, arch: x86_64, variant: standin, firmware: uefi, profile: standin,
     url: %q, newest: "redox_standin_*_harddrive.img.zst"}
  - {name: gone, arch: x86_64, variant: standin, firmware: uefi, profile: standin,
     url: "http://%s/img/x86_64/", newest: "redox_standin_*_harddrive.img.zst"}
hosts:
  - {name: vm, kind: qemu, arch: x86_64, firmware: uefi, machine: q35, memory: 512M, smp: 1, accel: tcg}
suites:
  - {name: boot}
`, srv.DirURL(), gone)
	if err := os.WriteFile(matrixFile, []byte(y), 0o644); err != nil {
		t.Fatal(err)
	}
	runDir := filepath.Join(dir, "run")
	t.Setenv("REDOX_HWTEST_FETCH_RETRIES", "1") // the gone server is not coming back
	stdout, stderr, code := cli(t, "run", "-matrix", matrixFile, "-out", runDir)
	t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
	if code != 3 {
		t.Fatalf("exit %d; want 3 (the daily passes, the gone image is INFRA)", code)
	}
	if !strings.Contains(stderr, "image gone could not be fetched") || !strings.Contains(stderr, "connection refused") {
		t.Errorf("stderr does not say why gone was not fetched")
	}
	recs, err := record.ReadRun(runDir)
	if err != nil || len(recs) != 2 {
		t.Fatalf("records: %v (%d)", err, len(recs))
	}
	for _, r := range recs {
		switch r.Image.Name {
		case "daily":
			img := r.Image
			if img.File != newer || img.SHA256 != digest || img.Version != "2026-12-04_2" || img.Date != "2026-12-04" || img.URL != srv.FileURL(newer) {
				t.Errorf("record does not say which file was tested: %+v", img)
			}
			for _, c := range r.Checks {
				if c.Name == "boot/login" && c.Verdict != record.Pass {
					t.Errorf("downloaded stand-in: boot/login %s (%s)", c.Verdict, c.Message)
				}
				if c.Name == "boot/shell" && c.Verdict != record.Pass {
					t.Errorf("downloaded stand-in: boot/shell %s (%s)", c.Verdict, c.Message)
				}
			}
		case "gone":
			for _, c := range r.Checks {
				if c.Verdict != record.Infra && c.Verdict != record.Skip {
					t.Errorf("gone image: %s %s, want INFRA (%s)", c.Name, c.Verdict, c.Message)
				}
			}
			if c := r.Checks[len(r.Checks)-1]; !strings.Contains(c.Message, "connection refused") {
				t.Errorf("INFRA without the network's reason: %q", c.Message)
			}
		}
	}
	if n := srv.Requests(older); n != 0 {
		t.Errorf("the older daily was downloaded (%d requests)", n)
	}
	junit, _ := os.ReadFile(filepath.Join(runDir, "junit.xml"))
	table, _ := os.ReadFile(filepath.Join(runDir, "results.md"))
	for what, data := range map[string][]byte{"junit.xml": junit, "results.md": table} {
		if !strings.Contains(string(data), digest) || !strings.Contains(string(data), newer) {
			t.Errorf("%s does not name the file and digest tested", what)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "cache", digest, strings.TrimSuffix(newer, ".zst"))); err != nil {
		t.Errorf("the image is not in the matrix's cache directory: %v", err)
	}
}
