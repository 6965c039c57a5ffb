package drivers

import (
	"context"
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Redox's i586 machine: ided and ac97d, with their lines as upstream prints them (base
// 9dd6901d drivers/storage/ided/src/main.rs:41,192-195; drivers/audio/ac97d/src/main.rs:33,
// device.rs:184,197). The pcid lines follow the format of the other tests (pcid main.rs).
func TestRedoxIDEAndAC97(t *testing.T) {
	log := `kernel::arch::x86_shared::start:INFO -- Redox OS starting...
2026-08-01T10-00-00.100Z [@pcid:346 INFO] PCI 00-00:01.1 8086:7010 01.01.80.00 0
2026-08-01T10-00-00.110Z [@pcid:346 INFO] PCI 00-00:04.0 8086:2415 04.01.00.01 11
pcid-spawner: spawn "/scheme/initfs/lib/drivers/ided"
2026-08-01T10-00-00.200Z [@ided:41 INFO] IDE PCI CONFIG: PciFunctionConfig { .. }
  - channel 0
    - device 0
      Serial: QM00001
      Firmware: 2.5+
      Model: QEMU HARDDISK
      Size: 256 MB
      DMA: true
      48-bit LBA
pcid-spawner: spawn "/usr/lib/drivers/ac97d"
 + ac97 pci-00-00-04.0
ac97d: set sample rate to 44100
redox login:`
	in := input(t, profile.Redox, log, record.Pass, "ide", "ac97")
	in.Work["ide"] = WorkResult{OK: true, Message: "wrote a file"}
	in.Work["ac97"] = WorkResult{OK: true, Message: "audiohw"}
	for _, d := range []string{"ide", "ac97"} {
		if c := in.Judge(d); c.Verdict != record.Pass {
			t.Errorf("%s: %+v", d, c)
		}
	}
	if ev := in.Evidence["ac97"]; ev.Node != "pci-00-00-04.0" || ev.IDs != "8086:2415" {
		t.Errorf("ac97 evidence %+v", ev)
	}
	// The codec without variable rate audio: ac97d's error line fails the check.
	bad := strings.Replace(log, "ac97d: set sample rate to 44100", "ac97d: VRA not supported and is currently required", 1)
	in = input(t, profile.Redox, bad, record.Pass, "ac97")
	in.Work["ac97"] = WorkResult{OK: true}
	if c := in.Judge("ac97"); c.Verdict != record.Fail {
		t.Errorf("ac97 without VRA: %+v", c)
	}
	// ided's banner alone is a start, not an initialised disk: the try decides.
	started := strings.Split(log, "  - channel 0")[0] + "redox login:"
	in = input(t, profile.Redox, started, record.Pass, "ide")
	in.Work["ide"] = WorkResult{Message: "write and read back: exit 1"}
	if c := in.Judge("ide"); c.Verdict != record.Fail {
		t.Errorf("ide with its banner only: %+v", c)
	}
	// The audio try names the driver that did not register audiohw.
	r := &tableRunner{out: map[string]string{RedoxSchemesCmd: "audio\ndebug\n"}}
	if w := redoxAudio("ac97d")(context.Background(), r, Evidence{}); w.OK || !strings.Contains(w.Message, "ac97d never registered") {
		t.Errorf("ac97 try without audiohw: %+v", w)
	}
}
