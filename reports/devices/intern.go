package devices

import (
	"sync"

	"github.com/redox-hwtest/redox-hwtest/record"
)

// Interner replaces the strings of device records with one shared copy each (safe for
// concurrent use). The records of a year of nightlies repeat the same bus, IDs, classes,
// drivers, states and addresses hundreds of thousands of times; decoded from JSON each is
// its own allocation.
type Interner struct {
	mu  sync.Mutex
	tab map[string]string
}

// Devices interns the string fields of ds in place.
func (in *Interner) Devices(ds []record.Device) {
	if len(ds) == 0 {
		return
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.tab == nil {
		in.tab = map[string]string{}
	}
	for i := range ds {
		d := &ds[i]
		for _, f := range []*string{&d.Bus, &d.Address, &d.VendorID, &d.DeviceID, &d.Subsystem, &d.Class, &d.Driver, &d.State, &d.Note} {
			if *f == "" {
				continue
			}
			if s, ok := in.tab[*f]; ok {
				*f = s
			} else {
				in.tab[*f] = *f
			}
		}
	}
}
