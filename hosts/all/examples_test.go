package all

import (
	"strings"
	"testing"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// TestExampleHostsBuild uncomments the real-machine hosts of matrix/examples/redox.yaml
// (the lines between "# >>>" and "# <<<") and builds every host of the example through
// the real host kinds: what a Redox developer copies from the example must be accepted
// by the code that will drive their lab, not only by the schema.
func TestExampleHostsBuild(t *testing.T) {
	data, dir, err := matrix.ReadExample("redox.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		switch t := strings.TrimSpace(line); {
		case t == "# >>>", t == "# <<<":
			in = t == "# >>>"
			continue
		case in:
			line = strings.Replace(line, "# ", "", 1)
		}
		out = append(out, line)
	}
	m, err := matrix.LoadOptions{SkipFileChecks: true, Kinds: hosts.OptionChecks()}.Parse("redox.yaml", []byte(strings.Join(out, "\n")), dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("REDOX_LAB_BMC_PASSWORD", "example-only")
	built := map[string]bool{}
	for _, j := range m.Jobs(matrix.Filter{}) {
		if built[j.Host.Name] || (j.Host.Kind == "qemu" && j.Host.Accel == "auto") {
			continue // auto accel would probe KVM: not what this test is about
		}
		built[j.Host.Name] = true
		mach, err := hosts.New(j.Host, j.Image, hosts.Env{Dir: t.TempDir()})
		if err != nil {
			t.Errorf("host %s (%s): %v", j.Host.Name, j.Host.Kind, err)
			continue
		}
		mach.PowerOff(t.Context())
	}
	for _, want := range []string{"x220", "r630"} {
		if !built[want] {
			t.Errorf("example host %s was not built (built: %v)", want, built)
		}
	}
}
