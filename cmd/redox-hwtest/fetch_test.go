package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts/imagecache/imagecachetest"
)

// fetch fills the cache and prints the verified file; a digest that does not match is bad
// input (exit 2) naming both digests, and run stops on it before booting anything.
func TestFetchAndDigestMismatch(t *testing.T) {
	srv := imagecachetest.New()
	defer srv.Close()
	const name = "redox_server_2026-12-04_2_harddrive.img.zst"
	raw := []byte(strings.Repeat("redox stand-in sector\n", 50000))
	digest := srv.PublishZstd(name, raw)
	dir := t.TempDir()
	write := func(sha string) string {
		t.Helper()
		f := filepath.Join(dir, "m.yaml")
		y := fmt.Sprintf(`
settings: {image_cache: cache}
images:
  - {name: server, arch: x86_64, url: %q, sha256: %q}
hosts:
  - {name: vm, kind: qemu, arch: x86_64, firmware: uefi, accel: tcg}
`, srv.FileURL(name), sha)
		if err := os.WriteFile(f, []byte(y), 0o644); err != nil {
			t.Fatal(err)
		}
		return f
	}
	stdout, stderr, code := cli(t, "fetch", "-matrix", write(digest))
	if code != 0 || !strings.Contains(stdout, "image server: "+srv.FileURL(name)+" (sha256 "+digest) {
		t.Fatalf("fetch: exit %d\n%s\n%s", code, stdout, stderr)
	}
	got, err := os.ReadFile(filepath.Join(dir, "cache", digest, strings.TrimSuffix(name, ".zst")))
	if err != nil || string(got) != string(raw) {
		t.Fatalf("cached image: %v (%d bytes)", err, len(got))
	}

	wrong := strings.Repeat("1", 64)
	m := write(wrong)
	for _, args := range [][]string{{"fetch", "-matrix", m}, {"run", "-matrix", m, "-out", filepath.Join(dir, "run")}} {
		cmd := args[0]
		stdout, stderr, code = cli(t, args...)
		if code != 2 || !strings.Contains(stderr, wrong) || !strings.Contains(stderr, digest) {
			t.Fatalf("%s with a wrong sha256: exit %d, want 2 naming both digests\n%s\n%s", cmd, code, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "run")); !os.IsNotExist(err) {
		t.Errorf("run wrote a run directory before stopping on bad input")
	}
}
