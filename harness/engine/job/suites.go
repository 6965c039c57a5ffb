package job

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// SuiteRunner runs one job of a suite and writes its record. The Ginkgo suites and
// `redox-hwtest run` call the same runner, so both give the same verdicts.
type SuiteRunner func(ctx context.Context, m *matrix.Matrix, j matrix.Job, o Options) (*record.Record, error)

// SuiteDef is everything a suite registers, once (RegisterSuite): the names of the checks
// it writes, what its session must reach in the guest, and one judge of a booted guest.
// Its runner on a boot of its own (the Ginkgo suites, a fresh boot in `run`) is built from
// the judge (OwnBoot), and the scheduler calls the same judge on a boot shared with the
// image x host's other suites: the two paths cannot differ. docs/extending.md: adding a suite.
type SuiteDef struct {
	// Checks names the checks the suite writes for a job, from the matrix alone (the Ginkgo
	// tree is built before anything boots). Checks it adds below one of them
	// ("guest/func/<test>") are sub-checks of that one.
	Checks func(m *matrix.Matrix, j matrix.Job) []string
	// Needs are what the suite's in-guest session must reach (session.NeedLogs, ...: Redox
	// scheme names the profile's accounts are matched against); the judge opens its
	// session with these. Nil: a plain shell.
	Needs []string
	// Judge runs the suite's checks on b (booted for j's image and host, by this job or by
	// another suite's job of the same pair) and returns them with the suite's own artifacts
	// (paths relative to the boot's directory, b.Dir).
	Judge func(ctx context.Context, m *matrix.Matrix, j matrix.Job, b *Booted, o Options) (Judged, error)
	// Order places the suite among those sharing a boot: lower first. The boot suite is 0;
	// a suite that may end the guest (the guest suite's exit through isa-debug-exit) goes
	// last.
	Order int
	// Fresh declares that the suite always gets a boot of its own (a destructive test, a
	// kernel command line of its own).
	Fresh bool
	// BootArgs are guest switches the suite needs on the boot's command line; a shared boot
	// carries the switches of every suite planned into it.
	BootArgs func(j matrix.Job) string

	// Run is only for a suite that boots nothing (abi), instead of Judge.
	Run SuiteRunner
	// OncePerImage: the suite boots nothing and gives the same checks for every host
	// (abi), so it runs once per image.
	OncePerImage bool
}

var (
	suitesMu sync.Mutex
	suites   = map[string]SuiteDef{}
)

// RegisterSuite makes a suite runnable by `redox-hwtest run`, the scheduler's shared boots
// and the Ginkgo suites. It panics (at start-up) on a definition without its check names,
// or with neither or both of a judge and a runner of its own.
func RegisterSuite(name string, d SuiteDef) {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	if _, dup := suites[name]; dup {
		panic("duplicate suite " + name)
	}
	if d.Checks == nil || (d.Run == nil) == (d.Judge == nil) {
		panic("suite " + name + " registered without its check names, or without exactly one of Judge and Run")
	}
	if d.Judge != nil {
		d.Run = OwnBoot(d)
	}
	suites[name] = d
}

// OwnBoot is the runner of a suite on a boot of its own, built from its judge: boot (with
// the suite's guest switches), judge, write the record with the judge's artifacts.
func OwnBoot(d SuiteDef) SuiteRunner {
	return func(ctx context.Context, m *matrix.Matrix, j matrix.Job, o Options) (*record.Record, error) {
		if d.BootArgs != nil {
			o.BootArgs = strings.TrimSpace(o.BootArgs + " " + d.BootArgs(j))
		}
		b := Boot(ctx, m, j, o)
		defer b.Close()
		jd, err := d.Judge(ctx, m, j, b, o)
		if err != nil {
			return nil, err
		}
		b.Close() // the record then lists the complete transcript
		rec := b.Record(jd.Checks)
		for k, v := range jd.Artifacts {
			rec.Artifacts[k] = v
		}
		_, err = record.Write(o.RunDir, rec)
		return rec, err
	}
}

// Suite returns a registered runner.
func Suite(name string) (SuiteRunner, error) {
	d, err := LookupSuite(name)
	return d.Run, err
}

// LookupSuite returns a registered suite.
func LookupSuite(name string) (SuiteDef, error) {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	d, ok := suites[name]
	if !ok {
		return SuiteDef{}, fmt.Errorf("suite %q has no runner in this harness (have: %v)", name, slices.Sorted(maps.Keys(suites)))
	}
	return d, nil
}

// SuiteNames lists the registered suites.
func SuiteNames() []string {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	return slices.Sorted(maps.Keys(suites))
}

func init() {
	RegisterSuite("boot", SuiteDef{Order: 0, Checks: BootCheckNames,
		Judge: func(_ context.Context, _ *matrix.Matrix, _ matrix.Job, b *Booted, _ Options) (Judged, error) {
			return Judged{Checks: b.BootChecks()}, nil
		}})
}

// BootCheckNames are the checks RunBoot writes (BootChecks): one per stage of the image's
// profile but the login stage, boot/login and boot/no-crash.
func BootCheckNames(_ *matrix.Matrix, j matrix.Job) []string {
	p, err := profile.Get(j.Image.Profile)
	if err != nil {
		return []string{"boot/login"}
	}
	// The stages of this image's variant, as Boot follows them (a desktop image has the
	// screen-only desktop stage, the others do not).
	p = p.ForVariant(j.Image.Variant)
	var names []string
	for _, st := range p.Stages {
		if st.Name != p.Login.Stage {
			names = append(names, "boot/"+st.Name)
		}
	}
	return append(names, "boot/login", "boot/no-crash")
}
