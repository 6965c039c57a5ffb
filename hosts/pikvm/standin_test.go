package pikvm

import (
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// kvmdStandin is a STAND-IN for PiKVM's kvmd, written from pikvm/kvmd f14596e8 because a
// real kvmd cannot run here (it drives GPIO, a USB gadget and a video capture device). It
// serves, under /api as kvmd's nginx config does, the endpoints this package uses, with
// kvmd's JSON envelope ({"ok", "result"}, kvmd/htserver.py make_json_response) and errors
// (make_json_exception: {"error", "error_msg"} with the status; ForbiddenError 403 for bad
// credentials, api/auth.py):
//
//   - GET /streamer/snapshot: the screen as a JPEG (api/streamer.py)
//   - POST /hid/events/send_shortcut?keys=a,b (api/hid.py)
//   - GET /atx: {enabled, busy, leds: {power, hdd}}; POST /atx/power?action=on|off|off_hard|
//     reset_hard: the power button is clicked only when the LED says it is needed
//     (kvmd/plugins/atx/gpio.py power_on/power_off)
//   - POST /msd/write?image=, /msd/set_params?image=&cdrom=&rw=, /msd/set_connected?connected=
//     (api/msd.py)
//
// The machine behind it is a model: a power LED that follows the button unless stuck (a
// machine whose power does not respond), a framebuffer, a log of key shortcuts.
type kvmdStandin struct {
	user, passwd string

	mu        sync.Mutex
	power     bool
	stuck     bool
	screen    *image.RGBA
	shortcuts []string
	images    map[string][]byte
	selected  string
	connected bool
	// connectedAtPowerOn records whether the drive was plugged in when the machine
	// powered on.
	connectedAtPowerOn bool
}

func newKVMDStandin(t *testing.T, passwd string) (*kvmdStandin, *httptest.Server) {
	k := &kvmdStandin{user: "admin", passwd: passwd, images: map[string][]byte{}}
	k.screen = image.NewRGBA(image.Rect(0, 0, 64, 48))
	for i := range k.screen.Pix {
		k.screen.Pix[i] = 0x30
	}
	srv := httptest.NewServer(http.StripPrefix("/api", k))
	t.Cleanup(srv.Close)
	return k, srv
}

func (k *kvmdStandin) reply(w http.ResponseWriter, status int, result any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if result == nil {
		result = map[string]any{}
	}
	json.NewEncoder(w).Encode(map[string]any{"ok": status == 200, "result": result})
}

func (k *kvmdStandin) fail(w http.ResponseWriter, status int, name, msg string) {
	k.reply(w, status, map[string]string{"error": name, "error_msg": msg})
}

func (k *kvmdStandin) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-KVMD-User") != k.user || r.Header.Get("X-KVMD-Passwd") != k.passwd {
		k.fail(w, 403, "ForbiddenError", "Forbidden")
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	q := r.URL.Query()
	switch r.Method + " " + r.URL.Path {
	case "GET /streamer/snapshot":
		w.Header().Set("Content-Type", "image/jpeg")
		jpeg.Encode(w, k.screen, &jpeg.Options{Quality: 95})
	case "POST /hid/events/send_shortcut":
		k.shortcuts = append(k.shortcuts, q.Get("keys"))
		k.reply(w, 200, nil)
	case "GET /atx":
		k.reply(w, 200, map[string]any{"enabled": true, "busy": false,
			"leds": map[string]bool{"power": k.power, "hdd": false}})
	case "POST /atx/power":
		switch a := q.Get("action"); a {
		case "on", "off", "off_hard", "reset_hard":
			want := a == "on" || a == "reset_hard"
			if a == "reset_hard" && !k.power {
				break // gpio.py: reset only when on
			}
			if k.power != want && !k.stuck {
				k.power = want
				if want {
					k.connectedAtPowerOn = k.connected
				}
			}
			k.reply(w, 200, nil)
		default:
			k.fail(w, 400, "ValidatorError", "Invalid ATX power action: "+a)
		}
	case "POST /msd/write":
		data, _ := io.ReadAll(r.Body)
		if k.connected {
			k.fail(w, 400, "MsdConnectedError", "Performing this operation is not allowed while the drive is connected")
			return
		}
		k.images[q.Get("image")] = data
		k.reply(w, 200, map[string]any{"image": map[string]any{"name": q.Get("image"), "size": len(data)}, "written": len(data)})
	case "POST /msd/set_params":
		if _, ok := k.images[q.Get("image")]; !ok {
			k.fail(w, 400, "MsdUnknownImageError", "The image is not found in the storage")
			return
		}
		k.selected = q.Get("image")
		k.reply(w, 200, nil)
	case "POST /msd/set_connected":
		k.connected = q.Get("connected") == "1"
		k.reply(w, 200, nil)
	default:
		k.fail(w, 404, "NotFoundError", "Not found")
	}
}

func (k *kvmdStandin) paint(c color.RGBA) {
	k.mu.Lock()
	defer k.mu.Unlock()
	for i := 0; i < len(k.screen.Pix); i += 4 {
		k.screen.Pix[i], k.screen.Pix[i+1], k.screen.Pix[i+2], k.screen.Pix[i+3] = c.R, c.G, c.B, 255
	}
}

func (k *kvmdStandin) state() (power, connected, atOn bool, selected string, shortcuts []string, images map[string][]byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.power, k.connected, k.connectedAtPowerOn, k.selected, append([]string(nil), k.shortcuts...), k.images
}
