package job

import (
	"context"
	"path"

	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// SharedSuite is the part of a suite's registration (SuiteDef) the scheduler needs to run
// it in a boot it shares with the other suites of the same image x host: what the boot must
// have, its place in the boot, and its judge.
type SharedSuite struct {
	Order    int
	Fresh    bool
	BootArgs func(j matrix.Job) string
	Judge    func(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *Booted, o Options) (Judged, error)
}

// Judged is what a shared suite found.
type Judged struct {
	Checks    []record.Check
	Artifacts map[string]string
	// Unusable, when set, says why the guest cannot serve another suite (session lost,
	// crash, VM gone): the next suite gets a fresh boot with this reason recorded.
	Unusable string
}

// Shared returns the suite's shared form: every registered suite with a judge has one (a
// suite with a runner of its own, abi, boots nothing and has none).
func Shared(name string) (SharedSuite, bool) {
	d, err := LookupSuite(name)
	if err != nil || d.Judge == nil {
		return SharedSuite{}, false
	}
	return SharedSuite{Order: d.Order, Fresh: d.Fresh, BootArgs: d.BootArgs, Judge: d.Judge}, true
}

// RecordFor builds the record of job j (a suite that ran in this boot) with its checks.
// The boot's artifacts (transcript, host log) are listed relative to j's own job directory,
// so every suite of a shared boot links the same transcript.
func (b *Booted) RecordFor(j matrix.Job, checks []record.Check, arts map[string]string, bootRef record.Boot) *record.Record {
	r := b.recordOf(j, checks)
	if rel := record.JobDirName(j.ID()); rel != bootRef.Dir {
		for k, v := range r.Artifacts {
			r.Artifacts[k] = path.Join("..", bootRef.Dir, v)
		}
		for k, v := range arts {
			r.Artifacts[k] = path.Join("..", bootRef.Dir, v)
		}
	} else {
		for k, v := range arts {
			r.Artifacts[k] = v
		}
	}
	r.Boot = &bootRef
	return r
}
