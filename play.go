package rtmp

import (
	"context"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"

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

	// The read side's parking (park). raw is the socket's, nil when the
	// session cannot park (TLS, not Linux); immutable. idleID is its key
	// in the idle watch, guarded by the watch.
	raw    syscall.RawConn
	idleID uint32
	pmu    sync.Mutex
	// Guarded by pmu: parked is set while no goroutine reads; parkedAt is
	// when it parked (Unix ns), timer its read timeout then, and parks
	// counts the parks (a timer of an earlier one may fire late).
	parked   bool
	parkedAt int64
	timer    *time.Timer
	parks    uint64
}

// errParked ends a player's reading goroutine when its read side parked.
var errParked = errors.New("rtmp: parked")

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
		p.status("status", message.CodePlayReset, "Playing and resetting "+echoString(r.StreamName)+".", amf0.Object{{Key: "details", Value: echoString(r.StreamName)}})
	}
	p.status("status", message.CodePlayStart, "Started playing "+echoString(r.StreamName)+".", amf0.Object{{Key: "details", Value: echoString(r.StreamName)}})
	conn.Write(CSIDData, r.StreamID, 0, message.Data{Values: []amf0.Value{message.RtmpSampleAccess, true, true}})
	conn.Write(CSIDData, r.StreamID, 0, message.Data{Values: []amf0.Value{message.NameOnStatus, message.Status{Code: message.CodeDataStart}.Object()}})
	if err := conn.Flush(); err != nil {
		return nil, err
	}
	// A player that only watches may send nothing for a long time (its
	// acknowledgements come every window); a dead one is found by the write
	// timeout. So reads wait without an idle timeout.
	conn.SetReadTimeout(0)
	if tc, ok := r.c.nc.(*net.TCPConn); ok && theIdleWatch() != nil {
		if rc, err := tc.SyscallConn(); err == nil {
			p.raw, r.ns.parks = rc, true
		}
	}
	go p.readLoop(false)
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
//
// Between messages, once everything the player sent was read, the read
// side parks (park) and the goroutine ends: resume starts another.
func (p *PlaySession) readLoop(resumed bool) {
	err := p.readEvents(resumed)
	if errors.Is(err, errParked) {
		return
	}
	defer close(p.done)
	if p.idleID != 0 {
		theIdleWatch().remove(p)
	}
	if p.closed.Load() {
		err = ErrSessionClosed
	}
	p.push(Event{}, err)
}

