package drivers

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
)

// The stand-in (fixtures/init): "FX: pci <addr> <vendor>:<device> class=<class> driver=<d>"
// per PCI function before any driver loads, "FX: stage <group>" as each driver group is
// loaded, "FX: skip <group>", then per group "FX: driver <group> bound <nodes>" |
// "unbound <addrs>" | "absent". When the boot stalls before that report, Linux's own probe
// lines say which drivers came up.
func standinPCI(class string) []profile.Pattern {
	return []profile.Pattern{pat("FX: pci ", `FX: pci (?P<addr>\S+) (?P<ids>[0-9a-f]{4}:[0-9a-f]{4}) class=`+class)}
}

func standinIDs(ids string) []profile.Pattern {
	return []profile.Pattern{pat("FX: pci ", `FX: pci (?P<addr>\S+) (?P<ids>`+ids+`) class=`)}
}

func standinGroup(s *Spec, g string, kernelBound ...profile.Pattern) *Spec {
	s.Spawned = []profile.Pattern{profile.Lit("FX: stage " + g)}
	s.Skipped = []profile.Pattern{profile.Lit("FX: skip " + g)}
	s.Bound = append([]profile.Pattern{pat("FX: driver "+g+" bound", `FX: driver `+g+` bound (?P<node>.+)$`)}, kernelBound...)
	s.Unbound = []profile.Pattern{profile.Lit("FX: driver " + g + " unbound")}
	s.Absent = []profile.Pattern{profile.Lit("FX: driver " + g + " absent")}
	return s
}

var standinTable = &Table{
	Profile: "standin",
	Order:   []string{"e1000", "nvme", "hda", "ide", "ac97"},
	Specs: map[string]*Spec{
		"e1000": standinGroup(&Spec{Device: "e1000", Enumerated: standinPCI("0200"), Work: standinE1000,
			Errors: []profile.Pattern{profile.Lit("FX: modprobe e1000 failed")}}, "e1000",
			pat("PRO/1000 Network Connection", `e1000 (?P<addr>[0-9a-f:.]+) (?P<node>eth\d+): Intel\(R\) PRO/1000 Network Connection`)),
		"nvme": standinGroup(&Spec{Device: "nvme", Enumerated: standinPCI("010802"), Work: standinNVMe,
			Errors: []profile.Pattern{profile.Lit("FX: modprobe nvme failed")}}, "nvme",
			pat("default/read/poll queues", `nvme (?P<node>nvme\d+): \d+/\d+/\d+ default/read/poll queues`)),
		"hda": standinGroup(&Spec{Device: "hda", Enumerated: standinPCI("0403"), Work: standinHDA,
			Errors: []profile.Pattern{pat("FX: modprobe snd", `FX: modprobe snd-hda\S* failed`), profile.Lit("no codecs found")}}, "hda",
			pat("autoconfig", `snd_hda_codec_generic (?P<node>hdaudioC\d+D\d+): autoconfig`)),
		// The i586 initramfs's extra groups (fixtures/mkarches.sh): the IDE controller (PCI
		// class 0101; ata_piix, sd_mod) and AC'97 audio (class 0401; snd-intel8x0).
		"ide": standinGroup(&Spec{Device: "ide", Enumerated: standinPCI("0101"), Work: standinIDE,
			Errors: []profile.Pattern{pat("FX: modprobe ", `FX: modprobe (?:ata_piix|sd_mod) failed`)}}, "ide",
			pat("512-byte logical blocks", `sd \S+: \[(?P<node>sd[a-z]+)\] \d+ 512-byte logical blocks`)),
		"ac97": standinGroup(&Spec{Device: "ac97", Enumerated: standinPCI("0401"), Work: standinAC97,
			Errors: []profile.Pattern{profile.Lit("FX: modprobe snd-intel8x0 failed")}}, "ac97"),
		"ps2": {Device: "ps2",
			Enumerated: []profile.Pattern{pat("i8042 KBD port", `serio: i8042 KBD port at (?P<addr>\S+)`)},
			Bound:      []profile.Pattern{pat("AT Translated Set 2 keyboard", `input: AT Translated Set 2 keyboard as (?P<node>\S+)`)}},
		// The stand-in's initramfs carries only the driver groups above.
		"xhci":       {Device: "xhci", NoDriver: true, Enumerated: standinPCI("0c0330")},
		"ahci":       {Device: "ahci", NoDriver: true, Enumerated: standinPCI("010601")},
		"virtio-blk": {Device: "virtio-blk", NoDriver: true, Enumerated: standinIDs("1af4:10(?:01|42)")},
		"virtio-net": {Device: "virtio-net", NoDriver: true, Enumerated: standinIDs("1af4:10(?:00|41)")},
	},
}

