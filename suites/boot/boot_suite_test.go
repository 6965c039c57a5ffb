// Package boot_test is the boot suite: for every image x host job of the matrix's "boot"
// suite, one spec per boot stage, one for login, and one for "no crash signature in the
// whole log".
package boot_test

import (
	"testing"

	_ "github.com/redox-hwtest/redox-hwtest/harness/engine/job" // registers the boot suite
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestBoot(t *testing.T) {
	suitekit.Suite{Name: "boot"}.Run(t)
}
