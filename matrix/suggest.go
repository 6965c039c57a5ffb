package matrix

import (
	"fmt"
	"strings"
)

// DidYouMean is `did you mean "vnc"?` when got is one or two edits from one of known (a
// kind's option value such as screen: vcn), else "": the same hint an unknown key gets,
// for the values a host kind checks itself after DecodeOptions.
func DidYouMean(got string, known ...string) string {
	best, bestD := "", 3
	for _, k := range known {
		if d := editDistance(strings.ToLower(got), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("did you mean %q?", best)
}
