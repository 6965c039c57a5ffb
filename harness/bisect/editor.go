// Package bisect finds which driver a boot hangs in by booting again with drivers left
// out: the boot loader's editor is opened over the serial line and told to skip
// components (Redox: the bootloader's environment editor, INIT_SKIP=<daemons>; the
// stand-in: systemd-boot's command-line editor, fx.skip=<groups>), and the component whose
// absence lets the boot reach login is the culprit.
package bisect

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/console"
	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/screen"
)

// Editor is how to change one boot at a profile's boot loader, as keys on the serial line.
type Editor struct {
	Profile string
	// Menu shows the loader is waiting for a key; Open opens its editor, which Opened shows.
	Menu, Open, Opened string
	// SkipNames are the names the loader's skip switch takes for a device (nil: the device
	// name itself).
	SkipNames func(p *profile.Profile, device string) []string
	// Keys is what to type in the open editor to skip names and boot (no names: boot as is).
	Keys func(names []string) string
	// Typed is the text that shows the edit took, checked before the final key; "" when
	// there is nothing to check.
	Typed func(names []string) string
	// CharDelay paces typing (a loader redraws its whole line per key).
	CharDelay time.Duration
	// The same editor on the screen and keyboard, for a loader the serial line cannot
	// reach (a BIOS loader that draws on VGA and reads INT 16h): ScreenMenu and
	// ScreenOpened are phrases read by OCR, Open is pressed as keys, ScreenKeys are the key
	// chords that skip names and boot, and Typed is checked on the screen. Empty
	// ScreenMenu: this editor has no screen path.
	ScreenMenu, ScreenOpened string
	ScreenKeys               func(names []string) ([]string, error)
}

// Editors by profile name.
var Editors = map[string]*Editor{
	// systemd-boot's editor (the stand-in's "-menu" disks: timeout menu-force, editor yes)
	// edits the kernel command line; End (ESC [ F on OVMF's serial terminal) goes to its
	// end, Enter boots it. fixtures/init reads fx.skip=<group>[,<group>].
	"standin": {
		Profile: "standin", Menu: "fx stand-in", Open: "e", Opened: "console=",
		Keys: func(n []string) string {
			if len(n) == 0 {
				return "\r"
			}
			return "\x1b[F fx.skip=" + strings.Join(n, ",") + "\r"
		},
		Typed: func(n []string) string {
			if len(n) == 0 {
				return ""
			}
			return "fx.skip=" + strings.Join(n, ",")
		},
		CharDelay: 30 * time.Millisecond,
		// The BIOS GRUB disk (disk-bios-x86_64-grub.img): its menu and editor are on VGA
		// only. In GRUB's editor the cursor starts on "setparams"; two lines down is the
		// "linux" line, End goes to its end, Ctrl-x boots the edited entry.
		ScreenMenu: "Press enter to boot the selected", ScreenOpened: "Minimum Emacs-like screen editing",
		ScreenKeys: func(n []string) ([]string, error) {
			if len(n) == 0 {
				return []string{"ctrl-x"}, nil
			}
			typed, err := screen.TextToChords(" fx.skip=" + strings.Join(n, ","))
			if err != nil {
				return nil, err
			}
			return append(append([]string{"down", "down", "end"}, typed...), "ctrl-x"), nil
		},
	},
	// Redox's bootloader: "Press e to edit boot environment" opens its environment editor
	// with the cursor on the empty last line; typed text becomes a new KEY=VALUE line,
	// Enter ends it, and Enter on an empty line boots (bootloader src/editor.rs). Not run
	// here: there is no Redox image on this machine.
	"redox": {
		Profile: "redox", Menu: "Press e to edit boot environment", Open: "e", Opened: "Bootloader Environment Editor",
		SkipNames: func(p *profile.Profile, d string) []string {
			if p != nil && len(p.DriverComponents[d]) > 0 {
				return p.DriverComponents[d]
			}
			return []string{d}
		},
		Keys: func(n []string) string {
			if len(n) == 0 {
				return "\r"
			}
			return "INIT_SKIP=" + strings.Join(n, ",") + "\r\r"
		},
		Typed: func(n []string) string {
			if len(n) == 0 {
				return ""
			}
			return "INIT_SKIP=" + strings.Join(n, ",")
		},
		CharDelay: 30 * time.Millisecond,
		// On BIOS the same menu and editor are on VGA only and read the keyboard:
		// redox-os/bootloader src/main.rs:165 "Press e to edit boot environment",
		// src/editor.rs:5 "--- Redox Bootloader Environment Editor ---" (b74f53a0).
		ScreenMenu: "Press e to edit boot environment", ScreenOpened: "Redox Bootloader Environment Editor",
		ScreenKeys: func(n []string) ([]string, error) {
			if len(n) == 0 {
				return []string{"ret"}, nil
			}
			return screen.TextToChords("INIT_SKIP=" + strings.Join(n, ",") + "\r\r")
		},
	},
}

