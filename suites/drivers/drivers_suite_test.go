// Package drivers_test is the drivers suite: for every job of the matrix's "drivers" suite,
// one spec per device the matrix lists (drivers/<device>): enumerated, driver bound and
// initialised, working, nothing hung or crashed on the way; SKIP where the host lacks it.
package drivers_test

import (
	"testing"

	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/drivers" // registers the drivers suite
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestDrivers(t *testing.T) {
	suitekit.Suite{Name: "drivers"}.Run(t)
}