func init() { register(standinTable) }

var (
	reSHA   = regexp.MustCompile(`(?m)^([0-9a-f]{64})\b`)
	reNum   = regexp.MustCompile(`(?m)^\s*(\d+)\s*$`)
	reDev   = regexp.MustCompile(`^/dev/nvme\d+n\d+$`)
	reSD    = regexp.MustCompile(`^/dev/sd[a-z]+$`)
	reIf    = regexp.MustCompile(`^[a-z][a-z0-9]{1,14}$`)
	reLease = regexp.MustCompile(`router (\d+\.\d+\.\d+\.\d+)`)
	reVia   = regexp.MustCompile(`default via (\d+\.\d+\.\d+\.\d+)`)
	rePing  = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)
)

// standinNVMe writes 64 KiB of random data into the last MiB of the namespace (outside the
// partitions of a 64 MiB GPT disk; the original bytes are saved first and put back after),
// drops the page cache, reads the block back with O_DIRECT and compares SHA-256s.
func standinNVMe(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	return standinDisk(ctx, r, ev, "/dev/nvme0n1", reDev)
}

// standinIDE is the same write and read back on the disk ata_piix found (the IDE scratch
// disk of the i586 host).
func standinIDE(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	return standinDisk(ctx, r, ev, "/dev/sda", reSD)
}

func standinDisk(ctx context.Context, r session.Runner, ev Evidence, dev string, valid *regexp.Regexp) WorkResult {
	if f := strings.Fields(ev.Node); len(f) > 0 && valid.MatchString(f[0]) {
		dev = f[0]
	}
	out, code, err := r.Run(ctx, "blockdev --getsz "+dev)
	if err != nil {
		return WorkResult{Err: err}
	}
	m := reNum.FindStringSubmatch(out)
	if code != 0 || m == nil {
		return errorf("blockdev --getsz %s: exit %d: %s", dev, code, oneLine(out, 120))
	}
	sectors, _ := strconv.ParseInt(m[1], 10, 64)
	if sectors < 4096 {
		return errorf("%s has only %d sectors", dev, sectors)
	}
	off := sectors - 2048
	const save, patf = "/tmp/.rhw-nvme-save", "/tmp/.rhw-nvme-pattern"
	steps := []struct{ what, cmd string }{
		{"save the original block", fmt.Sprintf("dd if=%s of=%s bs=512 skip=%d count=128 iflag=direct 2>/dev/null", dev, save, off)},
		{"make a pattern", fmt.Sprintf("head -c 65536 /dev/urandom > %s && sha256sum < %s", patf, patf)},
	}
	var want string
	for _, s := range steps {
		out, code, err := r.Run(ctx, s.cmd)
		if err != nil {
			return WorkResult{Err: err}
		}
		if code != 0 {
			return errorf("%s: exit %d: %s", s.what, code, oneLine(out, 120))
		}
		if m := reSHA.FindStringSubmatch(out); m != nil {
			want = m[1]
		}
	}
	restore := func() string {
		out, code, err := r.Run(ctx, fmt.Sprintf("dd if=%s of=%s bs=512 seek=%d count=128 conv=fsync 2>/dev/null; rm -f %s %s", save, dev, off, save, patf))
		if err != nil || code != 0 {
			return fmt.Sprintf("; restoring the original block failed: exit %d %v %s", code, err, oneLine(out, 80))
		}
		return "; original block restored"
	}
	out, code, err = r.Run(ctx, fmt.Sprintf("dd if=%s of=%s bs=512 seek=%d count=128 conv=fsync 2>/dev/null && blockdev --flushbufs %s && echo 3 > /proc/sys/vm/drop_caches && dd if=%s bs=512 skip=%d count=128 iflag=direct 2>/dev/null | sha256sum", patf, dev, off, dev, dev, off))
	if err != nil {
		return WorkResult{Err: err}
	}
	m = reSHA.FindStringSubmatch(out)
	if code != 0 || m == nil {
		return errorf("write and read back at sector %d of %s: exit %d: %s%s", off, dev, code, oneLine(out, 120), restore())
	}
	if m[1] != want {
		return errorf("read back 64 KiB at sector %d of %s with SHA-256 %s, wrote %s%s", off, dev, m[1][:16], want[:16], restore())
	}
	return WorkResult{OK: true, Message: fmt.Sprintf("wrote 64 KiB of random data at sector %d of %s and read it back uncached (O_DIRECT) with the same SHA-256%s", off, dev, restore())}
}

