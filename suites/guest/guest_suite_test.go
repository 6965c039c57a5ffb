// Package guest_test is the in-guest suite: the suite's commands run in the guest with their
// output compared to expected files, the FUNC_TEST serial protocol (each test a report entry
// of guest/func, and its own testcase in the merged JUnit), and redoxer's exit status.
package guest_test

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/guest"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestGuest(t *testing.T) {
	suitekit.Suite{Name: "guest", Job: guest.RunJob, Checks: func(j matrix.Job) []string {
		var names []string
		for _, c := range j.Suite.Commands {
			names = append(names, guest.CommandCheck(c.Name))
		}
		names = append(names, guest.CheckFunc)
		if guest.HasExitDevice(j.Host) {
			names = append(names, guest.CheckExitStatus)
		}
		return names
	}}.Run(t)
}
