package drivers

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/inventory"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
)

// Redox: pcid prints one table line per PCI function ("PCI 0000:00:02.0 8086:100E 02.00.00.03
// 2": address, vendor:device, class.subclass.interface.revision, then the class again in
// decimal, base 9dd6901d drivers/pcid/src/main.rs:346 and driver_interface/id.rs:16-26;
// images before base 7f0e870b, 2026-02-07, print the address "00-00:02.0"), pcid-spawner prints
// `spawn "/usr/lib/drivers/<driver>"`, drivers log "<crate>@<module>" lines and create their
// schemes. Each string is traced to the upstream file that prints it in docs/redox-facts.md
// (base 9dd6901d unless said otherwise); the shell tries have not run on a Redox guest here
// (there is no Redox image on this machine) and are unit-tested for their commands only.
//
// Started vs Bound: every driver logs its banner ("E1000 pci-..", "IHDA pci-..", "XHCI
// pci-..", "AHCI pci-..") right after it set up logging and before it touched the device
// (e1000d/src/main.rs:34, ihdad/src/main.rs:40, xhcid/src/main.rs:148, ahcid/src/main.rs:38):
// that is Started. Bound is a line printed after the driver talked to the device: nvmed's
// identify lines (nvme/identify.rs "  - Model: .. Serial: .. Firmware: ..", "NSID: .. Size:
// .."), ahcid's port identify line (ahci/hba.rs "Serial: .. Firmware: .. Model: .."),
// xhcid's "Device on port N was attached" (xhci/device_enumerator.rs), and the debug lines
// e1000d ("Link is up with speed", device.rs) and ihdad ("IHDA: Initialization finished.",
// hda/device.rs) print at debug level only: on a default boot those two are judged by their
// try from the shell.
func redoxPCI(class string) []profile.Pattern {
	return []profile.Pattern{pat("PCI ", `(?i)\bPCI (?P<addr>`+profile.RedoxPCIAddr+`) (?P<ids>[0-9a-f]{4}:[0-9a-f]{4}) `+class+`\b`)}
}

func redoxIDs(ids string) []profile.Pattern {
	return []profile.Pattern{pat("PCI ", `(?i)\bPCI (?P<addr>`+profile.RedoxPCIAddr+`) (?P<ids>`+ids+`) `)}
}

func redoxSpawn(driver string) []profile.Pattern {
	return []profile.Pattern{pat("spawn", `pcid-spawner: spawn "(?:[^"]*/)?`+regexp.QuoteMeta(driver)+`"`)}
}

// redoxSpec: the pcid-spawner "driver X failed" error line is from images before base
// 6096fffe (2026-01-26); later ones report through init/daemon (profile rows). pcid-spawner
// sets PCID_CLIENT_CHANNEL before it logs the command (drivers 20ffe4d
// pcid-spawner/src/main.rs:89-93), so the line reads `pcid-spawner: driver
// PCID_CLIENT_CHANNEL="3" "/usr/lib/drivers/e1000d" failed with exit status: 101`.
func redoxSpec(device, driver string, enum []profile.Pattern, started profile.Pattern, bound ...profile.Pattern) *Spec {
	return &Spec{Device: device, Components: []string{driver}, Enumerated: enum, Spawned: redoxSpawn(driver),
		Started: nonEmpty(started),
		Bound:   bound, Errors: []profile.Pattern{pat("pcid-spawner", `pcid-spawner: driver (?:[A-Z_][A-Z0-9_]*="[^"]*" )*"?(?:[^"\s]*/)?`+regexp.QuoteMeta(driver)+`"? failed`)}}
}

