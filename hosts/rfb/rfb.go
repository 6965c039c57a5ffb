package rfb

import (
	"bufio"
	"context"
	"crypto/des"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"io"
	"net"
	"sync"
	"time"
)

// Caps: no server makes the client allocate beyond these.
const (
	// MaxPixels bounds the framebuffer (4096x4096: 64 MiB of RGBA), whatever size the server
	// announces in ServerInit or DesktopSize.
	MaxPixels = 4096 * 4096
	maxName   = 4096    // ServerInit's desktop name
	maxReason = 4096    // a failure reason string
	maxCut    = 1 << 20 // ServerCutText, skipped
)

// Encodings (RFC 6143 7.7 and 7.8; Tight's pseudo-encodings from the RFB community registry,
// rfbproto.rst "Encodings").
const (
	encRaw         int32 = 0
	encCopyRect    int32 = 1
	encTight       int32 = 7
	encDesktopSize int32 = -223
	encJPEGQ0      int32 = -32  // JPEG quality level 0; -23 is level 9
	encCompress0   int32 = -256 // compression level 0; -247 is level 9
)

// ErrGone wraps every error that means the server went away (connection closed or reset,
// a read that timed out): the transport failed, not the machine behind it.
var ErrGone = errors.New("rfb: server gone")

// Options tune a connection.
type Options struct {
	// Password for VNC authentication (at most 8 bytes are used, as the protocol defines).
	// Empty: only the "None" security type is accepted.
	Password string
	// JPEGQuality 0..9 asks for Tight/JPEG at that quality level (default 6); -1 asks for no
	// JPEG (lossless Tight only).
	JPEGQuality int
	// KeyDelay is the pause after each chord (default 30 ms): keys sent in a burst can
	// overflow the queue of the keyboard behind the server (QEMU's PS/2 queue holds 256
	// scancode bytes; a KVM device's USB HID report queue is shorter), which drops keys
	// silently, so SendKeys types at a steady pace as a person would.
	KeyDelay time.Duration
	// Timeout bounds the handshake and every later read of a message part (default 30 s);
	// a server silent longer than IdleTimeout (default: none, QEMU answers an incremental
	// request only when something changed) is not an error.
	Timeout time.Duration
}

// Client is one RFB connection.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	opts Options
	Name string // the desktop name from ServerInit

	wmu sync.Mutex // serialises writes

	mu      sync.Mutex
	fb      *image.RGBA // published: the last complete update
	spare   *image.RGBA // the one before, reused for decoding (reader goroutine only)
	updates int64       // complete FramebufferUpdate messages applied
	resizes int64       // DesktopSize changes seen
	counts  map[string]int64
	err     error // why the reader stopped
	changed chan struct{}
	done    chan struct{}

	tight tightState
}

// Dial connects to addr (host:port) and performs the handshake; the framebuffer then fills
// in the background. ctx bounds the dial and the handshake.
func Dial(ctx context.Context, addr string, o Options) (*Client, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%w: dial %s: %v", ErrGone, addr, err)
	}
	c, err := NewClient(ctx, conn, o)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// NewClient runs the handshake on conn (taken over: Close closes it).
func NewClient(ctx context.Context, conn net.Conn, o Options) (*Client, error) {
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	if o.KeyDelay <= 0 {
		o.KeyDelay = 30 * time.Millisecond
	}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 6
	}
	if o.JPEGQuality > 9 {
		o.JPEGQuality = 9
	}
	c := &Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), opts: o,
		counts: map[string]int64{}, changed: make(chan struct{}), done: make(chan struct{})}
	dl := time.Now().Add(o.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	conn.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	err := c.handshake()
	stop()
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Time{})
	go c.readLoop()
	return c, nil
}

