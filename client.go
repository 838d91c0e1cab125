package rtmp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/amf3"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// Client defaults.
const (
	DefaultPublishFlashVer = "FMLE/3.0 (compatible; FMSc/1.0)"
	DefaultPlayFlashVer    = "LNX 9,0,124,2"
	DefaultDialTimeout     = 10 * time.Second
	DefaultBufferLength    = 3000 // ms, sent with SetBufferLength before play
)

// ClientConfig configures DialPublish and DialPlay. The zero value (or nil)
// uses the defaults.
type ClientConfig struct {
	// FlashVer is the connect command's flashVer; the default depends on
	// publish or play.
	FlashVer string
	// Capabilities are advertised in connect; nil advertises every codec
	// and capsEx feature ertmp handles (DefaultClientCapabilities). Set
	// a zero Capabilities to look like a legacy client.
	Capabilities *Capabilities
	// ConnectFields are extra properties added to the connect command object.
	ConnectFields amf0.Object
	// TLSConfig is used for rtmps:// (the host becomes ServerName when unset).
	TLSConfig *tls.Config
	// Handshake configures the handshake (digest first, simple fallback).
	Handshake handshake.Config
	// Conn sets timeouts and reader limits.
	Conn ConnConfig
	// ChunkSize is the chunk size the client writes with (default 4096).
	ChunkSize uint32
	// PublishType is "live" (default), "record" or "append".
	PublishType string
	// PlayArgs, when set, are play's start, duration and reset, sent as they
	// are: start 0 and duration 0 mean what they say (from the beginning;
	// a single frame). Its Name and TransactionID are not used: the URL
	// names the stream. Nil sends message.NewPlay's defaults (start -2,
	// live or recorded; duration -1, to the end; reset true).
	PlayArgs *message.Play
	// BufferLength is the buffer length in ms sent with SetBufferLength
	// before play (default DefaultBufferLength).
	BufferLength uint32
	// ContinueAfterUnpublish keeps a player reading after
	// NetStream.Play.UnpublishNotify (a live server may bring the stream back).
	ContinueAfterUnpublish bool
}

// DefaultClientCapabilities is what a client advertises by default: every
// FourCC ertmp handles, decode and forward, and multitrack, ModEx,
// reconnect and nanosecond offsets.
func DefaultClientCapabilities() *Capabilities {
	video := []string{"avc1", "hvc1", "vvc1", "av01", "vp09", "vp08"}
	audio := []string{"mp4a", ".mp3", "Opus", "fLaC", "ac-3", "ec-3"}
	c := &Capabilities{FourCCList: append(append([]string{}, video...), audio...),
		VideoFourCCInfoMap: map[string]message.FourCCInfoMask{}, AudioFourCCInfoMap: map[string]message.FourCCInfoMask{},
		CapsEx: message.CapsExReconnect | message.CapsExMultitrack | message.CapsExModEx | message.CapsExTimestampNanoOffset}
	for _, f := range video {
		c.VideoFourCCInfoMap[f] = message.FourCCCanDecode | message.FourCCCanForward
	}
	for _, f := range audio {
		c.AudioFourCCInfoMap[f] = message.FourCCCanDecode | message.FourCCCanForward
	}
	return c
}

// StatusError is an error onStatus or _error from the server.
type StatusError struct {
	Command     string // "connect", "publish", "play", ...
	Code        string // e.g. NetStream.Publish.BadName
	Description string
}

func (e *StatusError) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("rtmp: %s refused: %s (%s)", e.Command, e.Code, e.Description)
	}
	return fmt.Sprintf("rtmp: %s refused: %s", e.Command, e.Code)
}

// ClientEventKind names what the server sent.
type ClientEventKind uint8

// Client events.
const (
	EventStreamBegin ClientEventKind = iota + 1
	EventStreamEOF
	EventStreamDry
	EventStreamIsRecorded
	EventPingResponseFromServer
	EventStatus           // onStatus: Level, Code, Description, Info (Data set when it came as a data message)
	EventResult           // _result or _error for a transaction the caller did not wait on
	EventServerCall       // any other command: Command (answer it with Reply or ReplyError)
	EventReconnectRequest // NetConnection.Connect.ReconnectRequest: Reconnect is resolved
	// EventSampleAccess is the |RtmpSampleAccess data message a server
	// sends when play starts: Data holds it, its booleans granting the
	// player raw access to the audio and video samples (Flash's
	// NetStream.audioSampleAccess and videoSampleAccess).
	EventSampleAccess
	// EventServerSharedObject is a shared object message: SharedObject
	// holds it, AMF0 (type 19) or AMF3 (type 16).
	EventServerSharedObject
)