var redoxTable = &Table{
	Profile: "redox",
	Specs: map[string]*Spec{
		"e1000": withWork(redoxSpec("e1000", "e1000d", redoxPCI(`02\.00\.[0-9a-f]{2}`),
			pat("E1000 ", `E1000 (?P<node>pci-\S+)`),
			inventory.Initialised("redox", "e1000d")...),
			redoxE1000, []profile.Pattern{profile.Lit("smoltcpd: no network adapter found")}),
		"nvme": withWork(redoxSpec("nvme", "nvmed", redoxPCI(`01\.08\.[0-9a-f]{2}`),
			profile.Pattern{}, // nvmed prints no banner at info level
			inventory.Initialised("redox", "nvmed")...),
			redoxNVMe, nil),
		"hda": withWork(withErrors(redoxSpec("hda", "ihdad", redoxPCI(`04\.03\.[0-9a-f]{2}`),
			pat("IHDA ", `IHDA (?P<node>pci-\S+)`),
			inventory.Initialised("redox", "ihdad")...),
			ihdaErrors()...),
			redoxHDA, []profile.Pattern{profile.Lit("audiod: No such device")}),
		"xhci": redoxSpec("xhci", "xhcid", redoxPCI(`0c\.03\.30`), pat("XHCI ", `XHCI (?P<node>pci-\S+)`),
			inventory.Initialised("redox", "xhcid")...),
		"ahci": redoxSpec("ahci", "ahcid", redoxPCI(`01\.06\.01`), pat("AHCI ", `AHCI (?P<node>pci-\S+)`),
			inventory.Initialised("redox", "ahcid")...),
		// virtio (base 9dd6901d): "initiating startup sequence :^)" comes before
		// virtio_core::probe_device; "disk size: .." (virtio-blkd/src/main.rs:139) after the
		// device runs, "device MAC is .." (virtio-netd/src/main.rs:74) after it read the
		// device's config space.
		"virtio-blk": redoxSpec("virtio-blk", "virtio-blkd", redoxIDs(`1af4:10(?:01|42)`), profile.Lit("virtio-blk: initiating startup sequence"),
			inventory.Initialised("redox", "virtio-blkd")...),
		"virtio-net": redoxSpec("virtio-net", "virtio-netd", redoxIDs(`1af4:10(?:00|41)`), profile.Lit("virtio-net: initiating startup sequence"),
			inventory.Initialised("redox", "virtio-netd")...),
		// ps2d is an init unit, not a PCI driver (base init.initfs.d/40_ps2d.service). At
		// INFO it prints only "No vmmouse support" / "No vmmouse" (base 9dd6901d
		// drivers/input/ps2d/src/vm.rs:77,85; older images "ps2d: using keymap ..."), so a
		// healthy keyboard is silent: no Bound list, the check passes on a boot that went
		// on past init without an error line. Its errors (controller.rs:288-369, mouse.rs)
		// are error! lines, "[@ps2d::controller:291 ERROR] keyboard failed to reset: FE";
		// drivers 20ffe4d prefixed them "ps2d: " (input/ps2d/src/controller.rs:298).
		"ps2": {Device: "ps2", Components: []string{"ps2d"},
			Started: []profile.Pattern{pat("[@ps2d", `\[@ps2d(?:::\w+)*:\d+ INFO\]`)},
			Errors:  []profile.Pattern{pat("[@ps2d", `\[@ps2d(?:::\w+)*:\d+ ERROR\]`), pat("ps2d: ", `ps2d: (?:keyboard |mouse )?failed`)}},
		// The i586 machine's (mk/qemu.mk disk=ata: "For i386, ata will use ided"; audio=ac97).
		// ided (base 9dd6901d drivers/storage/ided/src/main.rs, spawned for class 1
		// subclass 1 by drivers/initfs.toml) logs "IDE PCI CONFIG: .." (main.rs:41) before it
		// touches the controller, and per disk found by ATA IDENTIFY prints "Serial:",
		// "Firmware:", "Model:", "Size: {} MB" (main.rs:192-195). Its disk carries the root
		// file system, so the try is the NVMe one: a file written and read back.
		"ide": withWork(redoxSpec("ide", "ided", redoxPCI(`01\.01\.[0-9a-f]{2}`),
			profile.Lit("IDE PCI CONFIG: "),
			inventory.Initialised("redox", "ided")...),
			redoxNVMe, nil),
		// ac97d (base 9dd6901d drivers/audio/ac97d, config.toml: class 0x04 subclass 0x01)
		// prints " + ac97 {}" (src/main.rs:33) before it touches the device and "ac97d: set
		// sample rate to {}" (src/device.rs:197) after it read the rate back from the codec;
		// its errors are device.rs:184 and :201. It registers "audiohw" after Ac97::new set
		// the device up (main.rs:75), as ihdad does: the same try.
		"ac97": withWork(withErrors(redoxSpec("ac97", "ac97d", redoxPCI(`04\.01\.[0-9a-f]{2}`),
			pat(" + ac97 ", `\+ ac97 (?P<node>\S+)`),
			inventory.Initialised("redox", "ac97d")...),
			profile.Lit("ac97d: VRA not supported and is currently required"),
			pat("ac97d: sample rate is ", `ac97d: sample rate is \d+ but only \d+ is supported`)),
			redoxAudio("ac97d"), []profile.Pattern{profile.Lit("audiod: No such device")}),
	},
}

func nonEmpty(ps ...profile.Pattern) []profile.Pattern {
	var out []profile.Pattern
	for _, p := range ps {
		if p.Contains != "" || p.Regexp != nil {
			out = append(out, p)
		}
	}
	return out
}

func withWork(s *Spec, w func(context.Context, session.Runner, Evidence) WorkResult, absent []profile.Pattern) *Spec {
	s.Work, s.Absent = w, absent
	return s
}

func withErrors(s *Spec, ps ...profile.Pattern) *Spec {
	s.Errors = append(s.Errors, ps...)
	return s
}

