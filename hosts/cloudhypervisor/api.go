package cloudhypervisor

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
)

// The API client is written by hand from upstream's OpenAPI description
// (cloud-hypervisor vmm/src/api/openapi/cloud-hypervisor.yaml, "Cloud Hypervisor API" 0.3.0):
// the VMM serves HTTP/1.1 on the unix socket given to --api-socket, under /api/v1/, one
// endpoint per action ("PUT /api/v1/vm.pause"). Successful actions answer 204 No Content,
// queries 200 with a JSON body; failures answer 4xx/5xx with a plain-text body that says why.
// Only the endpoints and fields the harness uses are here; openapi_test.go checks every
// request this client sends against the description.

// APIBase is the path prefix of every endpoint (the description's servers[0].url path).
const APIBase = "/api/v1/"

// endpoint is one operation of the API.
type endpoint struct {
	Method string
	Path   string // without APIBase: "vm.pause"
	// Body is the request body's schema name in the description ("" for none).
	Body string
}

// The endpoints this client uses.
var (
	epPing        = endpoint{http.MethodGet, "vmm.ping", ""}
	epShutdownVMM = endpoint{http.MethodPut, "vmm.shutdown", ""}
	epInfo        = endpoint{http.MethodGet, "vm.info", ""}
	epCreate      = endpoint{http.MethodPut, "vm.create", "VmConfig"}
	epBoot        = endpoint{http.MethodPut, "vm.boot", ""}
	epPause       = endpoint{http.MethodPut, "vm.pause", ""}
	epResume      = endpoint{http.MethodPut, "vm.resume", ""}
	epSnapshot    = endpoint{http.MethodPut, "vm.snapshot", "VmSnapshotConfig"}
	epShutdown    = endpoint{http.MethodPut, "vm.shutdown", ""}
	epPowerButton = endpoint{http.MethodPut, "vm.power-button", ""}

	endpoints = []endpoint{epPing, epShutdownVMM, epInfo, epCreate, epBoot, epPause, epResume,
		epSnapshot, epShutdown, epPowerButton}
)

// PingResponse is VmmPingResponse: what vmm.ping returns.
type PingResponse struct {
	Version      string   `json:"version"`
	BuildVersion string   `json:"build_version,omitempty"`
	PID          int64    `json:"pid,omitempty"`
	Features     []string `json:"features,omitempty"`
}

// VM states (VmState).
const (
	StateCreated    = "Created"
	StateRunning    = "Running"
	StateShutdown   = "Shutdown"
	StatePaused     = "Paused"
	StateBreakPoint = "BreakPoint"
)

// VMInfo is VmInfo: what vm.info returns.
type VMInfo struct {
	Config           VMConfig              `json:"config"`
	State            string                `json:"state"`
	MemoryActualSize int64                 `json:"memory_actual_size,omitempty"`
	DeviceTree       map[string]DeviceNode `json:"device_tree,omitempty"`
}

// DeviceNode is one entry of VmInfo.device_tree.
type DeviceNode struct {
	ID        string            `json:"id,omitempty"`
	Resources []json.RawMessage `json:"resources,omitempty"`
	Children  []string          `json:"children,omitempty"`
	PCIBDF    string            `json:"pci_bdf,omitempty"`
}

// VMConfig is the part of VmConfig the harness sets: vm.create's body and vm.info's config.
// Fields left out take the VMM's defaults.
type VMConfig struct {
	CPUs    *CPUsConfig    `json:"cpus,omitempty"`
	Memory  *MemoryConfig  `json:"memory,omitempty"`
	Payload PayloadConfig  `json:"payload"`
	Disks   []DiskConfig   `json:"disks,omitempty"`
	Net     []NetConfig    `json:"net,omitempty"`
	Serial  *ConsoleConfig `json:"serial,omitempty"`
	Console *ConsoleConfig `json:"console,omitempty"`
}

// CPUsConfig is CpusConfig (both counts are required by the description).
type CPUsConfig struct {
	BootVCPUs int `json:"boot_vcpus"`
	MaxVCPUs  int `json:"max_vcpus"`
}

// MemoryConfig is MemoryConfig; Size is in bytes.
type MemoryConfig struct {
	Size      int64 `json:"size"`
	Hugepages bool  `json:"hugepages,omitempty"`
}

// PayloadConfig is PayloadConfig: firmware (CLOUDHV.fd) or a kernel to boot directly.
type PayloadConfig struct {
	Firmware  string `json:"firmware,omitempty"`
	Kernel    string `json:"kernel,omitempty"`
	Cmdline   string `json:"cmdline,omitempty"`
	Initramfs string `json:"initramfs,omitempty"`
}

// DiskConfig is DiskConfig (a virtio-blk disk).
type DiskConfig struct {
	Path     string `json:"path"`
	Readonly bool   `json:"readonly,omitempty"`
	Direct   bool   `json:"direct,omitempty"`
}

// NetConfig is NetConfig (a virtio-net device on a TAP interface).
type NetConfig struct {
	Tap string `json:"tap,omitempty"`
	MAC string `json:"mac,omitempty"`
}

// Console modes (ConsoleMode).
const (
	ModeOff    = "Off"
	ModePty    = "Pty"
	ModeTty    = "Tty"
	ModeFile   = "File"
	ModeSocket = "Socket"
	ModeNull   = "Null"
)

