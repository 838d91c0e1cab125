package rtmp

import (
	"context"
	"errors"
	"fmt"
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
	ns       *netStream
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

// Send sends cmd to the peer on the NetConnection (message stream 0) as it
// is, and waits for nothing: a call that wants no answer has transaction
// id 0. It goes in the peer's encoding (AMF3 commands, type 17, to a peer
// that sends them).
func (s *session) Send(cmd message.Command) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	cmd.AMF3 = cmd.AMF3 || s.amf3
	if err := s.c.sendCommand(0, cmd); err != nil {
		return err
	}
	return s.conn.Flush()
}

// Call calls a procedure of the peer on the NetConnection: cmd (its name,
// command object and arguments) goes out with a new transaction id, and
// Call waits for the answer: the _result, or a *StatusError for an _error,
// or ctx's end. The answer is read by the connection's reader: for a
// publisher, that is ReadPacket, which must be running meanwhile.
func (s *session) Call(ctx context.Context, cmd message.Command) (message.Command, error) {
	if s.closed.Load() {
		return message.Command{}, ErrSessionClosed
	}
	c := s.c
	ch := make(chan message.Command, 1)
	c.smu.Lock()
	tx := c.nextTx
	c.nextTx++
	c.waiters[tx] = ch
	c.smu.Unlock()
	defer func() {
		c.smu.Lock()
		delete(c.waiters, tx)
		c.smu.Unlock()
	}()
	cmd.TransactionID = tx
	if err := s.Send(cmd); err != nil {
		return message.Command{}, err
	}
	select {
	case res := <-ch:
		if res.IsError() {
			return res, statusError(cmd.Name, res)
		}
		return res, nil
	case <-ctx.Done():
		return message.Command{}, fmt.Errorf("rtmp: %s: %w", cmd.Name, ctx.Err())
	}
}

// Reply answers a call of the peer (for a publisher a command packet, for
// a player an EventCall) with _result, the command object obj and the
// values; ReplyError answers _error. A call with transaction id 0 wants no
// answer: nothing is sent.
func (s *session) Reply(call message.Command, obj amf0.Value, values ...amf0.Value) error {
	return s.reply(message.NameResult, call, obj, values)
}

// ReplyError answers a call of the peer with _error (see Reply).
func (s *session) ReplyError(call message.Command, obj amf0.Value, values ...amf0.Value) error {
	return s.reply(message.NameError, call, obj, values)
}

func (s *session) reply(name string, call message.Command, obj amf0.Value, values []amf0.Value) error {
	if call.TransactionID == 0 {
		return nil
	}
	return s.Send(message.Command{AMF3: call.AMF3, Name: name, TransactionID: call.TransactionID, Object: obj, Args: values})
}

// SendStatus sends onStatus on the session's stream: st's level, code,
// description and other properties (message.NewStatus builds one), e.g.
// message.NewStatus(message.LevelStatus, message.CodePlayPublishNotify,
// "back").
func (s *session) SendStatus(st message.Status) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	cmd := message.NewStatusCommand(message.NameOnStatus, st)
	cmd.AMF3 = s.amf3
	if err := s.c.sendCommand(s.streamID, cmd); err != nil {
		return err
	}
	return s.conn.Flush()
}

// SendSharedObject sends a shared object message on the NetConnection,
// AMF0 (type 19) or, when so.AMF3 is set, AMF3 (type 16).
func (s *session) SendSharedObject(so message.SharedObject) error {
	if s.closed.Load() {
		return ErrSessionClosed
	}
	if err := s.conn.Write(CSIDCommand, 0, 0, so); err != nil {
		return err
	}
	return s.conn.Flush()
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
// Conn) and ends its stream. When it was the last request or session of the
// connection, it also half-closes the write side (when halfClose is set)
// and tells the reader to stop. It never reads: if a goroutine is reading
// the connection (ReadPacket, the player's readLoop, the pump), that
// goroutine sees the flag when its read fails and drains and closes; if
// none is, this call does, as the reader then is the caller or is not
// reading.
func (s *session) closeWith(send func(), halfClose bool) error {
	s.once.Do(func() {
		s.closed.Store(true)
		if send != nil {
			send()
		}
		s.closeErr = s.conn.Flush()
		if s.c.endRequest(s.ns) {
			if halfClose {
				s.conn.CloseWrite()
			}
			s.c.closeAll()
		}
	})
	if s.c.closingAll.Load() {
		s.c.tryFinish()
	}
	s.c.wakeParked() // a parked player's read side ends
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
	// held is what readDirect read but did not return (held says so).
	held    bool
	heldIt  inItem
	heldErr error
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
	r.c.publishing.Store(true)
	r.c.acceptLimits()
	ps := &PublishSession{req: r, session: session{c: r.c, conn: r.c.conn, ns: r.ns, streamID: r.StreamID, amf3: r.amf3}}
	r.c.attach(r.ns, ps) // before anything is sent: see AcceptPlay
	ps.conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(r.StreamID))
	ps.status("status", message.CodePublishStart, echoString(r.StreamName)+" is now published", amf0.Object{{Key: "details", Value: echoString(r.StreamName)}})
	if err := ps.conn.Flush(); err != nil {
		return nil, err
	}
	return ps, nil
}

// Request returns the request the session answered.
func (p *PublishSession) Request() *Request { return p.req }