// Names are the loader's names for skipping devices, in order, without repeats.
func (e *Editor) Names(p *profile.Profile, devices []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, d := range devices {
		ns := []string{d}
		if e.SkipNames != nil {
			ns = e.SkipNames(p, d)
		}
		for _, n := range ns {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// Type waits for the loader's menu, opens the editor (pressing Open again every few
// seconds until the editor shows: a key pressed while the loader is still drawing is
// lost), types the skip and boots. scale multiplies its timeouts.
func (e *Editor) Type(ctx context.Context, con *console.Console, names []string, scale float64) error {
	if scale <= 0 {
		scale = 1
	}
	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	mctx, cancel := context.WithTimeout(ctx, sc(30*time.Second))
	m, err := con.Expect(mctx, 0, e.Menu)
	cancel()
	if err != nil {
		return fmt.Errorf("boot menu %q never showed: %w", e.Menu, err)
	}
	cur := m.End
	opened := false
	for try := 0; try < 5 && !opened; try++ {
		at := con.Offset()
		if err := e.send(ctx, con, e.Open); err != nil {
			return err
		}
		octx, cancel := context.WithTimeout(ctx, sc(time.Second))
		m, err := con.Expect(octx, max(at, cur), e.Opened)
		cancel()
		if err == nil {
			opened, cur = true, m.End
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if !opened {
		return fmt.Errorf("the boot editor did not open (pressed %q five times, no %q)", e.Open, e.Opened)
	}
	keys := e.Keys(names)
	last := keys[len(keys)-1:]
	body := keys[:len(keys)-1]
	if e.Typed != nil && e.Typed(names) != "" {
		if err := e.send(ctx, con, body); err != nil {
			return err
		}
		tctx, cancel := context.WithTimeout(ctx, sc(5*time.Second))
		_, err := con.Expect(tctx, cur, e.Typed(names))
		cancel()
		if err != nil {
			return fmt.Errorf("the boot editor did not show %q after typing it: %w", e.Typed(names), err)
		}
		return e.send(ctx, con, last)
	}
	return e.send(ctx, con, keys)
}

// TypeKeys is Type on the screen and keyboard: it waits for ScreenMenu on the screen,
// presses Open once (the loader may load the kernel before its editor opens, and a key
// pressed again would be typed into the editor), waits for ScreenOpened, presses the
// ScreenKeys but the last, checks Typed on the screen when there is one, and presses the
// last key.
func (e *Editor) TypeKeys(ctx context.Context, con *console.Console, scr *screen.Recorder, names []string, scale float64) error {
	if e.ScreenMenu == "" || e.ScreenKeys == nil {
		return fmt.Errorf("the %s boot editor has no screen path", e.Profile)
	}
	if scale <= 0 {
		scale = 1
	}
	sc := func(d time.Duration) time.Duration { return time.Duration(float64(d) * scale) }
	waitFor := func(phrase string, within time.Duration) error {
		wctx, cancel := context.WithTimeout(ctx, within)
		defer cancel()
		for {
			seen, err := scr.LookFor(wctx, [][]profile.ScreenMarker{{{Text: phrase}}})
			if err == nil && seen[0] {
				return nil
			}
			select {
			case <-wctx.Done():
				if err != nil {
					return fmt.Errorf("%q not seen on the screen: %w (last error: %v)", phrase, wctx.Err(), err)
				}
				return fmt.Errorf("%q not seen on the screen: %w", phrase, wctx.Err())
			case <-time.After(time.Second):
			}
		}
	}
	press := func(chords []string) error {
		con.Note(fmt.Sprintf("bisect: pressing %v", chords))
		for _, c := range chords {
			if err := scr.Press(ctx, []string{c}); err != nil {
				return err
			}
			if e.CharDelay > 0 {
				select {
				case <-time.After(e.CharDelay):
				case <-ctx.Done():
					return ctx.Err()
				}
			}
		}
		return nil
	}
	if err := waitFor(e.ScreenMenu, sc(30*time.Second)); err != nil {
		return fmt.Errorf("boot menu: %w", err)
	}
	open, err := screen.TextToChords(e.Open)
	if err != nil {
		return err
	}
	if err := press(open); err != nil {
		return err
	}
	if err := waitFor(e.ScreenOpened, sc(30*time.Second)); err != nil {
		return fmt.Errorf("the boot editor did not open: %w", err)
	}
	keys, err := e.ScreenKeys(names)
	if err != nil {
		return err
	}
	if err := press(keys[:len(keys)-1]); err != nil {
		return err
	}
	if typed := ""; e.Typed != nil {
		if typed = e.Typed(names); typed != "" {
			// Typed text is checked allowing a misread character in six: OCR reads a
			// phrase of words well, a string such as "fx.skip=nvme,e1000" less so.
			tctx, cancel := context.WithTimeout(ctx, sc(5*time.Second))
			var text string
			for !screen.HasPhraseNear(text, typed, len(typed)/6) {
				if tctx.Err() != nil {
					cancel()
					return fmt.Errorf("the boot editor did not show %q on the screen (read: %q)", typed, text)
				}
				text, _ = scr.ReadText(tctx)
				select {
				case <-tctx.Done():
				case <-time.After(500 * time.Millisecond):
				}
			}
			cancel()
		}
	}
	return press(keys[len(keys)-1:])
}

func (e *Editor) send(ctx context.Context, con *console.Console, s string) error {
	con.Note("bisect: typing " + fmt.Sprintf("%q", s))
	for i := 0; i < len(s); {
		// An escape sequence goes in one piece: a terminal that sees ESC alone for too
		// long takes it for the Escape key.
		n := 1
		if s[i] == 0x1b && i+1 < len(s) && s[i+1] == '[' {
			n = 2
			for i+n < len(s) && (s[i+n] < 0x40 || s[i+n] > 0x7e) {
				n++
			}
			n = min(n+1, len(s)-i)
		}
		if err := con.Send(ctx, s[i:i+n]); err != nil {
			return err
		}
		i += n
		if e.CharDelay > 0 {
			select {
			case <-time.After(e.CharDelay):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}