func (c *Client) handshake() error {
	var ver [12]byte
	if _, err := io.ReadFull(c.r, ver[:]); err != nil {
		return gone("protocol version", err)
	}
	var major, minor int
	if _, err := fmt.Sscanf(string(ver[:]), "RFB %03d.%03d\n", &major, &minor); err != nil || major != 3 {
		return fmt.Errorf("rfb: not an RFB server (greeting %q)", ver[:])
	}
	switch {
	case minor >= 8:
		minor = 8
	case minor == 7:
	default:
		minor = 3 // 3.3 and the odd minors some servers announce (3.4, 3.6) speak 3.3
	}
	if _, err := fmt.Fprintf(c.conn, "RFB 003.%03d\n", minor); err != nil {
		return gone("protocol version", err)
	}
	var sec uint32
	if minor == 3 {
		if err := binary.Read(c.r, binary.BigEndian, &sec); err != nil {
			return gone("security type", err)
		}
		if sec == 0 {
			return c.failure("connection refused")
		}
	} else {
		n, err := c.r.ReadByte()
		if err != nil {
			return gone("security types", err)
		}
		if n == 0 {
			return c.failure("connection refused")
		}
		types := make([]byte, n)
		if _, err := io.ReadFull(c.r, types); err != nil {
			return gone("security types", err)
		}
		for _, t := range types {
			if t == 2 && c.opts.Password != "" || t == 1 && sec == 0 {
				sec = uint32(t)
			}
		}
		if sec == 0 {
			return fmt.Errorf("rfb: server offers security types %v; this client speaks 1 (None) and 2 (VNC authentication, needs a password)", types)
		}
		if _, err := c.conn.Write([]byte{byte(sec)}); err != nil {
			return gone("security type", err)
		}
	}
	switch sec {
	case 1:
	case 2:
		if c.opts.Password == "" {
			return errors.New("rfb: server requires VNC authentication and no password was given")
		}
		var challenge [16]byte
		if _, err := io.ReadFull(c.r, challenge[:]); err != nil {
			return gone("auth challenge", err)
		}
		resp, err := vncAuth(c.opts.Password, challenge)
		if err != nil {
			return err
		}
		if _, err := c.conn.Write(resp[:]); err != nil {
			return gone("auth response", err)
		}
	default:
		return fmt.Errorf("rfb: security type %d not supported", sec)
	}
	if sec == 2 || minor == 8 {
		var result uint32
		if err := binary.Read(c.r, binary.BigEndian, &result); err != nil {
			return gone("security result", err)
		}
		if result != 0 {
			if minor == 8 {
				return c.failure("authentication failed")
			}
			return errors.New("rfb: authentication failed")
		}
	}
	if _, err := c.conn.Write([]byte{1}); err != nil { // ClientInit, shared
		return gone("client init", err)
	}
	var si struct {
		W, H uint16
		PF   [16]byte
		N    uint32
	}
	if err := binary.Read(c.r, binary.BigEndian, &si); err != nil {
		return gone("server init", err)
	}
	if si.N > maxName {
		return fmt.Errorf("rfb: desktop name of %d bytes (at most %d)", si.N, maxName)
	}
	name := make([]byte, si.N)
	if _, err := io.ReadFull(c.r, name); err != nil {
		return gone("server init", err)
	}
	c.Name = string(name)
	fb, err := newFB(int(si.W), int(si.H))
	if err != nil {
		return err
	}
	c.fb = fb
	return c.setup()
}

// failure reads the reason string that follows a refusal (3.8; 3.3 on type 0).
func (c *Client) failure(what string) error {
	var n uint32
	if err := binary.Read(c.r, binary.BigEndian, &n); err != nil {
		return fmt.Errorf("rfb: %s", what)
	}
	if n > maxReason {
		n = maxReason
	}
	b := make([]byte, n)
	io.ReadFull(c.r, b)
	return fmt.Errorf("rfb: %s: %s", what, b)
}