// SetBeforeRead sets a function ReadPacket calls, on its goroutine, each
// time it is about to wait for more from the peer: everything received for
// this stream so far has been returned, the end of a batch. A live server
// wakes its players there rather than once per packet. Call it from the
// goroutine that calls ReadPacket.
func (p *PublishSession) SetBeforeRead(f func()) { p.ns.beforeRead = f }

// ReadPacket returns the next packet. It returns io.EOF when the publisher
// unpublishes (FCUnpublish, closeStream, deleteStream, or the
// NetConnection's close) or closes the connection between messages, and
// ErrSessionClosed after Close: a Close from another goroutine stops a
// ReadPacket that is waiting, which then drops the message it was reading,
// drains the connection and closes it. Every packet returned is a whole
// message as the peer sent it; an AMF3 data or shared object message (type
// 15, 16) whose peer left out the format selector is given it back.
//
// Besides audio, video and data on the session's stream, it returns shared
// object messages and the commands the server does not act on itself (see
// Server.HandleCalls): those of the stream, and those of the NetConnection
// (message stream 0) when this is the connection's first session.
func (p *PublishSession) ReadPacket() (Packet, error) {
	if pk, ok := p.readDirect(); ok {
		return pk, nil
	}
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
		var it inItem
		var err error
		if p.held {
			it, err = p.heldIt, p.heldErr
			p.held, p.heldIt, p.heldErr = false, inItem{}, nil
			if errors.Is(err, errSwitched) {
				continue
			}
		} else {
			it, err = p.c.next(p.ns)
		}
		if err != nil {
			if p.closed.Load() {
				// Whatever the read failed with, it was cut by Close.
				return Packet{}, ErrSessionClosed
			}
			if errors.Is(err, io.EOF) {
				p.eof.Store(true)
				return Packet{}, io.EOF
			}
			return Packet{}, err
		}
		if it.eof {
			p.eof.Store(true)
			return Packet{}, io.EOF
		}
		m := it.m
		t := message.Type(m.TypeID)
		switch t {
		case message.TypeAudio, message.TypeVideo, message.TypeCommandAMF0, message.TypeCommandAMF3, message.TypeDataAMF0, message.TypeSharedObjectAMF0:
			return Packet{Type: t, Timestamp: m.Timestamp, Payload: m.Payload}, nil
		case message.TypeDataAMF3, message.TypeSharedObjectAMF3:
			return Packet{Type: t, Timestamp: m.Timestamp, Payload: withSelector(t, m.Payload)}, nil
		case message.TypeAggregate:
			if err := p.splitAggregate(m); err != nil {
				return Packet{}, err
			}
		}
	}
}

// readDirect is the hot path of ReadPacket: while the connection has one
// NetStream, its own audio and video come straight from the chunk reader,
// with no other work than taking the read token. Anything else read is
// handled as next would, and its outcome held for the general path; ok
// reports a packet.
func (p *PublishSession) readDirect() (pk Packet, ok bool) {
	c, ns := p.c, p.ns
	if p.held || len(p.pending) > 0 || p.closed.Load() || p.eof.Load() || c.multi.Load() || ns.in.busy() || !c.rmu.TryLock() {
		return Packet{}, false
	}
	if !c.lifted || c.multi.Load() || ns.in.busy() {
		// The first read lifts the request limits (readSingle).
		c.rmu.Unlock()
		return Packet{}, false
	}
	if f := ns.beforeRead; f != nil {
		c.conn.beforeRead = f
	}
	m, err := c.conn.ReadMessage()
	if err == nil {
		if t := message.Type(m.TypeID); (t == message.TypeAudio || t == message.TypeVideo) && m.StreamID == ns.id {
			pk = Packet{Type: t, Timestamp: m.Timestamp, Payload: c.conn.Detach()}
			c.rmu.Unlock()
			return pk, true
		}
	}
	p.heldIt, p.heldErr = c.readSingleAfter(ns, m, err)
	p.held = true
	c.rmu.Unlock()
	if c.closingAll.Load() {
		c.tryFinish()
	}
	return Packet{}, false
}

// Recycle gives back the payload of an audio or video packet ReadPacket
// returned, once the caller and everything it passed the payload to are
// done with it: the connection may read later packets into its memory. A
// live server gives back what it kept for late players and dropped with
// nobody having watched it. Payloads the connection's reader does not know
// (from an aggregate, given back already) are ignored; one still in use
// would be overwritten. Call it from the goroutine that calls ReadPacket.
func (p *PublishSession) Recycle(payload []byte) {
	c := p.c
	if !c.rmu.TryLock() {
		return // another session of the connection is reading
	}
	c.conn.r.Recycle(payload)
	c.rmu.Unlock()
}

// splitAggregate queues the sub-messages of an aggregate, timestamps
// rebased onto the aggregate's own (§7.1.6).
func (p *PublishSession) splitAggregate(m chunk.Message) error {
	it := message.NewAggregateIterator(m.Payload, m.Timestamp)
	for it.Next() {
		sub := it.Message()
		p.pending = append(p.pending, Packet{Type: sub.Type, Timestamp: sub.Timestamp, Payload: withSelector(sub.Type, sub.Payload)})
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
	if p.eof.Load() || p.ns.peerEnded.Load() {
		return p.closeWith(nil, false)
	}
	return p.closeWith(func() {
		p.conn.Write(CSIDControl, 0, 0, message.NewStreamEOF(p.streamID))
		p.status("status", message.CodeUnpublishSuccess, echoString(p.req.StreamName)+" is now unpublished", nil)
	}, true)
}

func (p *PublishSession) shutdown() { p.Close() }
