package profile

import "regexp"

// Standin is the boot of the project's own stand-in image (Debian kernel + busybox
// initramfs, fixtures/): the same shape as a Redox boot (firmware, loader, kernel, init,
// drivers, shell), printed by Linux and by fixtures/init's "FX:" markers.
var Standin = &Profile{
	Name: "standin",
	Stages: []Stage{
		{Name: "firmware", Optional: true, Markers: []Pattern{Lit("BdsDxe: starting"), Lit("BdsDxe: loading"), Lit("SeaBIOS (version")}},
		{Name: "bootloader", Optional: true, Markers: []Pattern{Lit("EFI stub: "), Lit("Booting `")}},
		{Name: "kernel", Markers: []Pattern{Lit("Linux version ")}},
		{Name: "init", Markers: []Pattern{Lit("FX: init started")}},
		{Name: "drivers", Markers: []Pattern{Lit("FX: stage modules")}},
		{Name: "shell", Markers: []Pattern{Lit("FX: boot complete")}},
	},
	Responses: []Response{
		// The "-menu" disks' systemd-boot waits at its menu (timeout menu-force) for a key.
		{On: Lit("fx stand-in"), Send: "\r"},
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
	},
}

func init() {
	Register(Standin)
}