func (k ClientEventKind) String() string {
	names := [...]string{"", "streamBegin", "streamEOF", "streamDry", "streamIsRecorded", "pingResponse", "status", "result", "serverCall", "reconnectRequest", "sampleAccess", "sharedObject"}
	if int(k) < len(names) && k != 0 {
		return names[k]
	}
	return "clientEventKind(" + strconv.Itoa(int(k)) + ")"
}

// ClientEvent is something the server sent.
type ClientEvent struct {
	Kind        ClientEventKind
	StreamID    uint32
	Timestamp   uint32
	Level       string
	Code        string
	Description string
	Info        amf0.Object
	Command     message.Command
	// Data is the data message of an EventSampleAccess, or of an
	// EventStatus that came as a data message (onStatus
	// NetStream.Data.Start).
	Data message.Data
	// Reconnect is where to reconnect (EventReconnectRequest): the tcUrl
	// the server gave, resolved against the current one, same stream.
	Reconnect *URL
	// SharedObject is the message of an EventServerSharedObject.
	SharedObject message.SharedObject
}

// clientConn is a client connection: what the streams on it share. One
// goroutine (readLoop) reads it and routes what it reads by message stream
// id to the streams; writes are serialized by Conn.
type clientConn struct {
	url        *URL // as dialed; immutable
	cfg        ClientConfig
	conn       *Conn
	hs         handshake.Result // immutable after dial
	serverCaps Capabilities     // immutable after connect

	mu      sync.Mutex
	nextTx  float64
	waiters map[float64]chan message.Command
	// streams are the streams of the connection in the order they were
	// opened (the first open one receives the NetConnection's calls);
	// byID those that have their stream id. open counts those not closed:
	// the connection closes with the last.
	streams []stream
	byID    map[uint32]stream
	open    int
	err     error // why the reader stopped
	done    chan struct{}
	stopped sync.Once
}

// stream is a Publisher or Player on a connection; its methods run on the
// connection's reading goroutine.
type stream interface {
	base() *client
	// message takes audio, video, data and aggregate messages for the stream.
	message(m chunk.Message)
	// event is called for each event queued for the stream (it reacts to
	// the ones that end a player).
	event(ev ClientEvent)
	// ended is called once the connection's reader stopped.
	ended()
}

// client is one stream of a client connection: what Publisher and Player
// share. The connection's methods (Conn, Call, Send, ...) are promoted.
type client struct {
	*clientConn
	url      *URL   // the connection's URL with this stream's name
	name     string // the stream name, as sent to publish or play
	streamID uint32 // set once createStream is answered (before the stream is routed)
	events   *eventQueue[ClientEvent]
	emu      sync.Mutex
	early    []ClientEvent // seen while waiting for publish or play to start
	closed   atomic.Bool
	closeErr error
	once     sync.Once
}

const clientEventQueue = 256

func newClientConn(u *URL, cfg *ClientConfig) *clientConn {
	c := &clientConn{url: u, nextTx: 1, waiters: map[float64]chan message.Command{}, byID: map[uint32]stream{}, done: make(chan struct{})}
	if cfg != nil {
		c.cfg = *cfg
	}
	return c
}

// newStream returns a stream of name on the connection, not yet routed.
func (c *clientConn) newStream(name string) client {
	u := *c.url
	u.Stream = name
	return client{clientConn: c, url: &u, name: name, events: newEventQueue[ClientEvent](clientEventQueue)}
}

// add registers a stream before its setup: it receives the NetConnection's
// events from now on. It fails when the connection's reader has stopped.
func (c *clientConn) add(s stream) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
		return c.readErrLocked("createStream")
	default:
	}
	c.streams = append(c.streams, s)
	c.open++
	return nil
}

// remove forgets a stream; it reports whether it was the last one open.
func (c *clientConn) remove(s stream) (last bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b := s.base()
	if b.streamID != 0 && c.byID[b.streamID] == s {
		delete(c.byID, b.streamID)
	}
	for i, x := range c.streams {
		if x == s {
			c.streams = append(c.streams[:i:i], c.streams[i+1:]...)
			break
		}
	}
	c.open--
	return c.open <= 0
}

