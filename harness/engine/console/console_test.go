package console

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// socketPair returns both ends of a real unix stream socket, the transport QEMU's serial
// chardev uses.
func socketPair(t testing.TB) (guest, harness net.Conn) {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch := make(chan net.Conn, 1)
	go func() { c, _ := l.Accept(); ch <- c }()
	h, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	g := <-ch
	t.Cleanup(func() { g.Close(); h.Close() })
	return g, h
}

func TestExpectSplitAcrossWritesAndTranscriptIsRaw(t *testing.T) {
	guest, h := socketPair(t)
	tr := filepath.Join(t.TempDir(), "transcript.log")
	c, err := Open(h, Options{Transcript: tr})
	if err != nil {
		t.Fatal(err)
	}
	raw := "BdsDxe: starting\r\r\n\x1b[32mkernel::\x1b[0mstart:INFO -- Redox OS starting...\r\nredox lo"
	go func() {
		for _, part := range []string{raw, "gin: "} {
			guest.Write([]byte(part))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	m, err := c.Expect(ctx, 0, "Redox OS starting", "nothing")
	if err != nil || m.Pattern != 0 {
		t.Fatalf("first expect: %v %+v", err, m)
	}
	m2, err := c.Expect(ctx, m.End, "redox login:")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(m2.Before, "\n") {
		t.Errorf("Before = %q", m2.Before)
	}
	guest.Close()
	if _, err := c.Expect(ctx, m2.End, "never"); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
	c.Close()
	got, _ := os.ReadFile(tr)
	if string(got) != raw+"gin: " {
		t.Fatalf("transcript not raw: %q", got)
	}
	times, _ := os.ReadFile(tr + ".times")
	if !bytes.Contains(times, []byte("end: console stream closed")) {
		t.Errorf("times file lacks the end note: %s", times)
	}
}

func TestLinesDeliverPartialPrompt(t *testing.T) {
	guest, h := socketPair(t)
	c, _ := Open(h, Options{})
	defer c.Close()
	guest.Write([]byte("one\r\ntwo\nredox login: "))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lr := c.Lines()
	var got []Line
	for len(got) < 3 {
		l, err := lr.Next(ctx, 50*time.Millisecond)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l)
	}
	if got[0].Text != "one" || got[1].Text != "two" || got[2].Text != "redox login: " || !got[2].Partial || got[2].N != 3 {
		t.Fatalf("lines = %+v", got)
	}
	guest.Write([]byte("DHCP\n"))
	l, err := lr.Next(ctx, 50*time.Millisecond)
	if err != nil || l.N != 3 || l.Partial || l.Text != "redox login: DHCP" {
		t.Fatalf("completed line = %+v %v", l, err)
	}
}

func TestWaitSilenceMeasuresFromLastByte(t *testing.T) {
	guest, h := socketPair(t)
	c, _ := Open(h, Options{})
	defer c.Close()
	go func() {
		for i := 0; i < 5; i++ {
			guest.Write([]byte("tick\n"))
			time.Sleep(30 * time.Millisecond)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.WaitSilence(ctx, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The watchdog's own verdict time is compared with the recorded last byte, not wall clock
	// races: it must never fire before the window has passed since the last byte.
	if since := time.Since(c.LastOutput()); since < 200*time.Millisecond {
		t.Fatalf("fired %v after last byte", since)
	}
}

func TestSendPaced(t *testing.T) {
	guest, h := socketPair(t)
	c, _ := Open(h, Options{CharDelay: time.Millisecond})
	defer c.Close()
	if err := c.Send(context.Background(), "abc\r"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 16)
	var got []byte
	guest.SetReadDeadline(time.Now().Add(5 * time.Second))
	for len(got) < 4 {
		n, err := guest.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "abc\r" {
		t.Fatalf("got %q", got)
	}
}

func TestWindowStaysBoundedOnEndlessOutput(t *testing.T) {
	guest, h := socketPair(t)
	c, _ := Open(h, Options{Window: 64 << 10})
	defer c.Close()
	line := bytes.Repeat([]byte("FX-FLOOD 0123456789\n"), 1000)
	go func() {
		for i := 0; i < 500; i++ {
			if _, err := guest.Write(line); err != nil {
				return
			}
		}
		guest.Write([]byte("END-MARK"))
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.Expect(ctx, 0, "END-MARK"); err != nil {
		t.Fatal(err)
	}
	c.mu.Lock()
	w := cap(c.win)
	c.mu.Unlock()
	if w > 3*(64<<10)+len(line) {
		t.Fatalf("window grew to %d bytes", w)
	}
}

// A transcript that cannot be written (the disk is full: /dev/full answers every write with
// ENOSPC, as a full filesystem does) is not dropped in silence: Close says so, and the
// console still reads and matches from memory.
func TestTranscriptWriteFailureIsReported(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	guest, h := socketPair(t)
	tr := filepath.Join(t.TempDir(), "transcript.log")
	if err := os.Symlink("/dev/full", tr); err != nil {
		t.Fatal(err)
	}
	c, err := Open(h, Options{Transcript: tr})
	if err != nil {
		t.Fatal(err)
	}
	guest.Write([]byte("Redox OS Bootloader\nlogin: "))
	if _, err := c.Expect(context.Background(), 0, "login:"); err != nil {
		t.Fatalf("the console must still read: %v", err)
	}
	err = c.Close()
	if err == nil || !strings.Contains(err.Error(), "no space left on device") || !strings.Contains(err.Error(), "transcript") {
		t.Fatalf("Close = %v, want the transcript's ENOSPC", err)
	}
	if c.TranscriptErr() == nil {
		t.Fatal("TranscriptErr is nil after a failed write")
	}
}
