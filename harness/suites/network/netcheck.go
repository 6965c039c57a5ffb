package network

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/session"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// Check names, in report order.
const (
	CheckDHCP = "network/dhcp"
	CheckPing = "network/ping"
	CheckHTTP = "network/http"
)

// Checks are the network suite's checks.
var Checks = []string{CheckDHCP, CheckPing, CheckHTTP}

// NICs are the matrix devices that are network adapters.
var NICs = []string{"e1000", "virtio-net", "rtl8139", "rtl8168", "ixgbe"}

// Dialect is how a profile's guest gets and shows a lease and fetches over HTTP.
type Dialect struct {
	Profile string
	// BootArgs make the guest bring its network up at boot (the stand-in: fx.net=dhcp).
	BootArgs string
	// Lease finds the lease in the boot log or in LeaseCmd's output (named groups "ip"
	// and "router"; router is optional).
	Lease []profile.Pattern
	// LeaseCmd shows (or takes) a lease from the shell when the boot log has none;
	// LeaseOutput finds it in that command's output (named groups as Lease; empty: Lease).
	LeaseCmd    string
	LeaseOutput []profile.Pattern
	// RouteCmd prints the route table (a "default via <addr>" line) when the lease named
	// no router; empty when the profile has none.
	RouteCmd string
	Ping     func(addr string) string
	// Get downloads url into the guest's scratch file and prints its SHA-256 and size.
	Get func(url string) string
}

// Dialects by profile name.
var Dialects = map[string]*Dialect{
	"standin": {
		Profile:  "standin",
		BootArgs: "fx.net=dhcp",
		Lease: []profile.Pattern{
			profile.Re("dhcp lease", `FX: dhcp lease (?P<ip>\d+\.\d+\.\d+\.\d+) router (?P<router>\d+\.\d+\.\d+\.\d+)`),
			profile.Re("lease of", `udhcpc: lease of (?P<ip>\d+\.\d+\.\d+\.\d+) obtained from`),
		},
		LeaseCmd: "udhcpc -i eth0 -n -q -t 5 -s /etc/udhcpc.script",
		Ping:     func(a string) string { return "ping -c 3 -w 30 " + a },
		// The download alone is timed on the guest's clock (/proc/uptime, 10 ms steps).
		Get: func(u string) string {
			return "t0=$(cut -d' ' -f1 /proc/uptime); wget -q -O /tmp/.rhw-http '" + u + "'; r=$?; echo elapsed $t0 $(cut -d' ' -f1 /proc/uptime); " +
				"[ $r = 0 ] && sha256sum /tmp/.rhw-http && wc -c < /tmp/.rhw-http; r=$?; rm -f /tmp/.rhw-http; (exit $r)"
		},
	},
	// Redox: dhcpd prints its lease only with -v since netutils 430367c (2025-11-01,
	// "dhcpd: default to being quit with -v flag for verbose"; base 9dd6901d
	// dhcpd/src/main.rs:304-307 `if verbose { ... println!("DHCP: New IP: {}",
	// new_ip.trim()); }`, :320-323 "DHCP: New Router: {}" with the route list), and the
	// unit runs plain `dhcpd` (init.d/10_dhcpd.service), so a default image prints no
	// lease: the address is read from netstack's netcfg scheme, whose ifaces/eth0/addr/list
	// is the bare CIDR (netstack/src/scheme/netcfg/mod.rs:195-209 `format!("{addr}\n")`,
	// else "Not configured" / "Device not found"). It needs a login whose namespace has
	// netcfg (root; redox config/base.toml). "netcfg-auto: DHCP configured: ..." is
	// RedoxOS-Nix's own (no upstream source prints it), kept for those images.
	"redox": {
		Profile: "redox",
		Lease: []profile.Pattern{
			profile.Re("New IP", `DHCP: New IP: (?P<ip>\d+\.\d+\.\d+\.\d+)`),
			profile.Re("New Router", `DHCP: New Router: default via (?P<router>\d+\.\d+\.\d+\.\d+)`),
			profile.Re("DHCP configured", `DHCP configured: (?P<ip>\d+\.\d+\.\d+\.\d+)`),
		},
		LeaseCmd: "cat /scheme/netcfg/ifaces/eth0/addr/list",
		LeaseOutput: []profile.Pattern{
			profile.Re("", `^\s*(?P<ip>\d+\.\d+\.\d+\.\d+)/\d+\s*$`),
		},
		// netstack's route table (base netstack/src/router/route_table.rs Display:
		// "default via 10.0.2.2 dev eth0 src 10.0.2.15"); dhcpd's lease line names no router.
		RouteCmd: "cat /scheme/netcfg/route/list",
		Ping:     func(a string) string { return "ping -c 3 " + a },
		Get: func(u string) string {
			return "curl -s -o /tmp/.rhw-http " + u + " && sha256sum /tmp/.rhw-http && wc -c < /tmp/.rhw-http"
		},
	},
}