// dial connects, handshakes and runs connect. ctx bounds all of it.
func (c *clientConn) dial(ctx context.Context, flashVer string) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultDialTimeout)
		defer cancel()
	}
	d := net.Dialer{}
	nc, err := d.DialContext(ctx, "tcp", c.url.Addr())
	if err != nil {
		return fmt.Errorf("rtmp: dial %s: %w", c.url.Addr(), err)
	}
	if c.url.Scheme == "rtmps" {
		tc := c.cfg.TLSConfig.Clone()
		if tc == nil {
			tc = &tls.Config{}
		}
		if tc.ServerName == "" {
			tc.ServerName = c.url.Host
		}
		tlsConn := tls.Client(nc, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			nc.Close()
			return fmt.Errorf("rtmp: TLS with %s: %w", c.url.Addr(), err)
		}
		nc = tlsConn
	}
	// The context's deadline bounds the handshake and connect.
	stop := context.AfterFunc(ctx, func() { nc.SetDeadline(time.Now()) })
	defer stop()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	hs, err := handshake.Client(nc, &c.cfg.Handshake)
	if err != nil {
		nc.Close()
		return fmt.Errorf("rtmp: handshake with %s: %w", c.url.Addr(), ctxErr(ctx, err))
	}
	c.hs = hs
	c.conn = NewConn(nc, &c.cfg.Conn)
	if err := c.conn.SetChunkSize(u32Or(c.cfg.ChunkSize, DefaultChunkSize)); err != nil {
		nc.Close()
		return err
	}
	if err := c.connect(flashVer); err != nil {
		nc.Close()
		return ctxErr(ctx, err)
	}
	nc.SetDeadline(time.Time{})
	return nil
}

func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}

// connect sends connect and waits for its _result, synchronously (the
// reader goroutine is not running yet).
func (c *clientConn) connect(flashVer string) error {
	if c.cfg.FlashVer != "" {
		flashVer = c.cfg.FlashVer
	}
	caps := c.cfg.Capabilities
	if caps == nil {
		caps = DefaultClientCapabilities()
	}
	obj := amf0.Object{
		{Key: "app", Value: c.url.App},
		{Key: "type", Value: "nonprivate"},
		{Key: "flashVer", Value: flashVer},
		{Key: "tcUrl", Value: c.url.TcURL()},
		{Key: "fpad", Value: false},
		{Key: "capabilities", Value: 15.0},
		{Key: "audioCodecs", Value: 4071.0},
		{Key: "videoCodecs", Value: 252.0},
		{Key: "videoFunction", Value: 1.0},
	}
	obj = caps.AppendTo(obj)
	if caps.ObjectEncoding != 0 {
		obj.Set("objectEncoding", float64(caps.ObjectEncoding))
	}
	obj = append(obj, c.cfg.ConnectFields...)
	if err := c.conn.Write(CSIDCommand, 0, 0, message.Command{Name: "connect", TransactionID: 1, Object: obj}); err != nil {
		return err
	}
	if err := c.conn.Flush(); err != nil {
		return err
	}
	c.nextTx = 2
	for {
		m, err := c.conn.ReadMessage()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("rtmp: %s closed the connection during connect (wrong application %q?)", c.url.Addr(), c.url.App)
			}
			return fmt.Errorf("rtmp: connect: %w", err)
		}
		t := message.Type(m.TypeID)
		if t != message.TypeCommandAMF0 && t != message.TypeCommandAMF3 {
			continue
		}
		cmd, err := decodeCommand(t, m.Payload)
		if err != nil {
			return err
		}
		if cmd.TransactionID != 1 || (!cmd.IsResult() && !cmd.IsError()) {
			continue
		}
		if cmd.IsError() {
			return statusError("connect", cmd)
		}
		c.serverCaps = resultCapabilities(cmd)
		return nil
	}
}

