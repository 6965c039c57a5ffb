package job

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// SuiteRunner runs one job of a suite and writes its record. The Ginkgo suites and
// `redox-hwtest run` call the same runner, so both give the same verdicts.
type SuiteRunner func(ctx context.Context, m *matrix.Matrix, j matrix.Job, o Options) (*record.Record, error)

// SuiteDef is a suite's runner and the names of the checks it writes, registered together
// so a suite cannot list a check its runner never writes (the Ginkgo suites take both
// from here).
type SuiteDef struct {
	Run SuiteRunner
	// Checks names the checks Run writes for a job, from the matrix alone (the Ginkgo tree
	// is built before anything boots). Checks Run adds below one of them
	// ("guest/func/<test>") are sub-checks of that one.
	Checks func(m *matrix.Matrix, j matrix.Job) []string
	// OncePerImage: the suite boots nothing and gives the same checks for every host
	// (abi), so it runs once per image.
	OncePerImage bool
}

var (
	suitesMu sync.Mutex
	suites   = map[string]SuiteDef{}
)

// RegisterSuite makes a suite runnable by `redox-hwtest run` and the Ginkgo suites.
func RegisterSuite(name string, d SuiteDef) {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	if _, dup := suites[name]; dup {
		panic("duplicate suite " + name)
	}
	if d.Run == nil || d.Checks == nil {
		panic("suite " + name + " registered without its runner or its check names")
	}
	suites[name] = d
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
		var names []string
		for n := range suites {
			names = append(names, n)
		}
		sort.Strings(names)
		return SuiteDef{}, fmt.Errorf("suite %q has no runner in this harness (have: %v)", name, names)
	}
	return d, nil
}

// SuiteNames lists the registered suites.
func SuiteNames() []string {
	suitesMu.Lock()
	defer suitesMu.Unlock()
	var names []string
	for n := range suites {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func init() { RegisterSuite("boot", SuiteDef{Run: RunBoot, Checks: BootCheckNames}) }

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

// RunBoot is the boot suite: boot, judge every stage, login and "no crash", write the record.
func RunBoot(ctx context.Context, m *matrix.Matrix, j matrix.Job, o Options) (*record.Record, error) {
	b := Boot(ctx, m, j, o)
	checks := b.BootChecks()
	b.Close() // the record then lists the complete transcript
	return b.WriteRecord(o.RunDir, checks)
}
