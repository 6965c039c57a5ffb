package hosts

import (
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"strings"

	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// An endpoint is what one run must have to itself: a tty device, a ser2net port, a BMC, a
// power outlet. Two host names can reach the same endpoint (one board under two names, an
// old and a new name for one console): the lock of a real machine is keyed by its
// endpoints, not by its name, and a matrix in which two hosts share one is refused when it
// loads. Keys are "kind:canonical address", e.g. "tty:/dev/ttyUSB0" (symbolic links such
// as /dev/serial/by-id/... resolved), "tcp:10.0.0.5:3001", "bmc:10.0.0.9:623".

// EndpointFunc says which endpoints a host of one kind uses. It gets the host's options
// already decoded by the kind, so a bad option is reported by the kind's own check.
type EndpointFunc func(h *matrix.Host) ([]string, error)

var endpointFuncs = map[string]EndpointFunc{}

// Endpoints lists the host's endpoints, sorted (nil for a kind without any).
func Endpoints(h *matrix.Host) ([]string, error) {
	mu.Lock()
	f := endpointFuncs[h.Kind]
	mu.Unlock()
	if f == nil {
		return nil, nil
	}
	eps, err := f(h)
	if err != nil {
		return nil, err
	}
	sort.Strings(eps)
	return eps, nil
}

// CheckEndpoints refuses a matrix in which two hosts share an endpoint: they would be
// booted at once on one machine (or read from one console) by two jobs. The error points at
// the second host's options in the matrix file.
func CheckEndpoints(m *matrix.Matrix) error {
	owner := map[string]string{}
	for i := range m.Hosts {
		h := &m.Hosts[i]
		eps, err := Endpoints(h)
		if err != nil {
			return err
		}
		for _, e := range eps {
			if first, dup := owner[e]; dup && first != h.Name {
				return h.Errorf("options", "host %q uses %s, which host %q uses too: one endpoint is one machine, give it one host entry", h.Name, e, first)
			}
			owner[e] = h.Name
		}
	}
	return nil
}

// TTYEndpoint is the endpoint of a local serial device: the device path with symbolic links
// resolved (a by-id name and /dev/ttyUSB0 are one device), or the cleaned path when it
// does not exist here (yet).
func TTYEndpoint(device string) string {
	p := filepath.Clean(device)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		p = r
	}
	return "tty:" + p
}

// NetEndpoint is the endpoint of a TCP service ("tcp" for ser2net, "bmc" for a BMC) at
// host:port: names are looked up, so "localhost:3001" and "127.0.0.1:3001" are one
// endpoint; a name that does not resolve is kept as written (lower case).
func NetEndpoint(kind, address string) string {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return kind + ":" + strings.ToLower(address)
	}
	host = strings.ToLower(host)
	if ip := net.ParseIP(host); ip != nil {
		host = ip.String()
	} else if addrs, err := net.LookupHost(host); err == nil && len(addrs) > 0 {
		sort.Strings(addrs)
		host = addrs[0]
		for _, a := range addrs {
			if ip := net.ParseIP(a); ip != nil && ip.To4() != nil {
				host = ip.String() // prefer IPv4 so "localhost" is 127.0.0.1 everywhere
				break
			}
		}
	}
	return fmt.Sprintf("%s:%s", kind, net.JoinHostPort(host, port))
}
