package job

import "github.com/redox-hwtest/redox-hwtest/record"

// ApplyXFail turns checks the host declares as known failures (matrix xfail entries for
// this image) into XFAIL, or XPASS when they passed. The boot suite's checks get it from
// BootChecks; other suites call it on their own checks.
func (b *Booted) ApplyXFail(checks []record.Check) []record.Check { return b.applyXFail(checks) }