// readEvents reads until the player stops (io.EOF) or the read fails, or
// its read side parks (errParked). A resumed read side reads before it
// parks again: what woke it is on the socket.
func (p *PlaySession) readEvents(resumed bool) error {
	for first := true; ; first = false {
		if p.closed.Load() {
			return ErrSessionClosed
		}
		if p.raw != nil && !(first && resumed) && p.park() {
			return errParked
		}
		it, err := p.c.next(p.ns)
		if errors.Is(err, errIdle) {
			continue
		}
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

// park lets the read side wait with no goroutine: a player that only
// watches sends an acknowledgement every few seconds and answers pings,
// and thousands of them should not each keep a goroutine (and its stack)
// waiting for that. The reading goroutine calls it between messages; when
// everything the player sent was read and the connection has this one
// NetStream, the socket is armed in the idle watch and park reports true:
// the goroutine ends, and resume starts another when the socket is
// readable or closed by the peer, when the read timeout passes (counted
// from now), or when the connection's terms change (a deadline, a stop, a
// close; see Conn.wakeParked).
func (p *PlaySession) park() bool {
	c, w := p.c, theIdleWatch()
	if c.multi.Load() || !c.rmu.TryLock() {
		return false
	}
	defer c.rmu.Unlock()
	c.liftLimits()
	// A read timeout that passed while parked is for the read to report.
	if p.mustRead() || c.finished || p.conn.readBase != 0 || p.conn.r.Buffered() != 0 {
		return false
	}
	// What the next read would have sent first (an acknowledgement due,
	// answers buffered) goes now.
	if p.conn.sendAck() != nil {
		return false
	}
	d := time.Duration(p.conn.readTimeout.Load())
	p.conn.r.Idle() // an idle player holds no read buffers
	p.pmu.Lock()
	w.add(p)
	if err := w.arm(p); err != nil {
		p.pmu.Unlock()
		w.forget(p)
		return false
	}
	p.parked, p.parkedAt = true, time.Now().UnixNano()
	p.parks++
	if d > 0 {
		n := p.parks
		p.timer = time.AfterFunc(d, func() {
			if p.unpark(n) {
				go p.readLoop(false)
			}
		})
	}
	c.parked.Store(p)
	p.pmu.Unlock()
	// What changed meanwhile did not see p parked: look again, and read
	// on if nobody resumed p yet.
	if p.mustRead() || time.Duration(p.conn.readTimeout.Load()) != d {
		return !p.unpark(0)
	}
	return true
}

// mustRead reports what keeps the read side from parking: the session or
// connection closing, a stop, a deadline, queued input, other NetStreams.
func (p *PlaySession) mustRead() bool {
	c := p.c
	return p.closed.Load() || c.multi.Load() || c.closingAll.Load() || p.ns.in.busy() ||
		p.conn.stopped.Load() || p.conn.readDeadline.Load() != 0
}

// unpark takes the read side out of the idle watch if it is parked, and
// reports whether it was: the caller then owns the reading. timeout, when
// not 0, is the park whose read timeout passed (nothing if p resumed since):
// the next read's timeout then counts from when p parked, so it fails at
// once unless the player sent something.
func (p *PlaySession) unpark(timeout uint64) bool {
	p.pmu.Lock()
	if !p.parked || timeout != 0 && timeout != p.parks {
		p.pmu.Unlock()
		return false
	}
	p.parked = false
	if p.timer != nil {
		p.timer.Stop()
		p.timer = nil
	}
	if timeout != 0 {
		p.conn.readBase = p.parkedAt
	}
	p.c.parked.CompareAndSwap(p, nil)
	p.pmu.Unlock()
	theIdleWatch().forget(p)
	return true
}

// resume gives a parked read side a goroutine again: the idle watch's when
// the socket is readable (data: the goroutine reads before it parks
// again), the connection's when its terms changed (Conn.wakeParked). The
// read timeout's timer resumes it in park.
func (p *PlaySession) resume(data bool) {
	if p.unpark(0) {
		go p.readLoop(data)
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

// TryReadEvent returns the player's next event if one is queued, without
// waiting; ok is false when none is (the end is ReadEvent's and Done's to
// report). A server that only writes to a player calls it now and then:
// events nobody reads stay queued, up to a bound.
func (p *PlaySession) TryReadEvent() (ev Event, ok bool) { return p.events.tryNext() }

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
		p.status("status", message.CodePauseNotify, "Paused "+echoString(p.req.StreamName)+".", nil)
	} else {
		p.conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(p.streamID))
		p.status("status", message.CodeUnpauseNotify, "Unpaused "+echoString(p.req.StreamName)+".", nil)
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
	p.status("status", message.CodePlayStart, "Started playing "+echoString(p.req.StreamName)+".", nil)
	return p.conn.Flush()
}

// NotifyPublish tells the player a publisher (re)started the stream:
// StreamBegin and NetStream.Play.PublishNotify.
func (p *PlaySession) NotifyPublish() error {
	if p.closed.Load() {
		return ErrSessionClosed
	}
	p.conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(p.streamID))
	p.status("status", message.CodePlayPublishNotify, echoString(p.req.StreamName)+" is now published.", nil)
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
	p.status("status", message.CodePlayUnpublishNotify, echoString(p.req.StreamName)+" is now unpublished.", nil)
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
		p.status("status", message.CodePlayStop, "Stopped playing "+echoString(p.req.StreamName)+".", nil)
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