// resultCapabilities reads the server's capabilities from a connect
// _result: from its properties object, as FFmpeg and OBS write them, and
// from its information object, which the Enhanced RTMP v2 text also allows
// ("the server's _result ... information object"); a field the properties
// do not have is taken from the information object.
func resultCapabilities(cmd message.Command) Capabilities {
	props, _ := cmd.CommandObject()
	caps := ParseCapabilities(props)
	st, ok := cmd.Status()
	if !ok {
		return caps
	}
	info := ParseCapabilities(st.Props)
	if len(caps.FourCCList) == 0 {
		caps.FourCCList = info.FourCCList
	}
	if len(caps.VideoFourCCInfoMap) == 0 {
		caps.VideoFourCCInfoMap = info.VideoFourCCInfoMap
	}
	if len(caps.AudioFourCCInfoMap) == 0 {
		caps.AudioFourCCInfoMap = info.AudioFourCCInfoMap
	}
	if caps.CapsEx == 0 {
		caps.CapsEx = info.CapsEx
	}
	if caps.VideoFunction == 0 {
		caps.VideoFunction = info.VideoFunction
	}
	if caps.ObjectEncoding == 0 {
		caps.ObjectEncoding = info.ObjectEncoding
	}
	caps.Enhanced = caps.Enhanced || info.Enhanced
	return caps
}

// statusError is the error of an _error answer or an error onStatus.
func statusError(command string, cmd message.Command) error {
	st, _ := cmd.Status()
	if st.Code == "" {
		st.Code = "error"
	}
	return &StatusError{Command: command, Code: st.Code, Description: st.Description}
}

// call sends cmd on a message stream with a new transaction id and returns
// a channel for its answer (when wait is true).
func (c *clientConn) call(streamID uint32, cmd message.Command, wait bool) (chan message.Command, error) {
	c.mu.Lock()
	tx := c.nextTx
	c.nextTx++
	var ch chan message.Command
	if wait {
		ch = make(chan message.Command, 1)
		c.waiters[tx] = ch
	}
	c.mu.Unlock()
	cmd.TransactionID = tx
	if err := c.write(streamID, cmd); err != nil {
		c.mu.Lock()
		delete(c.waiters, tx)
		c.mu.Unlock()
		return nil, err
	}
	return ch, nil
}

// write sends a command on a message stream and flushes.
func (c *clientConn) write(streamID uint32, cmd message.Command) error {
	csid := uint32(CSIDCommand)
	if streamID != 0 {
		csid = CSIDData
	}
	if err := c.conn.Write(csid, streamID, 0, cmd); err != nil {
		return err
	}
	return c.conn.Flush()
}

// named is a command of a name and arguments, null command object.
func named(name string, args ...amf0.Value) message.Command {
	return message.Command{Name: name, Args: args}
}

// await waits for an answer, the reader's end, or ctx.
func (c *clientConn) await(ctx context.Context, ch chan message.Command, what string) (message.Command, error) {
	select {
	case cmd := <-ch:
		if cmd.IsError() {
			return cmd, statusError(what, cmd)
		}
		return cmd, nil
	case <-c.done:
		return message.Command{}, c.readErr(what)
	case <-ctx.Done():
		return message.Command{}, fmt.Errorf("rtmp: %s: %w", what, ctx.Err())
	}
}

func (c *clientConn) readErr(what string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readErrLocked(what)
}

func (c *clientConn) readErrLocked(what string) error {
	if c.err == nil || errors.Is(c.err, io.EOF) {
		return fmt.Errorf("rtmp: %s: the server closed the connection", what)
	}
	return fmt.Errorf("rtmp: %s: %w", what, c.err)
}

// createStream asks for a message stream for s and routes it.
func (c *clientConn) createStream(ctx context.Context, s stream) error {
	ch, err := c.call(0, named(message.NameCreateStream), true)
	if err != nil {
		return err
	}
	res, err := c.await(ctx, ch, "createStream")
	if err != nil {
		return err
	}
	id, ok := res.ResultStreamID()
	if !ok || id > 1<<24 {
		return fmt.Errorf("rtmp: createStream: no stream id in %v", res.Args)
	}
	c.mu.Lock()
	_, taken := c.byID[id]
	if !taken {
		s.base().streamID = id
		c.byID[id] = s
	}
	c.mu.Unlock()
	if taken {
		return fmt.Errorf("%w: createStream gave %d again", ErrStreamIDInUse, id)
	}
	return nil
}