// BootArgs are the boot switches the network suite needs for a profile.
func BootArgs(profileName string) string {
	if d := Dialects[profileName]; d != nil {
		return d.BootArgs
	}
	return ""
}

// Config is where the server listens and how the guest reaches it, from the host's
// settings (matrix.Host.Setting): net.listen (default 127.0.0.1), net.server (default
// 10.0.2.2, QEMU user networking's address of the host), net.gateway (default: the
// lease's router, else the server address), and the file size.
type Config struct {
	Listen, Server, Gateway string
	Size                    int
}

// ConfigFor reads the host's settings.
func ConfigFor(h *matrix.Host) Config {
	c := Config{Listen: "127.0.0.1", Server: "10.0.2.2", Size: 16 << 20}
	if v, ok := h.Setting(matrix.SettingNetListen); ok {
		c.Listen = v
	}
	if v, ok := h.Setting(matrix.SettingNetServer); ok {
		c.Server = v
	}
	if v, ok := h.Setting(matrix.SettingNetGateway); ok {
		c.Gateway = v
	}
	return c
}

// HasNIC reports whether the host has a network adapter the suite can use.
func HasNIC(h *matrix.Host) bool {
	for _, d := range NICs {
		if h.HasDevice(d) {
			return true
		}
	}
	return h.HasFeature(matrix.FeatureNetwork)
}

// Report is the network suite's result for one job.
type Report struct {
	Checks  []record.Check
	Lease   string
	Router  string
	Session *session.Session
}

var (
	reSHA  = regexp.MustCompile(`(?m)^([0-9a-f]{64})\b`)
	reSize = regexp.MustCompile(`(?m)^\s*(\d+)\s*$`)
	reVia  = regexp.MustCompile(`default via (\d+\.\d+\.\d+\.\d+)`)
	reRecv = regexp.MustCompile(`(\d+) packets transmitted, (\d+) (?:packets )?received`)
	reTook = regexp.MustCompile(`elapsed (\d+(?:\.\d+)?) (\d+(?:\.\d+)?)`)
)

// Run judges the network of a booted job against the job's server.
func Run(ctx context.Context, b *job.Booted, srv *Server, cfg Config) Report {
	var rep Report
	mk := func(name string, v record.Verdict, msg string) record.Check {
		return record.Check{Name: name, Verdict: v, Message: msg, Stage: "network"}
	}
	all := func(v record.Verdict, msg string, comp string) {
		for _, n := range Checks {
			c := mk(n, v, msg)
			c.Component = comp
			rep.Checks = append(rep.Checks, c)
		}
	}
	d := (*Dialect)(nil)
	if b.Profile != nil {
		d = Dialects[b.Profile.Name]
	}
	switch {
	case !HasNIC(&b.Job.Host):
		all(record.Skip, fmt.Sprintf("host %s has no network adapter (devices %v)", b.Job.Host.Name, b.Job.Host.Devices), "")
	case d == nil:
		all(record.Skip, "no network checks for this profile", "")
	case b.Outcome.Verdict != record.Pass:
		v := b.Outcome.Verdict
		if v != record.Hang && v != record.Crash {
			v = record.Infra
		}
		all(v, "not judged: the boot did not reach the shell: "+b.Outcome.Reason, b.Outcome.Analysis.LastComponent)
	default:
		rep.run(ctx, b, d, srv, cfg, mk)
	}
	rep.Checks = b.ApplyXFail(rep.Checks)
	for i := range rep.Checks {
		if rep.Checks[i].Verdict.Failed() {
			rep.Checks[i].Excerpt = b.Excerpt(2048)
		}
	}
	return rep
}