// setup asks for the pixel format the framebuffer stores (32 bpp little-endian, red in the
// low byte: the wire bytes of a pixel are R, G, B, pad, which is image.RGBA's layout) and the
// encodings, and asks for the whole screen.
func (c *Client) setup() error {
	pf := []byte{0, 0, 0, 0, // SetPixelFormat, padding
		32, 24, 0, 1, // bpp, depth, big-endian no, true colour
		0, 255, 0, 255, 0, 255, // max red, green, blue
		0, 8, 16, // shifts
		0, 0, 0}
	encs := []int32{encTight, encCopyRect, encRaw, encDesktopSize, encCompress0 + 6}
	if c.opts.JPEGQuality >= 0 {
		encs = append(encs, encJPEGQ0+int32(c.opts.JPEGQuality))
	}
	se := make([]byte, 4+4*len(encs))
	se[0] = 2
	binary.BigEndian.PutUint16(se[2:], uint16(len(encs)))
	for i, e := range encs {
		binary.BigEndian.PutUint32(se[4+4*i:], uint32(e))
	}
	if err := c.write(append(pf, se...)); err != nil {
		return gone("setup", err)
	}
	return c.request(false)
}

// request sends a FramebufferUpdateRequest for the whole framebuffer.
func (c *Client) request(incremental bool) error {
	c.mu.Lock()
	w, h := c.fb.Rect.Dx(), c.fb.Rect.Dy()
	c.mu.Unlock()
	b := make([]byte, 10)
	b[0] = 3
	if incremental {
		b[1] = 1
	}
	binary.BigEndian.PutUint16(b[6:], uint16(w))
	binary.BigEndian.PutUint16(b[8:], uint16(h))
	return c.write(b)
}

func (c *Client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.conn.SetWriteDeadline(time.Now().Add(c.opts.Timeout))
	_, err := c.conn.Write(b)
	return err
}

func gone(what string, err error) error {
	return fmt.Errorf("%w: %s: %v", ErrGone, what, err)
}

// newFB allocates a framebuffer (ServerInit, DesktopSize) within MaxPixels.
func newFB(w, h int) (*image.RGBA, error) {
	if w <= 0 || h <= 0 || w*h > MaxPixels {
		return nil, fmt.Errorf("rfb: framebuffer %dx%d (at most %d pixels)", w, h, MaxPixels)
	}
	return image.NewRGBA(image.Rect(0, 0, w, h)), nil
}

// readLoop applies server messages until the connection fails; after each complete update
// it asks for the next (incremental) one.
func (c *Client) readLoop() {
	var err error
	for err == nil {
		var t byte
		if t, err = c.r.ReadByte(); err != nil {
			err = gone("read", err)
			break
		}
		switch t {
		case 0:
			var resized bool
			if resized, err = c.update(); err == nil {
				err = c.request(!resized)
			}
		case 1: // SetColourMapEntries: unused in true colour, skipped
			var h [5]byte
			if _, err = io.ReadFull(c.r, h[:]); err == nil {
				_, err = c.r.Discard(6 * int(binary.BigEndian.Uint16(h[3:])))
			}
		case 2: // Bell
		case 3: // ServerCutText, skipped
			var h [7]byte
			if _, err = io.ReadFull(c.r, h[:]); err == nil {
				n := binary.BigEndian.Uint32(h[3:])
				if n > maxCut {
					err = fmt.Errorf("rfb: cut text of %d bytes (at most %d)", n, maxCut)
				} else {
					_, err = c.r.Discard(int(n))
				}
			}
		default:
			err = fmt.Errorf("rfb: unknown server message type %d", t)
		}
		if err != nil && isNetErr(err) {
			err = gone("read", err)
		}
	}
	c.mu.Lock()
	c.err = err
	c.mu.Unlock()
	close(c.done)
	c.conn.Close()
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.As(err, &ne) || errors.Is(err, net.ErrClosed)
}

