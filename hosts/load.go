package hosts

import "github.com/redox-hwtest/redox-hwtest/matrix"

// LoadMatrix is how a program that runs jobs loads its matrix (cmd/redox-hwtest and
// suites/suitekit; one start-up sequence): the matrix checked against the host kinds this
// program registered (their options, at file:line:col), then the lab's endpoints (two hosts
// on one console, BMC or outlet). o.Kinds is filled in here.
func LoadMatrix(path string, o matrix.LoadOptions) (*matrix.Matrix, error) {
	o.Kinds = OptionChecks()
	m, err := o.Load(path)
	if err != nil {
		return nil, err
	}
	if err := CheckEndpoints(m); err != nil {
		return nil, err
	}
	return m, nil
}
