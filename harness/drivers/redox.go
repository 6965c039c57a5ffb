package drivers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/session"
)

// Redox: pcid prints one table line per PCI function ("PCI 00-00:02.0 8086:100E 02.00.00.03
// 2": address, vendor:device, class.subclass.interface.revision, IRQ), pcid-spawner prints
// `spawn "/usr/lib/drivers/<driver>"`, drivers log "<crate>@<module>" lines and create their
// schemes (DESIGN.md section 4). These rows come from upstream sources and the real
// transcripts in ../shared/redox-logs; the shell tries have not run on a Redox guest here
// (there is no Redox image on this machine) and are unit-tested for their commands only.
func redoxPCI(class string) []profile.Pattern {
	return []profile.Pattern{pat("PCI ", `(?i)\bPCI (?P<addr>[0-9a-f]{2,4}-[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (?P<ids>[0-9a-f]{4}:[0-9a-f]{4}) `+class+`\b`)}
}

func redoxIDs(ids string) []profile.Pattern {
	return []profile.Pattern{pat("PCI ", `(?i)\bPCI (?P<addr>[0-9a-f]{2,4}-[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) (?P<ids>`+ids+`) `)}
}

func redoxSpawn(driver string) []profile.Pattern {
	return []profile.Pattern{pat("spawn", `pcid-spawner: spawn "(?:[^"]*/)?`+regexp.QuoteMeta(driver)+`"`)}
}

func redoxSpec(device, driver string, enum []profile.Pattern, bound ...profile.Pattern) *Spec {
	return &Spec{Device: device, Components: []string{driver}, Enumerated: enum, Spawned: redoxSpawn(driver),
		Bound: bound, Errors: []profile.Pattern{pat("pcid-spawner", `pcid-spawner: driver \S*`+regexp.QuoteMeta(driver)+`\S* failed`)}}
}

var redoxTable = &Table{
	Profile: "redox",
	Specs: map[string]*Spec{
		"e1000": withWork(redoxSpec("e1000", "e1000d", redoxPCI(`02\.00\.[0-9a-f]{2}`),
			pat("E1000 ", `E1000 (?P<node>pci-\S+)`)),
			redoxE1000, []profile.Pattern{profile.Lit("smoltcpd: no network adapter found")}),
		"nvme": withWork(redoxSpec("nvme", "nvmed", redoxPCI(`01\.08\.[0-9a-f]{2}`),
			pat("nvmed", `(?i)nvmed.*(?:model|serial|namespace)`), pat("disk.", `(?P<node>disk\.\S*nvme)`)),
			redoxNVMe, nil),
		"hda": withWork(withErrors(redoxSpec("hda", "ihdad", redoxPCI(`04\.03\.[0-9a-f]{2}`),
			pat("IHDA ", `IHDA (?P<node>\S+)`)),
			"timeout on clearing CORBRUN", "timeout on CORB command", "timeout on RIRB response",
			"timeout on immediate response", "failed to start reset", "IHDA: No output pins?!"),
			redoxHDA, []profile.Pattern{profile.Lit("audiod: No such device")}),
		"xhci":       redoxSpec("xhci", "xhcid", redoxPCI(`0c\.03\.30`), pat("XHCI ", `XHCI (?P<node>\S+)`)),
		"ahci":       redoxSpec("ahci", "ahcid", redoxPCI(`01\.06\.01`), pat("AHCI ", `AHCI (?P<node>\S+)`)),
		"virtio-blk": redoxSpec("virtio-blk", "virtio-blkd", redoxIDs(`1af4:10(?:01|42)`), profile.Lit("virtio-blk: initiating startup sequence")),
		"virtio-net": redoxSpec("virtio-net", "virtio-netd", redoxIDs(`1af4:10(?:00|41)`), pat("virtio-net", `virtio-net(?:d)?: .*(?:MAC|mac|initiat)`)),
		"ps2":        {Device: "ps2", Components: []string{"ps2d"}, Bound: []profile.Pattern{pat("ps2d", `\bps2d\b`)}},
	},
}

func withWork(s *Spec, w func(context.Context, session.Runner, Evidence) WorkResult, absent []profile.Pattern) *Spec {
	s.Work, s.Absent = w, absent
	return s
}

func withErrors(s *Spec, lits ...string) *Spec {
	for _, l := range lits {
		s.Errors = append(s.Errors, profile.Lit(l))
	}
	return s
}

func init() { register(redoxTable) }

// redoxNVMe writes a file on the root file system (on an NVMe-booted host that is the
// NVMe disk: QEMU hosts put the boot disk on NVMe when they list the device, as Redox's
// mk/qemu.mk does) and reads it back.
func redoxNVMe(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	var b [8]byte
	rand.Read(b[:])
	word := "rhw-nvme-" + hex.EncodeToString(b[:])
	f := "/home/user/.rhw-nvme"
	out, code, err := r.Run(ctx, RedoxNVMeCmd(f, word))
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 || strings.TrimSpace(out) != word {
		return errorf("write and read back %s: exit %d: %s", f, code, oneLine(out, 120))
	}
	return WorkResult{OK: true, Message: "wrote a file on the root file system and read it back"}
}

// RedoxNVMeCmd is the ion command of the NVMe try.
func RedoxNVMeCmd(file, word string) string {
	return fmt.Sprintf("echo %s > %s && cat %s && rm %s", word, file, file, file)
}

var reRedoxVia = regexp.MustCompile(`default via (\d+\.\d+\.\d+\.\d+)`)

// redoxE1000 pings the default gateway from netcfg's route table (10.0.2.2 when it has
// none: QEMU user networking).
func redoxE1000(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	gw := "10.0.2.2"
	if out, code, err := r.Run(ctx, "cat /scheme/netcfg/route/list"); err == nil && code == 0 {
		if m := reRedoxVia.FindStringSubmatch(out); m != nil {
			gw = m[1]
		}
	}
	out, code, err := r.Run(ctx, "ping -c 3 "+gw)
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 || !strings.Contains(out, "from "+gw) {
		return errorf("ping %s: exit %d: %s", gw, code, oneLine(out, 160))
	}
	return WorkResult{OK: true, Message: "ICMP echo replies from " + gw}
}

// RedoxHDACmd writes 16 KiB of silence (4096 frames of 16-bit stereo) to audiod's scheme.
const RedoxHDACmd = "head -c 16384 /dev/zero > /scheme/audio"

// redoxHDA: audiod is up (its scheme exists) and accepts a short write of silence, which
// it hands to ihdad's buffers.
func redoxHDA(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	out, code, err := r.Run(ctx, RedoxHDACmd)
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 {
		return errorf("%s: exit %d: %s", RedoxHDACmd, code, oneLine(out, 160))
	}
	return WorkResult{OK: true, Message: "audiod accepted 16 KiB of silence on /scheme/audio"}
}
