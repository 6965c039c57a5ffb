package bisect

import (
	"context"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redox-hwtest/redox-hwtest/harness/console"
	"github.com/redox-hwtest/redox-hwtest/harness/profile"
	"github.com/redox-hwtest/redox-hwtest/record"
)

// fakeBoots hang unless the culprit is skipped.
func fakeBoots(culprit, attributed string, res *Result) func([]string) Attempt {
	return func(skip []string) Attempt {
		a := Attempt{Skip: skip, Names: skip, Verdict: record.Hang, Reason: "no output", Stalled: attributed}
		if slices.Contains(skip, culprit) {
			a.Verdict, a.Stalled = record.Pass, ""
		}
		res.Attempts = append(res.Attempts, a)
		return a
	}
}

func id(d []string) []string { return d }

func TestSearch(t *testing.T) {
	cands := []string{"e1000", "nvme", "hda", "xhci", "ahci"}
	for _, tc := range []struct {
		culprit, attributed string
		noAttr              bool
		boots               int
	}{
		{"nvme", "nvme", false, 2}, // the attribution is right: one more boot
		{"hda", "nvme", false, 6},  // wrong: skip nvme, then all the rest, then halve them
		{"xhci", "nvme", true, 5},  // attribution ignored: all, then halving
		{"e1000", "", false, 4},    // no attribution
		{"ahci", "", false, 6},     // the last candidate
	} {
		var res Result
		search(&res, cands, tc.noAttr, fakeBoots(tc.culprit, tc.attributed, &res), id)
		var trace []string
		for _, a := range res.Attempts {
			trace = append(trace, strings.Join(a.Skip, "+")+"="+string(a.Verdict))
		}
		if res.Culprit != tc.culprit || !res.Reproduced || len(res.Attempts) != tc.boots {
			t.Errorf("culprit %s: found %q (%s); boots %v", tc.culprit, res.Culprit, res.Summary, trace)
		}
		t.Logf("%s: %d boots: %v", tc.culprit, len(res.Attempts), trace)
	}
	// Nothing helps: not a driver hang.
	var res Result
	search(&res, cands, false, fakeBoots("none", "", &res), id)
	if res.Culprit != "" || !strings.Contains(res.Summary, "still hangs") {
		t.Errorf("no culprit: %q %s", res.Culprit, res.Summary)
	}
	// The first boot passes: nothing to do.
	res = Result{}
	search(&res, cands, false, func(s []string) Attempt {
		a := Attempt{Verdict: record.Pass}
		res.Attempts = append(res.Attempts, a)
		return a
	}, id)
	if res.Reproduced || len(res.Attempts) != 1 {
		t.Errorf("passing first boot: %+v", res)
	}
}

// fakeLoader plays a boot loader's menu and editor on a pipe and records the keys.
type fakeLoader struct {
	conn   net.Conn
	mu     sync.Mutex
	keys   []byte
	ignore int // "e" presses to ignore (a loader still drawing)
	menu   string
	opened string
}

func (f *fakeLoader) run() {
	f.conn.Write([]byte(f.menu))
	buf := make([]byte, 64)
	line := ""
	open := false
	for {
		n, err := f.conn.Read(buf)
		if err != nil {
			return
		}
		f.mu.Lock()
		f.keys = append(f.keys, buf[:n]...)
		f.mu.Unlock()
		for _, c := range buf[:n] {
			switch {
			case !open && c == 'e' && f.ignore > 0:
				f.ignore--
			case !open && c == 'e':
				open = true
				f.conn.Write([]byte("\x1b[18;02H" + f.opened))
			case open && c == '\r':
				f.conn.Write([]byte("\x1b[2J" + line + "\r\nbooting\r\n"))
				line = ""
			case open:
				line += string(c)
				f.conn.Write([]byte("\x1b[18;02H" + f.opened + line))
			}
		}
	}
}

func typeInto(t *testing.T, e *Editor, f *fakeLoader, names []string) string {
	t.Helper()
	a, b := net.Pipe()
	f.conn = b
	go f.run()
	con, err := console.Open(a, console.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	e2 := *e
	e2.CharDelay = time.Millisecond
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e2.Type(ctx, con, names, 0.5); err != nil {
		t.Fatal(err)
	}
	if _, err := con.Expect(ctx, 0, "booting"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.keys)
}

func TestEditorKeys(t *testing.T) {
	keys := typeInto(t, Editors["standin"], &fakeLoader{menu: "\x1b[16;42H   fx stand-in   ", opened: "console=ttyS0 panic=-1", ignore: 1}, []string{"nvme"})
	if keys != "ee\x1b[F fx.skip=nvme\r" {
		t.Errorf("stand-in keys %q", keys)
	}
	ed := Editors["redox"]
	names := ed.Names(profile.Redox, []string{"nvme", "hda"})
	if !slices.Equal(names, []string{"nvmed", "ihdad", "audiod"}) {
		t.Fatalf("redox names %v", names)
	}
	keys = typeInto(t, ed, &fakeLoader{menu: "Arrow keys and enter select mode\r\nPress e to edit boot environment\r\n",
		opened: "--- Redox Bootloader Environment Editor ---\r\n"}, names)
	if keys != "eINIT_SKIP=nvmed,ihdad,audiod\r\r" {
		t.Errorf("redox keys %q", keys)
	}
	keys = typeInto(t, Editors["standin"], &fakeLoader{menu: "fx stand-in", opened: "console=ttyS0"}, nil)
	if keys != "e\r" {
		t.Errorf("unedited boot keys %q", keys)
	}
}
