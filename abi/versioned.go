package abi

import (
	"strconv"
	"strings"
)

// Redox versions its own exports by name (redox_open_v1, redox_fcntl_v0,
// relibc_start_v1) rather than by GNU symbol versions. A _vN export is
// replaced by adding _vN+1, and may leave only when the successor exists
// and the release series is over (Options.AllowVersionRetire).

// splitVersioned splits "redox_open_v1" into ("redox_open", 1). ok is
// false for a name without a _vN suffix. Leading zeros ("_v01") do not
// count as a version: such a name would have no unique successor.
func splitVersioned(name string) (base string, n int, ok bool) {
	i := strings.LastIndex(name, "_v")
	if i <= 0 || i+2 >= len(name) {
		return "", 0, false
	}
	digits := name[i+2:]
	if len(digits) > 1 && digits[0] == '0' {
		return "", 0, false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		return "", 0, false
	}
	return name[:i], n, true
}

// successorName is the name that replaces a _vN export: base_vN+1.
func successorName(name string) (string, bool) {
	base, n, ok := splitVersioned(name)
	if !ok {
		return "", false
	}
	return base + "_v" + strconv.Itoa(n+1), true
}
