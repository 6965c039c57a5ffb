package job

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/classify"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/inventory"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// The boot's device inventory goes into the record, and netstack's readiness failure on a
// host that lists no NIC is expected there (base 9dd6901d drivers/pcid/src/main.rs:346,
// init/src/service.rs:65).
func TestRecordHoldsTheDeviceInventory(t *testing.T) {
	dir := t.TempDir()
	log := "2026-08-04T11-40-32.686Z [@pcid:346 INFO] PCI 0000:00:02.0 1B36:0010 01.08.02.02 1 NVME\n" +
		"2026-08-04T11-40-32.817Z [@pcid_spawner:88 INFO] pcid-spawner: spawn \"/scheme/initfs/lib/drivers/nvmed\"\n" +
		"2026-08-04T11-40-32.911Z [@nvmed::nvme::identify:214 INFO] NSID: 1 Size: 327680 Capacity: 327680\n" +
		"init: env -i INIT_NOTIFY=\"3\" \"netstack\" exited without notifying readiness\n" +
		"redox login: \n"
	if err := os.WriteFile(filepath.Join(dir, Transcript), []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	an := classify.New(profile.Redox)
	for i, l := range []string{"", "", "", "init: env -i INIT_NOTIFY=\"3\" \"netstack\" exited without notifying readiness", "redox login: "} {
		an.Feed(classify.Line{N: i + 1, Text: l})
	}
	b := &Booted{Dir: dir, Profile: profile.Redox,
		Job: matrix.Job{Host: matrix.Host{Name: "q35", Kind: "qemu", Devices: []string{"nvme"}}, Image: matrix.Image{Name: "redox"}}}
	b.Outcome.Analysis = an.Finish()
	b.takeInventory()
	r := b.Record(nil)
	if len(r.Devices) != 1 || r.Devices[0].Driver != "nvmed" || r.Devices[0].State != record.DeviceInit {
		t.Errorf("record devices: %+v", r.Devices)
	}
	if len(r.Events) != 1 || r.Events[0].Kind != inventory.KindExpected {
		t.Errorf("record events: %+v", r.Events)
	}
}