// ErrStreamIDInUse: a server answered createStream with the id of a stream
// the connection already has, as servers do that serve one stream per
// connection (nginx-rtmp answers 1 every time). The new stream is not
// opened; the others go on.
var ErrStreamIDInUse = errors.New("rtmp: the server does not serve several streams on one connection (a stream id in use)")

// readLoop reads the connection for its life and routes what it reads:
// answers to their callers, the rest by message stream id to the streams
// (control messages are applied by Conn).
func (c *clientConn) readLoop() {
	for {
		m, err := c.conn.ReadMessage()
		if err != nil {
			c.stop(err)
			return
		}
		if err := c.dispatch(m); err != nil {
			c.stop(err)
			return
		}
	}
}

// target returns the stream of message stream id, or for the
// NetConnection (id 0) the first stream open.
func (c *clientConn) target(id uint32) stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	if s := c.byID[id]; s != nil || id != 0 {
		return s
	}
	if len(c.streams) > 0 {
		return c.streams[0]
	}
	return nil
}

// all returns the open streams.
func (c *clientConn) all() []stream {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]stream(nil), c.streams...)
}

// dispatch routes one message; reader goroutine only.
func (c *clientConn) dispatch(m chunk.Message) error {
	t := message.Type(m.TypeID)
	switch t {
	case message.TypeAudio, message.TypeVideo, message.TypeDataAMF0, message.TypeDataAMF3:
		if s := c.target(m.StreamID); s != nil {
			s.message(m)
		}
	case message.TypeAggregate:
		// §7.1.6: the sub-messages in order, each routed as if it came
		// alone, timestamps rebased onto the aggregate's. The payload is
		// the sub-messages' now.
		it := message.NewAggregateIterator(c.conn.Detach(), m.Timestamp)
		for it.Next() {
			sub := it.Message()
			if sub.Type == message.TypeAggregate {
				continue
			}
			sm := chunk.Message{CSID: m.CSID, Header: chunk.Header{Timestamp: sub.Timestamp, TypeID: uint8(sub.Type), StreamID: m.StreamID}, Payload: sub.Payload}
			if err := c.dispatch(sm); err != nil {
				return err
			}
		}
		// A broken aggregate loses its own tail only.
	case message.TypeSharedObjectAMF0, message.TypeSharedObjectAMF3:
		so, err := decodeSharedObject(t, m.Payload)
		if err != nil {
			return err
		}
		if s := c.target(m.StreamID); s != nil {
			s.base().push(s, ClientEvent{Kind: EventServerSharedObject, StreamID: m.StreamID, Timestamp: m.Timestamp, SharedObject: so})
		}
	case message.TypeCommandAMF0, message.TypeCommandAMF3:
		cmd, err := decodeCommand(t, m.Payload)
		if err != nil {
			return err
		}
		c.command(m.StreamID, cmd)
	case message.TypeUserControl:
		c.userControl(m.Payload)
	}
	return nil
}

// command routes a command from the server: answers to waiters, onStatus
// and calls to events.
func (c *clientConn) command(sid uint32, cmd message.Command) {
	if cmd.IsResult() || cmd.IsError() {
		c.mu.Lock()
		ch := c.waiters[cmd.TransactionID]
		delete(c.waiters, cmd.TransactionID)
		c.mu.Unlock()
		if ch != nil {
			ch <- cmd
			return
		}
		if s := c.target(sid); s != nil {
			s.base().push(s, ClientEvent{Kind: EventResult, StreamID: sid, Command: cmd})
		}
		return
	}
	switch cmd.Name {
	case message.NameOnStatus:
		st, _ := cmd.Status()
		ev := ClientEvent{Kind: EventStatus, StreamID: sid, Command: cmd, Info: st.Props, Level: st.Level, Code: st.Code, Description: st.Description}
		rr, reconnect := message.ParseReconnectRequest(cmd)
		if reconnect {
			ev.Kind = EventReconnectRequest
		}
		if sid != 0 {
			if s := c.target(sid); s != nil {
				s.base().push(s, ev)
			}
			return
		}
		// A NetConnection status concerns every stream.
		for _, s := range c.all() {
			e := ev
			if reconnect {
				if u, err := s.base().url.ResolveReconnect(rr.TcURL); err == nil {
					e.Reconnect = u
				}
			}
			s.base().push(s, e)
		}
	case message.NameClose:
		// The server closes the NetConnection: every stream ends.
		for _, s := range c.all() {
			s.base().push(s, ClientEvent{Kind: EventServerCall, StreamID: sid, Command: cmd})
			s.ended()
		}
	default:
		if s := c.target(sid); s != nil {
			s.base().push(s, ClientEvent{Kind: EventServerCall, StreamID: sid, Command: cmd})
		}
	}
}

