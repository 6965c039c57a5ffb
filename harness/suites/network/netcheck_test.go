package network

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/engine/boot"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/job"
	"github.com/redox-hwtest/redox-hwtest/harness/engine/profile"
	"github.com/redox-hwtest/redox-hwtest/matrix"
	"github.com/redox-hwtest/redox-hwtest/record"
)

func booted(devices []string, v record.Verdict, xfail ...matrix.XFail) *job.Booted {
	return &job.Booted{
		Job:     matrix.Job{Host: matrix.Host{Name: "h", Devices: devices, XFail: xfail}, Image: matrix.Image{Name: "i"}},
		Profile: profile.Standin,
		Outcome: boot.Outcome{Verdict: v, Reason: "no output for 30s after stage drivers"},
	}
}

func TestNoNICSkipsAndHungBootIsNotJudged(t *testing.T) {
	rep := Run(context.Background(), booted([]string{"nvme"}, record.Pass), nil, Config{})
	for _, c := range rep.Checks {
		if c.Verdict != record.Skip || !strings.Contains(c.Message, "no network adapter") {
			t.Errorf("%s: %s %s", c.Name, c.Verdict, c.Message)
		}
	}
	rep = Run(context.Background(), booted([]string{"e1000"}, record.Hang,
		matrix.XFail{Check: "network/*", Reference: "https://example.invalid/1"}), nil, Config{})
	if len(rep.Checks) != 3 {
		t.Fatalf("%d checks", len(rep.Checks))
	}
	for _, c := range rep.Checks {
		if c.Verdict != record.XFail || !strings.Contains(c.Message, "not judged") {
			t.Errorf("%s: %s %s", c.Name, c.Verdict, c.Message)
		}
	}
}

func TestServerServesItsFileAndSettings(t *testing.T) {
	s, err := Start("127.0.0.1:0", 1000)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r, err := http.Get(s.URL("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	seen := s.AwaitTransfers(ctx, 1)
	if string(b) != string(s.Data) || len(seen) != 1 || seen[0].Bytes != 1000 {
		t.Fatalf("served %d bytes, transfers %+v", len(b), seen)
	}
	h := matrix.Host{Features: []string{"net.server=192.168.7.10", "net.listen=192.168.7.10", "net.gateway=192.168.7.1"}}
	c := ConfigFor(&h)
	if c.Server != "192.168.7.10" || c.Listen != "192.168.7.10" || c.Gateway != "192.168.7.1" {
		t.Fatalf("%+v", c)
	}
	if got := Dialects["standin"].Get("http://10.0.2.2:1/f"); !strings.Contains(got, "wget -q -O /tmp/.rhw-http 'http://10.0.2.2:1/f'") {
		t.Fatal(got)
	}
}

// W2 of the facts audit: a default Redox image prints no lease (dhcpd without -v), so the
// address comes from netcfg's addr/list, which is the bare CIDR (base 9dd6901d
// netstack/src/scheme/netcfg/mod.rs:195-209 `Some(addr) => format!("{addr}\n")`, `None =>
// "Not configured\n".into()`); `dhcpd -v` prints "DHCP: New IP: {}" and "DHCP: New
// Router: {}" (dhcpd/src/main.rs:306,322).
func TestRedoxLeaseFromAddrList(t *testing.T) {
	d := Dialects["redox"]
	match := func(pats []profile.Pattern, l string) map[string]string {
		for _, p := range pats {
			if g, ok := p.Match(l); ok {
				return g
			}
		}
		return nil
	}
	if g := match(d.LeaseOutput, "10.0.2.15/24"); g["ip"] != "10.0.2.15" {
		t.Errorf("addr/list output: %v", g)
	}
	for _, l := range []string{"Not configured", "Device not found", "DHCP: New IP: 10.0.2.15/24"} {
		if g := match(d.LeaseOutput, l); g != nil {
			t.Errorf("%q taken for a lease: %v", l, g)
		}
	}
	if g := match(d.Lease, "DHCP: New IP: 10.0.2.15/24"); g["ip"] != "10.0.2.15" {
		t.Errorf("dhcpd -v lease: %v", g)
	}
	if g := match(d.Lease, "DHCP: New Router: default via 10.0.2.2 dev eth0 src 10.0.2.15"); g["router"] != "10.0.2.2" || g["ip"] != "" {
		t.Errorf("dhcpd -v router: %v", g)
	}
}
