package matrix

import (
	"errors"
	"slices"
	"strings"
)

// An OptionsValidator checks a host's kind-specific `options:` (Host.DecodeOptions plus the
// kind's own range checks) when the matrix loads, so a typo such as `disk_buss:` is bad
// input at its file:line:col, not a lab failure when the job boots. It must not touch the
// machine, the network or the environment: loading is pure.
type OptionsValidator func(h *Host) error

// kindOptions refuses a host whose kind is not among kinds (when kinds are given) and runs
// the kind's validator, if any; an error that is not already a *Error at its place is put
// at the host's options.
func (m *Matrix) kindOptions(h *Host, kinds map[string]OptionsValidator) *Error {
	if kinds == nil {
		return nil
	}
	check, ok := kinds[h.Kind]
	if !ok {
		have := make([]string, 0, len(kinds))
		for k := range kinds {
			have = append(have, k)
		}
		slices.Sort(have)
		return h.Errorf("kind", "host kind %q is not built into this program (have: %s)", h.Kind, strings.Join(have, ", "))
	}
	if check == nil {
		return nil
	}
	err := check(h)
	if err == nil {
		return nil
	}
	var me *Error
	if errors.As(err, &me) {
		return me
	}
	return h.Errorf("options", "%v", err)
}