// userControl turns a User Control message into an event for the stream it
// names.
func (c *clientConn) userControl(payload []byte) {
	uc, err := message.UnmarshalUserControl(payload)
	if err != nil {
		return
	}
	ev := ClientEvent{StreamID: uc.StreamID, Timestamp: uc.Timestamp}
	id := uc.StreamID
	switch uc.Event {
	case message.EventStreamBegin:
		ev.Kind = EventStreamBegin
	case message.EventStreamEOF:
		ev.Kind = EventStreamEOF
	case message.EventStreamDry:
		ev.Kind = EventStreamDry
	case message.EventStreamIsRecorded:
		ev.Kind = EventStreamIsRecorded
	case message.EventPingResponse:
		ev.Kind, ev.StreamID, id = EventPingResponseFromServer, 0, 0
	default:
		return // PingRequest is answered by Conn
	}
	if s := c.target(id); s != nil {
		s.base().push(s, ev)
	}
}

// stop records why the reader ended and wakes everybody.
func (c *clientConn) stop(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	streams := append([]stream(nil), c.streams...)
	c.mu.Unlock()
	c.stopped.Do(func() { close(c.done) })
	for _, s := range streams {
		s.base().events.close(err)
		s.ended()
	}
}

// push queues an event of the stream and lets it react.
func (s *client) push(st stream, ev ClientEvent) {
	s.events.push(ev)
	st.event(ev)
}

// ServerCapabilities returns what the server advertised in its connect
// _result (Enhanced RTMP).
func (c *clientConn) ServerCapabilities() Capabilities { return c.serverCaps }

// Handshake returns the handshake the connection began with: simple or
// digest, and the digest's schema.
func (c *clientConn) Handshake() handshake.Result { return c.hs }

// Conn returns the connection, for low-level use.
func (c *clientConn) Conn() *Conn { return c.conn }

// URL returns the URL of the stream: the connection's, with this stream's
// name.
func (s *client) URL() *URL { return s.url }

// StreamID returns the message stream id the server gave.
func (s *client) StreamID() uint32 { return s.streamID }

// ReadEvent returns the next event from the server for this stream: those
// of its message stream, and those of the NetConnection (message stream 0):
// its onStatus reach every stream of the connection, its calls and shared
// object messages the first stream opened that is still open. It returns
// the reason the connection ended once it has (io.EOF for a clean close).
func (s *client) ReadEvent(ctx context.Context) (ClientEvent, error) { return s.events.next(ctx) }

// SendPingRequest sends a PingRequest; the answer arrives as an
// EventPingResponseFromServer.
func (c *clientConn) SendPingRequest(timestamp uint32) error {
	if err := c.conn.Write(CSIDControl, 0, 0, message.NewPingRequest(timestamp)); err != nil {
		return err
	}
	return c.conn.Flush()
}

// Call calls a procedure of the server on the NetConnection: cmd (its
// name, command object and arguments) goes out with a new transaction id,
// and Call waits for the answer: the _result, or a *StatusError for an
// _error, or ctx's end.
func (c *clientConn) Call(ctx context.Context, cmd message.Command) (message.Command, error) {
	ch, err := c.call(0, cmd, true)
	if err != nil {
		return message.Command{}, err
	}
	return c.await(ctx, ch, cmd.Name)
}

// Send sends cmd on the NetConnection as it is, and waits for nothing: a
// call that wants no answer has transaction id 0.
func (c *clientConn) Send(cmd message.Command) error { return c.write(0, cmd) }

// Reply answers a call of the server (an EventServerCall) with _result,
// the command object obj and the values; ReplyError answers _error. A call
// with transaction id 0 wants no answer: nothing is sent. The answer is in
// the call's encoding (AMF0 or AMF3 commands).
func (c *clientConn) Reply(call message.Command, obj amf0.Value, values ...amf0.Value) error {
	return c.reply(message.NameResult, call, obj, values)
}

