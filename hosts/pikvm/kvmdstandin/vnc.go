package kvmdstandin

import (
	"io"
	"net"
	"sync"
)

// VNC stands in for kvmd-vnc's port: a fixed loopback TCP address, known before the machine
// starts (kvmd-vnc listens on 5900 whatever the machine does), whose connections are
// carried byte for byte to a VNC server on a unix socket (QEMU's own, which exists only
// while the VM runs), so the RFB peer is still a real server. Close is the server going
// away: no new connection, and every open one ends.
type VNC struct {
	Addr string

	ln   net.Listener
	sock string
	once sync.Once
	gone chan struct{}
}

// StartVNC listens on loopback and carries each connection to the server on sock.
func StartVNC(sock string) (*VNC, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	v := &VNC{Addr: ln.Addr().String(), ln: ln, sock: sock, gone: make(chan struct{})}
	go v.serve()
	return v, nil
}

func (v *VNC) serve() {
	for {
		c, err := v.ln.Accept()
		if err != nil {
			return
		}
		go v.carry(c)
	}
}

func (v *VNC) carry(c net.Conn) {
	defer c.Close()
	u, err := net.Dial("unix", v.sock)
	if err != nil {
		return // no server behind: the client sees the connection end
	}
	defer u.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-v.gone:
			c.Close()
			u.Close()
		case <-done:
		}
	}()
	go func() { io.Copy(u, c); u.Close() }()
	io.Copy(c, u)
}

// Close stops the stand-in port and ends every connection it carries.
func (v *VNC) Close() {
	v.once.Do(func() {
		v.ln.Close()
		close(v.gone)
	})
}
