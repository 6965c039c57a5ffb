package job

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// SuiteRunner runs one job of a suite and writes its record. The Ginkgo suites and
// `redox-hwtest run` call the same runner, so both give the same verdicts.
type SuiteRunner func(ctx context.Context, m *matrix.Matrix, j matrix.Job, o Options) (*record.Record, error)

var (
	suitesMu sync.Mutex
	suites   = map[string]SuiteRunner{}
)

// RegisterSuite makes a suite runnable by `redox-hwtest run`.
func RegisterSuite(name string, r SuiteRunner) {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	if _, dup := suites[name]; dup {
		panic("duplicate suite " + name)
	}
	suites[name] = r
}

// Suite returns a registered runner.
func Suite(name string) (SuiteRunner, error) {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	r, ok := suites[name]
	if !ok {
		var names []string
		for n := range suites {
			names = append(names, n)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("suite %q has no runner in this harness (have: %v)", name, names)
	}
	return r, nil
}

func init() { RegisterSuite("boot", RunBoot) }

// RunBoot is the boot suite: boot, judge every stage, login and "no crash", write the record.
func RunBoot(ctx context.Context, m *matrix.Matrix, j matrix.Job, o Options) (*record.Record, error) {
	b := Boot(ctx, m, j, o)
	checks := b.BootChecks()
	b.Close() // the record then lists the complete transcript
	return b.WriteRecord(o.RunDir, checks)
}