// ReplyError answers a call of the server with _error (see Reply).
func (c *clientConn) ReplyError(call message.Command, obj amf0.Value, values ...amf0.Value) error {
	return c.reply(message.NameError, call, obj, values)
}

func (c *clientConn) reply(name string, call message.Command, obj amf0.Value, values []amf0.Value) error {
	if call.TransactionID == 0 {
		return nil
	}
	return c.write(0, message.Command{AMF3: call.AMF3, Name: name, TransactionID: call.TransactionID, Object: obj, Args: values})
}

// SendSharedObject sends a shared object message on the NetConnection,
// AMF0 (type 19) or, when so.AMF3 is set, AMF3 (type 16).
func (c *clientConn) SendSharedObject(so message.SharedObject) error {
	if err := c.conn.Write(CSIDCommand, 0, 0, so); err != nil {
		return err
	}
	return c.conn.Flush()
}

// closeConn flushes, half-closes, drains briefly and closes. The reader
// drains: the wait ends when the server closes, after drainTime in all, or
// once the server sent nothing for drainIdle (a server that is silent but
// open has read what it wanted).
func (c *clientConn) closeConn() error {
	err := c.conn.CloseWrite()
	end := time.NewTimer(drainTime)
	defer end.Stop()
	idle := time.NewTicker(drainIdle)
	defer idle.Stop()
	last := c.conn.BytesRead()
wait:
	for {
		select {
		case <-c.done:
			break wait
		case <-end.C:
			break wait
		case <-idle.C:
			n := c.conn.BytesRead()
			if n == last {
				break wait
			}
			last = n
		}
	}
	c.conn.Close()
	<-c.done
	return err
}

// closeStream ends stream s once: send is called first (its closing
// commands); the connection closes politely with its last stream.
func (s *client) closeStream(st stream, send func()) error {
	s.once.Do(func() {
		s.closed.Store(true)
		send()
		if s.remove(st) {
			s.closeErr = s.closeConn()
		}
		s.events.close(io.EOF)
	})
	return s.closeErr
}

// awaitStart waits for the onStatus that starts publish or play (code),
// failing on an error status or an _error answer. Other events that arrive
// meanwhile (onFCPublish, StreamBegin, ...) stay queued for ReadEvent.
func (s *client) awaitStart(ctx context.Context, command, code string) error {
	for {
		ev, err := s.events.next(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("rtmp: %s: %w", command, ctx.Err())
			}
			return s.readErr(command)
		}
		switch {
		case ev.Kind == EventStatus && ev.Code == code && (ev.StreamID == s.streamID || ev.StreamID == 0):
			s.releaseEarly()
			return nil
		case ev.Kind == EventStatus && ev.Level == message.LevelError && (ev.StreamID == s.streamID || ev.StreamID == 0):
			return &StatusError{Command: command, Code: ev.Code, Description: ev.Description}
		case ev.Kind == EventResult && ev.Command.IsError():
			return statusError(command, ev.Command)
		}
		s.emu.Lock()
		s.early = append(s.early, ev)
		s.emu.Unlock()
	}
}

// releaseEarly puts the events seen while waiting for the start back in
// front of the queue, for ReadEvent.
func (s *client) releaseEarly() {
	s.emu.Lock()
	early := s.early
	s.early = nil
	s.emu.Unlock()
	s.events.prepend(early)
}

// amf3Object converts AMF0 properties to an anonymous dynamic AMF3 object.
func amf3Object(props amf0.Object) *amf3.Object {
	o := &amf3.Object{Traits: &amf3.Traits{Dynamic: true}}
	for _, p := range props {
		o.Dynamic = append(o.Dynamic, amf3.Property{Key: p.Key, Value: amf3Value(p.Value)})
	}
	return o
}

func amf3Value(v amf0.Value) amf3.Value {
	switch x := amf0.Resolve(v).(type) {
	case amf0.Object:
		return amf3Object(x)
	case amf0.ECMAArray:
		return amf3Object(x.Props)
	case amf0.LongString:
		return string(x)
	case amf0.StrictArray:
		a := &amf3.Array{}
		for _, e := range x {
			a.Dense = append(a.Dense, amf3Value(e))
		}
		return a
	case amf0.Undefined:
		return amf3.Undefined{}
	}
	return v // float64, bool, string, nil are the same in both
}
