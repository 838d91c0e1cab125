// Package testpeer is a raw RTMP client for tests, built from the project's
// codecs (handshake, chunk, message): it publishes and plays without any
// of the server-side code under test, and can misbehave on purpose (never
// read, never answer pings). Its methods return errors rather than failing
// a test, so goroutines may use them.
package testpeer

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// Chunk stream ids the peer writes on.
const (
	csidControl = 2
	csidCommand = 3
	csidData    = 5
	csidAudio   = 6
	csidVideo   = 7
)

// Peer is one client connection. Not safe for concurrent use.
type Peer struct {
	NC       net.Conn
	R        *chunk.Reader
	W        *chunk.Writer
	StreamID uint32
	// AnswerPings makes ReadMessage answer PingRequest (true by default).
	AnswerPings bool
	tx          float64
}

// Options tune Dial.
type Options struct {
	// ReadBuffer, when positive, sets SO_RCVBUF before anything is read: a
	// small one makes a peer that stops reading stall the server quickly.
	ReadBuffer int
}

// Dial connects to addr and does the handshake, within timeout.
func Dial(addr string, timeout time.Duration, opts *Options) (*Peer, error) {
	d := net.Dialer{Timeout: timeout}
	if opts != nil && opts.ReadBuffer > 0 {
		// Before connect, so the window the peer is offered is small too.
		d.Control = func(_, _ string, c syscall.RawConn) error {
			var serr error
			err := c.Control(func(fd uintptr) {
				serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, opts.ReadBuffer)
			})
			if err != nil {
				return err
			}
			return serr
		}
	}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := handshake.Client(nc, nil); err != nil {
		nc.Close()
		return nil, err
	}
	nc.SetDeadline(time.Time{})
	return &Peer{NC: nc, R: chunk.NewReader(nc, nil), W: chunk.NewWriter(nc), AnswerPings: true, tx: 1}, nil
}

// Close closes the connection.
func (p *Peer) Close() error { return p.NC.Close() }

// Send writes a typed message and flushes.
func (p *Peer) Send(csid, streamID, ts uint32, m message.Message) error {
	payload, err := m.AppendPayload(nil)
	if err != nil {
		return err
	}
	return p.SendRaw(csid, streamID, ts, uint8(m.Type()), payload)
}

// SendRaw writes a raw message and flushes.
func (p *Peer) SendRaw(csid, streamID, ts uint32, typ uint8, payload []byte) error {
	if err := p.W.WriteMessage(chunk.Message{CSID: csid, Header: chunk.Header{Timestamp: ts, TypeID: typ, StreamID: streamID}, Payload: payload}); err != nil {
		return err
	}
	return p.W.Flush()
}

// Msg is a message read, its payload owned by the caller.
type Msg struct {
	Type      message.Type
	Timestamp uint32
	StreamID  uint32
	Payload   []byte
	// At is when it was read.
	At time.Time
}

// ReadMessage reads the next message, applying Set Chunk Size and, if
// AnswerPings, answering PingRequest.
func (p *Peer) ReadMessage() (Msg, error) {
	m, err := p.R.ReadMessage()
	if err != nil {
		return Msg{}, err
	}
	out := Msg{Type: message.Type(m.TypeID), Timestamp: m.Timestamp, StreamID: m.StreamID, Payload: bytes.Clone(m.Payload), At: time.Now()}
	switch out.Type {
	case message.TypeSetChunkSize:
		if v, err := message.UnmarshalSetChunkSize(out.Payload); err == nil {
			if err := p.R.SetChunkSize(v.Size); err != nil {
				return out, err
			}
		}
	case message.TypeUserControl:
		if ev, err := message.UnmarshalUserControl(out.Payload); err == nil && ev.Event == message.EventPingRequest && p.AnswerPings {
			if err := p.Send(csidControl, 0, 0, message.NewPingResponse(ev.Timestamp)); err != nil {
				return out, err
			}
		}
	}
	return out, nil
}

// Command decodes a command message; ok is false for other messages.
func (m Msg) Command() (message.Command, bool) {
	if m.Type != message.TypeCommandAMF0 && m.Type != message.TypeCommandAMF3 {
		return message.Command{}, false
	}
	c, err := message.UnmarshalCommand(m.Type, m.Payload)
	return c, err == nil
}

// Status returns the code of an onStatus command, or "".
func (m Msg) Status() string {
	c, ok := m.Command()
	if !ok || c.Name != "onStatus" {
		return ""
	}
	s, ok := c.Status()
	if !ok {
		return ""
	}
	return s.Code
}

