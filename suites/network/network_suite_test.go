// Package network_test is the network suite: DHCP lease, ping of the gateway, and an HTTP
// download with a known checksum from a server the harness starts for the job.
package network_test

import (
	"testing"

	_ "github.com/redox-hwtest/redox-hwtest/harness/suites/network" // registers the network suite
	"github.com/redox-hwtest/redox-hwtest/suites/suitekit"
)

func TestNetwork(t *testing.T) {
	suitekit.Suite{Name: "network"}.Run(t)
}
