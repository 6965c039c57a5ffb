package job

import "github.com/redox-hwtest/redox-hwtest/harness/engine/inventory"

// takeInventory reads the boot's device inventory from its log, and marks the failures the
// machine explains (a network daemon on a host without a network adapter) as expected,
// so the suites judge the image, not the host's hardware list. A profile without a
// device table (the stand-in's own dialect) has none.
func (b *Booted) takeInventory() {
	if b.Profile == nil {
		return
	}
	// A replay host plays another machine's transcript: its device list is not that
	// machine's, so the log alone decides, as in `analyze`.
	m := inventory.Machine{Known: b.Job.Host.Kind != "replay", Devices: b.Job.Host.Devices}
	devs, events := inventory.FromLines(b.Profile.Name, b.BootLog(), b.Outcome.Analysis, m)
	b.Devices, b.Outcome.Analysis.Events = devs, events
}