// ihdaErrors are every error ihdad logs (the profile's list: base 9dd6901d
// drivers/audio/ihdad/src/hda/{cmdbuff,device}.rs) and its no-output-pins panic.
func ihdaErrors() []profile.Pattern {
	return []profile.Pattern{
		pat("timeout on ", `timeout on (?:`+profile.IHDATimeouts+`)`),
		pat("reset", `failed to (?:start|finish) reset`),
		profile.Lit("IHDA: No output pins?!"),
	}
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

// netstack's route table line (base 9dd6901d netstack/src/router/route_table.rs Display:
// "default via 10.0.2.2 dev eth0 src 10.0.2.15").
var reRedoxVia = regexp.MustCompile(`default via (\d+\.\d+\.\d+\.\d+)`)

// RedoxRouteCmd reads netstack's route table; it needs the netcfg scheme, which
// /etc/login_schemes.toml gives root but not "user" (redox config/base.toml).
const RedoxRouteCmd = "cat /scheme/netcfg/route/list"

// redoxE1000 pings the default gateway from netcfg's route table. No gateway is guessed:
// an unreadable table (the scheme out of reach of the login user) is INFRA with that
// said, a table without a default route is a FAIL.
func redoxE1000(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	out, code, err := r.Run(ctx, RedoxRouteCmd)
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 {
		return WorkResult{Err: fmt.Errorf("%s: exit %d: %s (the netcfg scheme is out of reach of the login user? /etc/login_schemes.toml decides)", RedoxRouteCmd, code, oneLine(out, 120))}
	}
	m := reRedoxVia.FindStringSubmatch(out)
	if m == nil {
		return errorf("no default route in %s: %s", RedoxRouteCmd, oneLine(out, 160))
	}
	gw := m[1]
	out, code, err = r.Run(ctx, "ping -c 3 "+gw)
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 || !RedoxPingReplied(out, gw) {
		return errorf("ping %s: exit %d: %s", gw, code, oneLine(out, 160))
	}
	return WorkResult{OK: true, Message: "ICMP echo replies from " + gw}
}

// RedoxPingReplied reports whether Redox's ping got an echo reply from addr: netutils
// 26ffc85 src/ping/ping.rs prints "From {} icmp_seq={} time={}ms" per reply and "From
// {remote_host} icmp_seq={seq} timeout" per loss, and exits 0 either way.
func RedoxPingReplied(out, addr string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "From "+addr+" icmp_seq=") && strings.Contains(l, " time=") && !strings.HasSuffix(strings.TrimSpace(l), " timeout") {
			return true
		}
	}
	return false
}

// RedoxHDACmd writes 16 KiB of silence (4096 frames of 16-bit stereo) to audiod's scheme.
const RedoxHDACmd = "head -c 16384 /dev/zero > /scheme/audio"

// RedoxSchemesCmd lists the schemes of the login user's namespace (bootstrap
// initnsmgr.rs getdents); root sees all of them.
const RedoxSchemesCmd = "ls -1 /scheme"

// redoxAudio needs evidence from the audio driver itself: audiod (base audiod/src/scheme.rs)
// buffers writes and answers without it, so a write alone proves audiod. ihdad registers
// its "audiohw" scheme only after IntelHDA::new reset the controller, enumerated the codecs
// and set up the output (drivers/audio/ihdad/src/main.rs), ac97d after Ac97::new set up the
// mixer and PCM out (drivers/audio/ac97d/src/main.rs): the scheme in the list is the
// driver's word that the device works; the write then proves the path through audiod.
// redoxHDA is ihdad's.
var redoxHDA = redoxAudio("ihdad")

func redoxAudio(driver string) func(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
	return func(ctx context.Context, r session.Runner, ev Evidence) WorkResult {
		return redoxAudioTry(ctx, r, driver)
	}
}

func redoxAudioTry(ctx context.Context, r session.Runner, driver string) WorkResult {
	out, code, err := r.Run(ctx, RedoxSchemesCmd)
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 {
		return WorkResult{Err: fmt.Errorf("%s: exit %d: %s", RedoxSchemesCmd, code, oneLine(out, 120))}
	}
	if !hasLine(out, "audiohw") {
		return errorf("%s never registered its audiohw scheme (it does once the controller and codec are set up): %s lists %s", driver, RedoxSchemesCmd, oneLine(out, 160))
	}
	out, code, err = r.Run(ctx, RedoxHDACmd)
	if err != nil {
		return WorkResult{Err: err}
	}
	if code != 0 {
		return errorf("%s: exit %d: %s", RedoxHDACmd, code, oneLine(out, 160))
	}
	return WorkResult{OK: true, Message: driver + " registered audiohw (controller and codec set up) and audiod accepted 16 KiB of silence"}
}

func hasLine(out, want string) bool {
	for _, l := range strings.Split(out, "\n") {
		if strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(l), "/")) == want {
			return true
		}
	}
	return false
}
