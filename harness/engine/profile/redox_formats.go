package profile

// RedoxPCIAddr is a PCI address as pcid prints it, in both forms in the field: pci_types'
// PciAddress Display "{:04x}:{:02x}:{:02x}.{}" ("0000:00:02.0", rust-osdev/pci_types
// 1138b2e src/lib.rs:55, in base since 7f0e870b 2026-02-07 "Update to pci_types 0.10.1",
// base 9dd6901d drivers/pcid/Cargo.toml:20) and before it "{:02x}-{:02x}:{:02x}.{}"
// ("00-00:02.0"). Segment, bus, device, function.
const RedoxPCIAddr = `(?:[0-9a-fA-F]{4}:|[0-9a-fA-F]{2,4}-)[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]`

// RedoxSpawn is pcid-spawner's start of a driver, group c the driver: base 9dd6901d
// drivers/pcid-spawner/src/main.rs:88 `log::info!("pcid-spawner: spawn {:?}", command)`
// (a Command's Debug: the environment it sets first, when any, then the program,
// "/usr/lib/drivers/<x>" or "/scheme/initfs/lib/drivers/<x>").
const RedoxSpawn = `pcid-spawner: spawn (?:[A-Z_][A-Z0-9_]*="[^"]*" )*"(?:[^"]*/)?(?P<c>[^"/]+)"`
