package cloudhypervisor

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"
)

// fakeVMM is a FAKE of Cloud Hypervisor's API server, for tests only: the real VMM cannot
// run on the machines this project is developed on (Debian has no package for it, nor for
// its CLOUDHV.fd firmware). It serves the endpoints the client uses, over HTTP on a unix
// socket as the VMM does, with the state machine the OpenAPI description documents (404
// before vm.create, 405 to pause a VM that is not running, ...) and plain-text error
// bodies, and it records every request so that openapi_test.go can check them against the
// description. It is a model of the documented behaviour, not of every detail of the VMM.
type fakeVMM struct {
	mu        sync.Mutex
	state     string // "" before vm.create, then a VmState
	config    json.RawMessage
	requests  []recordedRequest
	snapshots []string
	// hooks (may be nil); an error is answered 500 with its text
	onCreate      func(cfg VMConfig) error
	onBoot        func() error
	onStateChange func(state string)
	onShutdownVMM func()
	// stall, when set, is waited on by every request before it is answered.
	stall chan struct{}

	srv *http.Server
	ln  net.Listener
}

type recordedRequest struct {
	Method, Path, ContentType string
	Body                      []byte
}

const fakeVersion = "v0.0.0-fake"

// startFakeVMM serves the fake API on the unix socket at path.
func startFakeVMM(path string) (*fakeVMM, error) {
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, err
	}
	f := &fakeVMM{ln: ln}
	f.srv = &http.Server{Handler: f, ReadHeaderTimeout: 5 * time.Second}
	go f.srv.Serve(ln)
	return f, nil
}

func (f *fakeVMM) Close() { f.srv.Close() }

func (f *fakeVMM) Requests() []recordedRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recordedRequest(nil), f.requests...)
}

func (f *fakeVMM) State() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.state
}

// setRunning makes the VM exist and run, as a VMM started with a VM on its command line.
func (f *fakeVMM) setRunning(cfg *VMConfig) {
	b, _ := json.Marshal(cfg)
	f.mu.Lock()
	f.config, f.state = b, StateRunning
	f.mu.Unlock()
}

func (f *fakeVMM) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	f.mu.Lock()
	f.requests = append(f.requests, recordedRequest{r.Method, r.URL.Path, r.Header.Get("Content-Type"), body})
	stall := f.stall
	f.mu.Unlock()
	if stall != nil {
		select {
		case <-stall:
		case <-r.Context().Done():
			return
		}
	}
	op, ok := strings.CutPrefix(r.URL.Path, APIBase)
	if !ok {
		http.Error(w, "Not Found", http.StatusNotFound)
		return
	}
	method := map[string]string{"vmm.ping": http.MethodGet, "vm.info": http.MethodGet}[op]
	if method == "" {
		method = http.MethodPut
	}
	if r.Method != method {
		http.Error(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	f.mu.Lock()
	state := f.state
	f.mu.Unlock()
	apiErr := func(code int, msg string) { http.Error(w, "Error from API: "+msg, code) }
	needVM := func(want ...string) bool {
		if state == "" {
			apiErr(http.StatusNotFound, "The VM is not created")
			return false
		}
		for _, s := range want {
			if state == s {
				return true
			}
		}
		apiErr(http.StatusMethodNotAllowed, fmt.Sprintf("The VM is %s", state))
		return false
	}
	setState := func(s string) {
		f.mu.Lock()
		f.state = s
		hook := f.onStateChange
		f.mu.Unlock()
		if hook != nil {
			hook(s)
		}
	}
	run := func(hook func() error) bool {
		if hook == nil {
			return true
		}
		if err := hook(); err != nil {
			apiErr(http.StatusInternalServerError, err.Error())
			return false
		}
		return true
	}
	switch op {
	case "vmm.ping":
		writeJSON(w, PingResponse{Version: fakeVersion, BuildVersion: "fake", PID: int64(os.Getpid()), Features: []string{"kvm"}})
	case "vm.info":
		if state == "" {
			apiErr(http.StatusNotFound, "The VM is not created")
			return
		}
		f.mu.Lock()
		cfg := f.config
		f.mu.Unlock()
		var c VMConfig
		json.Unmarshal(cfg, &c)
		var size int64
		if c.Memory != nil {
			size = c.Memory.Size
		}
		writeJSON(w, map[string]any{"config": cfg, "state": state, "memory_actual_size": size})
	case "vm.create":
		if state != "" {
			apiErr(http.StatusInternalServerError, "The VM is already created")
			return
		}
		var c VMConfig
		if err := json.Unmarshal(body, &c); err != nil || (c.Payload == PayloadConfig{}) {
			apiErr(http.StatusBadRequest, fmt.Sprintf("invalid VM configuration (%v)", err))
			return
		}
		if !run(func() error {
			if f.onCreate != nil {
				return f.onCreate(c)
			}
			return nil
		}) {
			return
		}
		f.mu.Lock()
		f.config = body
		f.mu.Unlock()
		setState(StateCreated)
		w.WriteHeader(http.StatusNoContent)
	case "vm.boot":
		if !needVM(StateCreated, StateShutdown) || !run(f.onBoot) {
			return
		}
		setState(StateRunning)
		w.WriteHeader(http.StatusNoContent)
	case "vm.snapshot":
		if state == StateRunning {
			apiErr(http.StatusInternalServerError, "The VM could not be snapshotted: VM is not paused")
			return
		}
		if !needVM(StatePaused) {
			return
		}
		var sc SnapshotConfig
		if err := json.Unmarshal(body, &sc); err != nil || !strings.HasPrefix(sc.DestinationURL, "file://") {
			apiErr(http.StatusBadRequest, fmt.Sprintf("invalid snapshot destination %q", sc.DestinationURL))
			return
		}
		dir := strings.TrimPrefix(sc.DestinationURL, "file://")
		if err := os.WriteFile(dir+"/config.json", []byte(f.configText()), 0o644); err != nil {
			apiErr(http.StatusInternalServerError, err.Error())
			return
		}
		f.mu.Lock()
		f.snapshots = append(f.snapshots, sc.DestinationURL)
		f.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "vm.pause", "vm.resume", "vm.shutdown", "vm.power-button":
		move := transitions[op]
		if !needVM(move.from...) {
			return
		}
		if move.to != "" {
			setState(move.to)
		}
		w.WriteHeader(http.StatusNoContent)
	case "vmm.shutdown":
		w.WriteHeader(http.StatusNoContent)
		if fl, ok := w.(http.Flusher); ok {
			fl.Flush()
		}
		if f.onShutdownVMM != nil {
			go f.onShutdownVMM()
		}
	default:
		http.Error(w, "Not Found", http.StatusNotFound)
	}
}

// transitions are the state changes of the VM actions that take no body: the states an
// action is allowed in, and the one it leaves (none: the state stays, as the power button
// only asks the guest).
var transitions = map[string]struct {
	from []string
	to   string
}{
	"vm.pause":        {[]string{StateRunning}, StatePaused},
	"vm.resume":       {[]string{StatePaused}, StateRunning},
	"vm.shutdown":     {[]string{StateRunning, StatePaused}, StateShutdown},
	"vm.power-button": {[]string{StateRunning}, ""},
}

func (f *fakeVMM) configText() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return string(f.config)
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
}

var errFake = errors.New("fake failure")
