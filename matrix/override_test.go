package matrix

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseImageOverride(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, c := range []struct {
		in, name, loc, sum string
	}{
		{"desktop=build/harddrive.img", "desktop", "build/harddrive.img", ""},
		{"desktop=build/h.img@sha256:" + strings.ToUpper(sum), "desktop", "build/h.img", sum},
		{"desktop=https://ci.example/job/1/artifacts/h.img.zst@sha256:" + sum, "desktop", "https://ci.example/job/1/artifacts/h.img.zst", sum},
		{"d=https://user@host/x.img@sha256:" + sum, "d", "https://user@host/x.img", sum},
	} {
		o, err := ParseImageOverride(c.in)
		if err != nil || o.Name != c.name || o.Location != c.loc || o.SHA256 != c.sum {
			t.Errorf("%s: %+v %v", c.in, o, err)
		}
	}
	for _, bad := range []string{"", "desktop", "=x.img", "desktop=", "d=x.img@sha256:abc",
		"d=https://h/x.img", "d=http:///x.img@sha256:" + sum} {
		if _, err := ParseImageOverride(bad); err == nil {
			t.Errorf("%q: accepted", bad)
		}
	}
}

// An override turns the image into a disk image at the given place, whatever it was
// (a direct kernel boot here), keeping its name and so its jobs' IDs.
func TestOverride(t *testing.T) {
	y := `images:
  - {name: k, arch: x86_64, kernel: vmlinuz, initrd: initrd, cmdline: console=ttyS0}
  - {name: rec, arch: x86_64, transcript: t.log}
hosts:
  - {name: q, kind: qemu, arch: x86_64}
  - {name: r, kind: replay, arch: x86_64}
suites:
  - {name: boot}
`
	m, err := LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte(y), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	sum := strings.Repeat("0", 64)
	if err := m.Override(ImageOverride{Name: "k", Location: "mr/disk.img", SHA256: sum}, "/work"); err != nil {
		t.Fatal(err)
	}
	img := m.Images[0]
	if img.Path != filepath.Join("/work", "mr/disk.img") || img.Kernel != "" || img.Initrd != "" || img.Cmdline != "" || img.SHA256 != sum {
		t.Fatalf("%+v", img)
	}
	if err := m.Override(ImageOverride{Name: "nope", Location: "x"}, "/"); err == nil {
		t.Error("an unknown image was accepted")
	}
	if err := m.Override(ImageOverride{Name: "rec", Location: "x"}, "/"); err == nil {
		t.Error("a transcript image was replaced")
	}
}