// standinE1000 brings the interface up, takes a DHCP lease if it has no address, and pings
// the gateway, counting the interface's packets before and after.
func standinE1000(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	ifc := "eth0"
	if f := strings.Fields(ev.Node); len(f) > 0 && reIf.MatchString(f[0]) {
		ifc = f[0]
	}
	out, code, err := r.Run(ctx, fmt.Sprintf("ip link set %s up && ip -4 addr show %s && ip route", ifc, ifc))
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 {
		return errorf("ip link set %s up: exit %d: %s", ifc, code, oneLine(out, 120))
	}
	gw := ""
	lease := ""
	if m := reVia.FindStringSubmatch(out); m != nil && strings.Contains(out, "inet ") {
		gw = m[1]
	} else {
		out, code, err := r.Run(ctx, fmt.Sprintf("udhcpc -i %s -n -q -t 5 -s /etc/udhcpc.script", ifc))
		if err != nil {
			return WorkResult{Err: err}
		}
		m := reLease.FindStringSubmatch(out)
		if code != 0 || m == nil {
			return errorf("no DHCP lease on %s: exit %d: %s", ifc, code, oneLine(out, 160))
		}
		gw, lease = m[1], "DHCP lease taken, "
	}
	counters := func() (int64, int64, error) {
		out, _, err := r.Run(ctx, fmt.Sprintf("cat /sys/class/net/%s/statistics/rx_packets /sys/class/net/%s/statistics/tx_packets", ifc, ifc))
		if err != nil {
			return 0, 0, err
		}
		f := strings.Fields(out)
		if len(f) != 2 {
			return 0, 0, fmt.Errorf("packet counters: %q", out)
		}
		rx, _ := strconv.ParseInt(f[0], 10, 64)
		tx, _ := strconv.ParseInt(f[1], 10, 64)
		return rx, tx, nil
	}
	rx0, tx0, err := counters()
	if err != nil {
		return WorkResult{Err: err}
	}
	out, code, err = r.Run(ctx, "ping -c 3 -w 30 "+gw)
	if err != nil {
		return WorkResult{Err: err}
	}
	rx1, tx1, err := counters()
	if err != nil {
		return WorkResult{Err: err}
	}
	m := rePing.FindStringSubmatch(out)
	if code != 0 || m == nil || m[2] == "0" {
		return errorf("ping %s through %s: exit %d: %s (rx %+d, tx %+d packets)", gw, ifc, code, oneLine(out, 160), rx1-rx0, tx1-tx0)
	}
	if rx1 <= rx0 || tx1 <= tx0 {
		return errorf("ping %s answered, but %s's counters did not move (rx %d->%d, tx %d->%d): the traffic went elsewhere", gw, ifc, rx0, rx1, tx0, tx1)
	}
	return WorkResult{OK: true, Message: fmt.Sprintf("%s%s/%s ICMP echo replies from %s through %s (rx %+d, tx %+d packets)", lease, m[2], m[1], gw, ifc, rx1-rx0, tx1-tx0)}
}

