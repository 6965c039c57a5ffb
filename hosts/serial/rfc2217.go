package serial

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"sync"
)

// Telnet (RFC 854) and Com Port Control (RFC 2217) for a network serial port such as
// ser2net's "telnet(rfc2217)" accepter: the client asks for binary both ways and
// suppress-go-ahead, offers COM-PORT-OPTION and, once the server agrees, sets the line
// (baud, data bits, parity, stop bits, flow control). Data bytes 0xFF are doubled on the
// wire; everything else the server says in band is taken out of the stream.
const (
	tSE   = 240
	tSB   = 250
	tWILL = 251
	tWONT = 252
	tDO   = 253
	tDONT = 254
	tIAC  = 255

	optBinary  = 0
	optEcho    = 1
	optSGA     = 3
	optComPort = 44

	cpSetBaud     = 1
	cpSetDataSize = 2
	cpSetParity   = 3
	cpSetStopSize = 4
	cpSetControl  = 5
)

type telnetConn struct {
	c    net.Conn
	line Options
	log  io.Writer

	wmu    sync.Mutex
	rbuf   []byte
	state  int // parser state
	cmd    byte
	sb     []byte
	wantDo map[byte]bool // options we asked the server to enable (DO sent)
	will   map[byte]bool // options we agreed to perform (WILL sent)
	lineOK bool          // com port settings sent
	acks   []string      // server's com port answers (for logs and tests)
	amu    sync.Mutex
}

const (
	stData = iota
	stIAC
	stCmd
	stSB
	stSBIAC
)

// newTelnet starts the negotiation; com port control is offered for protocol rfc2217 only.
func newTelnet(c net.Conn, line Options, log io.Writer) (*telnetConn, error) {
	if log == nil {
		log = io.Discard
	}
	t := &telnetConn{c: c, line: line, log: log, wantDo: map[byte]bool{}, will: map[byte]bool{}}
	// Ask for an 8-bit clean line both ways, and offer com port control.
	t.wantDo[optBinary], t.wantDo[optSGA] = true, true
	t.will[optBinary], t.will[optSGA] = true, true
	offer := []byte{tIAC, tDO, optBinary, tIAC, tWILL, optBinary, tIAC, tDO, optSGA, tIAC, tWILL, optSGA}
	if line.Protocol == "rfc2217" {
		t.will[optComPort] = true
		offer = append(offer, tIAC, tWILL, optComPort)
	}
	err := t.send(offer)
	if err != nil {
		return nil, err
	}
	return t, nil
}

func (t *telnetConn) send(b []byte) error {
	t.wmu.Lock()
	defer t.wmu.Unlock()
	_, err := t.c.Write(b)
	return err
}

