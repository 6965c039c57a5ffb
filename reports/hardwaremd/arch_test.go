package hardwaremd

import "testing"

// HARDWARE.md writes 32-bit PCs as i686 (rows from 0.8.0) or i586 (since mk/config.mk renamed
// the target): a new i586 result for the same machine supersedes its older i686 row, and the
// row it writes says i586. An x86-64 result does not supersede a 32-bit row.
func TestI586SupersedesI686Row(t *testing.T) {
	old := &Line{OK: true, Row: Row{Vendor: "ASUS", Model: "Eee PC 900", Version: "0.8.0", Date: "2022-11-11",
		Variant: "desktop", Arch: "i686", Firmware: "BIOS", Report: "Boots to Orbital"}}
	ours := Row{Vendor: "ASUS", Model: "Eee PC 900", Version: "0.9.0", Date: "2026-12-01", Variant: "desktop", Arch: arch("i586"), Firmware: "BIOS"}
	if ours.Arch != "i586" {
		t.Errorf("row arch %q", ours.Arch)
	}
	if _, ok := supersededBy(old, []Entry{{Status: Booting, Row: ours}}); !ok {
		t.Error("the i586 result does not supersede the i686 row")
	}
	ours.Arch = arch("x86_64")
	if _, ok := supersededBy(old, []Entry{{Status: Booting, Row: ours}}); ok {
		t.Error("an x86-64 result superseded a 32-bit row")
	}
}
