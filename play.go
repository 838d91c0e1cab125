package rtmp

import (
	"context"
	"errors"
	"io"
	"strconv"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// PlayOptions shape how a player is accepted.
type PlayOptions struct {
	// Recorded sends StreamIsRecorded before StreamBegin, for recorded
	// (not live) content.
	Recorded bool
}

// EventKind names what a player did.
type EventKind uint8

// Player events.
const (
	EventPause        EventKind = iota + 1 // Paused, Millis
	EventSeek                              // Millis
	EventReceiveAudio                      // Bool
	EventReceiveVideo                      // Bool
	EventBufferLength                      // Millis (SetBufferLength)
	EventPingResponse                      // Millis holds the echoed timestamp
	// EventCall carries a command the player sent that is none of the
	// other kinds, in Command: a call without transaction id; with
	// Server.HandleCalls also calls with one (answer with Reply or
	// ReplyError), and a play or play2 whose arguments do not parse;
	// answers to calls nobody waits for (_result, _error).
	EventCall
	// EventSharedObject carries a shared object message in SharedObject:
	// one on the player's stream, or on the NetConnection when this is the
	// connection's first session.
	EventSharedObject
	// EventPlay is a play on the playing stream (a playlist switch),
	// parsed in Play, the command in Command; with Server.HandleCalls only
	// (answer with SendStatus).
	EventPlay
	// EventPlay2 is a play2 on the playing stream (a bitrate switch),
	// parsed in Play2, the command in Command; with Server.HandleCalls only.
	EventPlay2
)

var eventKindNames = [...]string{"", "pause", "seek", "receiveAudio", "receiveVideo", "bufferLength", "pingResponse", "call", "sharedObject", "play", "play2"}

func (k EventKind) String() string {
	if int(k) < len(eventKindNames) && k != 0 {
		return eventKindNames[k]
	}
	return "eventKind(" + strconv.Itoa(int(k)) + ")"
}

// Event is something a player sent.
type Event struct {
	Kind   EventKind
	Paused bool    // EventPause: true to pause, false to resume
	Bool   bool    // EventReceiveAudio, EventReceiveVideo
	Millis float64 // pause position, seek target, buffer length, ping timestamp
	// Command is the whole command for EventCall, EventPlay and EventPlay2.
	Command message.Command
	// Play is the parsed play of an EventPlay.
	Play message.Play
	// Play2 is the parsed play2 of an EventPlay2.
	Play2 message.Play2
	// SharedObject is the message of an EventSharedObject, AMF0 (type 19)
	// or AMF3 (type 16).
	SharedObject message.SharedObject
}

// playEventQueue bounds what a player can queue between ReadEvent calls; past
// it the oldest events are dropped, so a player cannot grow memory.
const playEventQueue = 64

// PlaySession is an accepted player. WritePacket and the Notify methods send
// to it from one goroutine; ReadEvent returns what it sends, read by the
// session's own goroutine so pings and acknowledgements are answered even
// when nobody calls ReadEvent. Close may be called from any goroutine.
type PlaySession struct {
	session
	req *Request

	events *eventQueue[Event]
	done   chan struct{}
}

// AcceptPlay accepts a player: StreamIsRecorded when recorded, StreamBegin,
// onStatus NetStream.Play.Reset when the player asked for a reset,
// NetStream.Play.Start, |RtmpSampleAccess and NetStream.Data.Start.
func (r *Request) AcceptPlay(opts *PlayOptions) (*PlaySession, error) {
	if r.Kind != KindPlay {
		return nil, errors.New("rtmp: AcceptPlay on a publish request")
	}
	if r.decided {
		return nil, ErrAnswered
	}
	r.decided = true
	r.c.acceptLimits()
	if opts == nil {
		opts = &PlayOptions{}
	}
	p := &PlaySession{req: r, session: session{c: r.c, conn: r.c.conn, ns: r.ns, streamID: r.StreamID, amf3: r.amf3},
		events: newEventQueue[Event](playEventQueue), done: make(chan struct{})}
	// Registered before anything is sent, so a Shutdown from now on ends
	// this session politely.
	r.c.attach(r.ns, p)
	conn := p.conn
	if opts.Recorded {
		conn.Write(CSIDControl, 0, 0, message.NewStreamIsRecorded(r.StreamID))
	}
	conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(r.StreamID))
	if r.Reset {
		p.status("status", message.CodePlayReset, "Playing and resetting "+r.StreamName+".", amf0.Object{{Key: "details", Value: r.StreamName}})
	}
	p.status("status", message.CodePlayStart, "Started playing "+r.StreamName+".", amf0.Object{{Key: "details", Value: r.StreamName}})
	conn.Write(CSIDData, r.StreamID, 0, message.Data{Values: []amf0.Value{message.RtmpSampleAccess, true, true}})
	conn.Write(CSIDData, r.StreamID, 0, message.Data{Values: []amf0.Value{message.NameOnStatus, message.Status{Code: message.CodeDataStart}.Object()}})
	if err := conn.Flush(); err != nil {
		return nil, err
	}
	// A player that only watches may send nothing for a long time (its
	// acknowledgements come every window); a dead one is found by the write
	// timeout. So reads wait without an idle timeout.
	conn.SetReadTimeout(0)
	go p.readLoop()
	return p, nil
}