func (rep *Report) run(ctx context.Context, b *job.Booted, d *Dialect, srv *Server, cfg Config, mk func(string, record.Verdict, string) record.Check) {
	leaseLine := 0
	find := func(lines []string, pats []profile.Pattern) {
		for i, l := range lines {
			for _, p := range pats {
				if g, ok := p.Match(l); ok {
					if g["ip"] != "" {
						rep.Lease, leaseLine = g["ip"], i+1
					}
					if g["router"] != "" {
						rep.Router = g["router"]
					}
				}
			}
		}
	}
	find(b.BootLog(), d.Lease)
	s, err := session.Open(ctx, b, Needs...)
	if err != nil {
		for _, n := range Checks {
			rep.Checks = append(rep.Checks, mk(n, record.Infra, "no shell: "+err.Error()))
		}
		return
	}
	rep.Session = s
	dhcp := mk(CheckDHCP, record.Pass, "")
	if rep.Lease != "" {
		dhcp.Message = fmt.Sprintf("lease %s", rep.Lease)
		if rep.Router != "" {
			dhcp.Message += " from " + rep.Router
		}
		dhcp.Message += fmt.Sprintf(" (boot log line %d)", leaseLine)
	} else if d.LeaseCmd != "" {
		out, code, err := s.Run(ctx, d.LeaseCmd)
		switch {
		case err != nil:
			dhcp.Verdict, dhcp.Message = record.Infra, err.Error()
		default:
			pats := d.LeaseOutput
			if len(pats) == 0 {
				pats = d.Lease
			}
			find(strings.Split(out, "\n"), pats)
			if rep.Lease == "" {
				dhcp.Verdict = record.Fail
				dhcp.Message = fmt.Sprintf("no lease in the boot log, and `%s` got none (exit %d): %s", d.LeaseCmd, code, oneLine(out, 200))
			} else {
				dhcp.Message = fmt.Sprintf("lease %s (`%s`: the boot log had none)", rep.Lease, d.LeaseCmd)
				if rep.Router != "" {
					dhcp.Message += " from " + rep.Router
				}
			}
		}
	} else {
		dhcp.Verdict, dhcp.Message = record.Fail, "no lease in the boot log"
	}
	rep.Checks = append(rep.Checks, dhcp)
	if dhcp.Verdict != record.Pass {
		rep.Checks = append(rep.Checks, mk(CheckPing, dhcp.Verdict, "not tried: no lease"), mk(CheckHTTP, dhcp.Verdict, "not tried: no lease"))
		return
	}

	gw, what := cfg.Gateway, "gateway"
	if gw == "" {
		gw = rep.Router
	}
	if gw == "" && d.RouteCmd != "" {
		if out, code, err := s.Run(ctx, d.RouteCmd); err == nil && code == 0 {
			if m := reVia.FindStringSubmatch(out); m != nil {
				gw = m[1]
			}
		}
	}
	if gw == "" {
		// No gateway known: ping the harness's own server, and say so.
		gw, what = cfg.Server, "the harness's server (no gateway known: set net.gateway)"
	}
	ping := mk(CheckPing, record.Pass, "")
	out, code, err := s.Run(ctx, d.Ping(gw))
	m := reRecv.FindStringSubmatch(out)
	switch {
	case err != nil:
		ping.Verdict, ping.Message = record.Infra, err.Error()
	case code != 0 || m == nil || m[2] == "0":
		ping.Verdict, ping.Message = record.Fail, fmt.Sprintf("ping %s: exit %d: %s", gw, code, oneLine(out, 200))
	default:
		ping.Message = fmt.Sprintf("%s/%s echo replies from %s %s", m[2], m[1], what, gw)
	}
	rep.Checks = append(rep.Checks, ping)

	http := mk(CheckHTTP, record.Pass, "")
	url := srv.URL(cfg.Server)
	start := time.Now()
	out, code, err = s.Run(ctx, d.Get(url))
	took := time.Since(start)
	sum, size := reSHA.FindStringSubmatch(out), reSize.FindStringSubmatch(out)
	switch {
	case err != nil:
		http.Verdict, http.Message = record.Infra, err.Error()
	case code != 0 || sum == nil:
		http.Verdict, http.Message = record.Fail, fmt.Sprintf("GET %s: exit %d: %s", url, code, oneLine(out, 200))
	case sum[1] != srv.SHA256:
		http.Verdict, http.Message = record.Fail, fmt.Sprintf("GET %s: SHA-256 %s, the server sent %s (%d bytes; guest size %v)", url, sum[1], srv.SHA256, len(srv.Data), size)
	default:
		http.Message = fmt.Sprintf("GET %s: %d bytes, SHA-256 matches", url, len(srv.Data))
		http.Metrics = map[string]float64{"http_command_bytes_per_s": float64(len(srv.Data)) / took.Seconds()}
		if m := reTook.FindStringSubmatch(out); m != nil {
			t0, _ := strconv.ParseFloat(m[1], 64)
			t1, _ := strconv.ParseFloat(m[2], 64)
			if d := t1 - t0; d > 0 {
				http.Duration = time.Duration(d * float64(time.Second))
				http.Metrics["http_bytes_per_s"] = float64(len(srv.Data)) / d
				http.Message += fmt.Sprintf("; %.2f MiB/s (the download alone, %.2f s on the guest's clock)", float64(len(srv.Data))/d/(1<<20), d)
			}
		}
		// The server's view is not a rate: QEMU user networking reads the whole file
		// into its own buffers long before the guest has it.
		http.Message += fmt.Sprintf("; %.2f MiB/s for the whole command (%s, with typing and checksum)", float64(len(srv.Data))/took.Seconds()/(1<<20), took.Round(time.Millisecond))
	}
	rep.Checks = append(rep.Checks, http)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}
