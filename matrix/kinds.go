package matrix

import (
	"errors"
	"sync"
)

// An OptionsValidator checks a host's kind-specific `options:` (Host.DecodeOptions plus the
// kind's own range checks) when the matrix loads, so a typo such as `disk_buss:` is bad
// input at its file:line:col, not a lab failure when the job boots. It must not touch the
// machine, the network or the environment: loading is pure.
type OptionsValidator func(h *Host) error

var (
	validatorsMu sync.RWMutex
	validators   = map[string]OptionsValidator{}
)

// RegisterOptions registers the options validator of a host kind. hosts.Register calls it
// for each kind from the kind's init() (hosts/<kind>), so the matrix never imports them: a program that loads
// matrices links hosts/all, and hosts/all's test checks every kind has registered one.
// A kind with no validator registered has its options checked when the job builds its
// machine.
func RegisterOptions(kind string, v OptionsValidator) {
	validatorsMu.Lock()
	defer validatorsMu.Unlock()
	validators[kind] = v
}

// HasOptionsValidator reports whether kind has registered an options validator.
func HasOptionsValidator(kind string) bool {
	validatorsMu.RLock()
	defer validatorsMu.RUnlock()
	return validators[kind] != nil
}

func optionsValidator(kind string) OptionsValidator {
	validatorsMu.RLock()
	defer validatorsMu.RUnlock()
	return validators[kind]
}

// kindOptions runs the host's kind validator, if any; an error that is not already a
// *Error at its place is put at the host's options.
func (m *Matrix) kindOptions(h *Host) *Error {
	check := optionsValidator(h.Kind)
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
