package matrix

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"time"
)

// A Feature is one word a host may list under `features:`: a bare capability
// ("network") or a "key=value" setting ("char-delay=2ms"). Every entry is checked here
// when the matrix loads, so a typo (`net.srever=...`, `redoxer-exti`, `char-delay=banana`)
// is bad input at its file:line:col with a "did you mean", never a failure when the job
// runs. The packages that read a feature (harness/engine/session, harness/suites/network, hosts/qemu)
// use these names; a new feature is added to KnownFeatures (docs/extending.md).
type Feature struct {
	Name string
	// Value checks the value of a "key=value" feature; nil for a bare word.
	Value func(v string) error
	// Doc is one line for the error that lists the known features.
	Doc string
}

// The features the harness reads.
const (
	FeatureNetwork      = "network"        // the host reaches the controller over a network (the network suite)
	FeatureRedoxerExit  = "redoxer-exit"   // redoxer's exit device (hosts/qemu)
	FeatureISADebugExit = "isa-debug-exit" // the older name of redoxer-exit, x86_64 only
	SettingCharDelay    = "char-delay"     // pace typing for a slow UART (harness/engine/session)
	SettingNetListen    = "net.listen"     // where the network suite's HTTP server listens
	SettingNetServer    = "net.server"     // the address the guest reaches that server at
	SettingNetGateway   = "net.gateway"    // the address the network suite pings
)

// KnownFeatures lists every feature a host may name.
var KnownFeatures = []Feature{
	{Name: FeatureNetwork, Doc: "the host has a network the network suite can use (a NIC not listed in devices)"},
	{Name: FeatureRedoxerExit, Doc: "redoxer's exit device: isa-debug-exit on x86_64, semihosting on aarch64"},
	{Name: FeatureISADebugExit, Doc: "the older name of redoxer-exit (x86_64 only)"},
	{Name: SettingCharDelay, Value: durationValue, Doc: "a per-character typing delay such as 2ms"},
	{Name: SettingNetListen, Value: addressValue, Doc: "the controller address the HTTP server listens on"},
	{Name: SettingNetServer, Value: addressValue, Doc: "the address the guest reaches the HTTP server at"},
	{Name: SettingNetGateway, Value: addressValue, Doc: "the address to ping"},
}

func durationValue(v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("want a duration such as 2ms")
	}
	return nil
}

// addressValue accepts an IP address or a host name (no port: the suite picks ports).
func addressValue(v string) error {
	if net.ParseIP(v) != nil {
		return nil
	}
	if v == "" || len(v) > 253 || strings.ContainsAny(v, ":/ ") || strings.Trim(v, ".-") != v {
		return fmt.Errorf("want an IP address or a host name without a port")
	}
	return nil
}

// Setting returns the value of a "key=value" feature of h.
func (h *Host) Setting(key string) (string, bool) {
	for _, f := range h.Features {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v, true
		}
	}
	return "", false
}

// checkFeature checks one `features:` entry; the error's text names the known features
// and the nearest one.
func checkFeature(f string) error {
	key, val, setting := strings.Cut(f, "=")
	i := slices.IndexFunc(KnownFeatures, func(k Feature) bool { return k.Name == key })
	if i < 0 {
		names := make([]string, len(KnownFeatures))
		best, bestD := "", 3
		for j, k := range KnownFeatures {
			names[j] = k.Name
			if d := editDistance(strings.ToLower(key), k.Name); d < bestD {
				best, bestD = k.Name, d
			}
		}
		hint := ""
		if best != "" {
			hint = fmt.Sprintf("did you mean %q? ", best)
		}
		return fmt.Errorf("unknown feature %q (%sknown: %s)", clip(f), hint, strings.Join(names, ", "))
	}
	k := KnownFeatures[i]
	switch {
	case k.Value == nil && setting:
		return fmt.Errorf("feature %s takes no value (%s)", k.Name, k.Doc)
	case k.Value != nil && !setting:
		return fmt.Errorf("feature %s needs a value: %s=<value> (%s)", k.Name, k.Name, k.Doc)
	case k.Value != nil:
		if err := k.Value(val); err != nil {
			return fmt.Errorf("feature %s=%s: %v", k.Name, clip(val), err)
		}
	}
	return nil
}
