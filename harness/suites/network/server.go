// Package network is the network suite's work: an HTTP server the harness starts for one
// job, and the checks that the guest got a DHCP lease, reaches its gateway (ping) and
// downloads a file from the server with the right checksum, with the throughput measured.
package network

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Server serves one file of random bytes for a job and records each transfer's timing.
type Server struct {
	Data   []byte
	SHA256 string
	// Path is the URL path of the file ("/rhw-<hex>.bin": a name nobody else serves).
	Path string

	ln   net.Listener
	srv  *http.Server
	mu   sync.Mutex
	seen []Transfer
	// added is closed and replaced each time a transfer is recorded, so a waiter wakes up
	// without polling.
	added chan struct{}
}

// Transfer is one GET of the file as the server saw it. Its timing is no measure of the
// guest's rate: QEMU user networking (and any proxy) buffers the whole file at once.
type Transfer struct {
	Remote   string
	Bytes    int64
	Started  time.Time
	Finished time.Time
	Err      error
}

// Start listens on listen ("127.0.0.1:0" under QEMU user networking, which the guest
// reaches as 10.0.2.2) and serves size random bytes.
func Start(listen string, size int) (*Server, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return nil, fmt.Errorf("network: listen %s: %w", listen, err)
	}
	s := &Server{Data: make([]byte, size), ln: ln, added: make(chan struct{})}
	rand.Read(s.Data)
	sum := sha256.Sum256(s.Data)
	s.SHA256 = hex.EncodeToString(sum[:])
	s.Path = "/rhw-" + s.SHA256[:12] + ".bin"
	mux := http.NewServeMux()
	mux.HandleFunc(s.Path, s.serve)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: time.Minute}
	go s.srv.Serve(ln)
	return s, nil
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	t := Transfer{Remote: r.RemoteAddr, Started: time.Now()}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(s.Data)))
	var n int
	for n < len(s.Data) && t.Err == nil {
		end := min(n+64<<10, len(s.Data))
		var k int
		k, t.Err = w.Write(s.Data[n:end])
		n += k
	}
	if f, ok := w.(http.Flusher); ok && t.Err == nil {
		f.Flush()
	}
	t.Bytes, t.Finished = int64(n), time.Now()
	s.mu.Lock()
	s.seen = append(s.seen, t)
	close(s.added)
	s.added = make(chan struct{})
	s.mu.Unlock()
}

// Port is the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// URL is the file's address as the guest reaches the server at host.
func (s *Server) URL(host string) string {
	return fmt.Sprintf("http://%s%s", net.JoinHostPort(host, strconv.Itoa(s.Port())), s.Path)
}

// Transfers are the GETs so far.
func (s *Server) Transfers() []Transfer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Transfer(nil), s.seen...)
}

// AwaitTransfers waits until at least n transfers are recorded or ctx ends, and returns the
// transfers so far. A client can read the last byte before the handler has returned and
// recorded its transfer, so whoever asserts on Transfers after a GET waits here first.
func (s *Server) AwaitTransfers(ctx context.Context, n int) []Transfer {
	for {
		s.mu.Lock()
		seen, added := append([]Transfer(nil), s.seen...), s.added
		s.mu.Unlock()
		if len(seen) >= n {
			return seen
		}
		select {
		case <-added:
		case <-ctx.Done():
			return seen
		}
	}
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }
