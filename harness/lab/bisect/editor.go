// Package bisect finds which driver a boot hangs in by booting again without it, by one of
// two methods per device:
//
//   - skip: the boot loader's editor is opened over the serial line and told to skip the
//     init units that start the driver (Redox: the bootloader's environment editor,
//     INIT_SKIP=<cmd>, which init reads; the stand-in: systemd-boot's command-line editor,
//     fx.skip=<group>). The skip counts only when the guest itself says it skipped (Redox
//     init: "Skipping '<cmd> ...'" or "init: skipping '<cmd> ...'"; the stand-in's init:
//     "FX: skip <group>"); a skip that did not take makes the boot INFRA.
//   - device: on a VM, the machine is started without the device. This is the only way to
//     leave out a Redox PCI driver (nvmed, e1000d, ihdad, xhcid, ahcid, virtio-*d):
//     pcid-spawner starts one for every matching PCI function and no boot option skips it
//     (base drivers/pcid-spawner/src/main.rs at 9dd6901d).
//
// The device whose absence lets the boot reach login is the culprit.
package bisect

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/console"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/screen"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Editor is how to change one boot at a profile's boot loader, as keys on the serial line.
type Editor struct {
	Profile string
	// Menu shows the loader is waiting for a key; Open opens its editor, which Opened shows.
	Menu, Open, Opened string
	// OpenOnce: type Open once and wait up to OpenWait for the editor (a loader that
	// buffers keys and does slow work before the editor would take a second press as
	// text); otherwise Open is pressed again every second until the editor shows (a
	// loader that drops keys while it draws).
	OpenOnce bool
	OpenWait time.Duration
	// NeedsDisplay: the loader shows its menu (and so its editor) only when the machine
	// has a display.
	NeedsDisplay bool
	// ImageMenu, when set, says whether an image's loader shows a menu at all (and why not).
	ImageMenu func(img matrix.Image) (bool, string)
	// Units are the init units (as the skip switch names them) that start a device's
	// driver; nil when no init unit does, so the skip method cannot leave it out.
	Units func(device string) []string
	// Keys is what to type in the open editor to skip names and boot.
	Keys func(names []string) string
	// Typed is the text that shows the edit took in the editor, checked before the
	// final key.
	Typed func(names []string) string
	// Confirm are the guest's own lines (substrings) that show the skip of one name took;
	// any one of them is enough.
	Confirm func(name string) []string
	// Delivered, when set, is a line the guest prints early that shows the skip reached it
	// (nil: the guest prints none). With it, a boot that hangs before init gets to a
	// skipped unit is still a result; without it such a boot is INFRA.
	Delivered func(names []string) string
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
	// end, Enter boots it. fixtures/init loads its driver groups itself (as Redox init
	// starts its units) and reads fx.skip=<group>[,<group>], printing "FX: skip <group>".
	"standin": {
		Profile: "standin", Menu: "fx stand-in", Open: "e", Opened: "console=",
		ImageMenu: func(img matrix.Image) (bool, string) {
			if b := filepath.Base(img.Path); strings.Contains(b, "-menu") || strings.Contains(b, "-grub") {
				return true, ""
			}
			return false, "only the stand-in's -menu disks (systemd-boot) and its BIOS GRUB disk stop in a boot loader menu with an editor"
		},
		Units: func(d string) []string {
			if slices.Contains([]string{"e1000", "nvme", "hda"}, d) {
				return []string{d}
			}
			return nil
		},
		Keys:    func(n []string) string { return "\x1b[F fx.skip=" + strings.Join(n, ",") + "\r" },
		Typed:   func(n []string) string { return "fx.skip=" + strings.Join(n, ",") },
		Confirm: func(n string) []string { return []string{"FX: skip " + n} },
		// init's first lines list the switches in effect, command line first.
		Delivered: func(n []string) string { return "FX: switches fx.skip=" + strings.Join(n, ",") },
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
	// Redox's bootloader (redox-os/bootloader at b74f53a). select_mode prints "Press e to
	// edit boot environment" (src/main.rs:165) once per video output with modes
	// (`for output_i in 0..os.video_outputs()`, no modes => no menu), so only a machine
	// with a display shows it. After `e` the bootloader does the live copy and loads
	// usr/lib/boot/kernel and initfs, and only then calls editor::edit_env (src/main.rs
	// 496-619), which prints "--- Redox Bootloader Environment Editor ---" (src/editor.rs)
	// with the cursor on the empty last line: typed text is a new KEY=VALUE line, Enter
	// ends it, Enter on an empty line boots. A second `e` pressed meanwhile would be
	// buffered and typed into the environment as text, so `e` goes once.
	// init reads INIT_SKIP (base init/src/main.rs at 9dd6901d: split on ',') and matches
	// a unit's cmd exactly: services print `Skipping '{} {}'` (init/src/scheduler.rs:95),
	// scripts `init: skipping '{} {}'` (init/src/script.rs:89), cmd then args.
	"redox": {
		Profile: "redox", Menu: "Press e to edit boot environment", Open: "e", Opened: "Bootloader Environment Editor",
		OpenOnce: true, OpenWait: 120 * time.Second, NeedsDisplay: true,
		Units: func(d string) []string {
			// ps2d is an init unit (base init.initfs.d/40_ps2d.service: cmd = "ps2d").
			// The PCI drivers are not; audiod (init.d/20_audiod.service) is, but skipping
			// it leaves ihdad running, so it does not leave out the HDA driver.
			if d == "ps2" {
				return []string{"ps2d"}
			}
			return nil
		},
		Keys:  func(n []string) string { return "INIT_SKIP=" + strings.Join(n, ",") + "\r\r" },
		Typed: func(n []string) string { return "INIT_SKIP=" + strings.Join(n, ",") },
		Confirm: func(n string) []string {
			return []string{"Skipping '" + n + " ", "init: skipping '" + n + " "}
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
func (e *Editor) Names(devices []string) []string {
	var out []string
	for _, d := range devices {
		for _, n := range e.Units(d) {
			if !slices.Contains(out, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// Reachable says whether the loader's editor can be used for an image on a host (over the
// serial line, or on the screen and keyboard where the editor has a screen path and the VM
// a display), and why not.
func (e *Editor) Reachable(h matrix.Host, img matrix.Image) (bool, string) {
	if e.ImageMenu != nil {
		if ok, why := e.ImageMenu(img); !ok {
			return false, why
		}
	}
	if !e.NeedsDisplay {
		return true, ""
	}
	fw := h.Firmware
	if fw == "bios" && e.onScreen(h) {
		return true, ""
	}
	if fw == "bios" {
		// bootloader src/os/bios/macros.rs prints to VGA (COM1 only with the
		// serial_debug feature, off in the recipe) and reads keys by INT 16h.
		return false, "the BIOS bootloader draws its menu on VGA and reads the keyboard only, not the serial line, and this host has no screen the harness can read (a VM with device vga)"
	}
	if isVM(h) && !h.HasDevice("vga") && !h.HasDevice("ramfb") {
		return false, "the VM has no display (devices vga or ramfb), so the bootloader shows no menu and no editor"
	}
	return true, ""
}

// onScreen: the editor is reached on the screen and keyboard (a BIOS loader that draws on
// VGA and reads INT 16h) — the editor has a screen path and the host is a VM whose display
// the harness reads (QMP screendump and send-key on a vga device).
func (e *Editor) onScreen(h matrix.Host) bool {
	return e.ScreenMenu != "" && e.ScreenKeys != nil && h.Kind == "qemu" && h.Firmware == "bios" && h.HasDevice("vga")
}

// Confirmed splits names into those whose skip the boot log confirms and those it does not.
func (e *Editor) Confirmed(names []string, log string) (yes, no []string) {
	for _, n := range names {
		ok := false
		for _, c := range e.Confirm(n) {
			if strings.Contains(log, c) {
				ok = true
			}
		}
		if ok {
			yes = append(yes, n)
		} else {
			no = append(no, n)
		}
	}
	return yes, no
}

// Type waits for the loader's menu, opens the editor, types the skip and boots. scale
// multiplies its timeouts.
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
	tries, wait := 5, time.Second
	if e.OpenOnce {
		tries, wait = 1, e.OpenWait
	}
	for try := 0; try < tries && !opened; try++ {
		at := con.Offset()
		if err := e.send(ctx, con, e.Open); err != nil {
			return err
		}
		octx, cancel := context.WithTimeout(ctx, sc(wait))
		m, err := con.Expect(octx, max(at, cur), e.Opened)
		cancel()
		if err == nil {
			opened, cur = true, m.End
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
	}
	if !opened {
		return fmt.Errorf("the boot editor did not open (pressed %q %d times, no %q)", e.Open, tries, e.Opened)
	}
	keys := e.Keys(names)
	last := keys[len(keys)-1:]
	if err := e.send(ctx, con, keys[:len(keys)-1]); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, sc(5*time.Second))
	_, err = con.Expect(tctx, cur, e.Typed(names))
	cancel()
	if err != nil {
		return fmt.Errorf("the boot editor did not show %q after typing it: %w", e.Typed(names), err)
	}
	return e.send(ctx, con, last)
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
			if err := e.pace(ctx); err != nil {
				return err
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
		if err := e.pace(ctx); err != nil {
			return err
		}
	}
	return nil
}

// pace waits CharDelay after a key (a loader redraws its whole line per key).
func (e *Editor) pace(ctx context.Context) error {
	if e.CharDelay <= 0 {
		return nil
	}
	select {
	case <-time.After(e.CharDelay):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
