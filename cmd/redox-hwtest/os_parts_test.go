package main

import (
	"slices"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/harness/lab/bisect"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/drivers"
	"github.com/redox-hwtest/redox-hwtest/harness/suites/network"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// Every OS profile has all its parts: the profile a matrix may name (matrix.KnownProfiles),
// its session dialect, its network dialect, its driver table and its boot editor for
// bisection (docs/extending.md, "adding an OS profile"). A missing part fails here, not as
// a SKIP in some job; a table for a profile that does not exist fails too.
func TestEveryProfileHasEveryPart(t *testing.T) {
	names := profile.Names()
	if known := slices.Sorted(slices.Values(matrix.KnownProfiles)); !slices.Equal(names, known) {
		t.Errorf("registered profiles %v, the matrix knows %v", names, known)
	}
	for _, n := range names {
		if session.Dialects[n] == nil {
			t.Errorf("profile %s has no session dialect (harness/engine/session.Dialects)", n)
		}
		if network.Dialects[n] == nil {
			t.Errorf("profile %s has no network dialect (harness/suites/network.Dialects)", n)
		}
		if drivers.Tables[n] == nil {
			t.Errorf("profile %s has no driver table (harness/suites/drivers.Tables)", n)
		}
		if bisect.Editors[n] == nil {
			t.Errorf("profile %s has no boot editor (harness/lab/bisect.Editors)", n)
		}
	}
	for what, keys := range map[string][]string{
		"session dialect": keysOf(session.Dialects), "network dialect": keysOf(network.Dialects),
		"driver table": keysOf(drivers.Tables), "boot editor": keysOf(bisect.Editors),
	} {
		for _, k := range keys {
			if !slices.Contains(names, k) {
				t.Errorf("%s for %s, which is no registered profile", what, k)
			}
		}
	}
}

func keysOf[V any](m map[string]V) []string {
	var k []string
	for n := range m {
		k = append(k, n)
	}
	return k
}
