package qemu

import (
	"os"
	"path/filepath"
	"testing"
)

// The KVM probe's cache lives in a private directory, never under a predictable /tmp name.
func TestProbeCacheIsPrivate(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", home)
	f := probeCacheFile()
	if f != filepath.Join(home, "redox-hwtest", "kvm-probe", "kvm-probe.json") {
		t.Fatalf("cache file %q", f)
	}
	st, err := os.Stat(filepath.Dir(f))
	if err != nil || st.Mode().Perm() != 0o700 {
		t.Fatalf("cache dir mode %v (%v), want 0700", st.Mode().Perm(), err)
	}
	// A directory others can write to is not trusted.
	if err := os.Chmod(filepath.Dir(f), 0o777); err != nil {
		t.Fatal(err)
	}
	if f := probeCacheFile(); f != "" {
		t.Fatalf("a world-writable cache dir was trusted: %q", f)
	}
}
