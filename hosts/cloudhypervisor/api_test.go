package cloudhypervisor

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// sockDir is a short directory for unix sockets (paths are limited to 108 bytes and
// t.TempDir can be long).
func sockDir(t *testing.T) string {
	t.Helper()
	d, err := os.MkdirTemp("", "chtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

func newFake(t *testing.T) (*fakeVMM, *Client) {
	t.Helper()
	path := filepath.Join(sockDir(t), "api.sock")
	f, err := startFakeVMM(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(f.Close)
	c := NewClient(path)
	t.Cleanup(c.Close)
	return f, c
}

func testConfig() *VMConfig {
	return &VMConfig{
		CPUs:    &CPUsConfig{BootVCPUs: 2, MaxVCPUs: 2},
		Memory:  &MemoryConfig{Size: 1 << 30, Hugepages: true},
		Payload: PayloadConfig{Firmware: "/fw/CLOUDHV.fd"},
		Disks:   []DiskConfig{{Path: "/j/disk.img", Direct: true}},
		Net:     []NetConfig{{Tap: "tap0"}},
		Serial:  &ConsoleConfig{Mode: ModeSocket, Socket: "/j/serial.sock"},
		Console: &ConsoleConfig{Mode: ModeOff},
	}
}

// wantAPIError checks err is an APIError with the status, naming the endpoint and carrying
// the VMM's explanation.
func wantAPIError(t *testing.T, err error, endpoint string, code int, body string) {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("%s: want an *APIError %d, got %v", endpoint, code, err)
	}
	if ae.StatusCode != code || ae.Endpoint != endpoint || !strings.Contains(ae.Body, body) || !IsStatus(err, code) {
		t.Fatalf("%s: got %+v, want status %d and a body containing %q", endpoint, ae, code, body)
	}
	for _, s := range []string{endpoint, ae.Status, body} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not say %q", err, s)
		}
	}
}

func TestClientLifecycleAgainstFakeVMM(t *testing.T) {
	f, c := newFake(t)
	ctx := t.Context()

	p, err := c.Ping(ctx)
	if err != nil || p.Version != fakeVersion || p.PID != int64(os.Getpid()) {
		t.Fatalf("ping: %+v, %v", p, err)
	}
	_, err = c.Info(ctx)
	wantAPIError(t, err, "vm.info", http.StatusNotFound, "not created")
	wantAPIError(t, c.Boot(ctx), "vm.boot", http.StatusNotFound, "not created")
	wantAPIError(t, c.Pause(ctx), "vm.pause", http.StatusNotFound, "not created")

	cfg := testConfig()
	if err := c.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, c.Create(ctx, cfg), "vm.create", http.StatusInternalServerError, "already created")
	info, err := c.Info(ctx)
	if err != nil || info.State != StateCreated {
		t.Fatalf("info after create: %+v, %v", info, err)
	}
	if !reflect.DeepEqual(&info.Config, cfg) {
		t.Errorf("vm.info config\n got %+v\nwant %+v", info.Config, *cfg)
	}
	wantAPIError(t, c.Pause(ctx), "vm.pause", http.StatusMethodNotAllowed, "Created")
	if err := c.Boot(ctx); err != nil {
		t.Fatal(err)
	}

	// Pause and resume, and the errors for doing either twice.
	wantAPIError(t, c.Resume(ctx), "vm.resume", http.StatusMethodNotAllowed, "Running")
	if err := c.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	if f.State() != StatePaused {
		t.Fatalf("state %s after pause", f.State())
	}
	wantAPIError(t, c.Pause(ctx), "vm.pause", http.StatusMethodNotAllowed, "Paused")
	if info, err := c.Info(ctx); err != nil || info.State != StatePaused || info.MemoryActualSize != 1<<30 {
		t.Fatalf("info while paused: %+v, %v", info, err)
	}
	dest := t.TempDir()
	if err := c.Snapshot(ctx, "file://"+dest); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dest, "config.json")); err != nil {
		t.Errorf("snapshot not written: %v", err)
	}
	if err := c.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, c.Snapshot(ctx, "file://"+dest), "vm.snapshot", http.StatusInternalServerError, "not paused")
	if err := c.PowerButton(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	wantAPIError(t, c.PowerButton(ctx), "vm.power-button", http.StatusMethodNotAllowed, "Shutdown")

	// vmm.shutdown: the fake exits (closes its server) right after answering.
	f.onShutdownVMM = f.Close
	if err := c.ShutdownVMM(ctx); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := c.Ping(ctx)
		if err != nil {
			break // the VMM is gone
		}
		if time.Now().After(deadline) {
			t.Fatal("the fake VMM still answers after vmm.shutdown")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestClientErrors(t *testing.T) {
	ctx := t.Context()
	t.Run("no socket", func(t *testing.T) {
		c := NewClient(filepath.Join(sockDir(t), "nothing.sock"))
		_, err := c.Ping(ctx)
		if err == nil || !strings.Contains(err.Error(), "vmm.ping") || IsStatus(err, 404) {
			t.Fatalf("want a dial error naming vmm.ping, got %v", err)
		}
		var ae *APIError
		if errors.As(err, &ae) {
			t.Fatalf("a dial error is not an APIError: %v", err)
		}
		if err := c.ShutdownVMM(ctx); err == nil {
			t.Fatal("vmm.shutdown with no VMM must fail")
		}
	})
	t.Run("timeout", func(t *testing.T) {
		f, c := newFake(t)
		f.stall = make(chan struct{})
		defer close(f.stall)
		c.Timeout = 100 * time.Millisecond
		start := time.Now()
		err := c.Pause(ctx)
		if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
			t.Fatalf("want a deadline error after 100ms, got %v after %s", err, time.Since(start))
		}
		// A caller's own deadline wins over Timeout.
		c.Timeout = time.Hour
		cctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if err := c.Resume(cctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("want the context's deadline, got %v", err)
		}
	})
	t.Run("bodies", func(t *testing.T) {
		path := filepath.Join(sockDir(t), "api.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		big := strings.Repeat("x", 10<<10)
		srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case APIBase + "vm.pause":
				http.Error(w, big, http.StatusInternalServerError)
			case APIBase + "vmm.ping":
				w.Write([]byte("not json"))
			case APIBase + "vm.info":
				w.WriteHeader(http.StatusNoContent)
			}
		})}
		go srv.Serve(ln)
		defer srv.Close()
		c := NewClient(path)
		err = c.Pause(ctx)
		var ae *APIError
		if !errors.As(err, &ae) || len(ae.Body) != maxErrorBody {
			t.Fatalf("a long error body is kept to %d bytes: %v", maxErrorBody, err)
		}
		if _, err := c.Ping(ctx); err == nil || !strings.Contains(err.Error(), "decoding") {
			t.Fatalf("want a decoding error, got %v", err)
		}
		if _, err := c.Info(ctx); err == nil || !strings.Contains(err.Error(), "without the expected JSON body") {
			t.Fatalf("want an error for 204 where JSON was expected, got %v", err)
		}
		if err := c.Create(ctx, nil); err == nil {
			t.Fatal("vm.create without a configuration must fail")
		}
	})
}