// update applies one FramebufferUpdate; resized says a DesktopSize rectangle changed the
// framebuffer (the next request is then a full one).
func (c *Client) update() (resized bool, err error) {
	var h [3]byte
	if _, err := io.ReadFull(c.r, h[:]); err != nil {
		return false, err
	}
	n := int(binary.BigEndian.Uint16(h[1:]))
	c.mu.Lock()
	fb := c.fb
	c.mu.Unlock()
	// Rectangles are decoded into a private framebuffer (the one published before the last
	// update, reused: two framebuffers at most) that is published once the whole update has
	// been applied, so a Screendump never sees half an update.
	work := c.spare
	if work == nil || work.Rect != fb.Rect {
		work = image.NewRGBA(fb.Rect)
	}
	copy(work.Pix, fb.Pix)
	for i := 0; i < n; i++ {
		var rh struct {
			X, Y, W, H uint16
			Enc        int32
		}
		if err := binary.Read(c.r, binary.BigEndian, &rh); err != nil {
			return resized, err
		}
		r := image.Rect(int(rh.X), int(rh.Y), int(rh.X)+int(rh.W), int(rh.Y)+int(rh.H))
		if rh.Enc == encDesktopSize {
			nfb, err := newFB(int(rh.W), int(rh.H))
			if err != nil {
				return resized, err
			}
			work = nfb
			c.mu.Lock()
			c.resizes++
			c.counts["desktop-size"]++
			c.mu.Unlock()
			resized = true
			continue
		}
		if !r.In(work.Rect) {
			return resized, fmt.Errorf("rfb: rectangle %v outside the %dx%d framebuffer", r, work.Rect.Dx(), work.Rect.Dy())
		}
		var kind string
		switch rh.Enc {
		case encRaw:
			kind, err = "raw", c.raw(work, r)
		case encCopyRect:
			kind, err = "copyrect", c.copyRect(work, r)
		case encTight:
			kind, err = c.tight.decode(c.r, work, r)
		default:
			return resized, fmt.Errorf("rfb: rectangle in encoding %d, which was not asked for", rh.Enc)
		}
		if err != nil {
			return resized, err
		}
		c.mu.Lock()
		c.counts[kind]++
		c.mu.Unlock()
	}
	c.mu.Lock()
	c.spare, c.fb = c.fb, work
	c.updates++
	close(c.changed)
	c.changed = make(chan struct{})
	c.mu.Unlock()
	return resized, nil
}

// raw reads a Raw rectangle: 4 bytes a pixel in the format setup asked for, which is
// image.RGBA's byte order; the pad byte becomes an opaque alpha.
func (c *Client) raw(fb *image.RGBA, r image.Rectangle) error {
	w := r.Dx() * 4
	for y := r.Min.Y; y < r.Max.Y; y++ {
		o := fb.PixOffset(r.Min.X, y)
		row := fb.Pix[o : o+w]
		if _, err := io.ReadFull(c.r, row); err != nil {
			return err
		}
		for i := 3; i < w; i += 4 {
			row[i] = 255
		}
	}
	return nil
}

// copyRect copies a region of the framebuffer (source x, y on the wire) to r.
func (c *Client) copyRect(fb *image.RGBA, r image.Rectangle) error {
	var src [4]byte
	if _, err := io.ReadFull(c.r, src[:]); err != nil {
		return err
	}
	sp := image.Pt(int(binary.BigEndian.Uint16(src[0:])), int(binary.BigEndian.Uint16(src[2:])))
	sr := image.Rectangle{sp, sp.Add(r.Size())}
	if !sr.In(fb.Rect) {
		return fmt.Errorf("rfb: CopyRect source %v outside the framebuffer", sr)
	}
	w := r.Dx() * 4
	// Overlapping source and destination: copy rows in the order that reads a row before
	// it is overwritten (copy itself handles the overlap within a row).
	if sp.Y < r.Min.Y {
		for y := r.Dy() - 1; y >= 0; y-- {
			copy(fb.Pix[fb.PixOffset(r.Min.X, r.Min.Y+y):][:w], fb.Pix[fb.PixOffset(sp.X, sp.Y+y):][:w])
		}
	} else {
		for y := 0; y < r.Dy(); y++ {
			copy(fb.Pix[fb.PixOffset(r.Min.X, r.Min.Y+y):][:w], fb.Pix[fb.PixOffset(sp.X, sp.Y+y):][:w])
		}
	}
	return nil
}

