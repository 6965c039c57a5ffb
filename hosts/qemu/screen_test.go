package qemu

import "testing"

func TestDecodePPM(t *testing.T) {
	im, err := DecodePPM([]byte("P6\n# QEMU\n2 1\n255\n\x01\x02\x03\xff\x00\x80"))
	if err != nil {
		t.Fatal(err)
	}
	if im.Bounds().Dx() != 2 || im.Bounds().Dy() != 1 {
		t.Fatalf("size %v", im.Bounds())
	}
	if got := im.Pix; got[0] != 1 || got[1] != 2 || got[2] != 3 || got[3] != 255 || got[4] != 0xff || got[6] != 0x80 {
		t.Fatalf("pixels %v", got)
	}
	for _, bad := range []string{"", "P5\n1 1\n255\n\x00", "P6\n2 2\n255\n\x00\x00\x00", "P6\n1 1\n65535\n\x00\x00\x00\x00\x00\x00", "P6\nx"} {
		if _, err := DecodePPM([]byte(bad)); err == nil {
			t.Errorf("%q: want an error", bad)
		}
	}
}
