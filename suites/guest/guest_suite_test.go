// Package guest_test is the in-guest suite: the suite's commands run in the guest with their
// output compared to expected files, the FUNC_TEST serial protocol (each test a report entry
// of guest/func, and its own testcase in the merged JUnit), and redoxer's exit status.
package guest_test

import (
	"testing"

	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/guest" // registers the guest suite
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestGuest(t *testing.T) {
	suitekit.Suite{Name: "guest"}.Run(t)
}
