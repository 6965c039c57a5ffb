// Package drivers_test is the drivers suite: for every job of the matrix's "drivers" suite,
// one spec per device the matrix lists (drivers/<device>): enumerated, driver bound and
// initialised, working, nothing hung or crashed on the way; SKIP where the host lacks it.
package drivers_test

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/drivers"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestDrivers(t *testing.T) {
	m, err := suitekit.Matrix()
	var devices []string
	if err == nil {
		devices = drivers.Devices(m)
	}
	suitekit.Suite{Name: "drivers", Job: drivers.RunJob, Checks: func(matrix.Job) []string {
		var names []string
		for _, d := range devices {
			names = append(names, drivers.CheckName(d))
		}
		return names
	}}.Run(t)
}
