package inventory

import "github.com/redox-hwtest/redox-hwtest/harness/engine/profile"

// Redox: pcid lists every function ("[@pcid:346 INFO] PCI 0000:00:05.0 8086:100E
// 02.00.00.03 2", base 9dd6901d drivers/pcid/src/main.rs:346 with driver_interface/id.rs:16-26
// "{:>04X}:{:>04X} {:>02X}.{:>02X}.{:>02X}.{:>02X} {:?}"; the address "00-00:05.0" before
// base 7f0e870b), pcid-spawner starts the driver whose config matches, in the order it
// reads /scheme/pci ("pcid-spawner: spawn \"/usr/lib/drivers/e1000d\"",
// drivers/pcid-spawner/src/main.rs:88, the function not named), and the driver names its
// function in its banner ("E1000 pci-0000-00-05.0 on: ...", driver_interface/mod.rs:123-144
// name() "pci-{addr}" with ':' replaced by '-'). UEFI firmware (EDK2, not Redox) names the
// disk it boots from: `BdsDxe: loading Boot0001 "UEFI QEMU NVMe Ctrl NVME_SERIAL 1" from
// PciRoot(0x0)/Pci(0x2,0x0)/NVMe(...)` (the 2026-08 capture in ../shared/redox-logs-2).
var redoxTable = &Table{
	Profile: "redox",
	Enumerated: []profile.Pattern{profile.Re("PCI ",
		`PCI (?P<addr>`+profile.RedoxPCIAddr+`) (?P<vendor>[0-9A-Fa-f]{4}):(?P<device>[0-9A-Fa-f]{4}) (?P<class>[0-9A-Fa-f]{2}\.[0-9A-Fa-f]{2}\.[0-9A-Fa-f]{2})\b`)},
	Firmware: []profile.Pattern{profile.Re("BdsDxe: ",
		`BdsDxe: (?:loading|starting) Boot[0-9A-Fa-f]+ "(?P<desc>[^"]*)"(?: from (?P<path>\S+))?`)},
	Spawned: []profile.Pattern{profile.Re("pcid-spawner: spawn", profile.RedoxSpawn)},
	Banner: []profile.Pattern{profile.Re(" pci-",
		`(?P<banner>E1000|IHDA|XHCI|AHCI|IDE|AC97|SB16|RTL8139|RTL8168|IXGBE) (?P<node>pci-[0-9a-fA-F]{2,4}-[0-9a-fA-F]{2}-[0-9a-fA-F]{2}\.[0-7])\b`)},
	Banners: map[string]string{"E1000": "e1000d", "IHDA": "ihdad", "XHCI": "xhcid", "AHCI": "ahcid", "IDE": "ided",
		"AC97": "ac97d", "SB16": "sb16d", "RTL8139": "rtl8139d", "RTL8168": "rtl8168d", "IXGBE": "ixgbed",
		"virtio-blk": "virtio-blkd", "virtio-net": "virtio-netd"},
	// base 9dd6901d drivers/initfs.toml and drivers/*/*/config.toml.
	Claims: []Claim{
		{Driver: "ahcid", Class: 0x01, Subclass: 0x06, Interface: -1},
		{Driver: "ided", Class: 0x01, Subclass: 0x01, Interface: -1},
		{Driver: "nvmed", Class: 0x01, Subclass: 0x08, Interface: -1},
		{Driver: "virtio-blkd", Class: 0x01, Subclass: 0x00, Interface: -1, Vendor: "1af4", Devices: []string{"1001"}},
		{Driver: "e1000d", Class: 0x02, Subclass: -1, Interface: -1, Vendor: "8086", Devices: []string{"1004", "100e", "100f", "109a", "1503"}},
		{Driver: "rtl8139d", Class: 0x02, Subclass: -1, Interface: -1, Vendor: "10ec", Devices: []string{"8139"}},
		{Driver: "rtl8168d", Class: 0x02, Subclass: -1, Interface: -1, Vendor: "10ec", Devices: []string{"8168", "8169"}},
		{Driver: "virtio-netd", Class: 0x02, Subclass: -1, Interface: -1, Vendor: "1af4", Devices: []string{"1000"}},
		{Driver: "ihdad", Class: 0x04, Subclass: 0x03, Interface: -1},
		{Driver: "ac97d", Class: 0x04, Subclass: 0x01, Interface: -1},
		{Driver: "xhcid", Class: 0x0c, Subclass: 0x03, Interface: 0x30},
		{Driver: "vboxd", Class: 0x08, Subclass: -1, Interface: -1, Vendor: "80ee", Devices: []string{"cafe"}},
	},
	// Lines printed after the driver talked to the device; the drivers suite's Bound
	// evidence too (harness/suites/drivers/redox.go). base 9dd6901d: nvmed nvme/identify.rs:176,214
	// ("  - Model: {} Serial: {} Firmware: {}", "NSID: {} Size: {} Capacity: {}"), the
	// scheme "disk.{}-nvme" (main.rs:67) and older nvmed lines naming model/serial/
	// namespace; ahcid ahci/hba.rs:255; xhcid xhci/device_enumerator.rs:113; e1000d
	// device.rs:359 and ihdad hda/device.rs:213 (debug level); virtio-blkd main.rs:139,
	// virtio-netd main.rs:74.
	Initialised: map[string][]profile.Pattern{
		"nvmed": {profile.Re("Model: ", `- Model: .* Serial: `), profile.Re("NSID: ", `NSID: \d+ Size: `),
			profile.Re("nvmed", `(?i)nvmed.*(?:model|serial|namespace)`), profile.Re("disk.", `(?P<node>disk\.\S*nvme)`)},
		"ahcid":       {profile.Re("Firmware: ", `Serial: .* Firmware: .* Model: `)},
		"xhcid":       {profile.Re("Device on port", `Device on port \d+ was attached`)},
		"e1000d":      {profile.Lit("Link is up with speed")},
		"ihdad":       {profile.Lit("IHDA: Initialization finished.")},
		"virtio-blkd": {profile.Lit("virtio-blk: disk size: ")},
		"virtio-netd": {profile.Lit("virtio-net: device MAC is ")},
		// ided (base 9dd6901d drivers/storage/ided/src/main.rs:192-195) per disk found by ATA
		// IDENTIFY; ac97d "ac97d: set sample rate to {}" (src/device.rs:197) after it read the
		// rate back from the codec.
		"ided":  {profile.Re("Size: ", `^\s*Size: \d+ MB\s*$`)},
		"ac97d": {profile.Lit("ac97d: set sample rate to ")},
	},
	// netstack without an adapter: `error!("smoltcpd: {}", err); process::exit(1)` before
	// daemon.ready() (base 9dd6901d netstack/src/main.rs:43-44,190-196), its unit `type =
	// "notify"` (init.d/10_smolnetd.service; the binary was smolnetd before), so init
	// reports `init: {command:?} exited without notifying readiness` (init/src/service.rs:65).
	// audiod without ihdad's audiohw: `eprintln!("audiod: {}", err); process::exit(1)`
	// (audiod/src/main.rs:55,94), unit `type = { scheme = "audio" }` (init.d/20_audiod.service),
	// the same init line (service.rs:84). orbital without a framebuffer: open_display fails
	// (orbital 530835b src/core/mod.rs:64-70, src/main.rs:40-41 "could not open display,
	// caused by: ...") and it logs "error during daemon execution, exiting with status=1:
	// ..." (src/main.rs:78).
	Absences: []Absence{
		{Components: []string{"netstack", "smolnetd"}, Classes: []string{"02"},
			Devices: []string{"e1000", "ixgbe", "rtl8139", "rtl8168", "virtio-net"},
			Said:    []profile.Pattern{profile.Lit("smoltcpd: no network adapter found")}, What: "network adapter"},
		{Components: []string{"audiod"}, Classes: []string{"04.03", "04.01"},
			Devices: []string{"hda", "ac97", "sb16"},
			Said:    []profile.Pattern{profile.Re("No such device", `audiod: No such device`)}, What: "sound device"},
		{Components: []string{"orbital"}, TitleHas: []string{"open display"}, Classes: []string{"03"},
			Devices: []string{"vga", "ramfb", "virtio-gpu"}, What: "display"},
	},
	Driver: []profile.Pattern{
		profile.Re("[@", `\[@(?P<driver>[A-Za-z0-9_-]+)`),
		profile.Re("virtio-", `^(?P<driver>virtio-(?:blk|net)): `),
	},
}

func init() { register(redoxTable) }

// Initialised are the lines a profile's driver prints only after it talked to its device
// (nil when the profile has none).
func Initialised(profileName, driver string) []profile.Pattern {
	if t := Tables[profileName]; t != nil {
		return t.Initialised[driver]
	}
	return nil
}
