package power

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/secrets"
	"github.com/redox-hwtest/redox-hwtest/matrix"
)

// relay is a pretend USB relay: a file holding "on" or "off".
func relay(t *testing.T) (Options, string) {
	dir := t.TempDir()
	st := filepath.Join(dir, "state")
	os.WriteFile(st, []byte("off\n"), 0o644)
	return Options{
		On:     "echo on > " + st,
		Off:    "echo off > " + st,
		Status: "cat " + st,
		MinOff: matrix.Duration{Duration: 300 * time.Millisecond},
	}, st
}

func TestCommandOnOffStatusAndMinOff(t *testing.T) {
	o, _ := relay(t)
	var log bytes.Buffer
	c, err := NewCommand(o, &log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if s, err := c.Status(ctx); s != Off || err != nil {
		t.Fatalf("status %v %v", s, err)
	}
	if err := c.On(ctx); err != nil {
		t.Fatal(err)
	}
	if s, _ := c.Status(ctx); s != On {
		t.Fatalf("after on: %v", s)
	}
	// Measured from before Off: min_off counts from when Off returned, which is later, so
	// this lower bound holds however slow the machine is.
	start := time.Now()
	if err := c.Off(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.On(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("off then on took %v; min_off is 300ms", d)
	}
	start = time.Now()
	if err := c.Cycle(ctx); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("cycle took %v", d)
	}
	if !strings.Contains(log.String(), "staying off") {
		t.Fatalf("log: %s", log.String())
	}
}

func TestSettleFailsWhenStatusDisagrees(t *testing.T) {
	o, _ := relay(t)
	o.On = "true" // the relay never switches
	o.Settle = matrix.Duration{Duration: 700 * time.Millisecond}
	c, _ := NewCommand(o, nil)
	err := c.On(context.Background())
	if err == nil || !strings.Contains(err.Error(), "still off (want on)") {
		t.Fatalf("got %v", err)
	}
}

func TestTimeoutKillsTheCommandGroup(t *testing.T) {
	c, _ := NewCommand(Options{On: "sleep 30 & sleep 30", Off: "true", Timeout: matrix.Duration{Duration: 300 * time.Millisecond}}, nil)
	start := time.Now()
	err := c.On(context.Background())
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}

func TestPasswordOnlyInTheEnvironment(t *testing.T) {
	t.Setenv("RHW_TEST_PDU_PW", "pdu-s3cret-41")
	dir := t.TempDir()
	out := filepath.Join(dir, "seen")
	c, err := NewCommand(Options{On: `printf %s "$RHW_PASSWORD" > ` + out + `; tr '\0' ' ' < /proc/$$/cmdline >> ` + out + `.argv`,
		Off: "true", Source: sourceEnv("RHW_TEST_PDU_PW")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.On(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(out); string(b) != "pdu-s3cret-41" {
		t.Fatalf("command saw %q", b)
	}
	if b, _ := os.ReadFile(out + ".argv"); strings.Contains(string(b), "pdu-s3cret") {
		t.Fatalf("password on the command line: %q", b)
	}
}

func TestParseState(t *testing.T) {
	for in, want := range map[string]State{"on\n": On, "OFF": Off, "Chassis Power is on": On, "1": On, "0\n": Off, "outlet 3: off": Off} {
		if got, err := ParseState(in); got != want || err != nil {
			t.Errorf("%q: %v %v", in, got, err)
		}
	}
	for _, in := range []string{"", "maybe", "on off"} {
		if _, err := ParseState(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
}

func TestPrepareCommandAndPXE(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "redox.img")
	os.WriteFile(img, []byte("IMG"), 0o644)
	flashed := filepath.Join(dir, "flashed")
	c, _ := NewCommand(Options{On: "true", Off: "true"}, nil)
	h := matrix.Host{Name: "board"}
	b := BootOptions{Boot: BootCommand, Flash: `cp "$RHW_IMAGE" ` + flashed}
	if err := b.Validate(&h); err != nil {
		t.Fatal(err)
	}
	p, err := Prepare(context.Background(), b, h, matrix.Image{Name: "redox", Path: img}, hosts.Env{Dir: dir}, c)
	if err != nil {
		t.Fatal(err)
	}
	p.Close()
	if got, _ := os.ReadFile(flashed); string(got) != "IMG" {
		t.Fatalf("flash wrote %q", got)
	}
	b = BootOptions{Boot: BootPXE}
	p, err = Prepare(context.Background(), b, h, matrix.Image{Name: "redox", Path: img}, hosts.Env{Dir: dir}, c)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.PXE == nil || !strings.Contains(strings.Join(p.Env, " "), "RHW_PXE_URL=http://127.0.0.1:") {
		t.Fatalf("%+v", p)
	}
	bad := BootOptions{Boot: "usb"}
	if err := bad.Validate(&h); err == nil {
		t.Fatal("unknown boot method accepted")
	}
	bad = BootOptions{Boot: BootCommand}
	if err := bad.Validate(&h); err == nil {
		t.Fatal("boot: command without flash accepted")
	}
}

func sourceEnv(name string) secrets.Source { return secrets.Source{Env: name} }
