package devices

import "testing"

// FuzzParseIDs: any bytes as an ID database parse or fail with an error, never panic,
// and a parsed database answers lookups.
func FuzzParseIDs(f *testing.F) {
	f.Add([]byte(idsSample))
	f.Add([]byte("C 0\n\tzz  x\nC \n8086\n\t\t\t\n\t100e\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		db, err := ParseIDs(data)
		if err != nil {
			return
		}
		ids := &IDs{PCI: db, USB: db}
		ids.Names("pci", "8086", "100e", "8086:001e")
		ids.ClassName("usb", "03.01.01")
		ids.TopClass("pci", "0")
		ids.Describe()
	})
}