// Request returns the request the session answered.
func (p *PlaySession) Request() *Request { return p.req }

// readLoop reads what the player sends for the session's life: while the
// connection has one NetStream it reads the socket itself (holding the read
// token while it waits), answering pings and acknowledgements through Conn;
// otherwise it takes what the connection's reader routed to it. It queues
// the player's events. When Close stops it, the reader drains and closes
// the connection.
func (p *PlaySession) readLoop() {
	defer close(p.done)
	err := p.readEvents()
	if p.closed.Load() {
		err = ErrSessionClosed
	}
	p.push(Event{}, err)
}

// readEvents reads until the player stops (io.EOF) or the read fails.
func (p *PlaySession) readEvents() error {
	for {
		if p.closed.Load() {
			return ErrSessionClosed
		}
		it, err := p.c.next(p.ns)
		if err != nil {
			return err
		}
		if it.eof {
			return io.EOF
		}
		m := it.m
		if message.Type(m.TypeID) == message.TypeAggregate {
			// §7.1.6: sub-messages in order, timestamps rebased.
			ag := message.NewAggregateIterator(m.Payload, m.Timestamp)
			for ag.Next() {
				sub := ag.Message()
				if err := p.message(sub.Type, sub.Payload); err != nil {
					return err
				}
			}
			if err := ag.Err(); err != nil {
				return err
			}
			continue
		}
		if err := p.message(message.Type(m.TypeID), m.Payload); err != nil {
			return err
		}
	}
}

// message turns one message of the player into an event, if it is one.
func (p *PlaySession) message(t message.Type, payload []byte) error {
	switch t {
	case message.TypeUserControl:
		ev, err := message.UnmarshalUserControl(payload)
		if err != nil {
			return nil
		}
		switch ev.Event {
		case message.EventSetBufferLength:
			p.push(Event{Kind: EventBufferLength, Millis: float64(ev.BufferLength)}, nil)
		case message.EventPingResponse:
			p.push(Event{Kind: EventPingResponse, Millis: float64(ev.Timestamp)}, nil)
		}
	case message.TypeCommandAMF0, message.TypeCommandAMF3:
		cmd, err := decodeCommand(t, payload)
		if err != nil {
			return err
		}
		if ev := p.command(cmd); ev.Kind != 0 {
			p.push(ev, nil)
		}
	case message.TypeSharedObjectAMF0, message.TypeSharedObjectAMF3:
		so, err := decodeSharedObject(t, payload)
		if err != nil {
			return err
		}
		p.push(Event{Kind: EventSharedObject, SharedObject: so}, nil)
	}
	return nil
}

// command turns a player's command into an event. A command whose
// arguments do not parse is passed on as an EventCall.
func (p *PlaySession) command(cmd message.Command) Event {
	switch cmd.Name {
	case message.NamePause:
		if v, err := message.ParsePause(cmd); err == nil {
			return Event{Kind: EventPause, Paused: v.Pause, Millis: v.Milliseconds}
		}
	case message.NameSeek:
		if v, err := message.ParseSeek(cmd); err == nil {
			return Event{Kind: EventSeek, Millis: v.Milliseconds}
		}
	case message.NameReceiveAudio:
		if v, err := message.ParseReceiveAudio(cmd); err == nil {
			return Event{Kind: EventReceiveAudio, Bool: v.Receive}
		}
	case message.NameReceiveVideo:
		if v, err := message.ParseReceiveVideo(cmd); err == nil {
			return Event{Kind: EventReceiveVideo, Bool: v.Receive}
		}
	case message.NamePlay:
		if v, err := message.ParsePlay(cmd); err == nil {
			return Event{Kind: EventPlay, Play: v, Command: cmd}
		}
	case message.NamePlay2:
		if v, err := message.ParsePlay2(cmd); err == nil {
			return Event{Kind: EventPlay2, Play2: v, Command: cmd}
		}
	}
	return Event{Kind: EventCall, Command: cmd}
}

func (p *PlaySession) push(ev Event, err error) {
	if err != nil {
		p.events.close(err)
		return
	}
	p.events.push(ev)
}

// ReadEvent returns the player's next event. It returns io.EOF when the
// player closes its stream or the connection, and ErrSessionClosed after
// Close.
func (p *PlaySession) ReadEvent() (Event, error) {
	ev, err := p.events.next(context.Background())
	if errors.Is(err, io.EOF) {
		return Event{}, io.EOF
	}
	return ev, err
}

// Done is closed when the player's side of the connection ends.
func (p *PlaySession) Done() <-chan struct{} { return p.done }

