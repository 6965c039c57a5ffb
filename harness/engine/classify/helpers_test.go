package classify

import (
	"github.com/redox-hwtest/redox-hwtest/fixtures"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"path/filepath"
	"testing"
)

// moduleRoot is the directory holding go.mod (matrix.ModuleRoot; tests run in their
// package's folder).
func moduleRoot(t testing.TB) string {
	t.Helper()
	dir, err := matrix.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// sharedLogs is ../shared/redox-logs beside the module root: real Redox transcripts that
// must not be copied into the repository. Tests that need them skip when it is absent (fail
// under fixtures.RequireSharedEnv, as in CI).
func sharedLogs(t testing.TB) string {
	t.Helper()
	return fixtures.SharedDir(t, "redox-logs")
}

func fixtureDir(t testing.TB) string {
	return filepath.Join(moduleRoot(t), "fixtures", "transcripts")
}
