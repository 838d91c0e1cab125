package rtmp

import (
	"errors"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// Packet is one message of a stream: audio, video, data (metadata and other
// data frames), a command or call, or a shared object message. Its Payload
// belongs to the receiver.
type Packet struct {
	Type      message.Type
	Timestamp uint32
	Payload   []byte
}

// Message decodes the payload (see message.Decode; the result aliases the
// packet).
func (p Packet) Message() (message.Message, error) { return message.Decode(p.Type, p.Payload) }

// IsMedia reports audio or video.
func (p Packet) IsMedia() bool { return p.Type == message.TypeAudio || p.Type == message.TypeVideo }

// ErrSessionClosed is returned by a session's methods after Close.
var ErrSessionClosed = errors.New("rtmp: session closed")

// session is what publish and play sessions share: the connection, the
// stream id, and a polite, idempotent close.
type session struct {
	c        *serverConn
	conn     *Conn
	streamID uint32
	amf3     bool
	closed   atomic.Bool
	once     sync.Once
	closeErr error
}

func (s *session) status(level, code, description string, extra amf0.Object) error {
	return s.c.sendStatus(s.streamID, s.amf3, level, code, description, extra)
}

func (s *session) writeControl(m message.Message) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	if err := s.conn.Write(CSIDControl, 0, 0, m); err != nil {
		return err
	}
	return s.conn.Flush()
}

// SendPingRequest sends a PingRequest with the given timestamp; the peer's
// PingResponse arrives as an event (play) or is consumed (publish).
func (s *session) SendPingRequest(timestamp uint32) error {
	return s.writeControl(message.NewPingRequest(timestamp))
}

// SendStreamDry tells the peer no data is flowing for now.
func (s *session) SendStreamDry() error { return s.writeControl(message.NewStreamDry(s.streamID)) }

// SendStreamIsRecorded tells the peer the stream is recorded.
func (s *session) SendStreamIsRecorded() error {
	return s.writeControl(message.NewStreamIsRecorded(s.streamID))
}

// SendReconnectRequest asks the peer to reconnect (Enhanced RTMP v2,
// "Reconnect Request"): a NetConnection onStatus with code
// NetConnection.Connect.ReconnectRequest and, when given, the tcUrl to
// reconnect to and a description.
func (s *session) SendReconnectRequest(tcURL, description string) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	if description == "" {
		description = "reconnect requested"
	}
	cmd := message.NewReconnectRequest(tcURL, description)
	cmd.AMF3 = s.amf3
	if err := s.c.sendCommand(0, cmd); err != nil {
		return err
	}
	return s.conn.Flush()
}

// Call sends a command to the peer on the NetConnection: a named call with
// arguments and a transaction id (0 when no answer is wanted).
func (s *session) Call(name string, tx float64, args ...amf0.Value) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	if err := s.c.sendCommand(0, message.Command{AMF3: s.amf3, Name: name, TransactionID: tx, Args: args}); err != nil {
		return err
	}
	return s.conn.Flush()
}

// Reply answers a call of the peer that had a transaction id, with _result
// (or _error when failed is true).
func (s *session) Reply(tx float64, failed bool, args ...amf0.Value) error {
	name := message.NameResult
	if failed {
		name = message.NameError
	}
	return s.Call(name, tx, args...)
}

// SetReadDeadline sets a deadline for the session's reads.
func (s *session) SetReadDeadline(t time.Time) error { return s.conn.SetReadDeadline(t) }

// BytesRead and BytesWritten count the connection's bytes, headers included.
func (s *session) BytesRead() uint64    { return s.conn.BytesRead() }
func (s *session) BytesWritten() uint64 { return s.conn.BytesWritten() }

// RemoteAddr returns the peer's address.
func (s *session) RemoteAddr() net.Addr { return s.conn.RemoteAddr() }

// closeWith closes the session, from any goroutine. Once: it marks the
// session closed, sends the closing messages (writes are serialized by
// Conn), half-closes the write side when halfClose is set, and tells the
// reader to stop. It never reads: if a goroutine is reading the connection
// (ReadPacket, the player's readLoop), that goroutine sees the flag when
// its read fails and drains and closes; if none is, this call does, as the
// reader then is the caller or is not reading.
func (s *session) closeWith(send func(), halfClose bool) error {
	s.once.Do(func() {
		s.closed.Store(true)
		if send != nil {
			send()
		}
		s.closeErr = s.conn.Flush()
		if halfClose {
			s.conn.CloseWrite()
		}
		s.conn.stopReading()
	})
	s.c.tryFinish()
	return s.closeErr
}

// PublishSession is an accepted publisher: ReadPacket yields its audio,
// video, data, commands and shared object messages, aggregates split in
// order. One goroutine reads; the Send methods and Close may be called from
// another.
type PublishSession struct {
	session
	req *Request
	// read side, owned by the reading goroutine
	pending []Packet // sub-messages of an aggregate not yet returned
	// eof is set by the reading goroutine when the publisher unpublished or
	// closed; Close reads it from any goroutine.
	eof atomic.Bool
}

