// Package abi_test is the relibc ABI suite: for every image of the matrix's "abi" suite that
// names an abi_baseline and a sysroot, one spec per class of break (soname, symbols,
// versioned redox_*_vN exports, signatures, struct layouts, loader).
package abi_test

import (
	"testing"

	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/abicheck" // registers the abi suite
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestABI(t *testing.T) {
	suitekit.Suite{Name: "abi"}.Run(t)
}
