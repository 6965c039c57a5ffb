package qemu

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/redox-hwtest/redox-hwtest/hosts"
	"github.com/redox-hwtest/redox-hwtest/hosts/rfb"
)

// powerOnScreenOnly starts a VM without a serial device: QEMU starts paused (-S), the
// harness connects QMP (and VNC), and the guest runs only then, so the screen is watched
// from the first instruction. The console stream carries no bytes (hosts.ScreenOnly); it
// ends when QEMU exits, or with an INFRA error when the VNC server goes away under a
// running VM.
func (m *Machine) powerOnScreenOnly(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := m.attachControl(ctx); err != nil {
		return nil, err
	}
	s := hosts.NewScreenOnly()
	m.screenOnly = s
	var vncDone <-chan struct{}
	if m.vnc != nil {
		vncDone = m.vnc.Done()
	}
	go func() {
		select {
		case <-m.Exited():
			s.Close()
		case <-vncDone:
			select {
			case <-m.Exited(): // QEMU exited and took its VNC server with it
				s.Close()
			case <-time.After(time.Second):
				s.Gone(hosts.Infra(fmt.Errorf("qemu: VNC server went away: %v", m.vnc.Err())))
			}
		case <-s.Done():
		}
	}()
	if err := m.qmp.Cont(ctx); err != nil {
		m.PowerOff(context.Background())
		return nil, hosts.Infra(fmt.Errorf("qmp cont: %w", err))
	}
	return s, nil
}

// attachVNC sets a fresh random VNC password over QMP (QEMU started with password=on
// refuses everyone until then), asks QEMU which display it took, and connects the RFB
// client. The password lives only in this process and in QEMU (sent over the QMP socket in
// the job's private directory); a new one for every VM.
func (m *Machine) attachVNC(ctx context.Context) error {
	var b [6]byte
	rand.Read(b[:])
	pw := fmt.Sprintf("%x", b[:4]) // VNC authentication uses 8 bytes
	if _, err := m.qmp.Execute(ctx, "change-vnc-password", map[string]any{"password": pw}); err != nil {
		return hosts.Infra(fmt.Errorf("vnc password: %w", err))
	}
	raw, err := m.qmp.Execute(ctx, "query-vnc", nil)
	if err != nil {
		return hosts.Infra(fmt.Errorf("query-vnc: %w", err))
	}
	var info struct{ Host, Service string }
	if err := json.Unmarshal(raw, &info); err != nil || info.Service == "" {
		return hosts.Infra(fmt.Errorf("query-vnc: no server in %s", raw))
	}
	c, err := rfb.Dial(ctx, net.JoinHostPort(info.Host, info.Service), rfb.Options{Password: pw})
	if err != nil {
		return hosts.Infra(fmt.Errorf("vnc: %w", err))
	}
	m.vnc = c
	return nil
}

// vncErr marks an RFB failure as a lab fault.
func vncErr(err error) error {
	if errors.Is(err, rfb.ErrGone) {
		return hosts.Infra(err)
	}
	return err
}