// AcceptPublish accepts a publisher: StreamBegin, then onStatus
// NetStream.Publish.Start.
func (r *Request) AcceptPublish() (*PublishSession, error) {
	if r.Kind != KindPublish {
		return nil, errors.New("rtmp: AcceptPublish on a play request")
	}
	if r.decided {
		return nil, ErrAnswered
	}
	r.decided = true
	r.c.acceptLimits()
	ps := &PublishSession{req: r, session: session{c: r.c, conn: r.c.conn, streamID: r.StreamID, amf3: r.amf3}}
	r.c.setSession(ps) // before anything is sent: see AcceptPlay
	ps.conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(r.StreamID))
	ps.status("status", message.CodePublishStart, r.StreamName+" is now published", amf0.Object{{Key: "details", Value: r.StreamName}})
	if err := ps.conn.Flush(); err != nil {
		return nil, err
	}
	return ps, nil
}

// Request returns the request the session answered.
func (p *PublishSession) Request() *Request { return p.req }

// ReadPacket returns the next packet. It returns io.EOF when the publisher
// unpublishes (FCUnpublish, closeStream, deleteStream) or closes the
// connection between messages, and ErrSessionClosed after Close: a Close
// from another goroutine stops a ReadPacket that is waiting, which then
// drops the message it was reading, drains the connection and closes it.
// Every packet returned is a whole message as the peer sent it.
func (p *PublishSession) ReadPacket() (Packet, error) {
	c := p.c
	if !c.rmu.TryLock() {
		// Only a closer draining holds the read token besides us.
		if p.closed.Load() {
			return Packet{}, ErrSessionClosed
		}
		c.rmu.Lock()
	}
	defer c.rmu.Unlock()
	pk, err := p.readPacket()
	if err != nil && p.closed.Load() {
		// Whatever the read failed with, it was cut by Close.
		c.finishLocked()
		return Packet{}, ErrSessionClosed
	}
	return pk, err
}

func (p *PublishSession) readPacket() (Packet, error) {
	for {
		if p.closed.Load() {
			return Packet{}, ErrSessionClosed
		}
		if len(p.pending) > 0 {
			pk := p.pending[0]
			p.pending = p.pending[1:]
			return pk, nil
		}
		if p.eof.Load() {
			return Packet{}, io.EOF
		}
		m, err := p.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				p.eof.Store(true)
				return Packet{}, io.EOF
			}
			return Packet{}, err
		}
		t := message.Type(m.TypeID)
		switch t {
		case message.TypeAudio, message.TypeVideo:
			return Packet{Type: t, Timestamp: m.Timestamp, Payload: p.conn.Detach()}, nil
		case message.TypeAggregate:
			if err := p.splitAggregate(m); err != nil {
				return Packet{}, err
			}
		case message.TypeDataAMF0, message.TypeDataAMF3:
			return Packet{Type: t, Timestamp: m.Timestamp, Payload: p.conn.Detach()}, nil
		case message.TypeCommandAMF0, message.TypeCommandAMF3:
			payload := p.conn.Detach()
			cmd, err := message.UnmarshalCommand(t, payload)
			if err != nil {
				return Packet{}, err
			}
			switch cmd.Name {
			case message.NameFCUnpublish, message.NameCloseStream, message.NameDeleteStream:
				p.eof.Store(true)
				if cmd.Name == message.NameFCUnpublish && cmd.TransactionID != 0 {
					p.c.reply(p.amf3, cmd.TransactionID, nil, amf0.Undefined{})
				}
				p.status("status", message.CodeUnpublishSuccess, p.req.StreamName+" is now unpublished", nil)
				p.conn.Flush()
				return Packet{}, io.EOF
			}
			return Packet{Type: t, Timestamp: m.Timestamp, Payload: payload}, nil
		case message.TypeSharedObjectAMF0, message.TypeSharedObjectAMF3:
			return Packet{Type: t, Timestamp: m.Timestamp, Payload: p.conn.Detach()}, nil
		}
	}
}

// splitAggregate queues the sub-messages of an aggregate, timestamps
// rebased onto the aggregate's own (§7.1.6).
func (p *PublishSession) splitAggregate(m chunk.Message) error {
	payload := p.conn.Detach()
	it := message.NewAggregateIterator(payload, m.Timestamp)
	for it.Next() {
		sub := it.Message()
		p.pending = append(p.pending, Packet{Type: sub.Type, Timestamp: sub.Timestamp, Payload: sub.Payload})
	}
	return it.Err()
}

// Close ends the session politely: StreamEOF, NetStream.Unpublish.Success,
// flush, half-close, and a brief drain. After the publisher unpublished on
// its own, the server lets it finish its teardown (deleteStream, its own
// close) before closing, since some peers treat an early close as an
// error.
//
// It is safe to call more than once and from any goroutine. Called while
// another goroutine waits in ReadPacket, it sends the closing messages and
// returns; that ReadPacket returns ErrSessionClosed and ends the
// connection (see ReadPacket). Otherwise Close drains and closes the
// connection itself before it returns.
func (p *PublishSession) Close() error {
	if p.eof.Load() {
		return p.closeWith(nil, false)
	}
	return p.closeWith(func() {
		p.conn.Write(CSIDControl, 0, 0, message.NewStreamEOF(p.streamID))
		p.status("status", message.CodeUnpublishSuccess, p.req.StreamName+" is now unpublished", nil)
	}, true)
}

func (p *PublishSession) shutdown() { p.Close() }
