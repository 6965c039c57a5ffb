// Package boot_test is the boot suite: for every image x host job of the matrix's "boot"
// suite, one spec per boot stage, one for login, and one for "no crash signature in the
// whole log".
package boot_test

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/job"
	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestBoot(t *testing.T) {
	suitekit.Suite{Name: "boot", Job: job.RunBoot, Checks: checkNames}.Run(t)
}

func checkNames(j matrix.Job) []string {
	p, err := profile.Get(j.Image.Profile)
	if err != nil {
		return []string{"boot/login"}
	}
	var names []string
	for _, st := range p.Stages {
		if st.Name != p.Login.Stage {
			names = append(names, "boot/"+st.Name)
		}
	}
	return append(names, "boot/login", "boot/no-crash")
}
