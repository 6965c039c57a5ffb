// Package kvmdstandin is a STAND-IN for PiKVM's kvmd, for tests only: a real kvmd cannot
// run here (it drives GPIO, a USB gadget and a video capture device). It is written from
// pikvm/kvmd f14596e8 and serves the endpoints hosts/pikvm uses; the machine behind it is a
// Backend: an in-memory model (Model) or, in the live tests, a QEMU VM.
package kvmdstandin

import (
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"sync"
)

// Backend is the machine the stand-in PiKVM is wired to.
type Backend interface {
	// Press is the ATX power button: on starts the machine, off stops it (hard).
	Press(on bool) error
	Powered() bool
	Snapshot() (image.Image, error)
	// Shortcut presses kvmd key names together and releases them.
	Shortcut(keys []string) error
}

// Server is the stand-in kvmd. It serves, under /api as kvmd's nginx config does
// (configs/nginx/kvmd.ctx-server.conf), with kvmd's JSON envelope ({"ok", "result"},
// kvmd/htserver.py make_json_response) and errors (make_json_exception: {"error",
// "error_msg"} with the status; ForbiddenError 403 for bad credentials, api/auth.py):
//
//   - GET /streamer/snapshot: the screen as a JPEG (api/streamer.py)
//   - POST /hid/events/send_shortcut?keys=a,b (api/hid.py)
//   - GET /atx: {enabled, busy, leds: {power, hdd}}; POST /atx/power?action=on|off|off_hard|
//     reset_hard: the button is pressed only when the LED says it is needed
//     (kvmd/plugins/atx/gpio.py power_on/power_off)
//   - POST /msd/write?image=, /msd/set_params?image=&cdrom=&rw=, /msd/set_connected?connected=
//     (api/msd.py)
type Server struct {
	User, Passwd string
	B            Backend

	mu sync.Mutex
	// Stuck: the power button does nothing (a machine whose power does not respond).
	Stuck     bool
	Shortcuts []string
	Images    map[string][]byte
	Selected  string
	Connected bool
	// ConnectedAtPowerOn: the drive was plugged in when the machine powered on.
	ConnectedAtPowerOn bool
}

// New returns a stand-in kvmd for user "admin" with passwd, wired to b.
func New(passwd string, b Backend) *Server {
	return &Server{User: "admin", Passwd: passwd, B: b, Images: map[string][]byte{}}
}

// Handler serves the API under /api.
func (k *Server) Handler() http.Handler { return http.StripPrefix("/api", k) }

// Lock and Unlock guard the exported state.
func (k *Server) Lock()   { k.mu.Lock() }
func (k *Server) Unlock() { k.mu.Unlock() }

func (k *Server) reply(w http.ResponseWriter, status int, result any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if result == nil {
		result = map[string]any{}
	}
	json.NewEncoder(w).Encode(map[string]any{"ok": status == 200, "result": result})
}

func (k *Server) fail(w http.ResponseWriter, status int, name, msg string) {
	k.reply(w, status, map[string]string{"error": name, "error_msg": msg})
}

func (k *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-KVMD-User") != k.User || r.Header.Get("X-KVMD-Passwd") != k.Passwd {
		k.fail(w, 403, "ForbiddenError", "Forbidden")
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	q := r.URL.Query()
	switch r.Method + " " + r.URL.Path {
	case "GET /streamer/snapshot":
		im, err := k.B.Snapshot()
		if err != nil {
			k.fail(w, 503, "UnavailableError", "Service Unavailable")
			return
		}
		w.Header().Set("Content-Type", "image/jpeg")
		jpeg.Encode(w, im, &jpeg.Options{Quality: 90})
	case "POST /hid/events/send_shortcut":
		k.Shortcuts = append(k.Shortcuts, q.Get("keys"))
		if err := k.B.Shortcut(splitKeys(q.Get("keys"))); err != nil {
			k.fail(w, 503, "HidError", err.Error())
			return
		}
		k.reply(w, 200, nil)
	case "GET /atx":
		k.reply(w, 200, map[string]any{"enabled": true, "busy": false,
			"leds": map[string]bool{"power": k.B.Powered(), "hdd": false}})
	case "POST /atx/power":
		switch a := q.Get("action"); a {
		case "on", "off", "off_hard", "reset_hard":
			want := a == "on"
			if a == "reset_hard" {
				break // not used by hosts/pikvm
			}
			if k.B.Powered() != want && !k.Stuck {
				if err := k.B.Press(want); err != nil {
					k.fail(w, 500, "AtxOperationError", err.Error())
					return
				}
				if want {
					k.ConnectedAtPowerOn = k.Connected
				}
			}
			k.reply(w, 200, nil)
		default:
			k.fail(w, 400, "ValidatorError", "Invalid ATX power action: "+a)
		}
	case "POST /msd/write":
		data, _ := io.ReadAll(io.LimitReader(r.Body, 64<<20))
		if k.Connected {
			k.fail(w, 400, "MsdConnectedError", "Performing this operation is not allowed while the drive is connected")
			return
		}
		k.Images[q.Get("image")] = data
		k.reply(w, 200, map[string]any{"image": map[string]any{"name": q.Get("image"), "size": len(data)}, "written": len(data)})
	case "POST /msd/set_params":
		if _, ok := k.Images[q.Get("image")]; !ok {
			k.fail(w, 400, "MsdUnknownImageError", "The image is not found in the storage")
			return
		}
		k.Selected = q.Get("image")
		k.reply(w, 200, nil)
	case "POST /msd/set_connected":
		k.Connected = q.Get("connected") == "1"
		k.reply(w, 200, nil)
	default:
		k.fail(w, 404, "NotFoundError", "Not found")
	}
}

func splitKeys(s string) []string {
	var out []string
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ',' {
			if i > start {
				out = append(out, s[start:i])
			}
			start = i + 1
		}
	}
	return out
}

// Model is an in-memory machine: a power LED that follows the button, a framebuffer.
type Model struct {
	mu     sync.Mutex
	On     bool
	Screen *image.RGBA
}

// NewModel returns a machine that is off, with a 64x48 screen.
func NewModel() *Model {
	m := &Model{Screen: image.NewRGBA(image.Rect(0, 0, 64, 48))}
	m.Paint(color.RGBA{0x30, 0x30, 0x30, 255})
	return m
}

func (m *Model) Press(on bool) error { m.mu.Lock(); m.On = on; m.mu.Unlock(); return nil }
func (m *Model) Powered() bool       { m.mu.Lock(); defer m.mu.Unlock(); return m.On }
func (m *Model) Snapshot() (image.Image, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := image.NewRGBA(m.Screen.Rect)
	copy(c.Pix, m.Screen.Pix)
	return c, nil
}
func (m *Model) Shortcut(keys []string) error { return nil }

// Paint fills the screen with c.
func (m *Model) Paint(c color.RGBA) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := 0; i < len(m.Screen.Pix); i += 4 {
		m.Screen.Pix[i], m.Screen.Pix[i+1], m.Screen.Pix[i+2], m.Screen.Pix[i+3] = c.R, c.G, c.B, 255
	}
}
