package profile

import (
	_ "embed"
	"regexp"
)

// standinGrubTitle is "GNU GRUB" at the top of GRUB 2.06's menu (Debian grub-pc-bin) on
// QEMU's VGA text screen (720x400), cut from a capture of fixtures' disk-bios-x86_64-grub.img.
//
//go:embed needles/standin-grub-title.png
var standinGrubTitle []byte

// Standin is the boot of the project's own stand-in image (Debian kernel + busybox
// initramfs, fixtures/): the same shape as a Redox boot (firmware, loader, kernel, init,
// drivers, shell), printed by Linux and by fixtures/init's "FX:" markers.
var Standin = &Profile{
	Name: "standin",
	Stages: []Stage{
		// riscv64 (fixtures/mkarches.sh): OpenSBI's banner "OpenSBI v1.1", then U-Boot's
		// "U-Boot 2023.01+dfsg-..." and its distro boot, then the payload's own kernel line.
		{Name: "firmware", Optional: true, Markers: []Pattern{Lit("BdsDxe: starting"), Lit("BdsDxe: loading"), Lit("SeaBIOS (version"), Lit("OpenSBI v")}},
		{Name: "bootloader", Optional: true, Markers: []Pattern{Lit("EFI stub: "), Lit("Booting `"), Lit("U-Boot 20")},
			// GRUB with the console terminal (the BIOS GRUB disk) draws its menu on VGA only.
			Screen: []ScreenMarker{
				{Needle: &Needle{Name: "standin-grub-title", PNG: standinGrubTitle, X: 200, Y: 12, Search: 8}},
				{Text: "GNU GRUB"},
			}},
		{Name: "kernel", Markers: []Pattern{Lit("Linux version "), Lit("FX: kernel fx-rv64 ")}},
		{Name: "init", Markers: []Pattern{Lit("FX: init started")}},
		{Name: "drivers", Markers: []Pattern{Lit("FX: stage modules")}},
		{Name: "shell", Markers: []Pattern{Lit("FX: boot complete")}},
		// fixtures/init writes "FX DESKTOP READY" to /dev/tty0 (the VGA console), never to
		// the serial line, unless fx.nodesktop=1: the stand-in for Orbital's login screen.
		{Name: "desktop", Variants: []string{"desktop"}, Screen: []ScreenMarker{{Text: "FX DESKTOP READY"}}},
	},
	Responses: []Response{
		// The "-menu" disks' systemd-boot waits at its menu (timeout menu-force) for a key.
		{On: Lit("fx stand-in"), Send: "\r"},
		// The BIOS GRUB disk's menu is on the screen only and waits for a key (no timeout).
		{Screen: &ScreenMarker{Text: "Press enter to boot the selected"}, Keys: []string{"ret"}},
	},
	Signatures: []Signature{
		{Kind: KindKernelPanic, Fatal: true,
			Match: Re("Kernel panic - not syncing", `Kernel panic - not syncing: (?P<msg>.*)`),
			Title: "Kernel panic - not syncing: $msg", Component: "kernel"},
		{Kind: KindException,
			Match: Re("daemon crashed", `FX: (?P<c>\S+) daemon crashed: (?P<msg>.*)`),
			Title: "$c crashed: $msg", Component: "$c"},
		{Kind: KindDriverError,
			Match: Re("FX: modprobe", `FX: modprobe (?P<c>\S+) failed`),
			Title: "modprobe $c failed", Component: "$c"},
		{Kind: KindDriverError,
			Match: Re("no codecs found", `(?P<c>snd_hda_intel) .*: no codecs found`),
			Title: "HDA: no codecs found", Component: "hda"},
	},
	Components: []ComponentRule{
		{Match: Re("FX: stage ", `FX: stage (?P<c>\S+)`)},
		{Match: Re("FX: driver ", `FX: driver (?P<c>\S+)`)},
		{Match: Re(" ", `^(?:\[\s*[\d.]+\] )?(?P<c>e1000|nvme|snd_hda_intel|snd_hda_codec_generic|EFI stub)\b`)},
		{Match: Re("FX: skip", `FX: (?P<c>skip) `)},
	},
	Normalize: append([]Rewrite{
		{regexp.MustCompile(`CPU: \d+ PID: \d+`), "CPU: N PID: N"},
	}, commonNormalize...),
	Login: Login{Stage: "shell", Shell: "shell"},
	DriverComponents: map[string][]string{
		"e1000": {"e1000"},
		"nvme":  {"nvme"},
		"hda":   {"hda", "snd_hda_intel", "snd_hda_codec_generic"},
		"ide":   {"ide", "ata_piix"},
		"ac97":  {"ac97", "snd_intel8x0"},
	},
}

func init() {
	Register(Standin)
}
