package screen

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
)

func TestHasPhrase(t *testing.T) {
	for _, c := range []struct {
		text, phrase string
		want         bool
	}{
		{"GNU GRUB  version 2.06-13+deb12u2", "GNU GRUB", true},
		{"Press enter to boot the selected 0S, `e' to edit", "press enter to boot the selected", true},
		{"   FX DESKTOP READY\n", "FX DESKTOP READY", true},
		{"FX DESKTOP\nREADY", "FX DESKTOP READY", true}, // a line break is a space
		{"Username: ____", "Username", true},            // punctuation folds
		{"Usernames", "Username", false},                // whole words only
		{"GNU GRUBBY", "GNU GRUB", false},               // whole words only
		{"Arrow keys and enter select", "Arrow keys and enter select mode", false},
		{"anything", "", false}, // an empty phrase never matches
		{"anything", " -- ", false},
	} {
		if got := HasPhrase(c.text, c.phrase); got != c.want {
			t.Errorf("HasPhrase(%q, %q) = %v, want %v", c.text, c.phrase, got, c.want)
		}
	}
}

func TestTextToChords(t *testing.T) {
	got, err := TextToChords("INIT_SKIP=ps2d,e1000d\r")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"shift-i", "shift-n", "shift-i", "shift-t", "shift-minus", "shift-s", "shift-k", "shift-i", "shift-p",
		"equal", "p", "s", "2", "d", "comma", "e", "1", "0", "0", "0", "d", "ret"}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("chord %d: got %q want %q (all: %v)", i, got[i], want[i], got)
		}
	}
	if _, err := TextToChords("é"); err == nil {
		t.Error("a character without a key on a US keyboard must be an error")
	}
}

// checker draws a 100x60 screen: black, with a white 20x10 block at (x, y) and a grey
// stripe, so a needle cut from it has structure.
func checker(x, y int) *image.RGBA {
	im := image.NewRGBA(image.Rect(0, 0, 100, 60))
	for i := range im.Pix {
		if i%4 == 3 {
			im.Pix[i] = 255
		}
	}
	for yy := y; yy < y+10; yy++ {
		for xx := x; xx < x+20; xx++ {
			c := uint8(255)
			if xx%3 == 0 {
				c = 128
			}
			im.Set(xx, yy, color.RGBA{c, c, c, 255})
		}
	}
	return im
}

func needleFrom(t *testing.T, im *image.RGBA, r image.Rectangle) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, im.SubImage(r)); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestMatchNeedle(t *testing.T) {
	ref := checker(30, 20)
	n := &profile.Needle{Name: "block", PNG: needleFrom(t, ref, image.Rect(28, 18, 52, 32)), X: 28, Y: 18, Search: 3}
	for _, c := range []struct {
		name   string
		screen image.Image
		want   bool
	}{
		{"same place", checker(30, 20), true},
		{"moved within the search margin", checker(33, 19), true},
		{"moved beyond it", checker(40, 20), false},
		{"absent", checker(80, 45), false},
	} {
		ok, score, err := MatchNeedle(c.screen, n)
		if err != nil {
			t.Fatal(err)
		}
		if ok != c.want {
			t.Errorf("%s: match %v (score %.1f), want %v", c.name, ok, score, c.want)
		}
	}
	big := &profile.Needle{Name: "off-screen", PNG: n.PNG, X: 95, Y: 55}
	if ok, _, _ := MatchNeedle(ref, big); ok {
		t.Error("a needle that does not fit on the screen matched")
	}
	if _, _, err := MatchNeedle(ref, &profile.Needle{Name: "junk", PNG: []byte("not a png")}); err == nil {
		t.Error("a needle that is not a PNG must be an error")
	}
}

func TestPrepareMakesBlackInkOnWhite(t *testing.T) {
	// A white block on black (text) at the left of a cell whose majority is black.
	g := Prepare(checker(0, 0), 2)
	if g.Bounds().Dx() != 232 || g.Bounds().Dy() != 152 {
		t.Fatalf("size %v (2x plus a 16 px margin)", g.Bounds())
	}
	if g.GrayAt(16+150, 16+100).Y != 255 {
		t.Errorf("black ground should become white, got %d", g.GrayAt(166, 116).Y)
	}
	// Cell x 16..23: the block covers 16..19 of it, a minority: ink. Cell x 0..7 is mostly
	// block (a highlighted bar): its few black pixels are the ink there.
	if g.GrayAt(16+2*17, 16+2*2).Y != 0 {
		t.Errorf("white text should become black ink, got %d", g.GrayAt(16+2*17, 16+2*2).Y)
	}
	if g.GrayAt(16+2*2, 16+2*12).Y != 0 {
		t.Errorf("black under a light bar should be ink, got %d", g.GrayAt(16+2*2, 16+2*12).Y)
	}
	if g.GrayAt(0, 0).Y != 255 {
		t.Errorf("the margin should be white")
	}
}

func TestNearlySame(t *testing.T) {
	load := func(name string) image.Image {
		f, err := os.Open("testdata/ocr/" + name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		im, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return im
	}
	if !NearlySame(load("desktop-ready.png"), load("desktop-ready-cursor.png")) {
		t.Error("two captures that differ by the blinking cursor should be one screen")
	}
	if !NearlySame(load("seabios.png"), load("seabios-cursor.png")) {
		t.Error("two captures that differ by the blinking cursor should be one screen")
	}
	if NearlySame(load("grub-menu.png"), load("grub-edit.png")) {
		t.Error("the GRUB menu and its editor are different screens")
	}
	if NearlySame(load("qemu-no-display.png"), load("seabios.png")) {
		t.Error("screens of different sizes are different")
	}
}

func TestHasPhraseNear(t *testing.T) {
	for _, c := range []struct {
		text, phrase string
		edits        int
		want         bool
	}{
		{"linux /fx/vmlinuz console=ttyS0 panic=-1 fx.skip=nume,el000", "fx.skip=nvme,e1000", 3, true},
		{"linux /fx/vmlinuz console=ttyS0 panic=-1 fx.skip=nvme,e1000", "fx.skip=nvme,e1000", 0, true},
		{"linux /fx/vmlinuz console=ttyS0 panic=-1", "fx.skip=nvme,e1000", 3, false},
		{"INIT SKIP=ps2d", "INIT_SKIP=ps2d", 0, true}, // folding makes _ a space
		{"anything", "", 3, false},
	} {
		if got := HasPhraseNear(c.text, c.phrase, c.edits); got != c.want {
			t.Errorf("HasPhraseNear(%q, %q, %d) = %v, want %v", c.text, c.phrase, c.edits, got, c.want)
		}
	}
}
