package job

import (
	"context"
	"path"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// SharedSuite is a suite that can run in a boot it shares with the other suites of the same
// image x host (harness/schedule runs them in one boot, in a fixed order). It says what the
// boot must have, and judges an already booted machine.
type SharedSuite struct {
	// Order places the suite among those sharing a boot: lower first. The boot suite is 0;
	// a suite that may end the guest (the guest suite's exit through isa-debug-exit) goes
	// last.
	Order int
	// Fresh declares that the suite always gets a boot of its own (a destructive test, a
	// kernel command line of its own).
	Fresh bool
	// BootArgs are guest switches the suite needs on the boot's command line; a shared
	// boot carries the switches of every suite planned into it.
	BootArgs func(j matrix.Job) string
	// Judge runs the suite's checks on b (booted for j's image and host, possibly by
	// another suite's job) and returns them with the suite's own artifacts (paths relative
	// to the boot's directory, b.Dir).
	Judge func(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *Booted, o Options) (Judged, error)
}

// Judged is what a shared suite found.
type Judged struct {
	Checks    []record.Check
	Artifacts map[string]string
	// Unusable, when set, says why the guest cannot serve another suite (session lost,
	// crash, VM gone): the next suite gets a fresh boot with this reason recorded.
	Unusable string
}

var shared = map[string]SharedSuite{}
var sharedMu sync.Mutex

// RegisterShared makes a suite able to share a boot (it must also be registered with
// RegisterSuite, which runs it on a boot of its own).
func RegisterShared(name string, s SharedSuite) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if _, dup := shared[name]; dup {
		panic("duplicate shared suite " + name)
	}
	shared[name] = s
}

// Shared returns the suite's shared form, if it has one.
func Shared(name string) (SharedSuite, bool) {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	s, ok := shared[name]
	return s, ok
}

// RecordFor builds the record of job j (a suite that ran in this boot) with its checks.
// The boot's artifacts (transcript, host log) are listed relative to j's own job directory,
// so every suite of a shared boot links the same transcript.
func (b *Booted) RecordFor(j matrix.Job, checks []record.Check, arts map[string]string, bootRef record.Boot) *record.Record {
	own := b.Job
	b.Job = j
	r := b.Record(checks)
	b.Job = own
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

func init() {
	RegisterShared("boot", SharedSuite{Order: 0,
		Judge: func(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *Booted, o Options) (Judged, error) {
			return Judged{Checks: b.BootChecks()}, nil
		}})
}
