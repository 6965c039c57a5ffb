package matrix

import "testing"

// A real machine booted over PXE takes a kernel + initrd image (the harness serves them to
// iPXE); without boot: pxe it does not.
func TestKernelImageOnPXEHost(t *testing.T) {
	y := "images:\n  - name: a\n    arch: x86_64\n    kernel: k\nhosts:\n  - name: s\n    kind: power\n    arch: x86_64\n    options: {boot: pxe}\n"
	m, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(y), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if jobs := m.Jobs(Filter{}); len(jobs) != 1 {
		t.Fatalf("%d jobs, want 1", len(jobs))
	}
}