func csidFor(t message.Type) uint32 {
	switch t {
	case message.TypeAudio:
		return CSIDAudio
	case message.TypeVideo:
		return CSIDVideo
	}
	return CSIDData
}

// WritePacket queues a packet for the player, on the play stream. Call
// Flush to send (or use WritePackets).
func (p *PlaySession) WritePacket(pk Packet) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	return p.conn.WriteMessage(chunk.Message{CSID: csidFor(pk.Type), Header: chunk.Header{Timestamp: pk.Timestamp, TypeID: uint8(pk.Type), StreamID: p.streamID}, Payload: pk.Payload})
}

// WriteMetadata queues a data frame (e.g. onMetaData) at a timestamp.
func (p *PlaySession) WriteMetadata(timestamp uint32, d message.Data) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	return p.conn.Write(CSIDData, p.streamID, timestamp, d)
}

// Flush sends what is queued.
func (p *PlaySession) Flush() error { return p.conn.Flush() }

// NotifyPause tells the player the stream paused (true) or resumed:
// NetStream.Pause.Notify with StreamEOF, or StreamBegin with
// NetStream.Unpause.Notify.
func (p *PlaySession) NotifyPause(paused bool) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	if paused {
		p.conn.Write(CSIDControl, 0, 0, message.NewStreamEOF(p.streamID))
		p.status("status", message.CodePauseNotify, "Paused "+p.req.StreamName+".", nil)
	} else {
		p.conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(p.streamID))
		p.status("status", message.CodeUnpauseNotify, "Unpaused "+p.req.StreamName+".", nil)
	}
	return p.conn.Flush()
}

// NotifySeek tells the player a seek to ms was done: StreamEOF,
// StreamBegin, NetStream.Seek.Notify, then NetStream.Play.Start.
func (p *PlaySession) NotifySeek(ms float64) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	p.conn.Write(CSIDControl, 0, 0, message.NewStreamEOF(p.streamID))
	p.conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(p.streamID))
	p.status("status", message.CodeSeekNotify, "Seeking to "+formatMillis(ms)+".", nil)
	p.status("status", message.CodePlayStart, "Started playing "+p.req.StreamName+".", nil)
	return p.conn.Flush()
}

// NotifyPublish tells the player a publisher (re)started the stream:
// StreamBegin and NetStream.Play.PublishNotify.
func (p *PlaySession) NotifyPublish() error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	p.conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(p.streamID))
	p.status("status", message.CodePlayPublishNotify, p.req.StreamName+" is now published.", nil)
	return p.conn.Flush()
}

// NotifyUnpublish tells the player the publisher went away
// (NetStream.Play.UnpublishNotify) without closing the session. No
// StreamEOF goes with it: the stream may come back (a live server's
// republish grace), and players end on StreamEOF; Close sends it.
func (p *PlaySession) NotifyUnpublish() error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	p.status("status", message.CodePlayUnpublishNotify, p.req.StreamName+" is now unpublished.", nil)
	return p.conn.Flush()
}

// Close ends playback politely: StreamEOF, NetStream.Play.Stop, flush,
// half-close and a brief drain. Safe to call more than once and from any
// goroutine. The drain is the session's reading goroutine's: Close returns
// once the closing messages are sent, and Done is closed when the
// connection is.
func (p *PlaySession) Close() error {
	return p.closeWith(func() {
		p.conn.Write(CSIDControl, 0, 0, message.NewStreamEOF(p.streamID))
		p.status("status", message.CodePlayStop, "Stopped playing "+p.req.StreamName+".", nil)
	}, true)
}

func (p *PlaySession) shutdown() { p.Close() }

func formatMillis(ms float64) string { return strconv.FormatFloat(ms, 'f', -1, 64) + " ms" }

// StreamID returns the message stream the player plays on; a prepared
// message must carry it.
func (p *PlaySession) StreamID() uint32 { return p.streamID }

// ChunkSize returns the chunk size the server writes to this player with; a
// prepared message must be chunked at it.
func (p *PlaySession) ChunkSize() uint32 { return p.conn.ChunkSize() }

// WritePrepared queues a message chunked once for many players (see
// chunk.NewPrepared): the fan-out path, with no per-player encoding. Its
// chunk size and stream id must match ChunkSize and StreamID.
func (p *PlaySession) WritePrepared(m *chunk.Prepared) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	return p.conn.WritePrepared(m)
}

// WritePreparedBatch writes messages chunked once for many connections
// and, with flush, flushes: one lock, one write deadline and one flush for
// the batch (Conn.WritePreparedBatch).
func (p *PlaySession) WritePreparedBatch(ms []*chunk.Prepared, flush bool) error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	return p.conn.WritePreparedBatch(ms, flush)
}

// Capabilities returns the player's Enhanced RTMP capabilities.
func (p *PlaySession) Capabilities() Capabilities { return p.req.Capabilities }