// Screendump returns a copy of the framebuffer as of the last complete update, waiting
// (bounded by ctx) for the first one. An error wrapping ErrGone means the server went away.
func (c *Client) Screendump(ctx context.Context) (image.Image, error) {
	for {
		c.mu.Lock()
		n, err, ch := c.updates, c.err, c.changed
		var out *image.RGBA
		if err == nil && n > 0 {
			// Copied under the lock: the reader reuses this buffer two updates later.
			out = image.NewRGBA(c.fb.Rect)
			copy(out.Pix, c.fb.Pix)
		}
		c.mu.Unlock()
		if err != nil {
			return nil, err
		}
		if out != nil {
			return out, nil
		}
		select {
		case <-ch:
		case <-c.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("rfb: no framebuffer update yet: %w", ctx.Err())
		}
	}
}

// WaitUpdate waits (bounded by ctx) until an update after the n-th has been applied and
// returns the count; Updates gives the current one.
func (c *Client) WaitUpdate(ctx context.Context, n int64) (int64, error) {
	for {
		c.mu.Lock()
		cur, err, ch := c.updates, c.err, c.changed
		c.mu.Unlock()
		if cur > n {
			return cur, nil
		}
		if err != nil {
			return cur, err
		}
		select {
		case <-ch:
		case <-c.done:
		case <-ctx.Done():
			return cur, ctx.Err()
		}
	}
}

// Stats are what the connection has received so far.
type Stats struct {
	Updates, Resizes int64
	Size             image.Point
	Rects            map[string]int64 // by encoding: raw, copyrect, tight-fill, tight-jpeg, tight-basic, desktop-size
}

// Stats returns the counters.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := map[string]int64{}
	for k, v := range c.counts {
		m[k] = v
	}
	return Stats{Updates: c.updates, Resizes: c.resizes, Size: c.fb.Rect.Size(), Rects: m}
}

// Err is why the connection ended (nil while it runs).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Done is closed when the connection has ended.
func (c *Client) Done() <-chan struct{} { return c.done }

// SendKeys presses each chord in turn (QEMU qcode names joined by "-", as hosts.Screen
// takes them): the chord's keys go down in order and come up in reverse.
func (c *Client) SendKeys(ctx context.Context, chords []string) error {
	for _, ch := range chords {
		syms, err := chordSyms(ch)
		if err != nil {
			return err
		}
		var b []byte
		for _, s := range syms {
			b = append(b, keyEvent(true, s)...)
		}
		for i := len(syms) - 1; i >= 0; i-- {
			b = append(b, keyEvent(false, syms[i])...)
		}
		if err := c.write(b); err != nil {
			return gone("key event", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-c.done:
			return c.Err()
		case <-time.After(c.opts.KeyDelay):
		}
	}
	return nil
}

func keyEvent(down bool, sym uint32) []byte {
	b := []byte{4, 0, 0, 0, 0, 0, 0, 0}
	if down {
		b[1] = 1
	}
	binary.BigEndian.PutUint32(b[4:], sym)
	return b
}

// HasDisplay: an RFB server always has a framebuffer.
func (c *Client) HasDisplay() bool { return true }

// Close ends the connection.
func (c *Client) Close() error {
	err := c.conn.Close()
	<-c.done
	return err
}

// vncAuth answers the VNC authentication challenge: DES-encrypted with the password (at
// most 8 bytes, zero-padded) as the key, each key byte's bits reversed (RFC 6143 7.2.2 and
// its errata; every VNC implementation does this).
func vncAuth(password string, challenge [16]byte) ([16]byte, error) {
	var key [8]byte
	copy(key[:], password)
	for i, b := range key {
		var r byte
		for j := 0; j < 8; j++ {
			r |= (b >> j & 1) << (7 - j)
		}
		key[i] = r
	}
	var out [16]byte
	blk, err := des.NewCipher(key[:])
	if err != nil {
		return out, err
	}
	blk.Encrypt(out[:8], challenge[:8])
	blk.Encrypt(out[8:], challenge[8:])
	return out, nil
}
