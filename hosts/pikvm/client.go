// Package pikvm is the host kind of a real machine behind a PiKVM: its screen (the
// streamer's JPEG snapshot), its keyboard (HID key events), its power (ATX buttons, with the
// power LED read back after every command) and its boot medium (the mass-storage drive that
// presents the image as a USB stick), all through kvmd's HTTP API. The API is as
// pikvm/kvmd's kvmd/apps/kvmd/api/*.py (f14596e8) define it, under /api as its nginx
// config (configs/nginx/kvmd.ctx-server.conf) exposes it. No real kvmd runs here: the tests
// use a stand-in server written from that source (standin_test.go), named as such.
package pikvm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client talks to one kvmd.
type Client struct {
	// Base is the PiKVM's URL ("https://pikvm.lab"); requests go to Base + "/api/...".
	Base string
	// User and Passwd go in kvmd's X-KVMD-User / X-KVMD-Passwd headers
	// (kvmd/apps/kvmd/api/auth.py).
	User, Passwd string
	HTTP         *http.Client
}

// maxJSON and maxSnapshot cap what is read from the device.
const (
	maxJSON     = 1 << 20
	maxSnapshot = 32 << 20
)

// APIError is kvmd's error answer: make_json_exception (kvmd/htserver.py) gives
// {"ok": false, "result": {"error": <class>, "error_msg": <text>}} with the HTTP status.
type APIError struct {
	Status    int
	Name, Msg string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("kvmd: HTTP %d: %s: %s", e.Status, e.Name, e.Msg)
}

// ErrUnreachable wraps a transport failure (the device did not answer).
var ErrUnreachable = errors.New("pikvm unreachable")

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body io.Reader, size int64) (*http.Response, error) {
	u := strings.TrimRight(c.Base, "/") + "/api" + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return nil, err
	}
	if size >= 0 && body != nil {
		req.ContentLength = size
	}
	req.Header.Set("X-KVMD-User", c.User)
	req.Header.Set("X-KVMD-Passwd", c.Passwd)
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %s %s: %v", ErrUnreachable, method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		var e struct {
			Result struct {
				Error    string `json:"error"`
				ErrorMsg string `json:"error_msg"`
			} `json:"result"`
		}
		json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(&e)
		return nil, &APIError{Status: resp.StatusCode, Name: e.Result.Error, Msg: e.Result.ErrorMsg}
	}
	return resp, nil
}

// call does a request whose answer is kvmd's JSON envelope and decodes its result.
func (c *Client) call(ctx context.Context, method, path string, q url.Values, result any) error {
	resp, err := c.do(ctx, method, path, q, nil, -1)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var env struct {
		OK     bool            `json:"ok"`
		Result json.RawMessage `json:"result"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, maxJSON)).Decode(&env); err != nil {
		return fmt.Errorf("kvmd %s: %w", path, err)
	}
	if !env.OK {
		return fmt.Errorf("kvmd %s: not ok: %s", path, env.Result)
	}
	if result != nil {
		return json.Unmarshal(env.Result, result)
	}
	return nil
}

// Snapshot returns the screen: GET /streamer/snapshot, a JPEG (api/streamer.py).
func (c *Client) Snapshot(ctx context.Context) (image.Image, error) {
	resp, err := c.do(ctx, "GET", "/streamer/snapshot", nil, nil, -1)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxSnapshot+1))
	if err != nil {
		return nil, fmt.Errorf("%w: snapshot: %v", ErrUnreachable, err)
	}
	if len(data) > maxSnapshot {
		return nil, fmt.Errorf("kvmd: snapshot larger than %d bytes", maxSnapshot)
	}
	return jpeg.Decode(bytes.NewReader(data))
}

// SendShortcut presses keys (kvmd's web key names, "ShiftLeft", "KeyA") together and
// releases them in reverse: POST /hid/events/send_shortcut?keys=a,b (api/hid.py).
func (c *Client) SendShortcut(ctx context.Context, keys []string) error {
	return c.call(ctx, "POST", "/hid/events/send_shortcut", url.Values{"keys": {strings.Join(keys, ",")}}, nil)
}

// ATXState is GET /atx's result (kvmd/plugins/atx/gpio.py get_state).
type ATXState struct {
	Enabled bool `json:"enabled"`
	Busy    bool `json:"busy"`
	LEDs    struct {
		Power bool `json:"power"`
		HDD   bool `json:"hdd"`
	} `json:"leds"`
}

// ATX reads the ATX state (the power LED).
func (c *Client) ATX(ctx context.Context) (ATXState, error) {
	var s ATXState
	err := c.call(ctx, "GET", "/atx", nil, &s)
	return s, err
}

// ATXPower asks for on, off, off_hard or reset_hard (POST /atx/power?action=..&wait=1).
// kvmd clicks the power button only when the LED says it is needed (gpio.py power_on /
// power_off), so the LED read back afterwards is what proves the machine changed state.
func (c *Client) ATXPower(ctx context.Context, action string) error {
	return c.call(ctx, "POST", "/atx/power", url.Values{"action": {action}, "wait": {"1"}}, nil)
}

// MSDWrite uploads an image to the mass-storage drive's storage (POST /msd/write?image=).
func (c *Client) MSDWrite(ctx context.Context, name string, r io.Reader, size int64) error {
	resp, err := c.do(ctx, "POST", "/msd/write", url.Values{"image": {name}}, r, size)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

// MSDSelect makes name the drive's image, presented as a removable disk (not a CD-ROM),
// read-only (POST /msd/set_params).
func (c *Client) MSDSelect(ctx context.Context, name string) error {
	return c.call(ctx, "POST", "/msd/set_params", url.Values{"image": {name}, "cdrom": {"0"}, "rw": {"0"}}, nil)
}

// MSDConnect plugs the drive into the machine or pulls it (POST /msd/set_connected).
func (c *Client) MSDConnect(ctx context.Context, on bool) error {
	v := "0"
	if on {
		v = "1"
	}
	return c.call(ctx, "POST", "/msd/set_connected", url.Values{"connected": {v}}, nil)
}

// WaitPower polls the power LED until it reads want or timeout passes.
func (c *Client) WaitPower(ctx context.Context, want bool, timeout, poll time.Duration) (bool, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := c.ATX(ctx)
		if err != nil {
			return false, err
		}
		if s.LEDs.Power == want {
			return true, nil
		}
		if time.Now().After(deadline) {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, ctx.Err()
		case <-time.After(poll):
		}
	}
}
