// Package abi_test is the relibc ABI suite: for every image of the matrix's "abi" suite that
// names an abi_baseline and a sysroot, one spec per class of break (soname, symbols,
// versioned redox_*_vN exports, signatures, struct layouts, loader).
package abi_test

import (
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/abicheck"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestABI(t *testing.T) {
	suitekit.Suite{Name: "abi", Job: abicheck.Run, OncePerImage: true,
		Checks: func(matrix.Job) []string { return abicheck.CheckNames() }}.Run(t)
}