// UserControl decodes a user control event; ok is false for other messages.
func (m Msg) UserControl() (message.UserControl, bool) {
	if m.Type != message.TypeUserControl {
		return message.UserControl{}, false
	}
	ev, err := message.UnmarshalUserControl(m.Payload)
	return ev, err == nil
}

// call sends a command with the next transaction id and returns the id.
func (p *Peer) call(streamID uint32, name string, obj amf0.Value, args ...amf0.Value) (float64, error) {
	p.tx++
	csid := uint32(csidCommand)
	if streamID != 0 {
		csid = csidData
	}
	return p.tx, p.Send(csid, streamID, 0, message.Command{Name: name, TransactionID: p.tx, Object: obj, Args: args})
}

// result reads until the _result or _error of transaction tx.
func (p *Peer) result(tx float64) (message.Command, error) {
	for {
		m, err := p.ReadMessage()
		if err != nil {
			return message.Command{}, err
		}
		if c, ok := m.Command(); ok && (c.Name == "_result" || c.Name == "_error") && c.TransactionID == tx {
			if c.Name == "_error" {
				return c, fmt.Errorf("testpeer: %s answered _error", c.Name)
			}
			return c, nil
		}
	}
}

// Connect sends connect for app, with extra properties (capabilities), and
// waits for its _result; then it sets its own chunk size to 4096.
func (p *Peer) Connect(app string, extra amf0.Object) error {
	obj := amf0.Object{{Key: "app", Value: app}, {Key: "tcUrl", Value: "rtmp://127.0.0.1/" + app}}
	obj = append(obj, extra...)
	p.tx = 1
	if err := p.Send(csidCommand, 0, 0, message.Command{Name: "connect", TransactionID: 1, Object: obj}); err != nil {
		return err
	}
	if _, err := p.result(1); err != nil {
		return err
	}
	if err := p.Send(csidControl, 0, 0, message.SetChunkSize{Size: 4096}); err != nil {
		return err
	}
	return p.W.SetChunkSize(4096)
}

// CreateStream creates a message stream and remembers its id.
func (p *Peer) CreateStream() error {
	tx, err := p.call(0, "createStream", nil)
	if err != nil {
		return err
	}
	c, err := p.result(tx)
	if err != nil {
		return err
	}
	id, ok := c.NumberArg(0)
	if !ok {
		return errors.New("testpeer: createStream result without an id")
	}
	p.StreamID = uint32(id)
	return nil
}

// Play creates a stream and sends play; it does not wait for an answer.
func (p *Peer) Play(name string) error {
	if err := p.CreateStream(); err != nil {
		return err
	}
	return p.SendPlay(name)
}

// SendPlay sends play on the current stream.
func (p *Peer) SendPlay(name string) error {
	return p.Send(csidData, p.StreamID, 0, message.Command{Name: "play", Args: []amf0.Value{name, -2.0, -1.0}})
}

// Publish creates a stream, publishes name and returns the onStatus code
// the server answered with.
func (p *Peer) Publish(name string) (string, error) {
	if err := p.CreateStream(); err != nil {
		return "", err
	}
	if err := p.Send(csidData, p.StreamID, 0, message.Command{Name: "publish", Args: []amf0.Value{name, "live"}}); err != nil {
		return "", err
	}
	return p.WaitStatus()
}

// WaitStatus reads until an onStatus and returns its code.
func (p *Peer) WaitStatus() (string, error) {
	for {
		m, err := p.ReadMessage()
		if err != nil {
			return "", err
		}
		if code := m.Status(); code != "" {
			return code, nil
		}
	}
}

// Media writes an audio or video message on the publish stream.
func (p *Peer) Media(t message.Type, ts uint32, payload []byte) error {
	csid := uint32(csidVideo)
	if t == message.TypeAudio {
		csid = csidAudio
	}
	return p.SendRaw(csid, p.StreamID, ts, uint8(t), payload)
}

// Data writes a data message on the publish stream.
func (p *Peer) Data(ts uint32, d message.Data) error {
	return p.Send(csidData, p.StreamID, ts, d)
}

// Unpublish sends FCUnpublish and deleteStream.
func (p *Peer) Unpublish(name string) error {
	if _, err := p.call(0, "FCUnpublish", nil, name); err != nil {
		return err
	}
	_, err := p.call(0, "deleteStream", nil, float64(p.StreamID))
	return err
}