var (
	reCard  = regexp.MustCompile(`(?m)^\s*(\d+) \[[^\]]*\]: (.+)$`)
	reCodec = regexp.MustCompile(`(?m)^Codec: (.+)$`)
	reVen   = regexp.MustCompile(`(?m)^Vendor Id: (0x[0-9a-f]+)$`)
	rePower = regexp.MustCompile(`(?m)Power: setting=(\S+), actual=(\S+)`)
	rePCM   = regexp.MustCompile(`pcmC(\d+)D(\d+)p`)
)

// standinHDA: the stand-in has no ALSA userspace, and a raw write() to a PCM device is
// refused until hw_params ioctls have set it up, so "works" means: the card registered,
// the codec answered its verbs (reading codec#N makes the driver query the codec over
// CORB/RIRB, e.g. its power state), and the playback PCM device opens.
func standinHDA(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	return standinAudio(ctx, r, ev, "codec#0", func(out string) string {
		codec, ven, pw := reCodec.FindStringSubmatch(out), reVen.FindStringSubmatch(out), rePower.FindStringSubmatch(out)
		if codec == nil || ven == nil {
			return ""
		}
		power := ""
		if pw != nil {
			power = fmt.Sprintf(", power %s/%s", pw[1], pw[2])
		}
		return fmt.Sprintf("codec %s (%s%s) answered its verbs", strings.TrimSpace(codec[1]), ven[1], power)
	})
}

// reAC97 is the codec line of /proc/asound/card<N>/codec97#0/ac97#0-0 (Linux
// sound/pci/ac97/ac97_proc.c snd_ac97_proc_read_main: "%d-%d/%d: %s", address, number,
// subindex, codec name), which the kernel fills by reading the codec's registers.
var reAC97 = regexp.MustCompile(`(?m)^(\d+-\d+/\d+): (.+)$`)

// standinAC97 is the same try for AC'97: its codec file makes the driver read the codec's
// registers over the AC-link.
func standinAC97(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	return standinAudio(ctx, r, ev, "codec97#0/ac97#0-0", func(out string) string {
		if m := reAC97.FindStringSubmatch(out); m != nil {
			return fmt.Sprintf("AC'97 codec %s %s answered", m[1], strings.TrimSpace(m[2]))
		}
		return ""
	})
}

// standinAudio: the card registered, the codec answered (reading /proc/asound/card<N>/
// <codecFile> makes the driver ask it; codec describes the answer, "" when there is none),
// and the playback PCM device opens.
func standinAudio(ctx context.Context, r session.Runner, ev Evidence, codecFile string, codec func(string) string) WorkResult {
	card, dev := "0", "0"
	if m := rePCM.FindStringSubmatch(ev.Node); m != nil {
		card, dev = m[1], m[2]
	}
	out, code, err := r.Run(ctx, "cat /proc/asound/cards")
	if err != nil {
		return WorkResult{Err: err}
	}
	cm := reCard.FindStringSubmatch(out)
	if code != 0 || cm == nil {
		return errorf("no sound card registered: %s", oneLine(out, 120))
	}
	out, code, err = r.Run(ctx, fmt.Sprintf("cat '/proc/asound/card%s/%s'", card, codecFile))
	if err != nil {
		return WorkResult{Err: err}
	}
	said := codec(out)
	if code != 0 || said == "" {
		return errorf("the codec did not answer (card%s/%s): exit %d: %s", card, codecFile, code, oneLine(out, 160))
	}
	node := fmt.Sprintf("/dev/snd/pcmC%sD%sp", card, dev)
	out, code, err = r.Run(ctx, fmt.Sprintf("cat /proc/asound/card%s/pcm%sp/info && : > %s && echo opened", card, dev, node))
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 || !strings.Contains(out, "stream: PLAYBACK") || !strings.Contains(out, "opened") {
		return errorf("playback PCM %s: exit %d: %s", node, code, oneLine(out, 160))
	}
	return WorkResult{OK: true, Message: fmt.Sprintf("card %s %s; %s; playback PCM %s opens (no ALSA userspace here: nothing is played)",
		cm[1], strings.TrimSpace(cm[2]), said, node)}
}
