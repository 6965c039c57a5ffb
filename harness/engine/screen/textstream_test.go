package screen

import (
	"context"
	"errors"
	"image"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
)

// emit turns successive screens' text into the lines that are new on each: a scrolling
// console gives its new lines, a redrawn screen its new content, an unchanged one nothing.
func TestTextStreamEmit(t *testing.T) {
	ts := &TextStream{prev: map[string]bool{}}
	ts.cond = sync.NewCond(&ts.mu)
	for _, c := range []struct{ screen, want string }{
		{"SeaBIOS (version 1.16)\n\nBooting from ROM...\n", "SeaBIOS (version 1.16)\nBooting from ROM...\n"},
		{"SeaBIOS (version 1.16)\nBooting from ROM...\n", ""},
		{"Booting from ROM...\nFX:  init   started\nFX: stage modules\n", "FX: init started\nFX: stage modules\n"},
		{"\x0c\n   FX DESKTOP READY  \n", "FX DESKTOP READY\n"},
		{"FX DESKTOP READY\nFX DESKTOP READY\n", ""},
	} {
		ts.buf = ts.buf[:0]
		ts.emit(c.screen)
		if string(ts.buf) != c.want {
			t.Errorf("after %q: emitted %q, want %q", c.screen, ts.buf, c.want)
		}
	}
}

// The stream ends as the machine's stream does: EOF when it closed, its error (INFRA) when
// the machine's screen went away.
func TestTextStreamEnd(t *testing.T) {
	for _, c := range []struct {
		end  func(s *hosts.ScreenOnly)
		want func(error) bool
	}{
		{func(s *hosts.ScreenOnly) { s.Close() }, func(err error) bool { return err == io.EOF }},
		{func(s *hosts.ScreenOnly) { s.Gone(hosts.Infra(errors.New("vnc gone"))) }, hosts.IsInfra},
	} {
		base := hosts.NewScreenOnly()
		rec := NewRecorder(t.TempDir(), blankScreen{}, &OCR{Bin: "true"}, time.Now())
		ts := NewTextStream(rec, base, 0)
		c.end(base)
		_, err := ts.Read(make([]byte, 16))
		if !c.want(err) {
			t.Errorf("Read after the machine's stream ended: %v", err)
		}
		ts.Close()
	}
}

type blankScreen struct{}

func (blankScreen) Screendump(ctx context.Context) (image.Image, error) {
	return image.NewRGBA(image.Rect(0, 0, 8, 8)), nil
}
func (blankScreen) SendKeys(ctx context.Context, chords []string) error { return nil }
func (blankScreen) HasDisplay() bool                                    { return true }
