package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/internal/testfiles"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// run -image: a local file's digest is computed and recorded, and a digest given with it
// must match (bad input naming both digests otherwise).
func TestOverrideImagesChecksTheDigest(t *testing.T) {
	dir := t.TempDir()
	img := testfiles.Write(t, filepath.Join(dir, "mr.img"), "an MR's disk image")
	const sum = "b0bd83d8ddcf0cf5a4b4e9ac6f8f1e07d0ef09c2ba0ab1d6ac1b8c3e5f8d9b0c" // not its digest
	load := func() *matrix.Matrix {
		m, err := matrix.LoadOptions{SkipFileChecks: true}.Parse("hw.yaml", []byte("images: [{name: d, arch: x86_64, path: d.img}]\nhosts: [{name: q, kind: qemu, arch: x86_64}]\nsuites: [{name: boot}]\n"), dir)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := load()
	o, _ := matrix.ParseImageOverride("d=" + img)
	if err := overrideImages(m, []matrix.ImageOverride{o}); err != nil {
		t.Fatal(err)
	}
	if m.Images[0].Path != img || len(m.Images[0].SHA256) != 64 {
		t.Fatalf("%+v", m.Images[0])
	}
	actual := m.Images[0].SHA256
	o, _ = matrix.ParseImageOverride("d=" + img + "@sha256:" + sum)
	err := overrideImages(load(), []matrix.ImageOverride{o})
	if err == nil || !strings.Contains(err.Error(), sum) || !strings.Contains(err.Error(), actual) {
		t.Fatalf("mismatch: %v", err)
	}
	o, _ = matrix.ParseImageOverride("d=" + filepath.Join(dir, "missing.img"))
	if err := overrideImages(load(), []matrix.ImageOverride{o}); err == nil {
		t.Fatal("a missing file was accepted")
	}
}