// ConsoleConfig is SerialConfig / ConsoleConfig.
type ConsoleConfig struct {
	Mode   string `json:"mode"`
	File   string `json:"file,omitempty"`
	Socket string `json:"socket,omitempty"`
}

// SnapshotConfig is VmSnapshotConfig.
type SnapshotConfig struct {
	DestinationURL string `json:"destination_url"`
}

// APIError is a request the VMM answered with an error status; Body is its explanation.
type APIError struct {
	Method     string
	Endpoint   string // "vm.pause"
	StatusCode int
	Status     string // "405 Method Not Allowed"
	Body       string
}

func (e *APIError) Error() string {
	msg := fmt.Sprintf("cloud-hypervisor API %s %s: %s", e.Method, e.Endpoint, e.Status)
	if b := strings.TrimSpace(e.Body); b != "" {
		msg += ": " + b
	}
	return msg
}

// IsStatus reports whether err is an APIError with the given HTTP status.
func IsStatus(err error, code int) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == code
}

// maxErrorBody bounds how much of an error answer is kept.
const maxErrorBody = 4 << 10

// Client talks to one VMM's API socket. It is safe for concurrent use.
type Client struct {
	socket string
	hc     *http.Client
	// Timeout bounds each request whose context has no deadline (default 30s).
	Timeout time.Duration
}

// NewClient returns a client for the API socket at path; nothing is dialled yet.
func NewClient(path string) *Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		},
		// One connection per request: the VMM's HTTP server is small, and a VMM that has
		// just shut down must not leave a stale pooled connection behind.
		DisableKeepAlives: true,
	}
	return &Client{socket: path, hc: &http.Client{Transport: tr}, Timeout: 30 * time.Second}
}

// Socket is the API socket path.
func (c *Client) Socket() string { return c.socket }

// Close releases idle connections.
func (c *Client) Close() { c.hc.CloseIdleConnections() }

// do sends one request: in (if not nil) as the JSON body, out (if not nil) decoded from a
// 200 answer.
func (c *Client) do(ctx context.Context, ep endpoint, in, out any) error {
	if _, ok := ctx.Deadline(); !ok && c.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.Timeout)
		defer cancel()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("cloud-hypervisor API %s %s: %w", ep.Method, ep.Path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, ep.Method, "http://localhost"+APIBase+ep.Path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if out != nil {
		req.Header.Set("Accept", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("cloud-hypervisor API %s %s: %w", ep.Method, ep.Path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
		return &APIError{Method: ep.Method, Endpoint: ep.Path, StatusCode: resp.StatusCode, Status: resp.Status, Body: string(b)}
	}
	if out == nil {
		io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
		return nil
	}
	if resp.StatusCode == http.StatusNoContent {
		return fmt.Errorf("cloud-hypervisor API %s %s: %s without the expected JSON body", ep.Method, ep.Path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("cloud-hypervisor API %s %s: decoding the answer: %w", ep.Method, ep.Path, err)
	}
	return nil
}

// Ping asks the VMM for its version (vmm.ping); it answers as soon as its API is up.
func (c *Client) Ping(ctx context.Context) (*PingResponse, error) {
	var r PingResponse
	if err := c.do(ctx, epPing, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Info returns the VM's configuration and state (vm.info); 404 before vm.create.
func (c *Client) Info(ctx context.Context) (*VMInfo, error) {
	var r VMInfo
	if err := c.do(ctx, epInfo, nil, &r); err != nil {
		return nil, err
	}
	return &r, nil
}

// Create defines the VM without booting it (vm.create).
func (c *Client) Create(ctx context.Context, cfg *VMConfig) error {
	if cfg == nil {
		return errors.New("cloud-hypervisor API vm.create: no VM configuration")
	}
	return c.do(ctx, epCreate, cfg, nil)
}

// Boot starts the created VM (vm.boot).
func (c *Client) Boot(ctx context.Context) error { return c.do(ctx, epBoot, nil, nil) }

// Pause stops the VM's vCPUs (vm.pause); 405 when it is not running.
func (c *Client) Pause(ctx context.Context) error { return c.do(ctx, epPause, nil, nil) }

// Resume continues a paused VM (vm.resume); 405 when it is not paused.
func (c *Client) Resume(ctx context.Context) error { return c.do(ctx, epResume, nil, nil) }

// Snapshot writes the paused VM's state to destinationURL ("file:///abs/dir") (vm.snapshot).
func (c *Client) Snapshot(ctx context.Context, destinationURL string) error {
	return c.do(ctx, epSnapshot, SnapshotConfig{DestinationURL: destinationURL}, nil)
}

// Shutdown stops the VM but not the VMM (vm.shutdown).
func (c *Client) Shutdown(ctx context.Context) error { return c.do(ctx, epShutdown, nil, nil) }

// PowerButton presses the ACPI power button; the guest decides what to do (vm.power-button).
func (c *Client) PowerButton(ctx context.Context) error {
	return c.do(ctx, epPowerButton, nil, nil)
}

// ShutdownVMM ends the VMM process (vmm.shutdown). The VMM may exit before its answer is
// complete, so a connection that breaks after the request was sent is not an error here:
// the caller waits for the process to end anyway.
func (c *Client) ShutdownVMM(ctx context.Context) error {
	err := c.do(ctx, epShutdownVMM, nil, nil)
	var ae *APIError
	if err == nil || errors.As(err, &ae) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return err
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || strings.Contains(err.Error(), "connection reset") {
		return nil
	}
	return err
}
