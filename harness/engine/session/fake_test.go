package session

import (
	"bytes"
	"context"
	"fmt"
	"math/rand"
	"net"
	"os/exec"
	"regexp"
	"sync"
	"time"
)

// fakeGuest is a terminal with a shell behind it, run on the test host: it echoes what is
// typed (CR becomes CRLF), runs each line with /bin/sh, writes the output in small random
// pieces, and a background writer puts noise lines between any two writes — so noise lands
// in the middle of output lines, as it does on a real console.
type fakeGuest struct {
	conn    net.Conn
	mu      sync.Mutex // one writer at a time, as the tty's write lock
	noise   time.Duration
	prompt  string
	corrupt func(out []byte) []byte // rewrites a command's output (fault injection)
	done    chan struct{}
	n       int
	pieces  int // max piece size for output writes
	dir     string
	// splitMarkers lets noise land inside marker lines too (as a kernel message can).
	splitMarkers bool
}

var reMarkerLine = regexp.MustCompile(`rhw[0-9a-f]+-(?:S|E \d+)\r\n`)

func newFakeGuest(noise time.Duration, setup ...func(*fakeGuest)) (*fakeGuest, net.Conn) {
	a, b := net.Pipe()
	g := &fakeGuest{conn: b, noise: noise, prompt: "fx# \x1b[6n", done: make(chan struct{}), pieces: 7}
	for _, f := range setup {
		f(g)
	}
	go g.serve()
	if noise > 0 {
		go g.noiser()
	}
	return g, a
}

func (g *fakeGuest) write(p []byte) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	_, err := g.conn.Write(p)
	return err
}

func (g *fakeGuest) noiser() {
	t := time.NewTicker(g.noise)
	defer t.Stop()
	for {
		select {
		case <-g.done:
			return
		case <-t.C:
			g.n++
			if g.write([]byte(fmt.Sprintf("FX-NOISE %d\r\n", g.n))) != nil {
				return
			}
		}
	}
}

func (g *fakeGuest) serve() {
	defer close(g.done)
	g.write([]byte(g.prompt))
	var line []byte
	buf := make([]byte, 1)
	for {
		if _, err := g.conn.Read(buf); err != nil {
			return
		}
		c := buf[0]
		switch c {
		case 0x15, 0x03:
			line = line[:0]
			g.write([]byte("^C\r\n" + g.prompt))
			continue
		case '\r':
			g.write([]byte("\r\n"))
			g.exec(string(line))
			line = line[:0]
			g.write([]byte(g.prompt))
			continue
		}
		line = append(line, c)
		g.write([]byte{c})
	}
}

func (g *fakeGuest) exec(line string) {
	cmd := exec.Command("/bin/sh", "-c", line)
	cmd.Dir = g.dir
	out, _ := cmd.CombinedOutput()
	if g.corrupt != nil {
		out = g.corrupt(out)
	}
	out = bytes.ReplaceAll(out, []byte("\n"), []byte("\r\n"))
	// A shell's echo builtin writes a marker line in one write(), which the tty never
	// interleaves with another process's write: unless splitMarkers, pieces never cut one.
	var spans [][]int
	if !g.splitMarkers {
		spans = reMarkerLine.FindAllIndex(out, -1)
	}
	off := 0
	for len(out) > 0 {
		n := 1 + rand.Intn(g.pieces)
		if n > len(out) {
			n = len(out)
		}
		for _, sp := range spans {
			if off+n > sp[0] && off+n < sp[1] {
				n = sp[1] - off
			}
		}
		off += n
		if g.write(out[:n]) != nil {
			return
		}
		out = out[n:]
		if g.noise > 0 && rand.Intn(4) == 0 {
			time.Sleep(50 * time.Microsecond) // let the noise writer in
		}
	}
}

// fakeRunner answers commands from a table (for command-construction tests).
type fakeRunner struct {
	answers map[string]string
	codes   map[string]int
	seen    []string
}

func (f *fakeRunner) Run(_ context.Context, cmd string) (string, int, error) {
	f.seen = append(f.seen, cmd)
	out, ok := f.answers[cmd]
	if !ok {
		return "", 127, nil
	}
	return out, f.codes[cmd], nil
}