// Write escapes IAC bytes.
func (t *telnetConn) Write(p []byte) (int, error) {
	out := p
	if bytes.IndexByte(p, tIAC) >= 0 {
		out = bytes.ReplaceAll(p, []byte{tIAC}, []byte{tIAC, tIAC})
	}
	if err := t.send(out); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Read returns data bytes only; it answers negotiations as they come.
func (t *telnetConn) Read(p []byte) (int, error) {
	if cap(t.rbuf) < len(p) {
		t.rbuf = make([]byte, len(p))
	}
	for {
		n, err := t.c.Read(t.rbuf[:len(p)])
		out := t.parse(t.rbuf[:n], p[:0])
		if len(out) > 0 {
			return len(out), nil
		}
		if err != nil {
			return 0, err
		}
	}
}

// parse consumes raw bytes, appends data to out (which aliases the caller's buffer and never
// grows past len(raw), so it fits).
func (t *telnetConn) parse(raw, out []byte) []byte {
	for _, b := range raw {
		switch t.state {
		case stData:
			if b == tIAC {
				t.state = stIAC
			} else {
				out = append(out, b)
			}
		case stIAC:
			switch b {
			case tIAC:
				out = append(out, tIAC)
				t.state = stData
			case tWILL, tWONT, tDO, tDONT:
				t.cmd, t.state = b, stCmd
			case tSB:
				t.sb, t.state = t.sb[:0], stSB
			default: // NOP, GA, AYT, ...
				t.state = stData
			}
		case stCmd:
			t.negotiate(t.cmd, b)
			t.state = stData
		case stSB:
			if b == tIAC {
				t.state = stSBIAC
			} else if len(t.sb) < 256 {
				t.sb = append(t.sb, b)
			}
		case stSBIAC:
			switch b {
			case tSE:
				t.subneg(t.sb)
				t.state = stData
			case tIAC:
				t.sb = append(t.sb, tIAC)
				t.state = stSB
			default:
				t.state = stData
			}
		}
	}
	return out
}

func (t *telnetConn) negotiate(cmd, opt byte) {
	switch cmd {
	case tDO:
		switch {
		case opt == optComPort && t.line.Protocol != "rfc2217":
			t.send([]byte{tIAC, tWONT, opt})
		case opt == optBinary, opt == optSGA, opt == optComPort:
			t.agree(t.will, opt, true, tWILL)
			if opt == optComPort && !t.lineOK {
				t.lineOK = true
				t.send(t.lineSettings())
			}
		default:
			t.send([]byte{tIAC, tWONT, opt})
		}
	case tDONT:
		t.agree(t.will, opt, false, tWONT)
		if opt == optComPort {
			fmt.Fprintf(t.log, "rfc2217: the server refuses com port control; the line keeps its configured settings\n")
		}
	case tWILL:
		switch opt {
		case optBinary, optSGA, optEcho:
			t.agree(t.wantDo, opt, true, tDO)
		default:
			t.send([]byte{tIAC, tDONT, opt})
		}
	case tWONT:
		t.agree(t.wantDo, opt, false, tDONT)
	}
}

// agree sets an option of one side (will: ours, wantDo: the server's) to on (enabled or
// not) and answers with verb, only when that changes the option's state: RFC 854 forbids
// acknowledging a mode already in effect, which is what keeps two ends from looping.
func (t *telnetConn) agree(state map[byte]bool, opt byte, on bool, verb byte) {
	if state[opt] == on {
		return
	}
	state[opt] = on
	t.send([]byte{tIAC, verb, opt})
}

// lineSettings is the RFC 2217 subnegotiations that set the line.
func (t *telnetConn) lineSettings() []byte {
	var b bytes.Buffer
	sub := func(cmd byte, val ...byte) {
		b.Write([]byte{tIAC, tSB, optComPort, cmd})
		for _, v := range val {
			b.WriteByte(v)
			if v == tIAC {
				b.WriteByte(tIAC)
			}
		}
		b.Write([]byte{tIAC, tSE})
	}
	var baud [4]byte
	binary.BigEndian.PutUint32(baud[:], uint32(t.line.Baud))
	sub(cpSetBaud, baud[:]...)
	sub(cpSetDataSize, byte(t.line.DataBits))
	sub(cpSetParity, map[string]byte{"none": 1, "odd": 2, "even": 3, "mark": 4, "space": 5}[t.line.Parity])
	sub(cpSetStopSize, map[float64]byte{1: 1, 2: 2, 1.5: 3}[t.line.StopBits])
	sub(cpSetControl, map[string]byte{"none": 1, "xonxoff": 2, "rtscts": 3}[t.line.Flow])
	return b.Bytes()
}

// subneg records the server's com port answers (cmd+100 echoes the value in effect).
func (t *telnetConn) subneg(sb []byte) {
	if len(sb) < 2 || sb[0] != optComPort {
		return
	}
	var s string
	switch cmd := sb[1] - 100; {
	case cmd == cpSetBaud && len(sb) >= 6:
		s = fmt.Sprintf("baud %d", binary.BigEndian.Uint32(sb[2:6]))
	case ackNames[cmd] != "" && len(sb) >= 3:
		s = fmt.Sprintf("%s %d", ackNames[cmd], sb[2])
	}
	if s != "" {
		t.amu.Lock()
		t.acks = append(t.acks, s)
		t.amu.Unlock()
		fmt.Fprintf(t.log, "rfc2217: server set %s\n", s)
	}
}

// ackNames name the one-byte line settings the server confirms, as the log and Acks say them
// (the baud rate is four bytes).
var ackNames = map[byte]string{cpSetDataSize: "data bits", cpSetParity: "parity", cpSetStopSize: "stop size", cpSetControl: "control"}

// Acks lists what the server confirmed.
func (t *telnetConn) Acks() []string {
	t.amu.Lock()
	defer t.amu.Unlock()
	return append([]string(nil), t.acks...)
}

func (t *telnetConn) Close() error { return t.c.Close() }
