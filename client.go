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
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/amf3"
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
	// Play arguments: Start (-2 live or recorded, -1 live only, >= 0 a
	// position; default -2), Duration (-1 to the end, default), Reset
	// (default true, unless NoReset), and the buffer length in ms.
	Start, Duration float64
	NoReset         bool
	BufferLength    uint32
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
	EventServerCall       // any other command: Command
	EventReconnectRequest // NetConnection.Connect.ReconnectRequest: Reconnect is resolved
	// EventSampleAccess is the |RtmpSampleAccess data message a server
	// sends when play starts: Data holds it, its booleans granting the
	// player raw access to the audio and video samples (Flash's
	// NetStream.audioSampleAccess and videoSampleAccess).
	EventSampleAccess
)

func (k ClientEventKind) String() string {
	names := [...]string{"", "streamBegin", "streamEOF", "streamDry", "streamIsRecorded", "pingResponse", "status", "result", "serverCall", "reconnectRequest", "sampleAccess"}
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
}

// client is what Publisher and Player share.
type client struct {
	url        *URL
	cfg        ClientConfig
	conn       *Conn
	serverCaps Capabilities
	streamID   uint32

	mu      sync.Mutex
	nextTx  float64
	waiters map[float64]chan message.Command
	events  *eventQueue[ClientEvent]
	early   []ClientEvent // seen while waiting for publish or play to start
	err     error         // why the reader stopped
	done    chan struct{}
	closeMu sync.Once
}

const clientEventQueue = 256

func newClient(u *URL, cfg *ClientConfig) *client {
	c := &client{url: u, nextTx: 1, waiters: map[float64]chan message.Command{}, events: newEventQueue[ClientEvent](clientEventQueue), done: make(chan struct{})}
	if cfg != nil {
		c.cfg = *cfg
	}
	return c
}

// dial connects, handshakes and runs connect. ctx bounds all of it.
func (c *client) dial(ctx context.Context, flashVer string) error {
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
	if _, err := handshake.Client(nc, &c.cfg.Handshake); err != nil {
		nc.Close()
		return fmt.Errorf("rtmp: handshake with %s: %w", c.url.Addr(), ctxErr(ctx, err))
	}
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
func (c *client) connect(flashVer string) error {
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
		cmd, err := message.UnmarshalCommand(t, m.Payload)
		if err != nil {
			return err
		}
		if cmd.TransactionID != 1 || (!cmd.IsResult() && !cmd.IsError()) {
			continue
		}
		if cmd.IsError() {
			return statusError("connect", cmd)
		}
		props, _ := cmd.CommandObject()
		c.serverCaps = ParseCapabilities(props)
		return nil
	}
}

// statusError is the error of an _error answer or an error onStatus.
func statusError(command string, cmd message.Command) error {
	st, _ := cmd.Status()
	if st.Code == "" {
		st.Code = "error"
	}
	return &StatusError{Command: command, Code: st.Code, Description: st.Description}
}

// call sends a command with a new transaction id and returns a channel for
// its answer (when wait is true).
func (c *client) call(streamID uint32, name string, wait bool, args ...amf0.Value) (chan message.Command, error) {
	c.mu.Lock()
	tx := c.nextTx
	c.nextTx++
	var ch chan message.Command
	if wait {
		ch = make(chan message.Command, 1)
		c.waiters[tx] = ch
	}
	c.mu.Unlock()
	csid := uint32(CSIDCommand)
	if streamID != 0 {
		csid = CSIDData
	}
	if err := c.conn.Write(csid, streamID, 0, message.Command{Name: name, TransactionID: tx, Args: args}); err != nil {
		return nil, err
	}
	return ch, c.conn.Flush()
}

// await waits for an answer, the reader's end, or ctx.
func (c *client) await(ctx context.Context, ch chan message.Command, what string) (message.Command, error) {
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

func (c *client) readErr(what string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil || errors.Is(c.err, io.EOF) {
		return fmt.Errorf("rtmp: %s: the server closed the connection", what)
	}
	return fmt.Errorf("rtmp: %s: %w", what, c.err)
}

// createStream asks for a message stream.
func (c *client) createStream(ctx context.Context) error {
	ch, err := c.call(0, "createStream", true)
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
	c.streamID = id
	return nil
}

// pushEvent queues an event, dropping the oldest past the bound.
func (c *client) pushEvent(ev ClientEvent) { c.events.push(ev) }

// nextEvent returns the next queued event, or waits for one; once the
// reader stopped, it returns why.
func (c *client) nextEvent(ctx context.Context) (ClientEvent, error) { return c.events.next(ctx) }

// handleCommand dispatches a command from the server: answers to waiters,
// onStatus and calls to events. It returns the event it queued, if any.
func (c *client) handleCommand(cmd message.Command) (ClientEvent, bool) {
	if cmd.IsResult() || cmd.IsError() {
		c.mu.Lock()
		ch := c.waiters[cmd.TransactionID]
		delete(c.waiters, cmd.TransactionID)
		c.mu.Unlock()
		if ch != nil {
			ch <- cmd
			return ClientEvent{}, false
		}
		ev := ClientEvent{Kind: EventResult, Command: cmd}
		c.pushEvent(ev)
		return ev, true
	}
	if cmd.Name == message.NameOnStatus {
		st, _ := cmd.Status()
		ev := ClientEvent{Kind: EventStatus, Command: cmd, Info: st.Props, Level: st.Level, Code: st.Code, Description: st.Description}
		if rr, ok := message.ParseReconnectRequest(cmd); ok {
			ev.Kind = EventReconnectRequest
			if u, err := c.url.ResolveReconnect(rr.TcURL); err == nil {
				ev.Reconnect = u
			}
		}
		c.pushEvent(ev)
		return ev, true
	}
	ev := ClientEvent{Kind: EventServerCall, Command: cmd}
	c.pushEvent(ev)
	return ev, true
}

// userControl turns a User Control message into an event.
func (c *client) userControl(payload []byte) (ClientEvent, bool) {
	uc, err := message.UnmarshalUserControl(payload)
	if err != nil {
		return ClientEvent{}, false
	}
	ev := ClientEvent{StreamID: uc.StreamID, Timestamp: uc.Timestamp}
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
		ev.Kind = EventPingResponseFromServer
	default:
		return ClientEvent{}, false // PingRequest is answered by Conn
	}
	c.pushEvent(ev)
	return ev, true
}

// stop records why the reader ended and wakes everybody.
func (c *client) stop(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
	c.events.close(err)
	c.closeMu.Do(func() { close(c.done) })
}

// ServerCapabilities returns what the server advertised in its connect
// _result (Enhanced RTMP).
func (c *client) ServerCapabilities() Capabilities { return c.serverCaps }

// URL returns the URL the client connected to.
func (c *client) URL() *URL { return c.url }

// StreamID returns the message stream id the server gave.
func (c *client) StreamID() uint32 { return c.streamID }

// Conn returns the connection, for low-level use.
func (c *client) Conn() *Conn { return c.conn }

// ReadEvent returns the next event from the server. It returns the reason
// the connection ended once it has (io.EOF for a clean close).
func (c *client) ReadEvent(ctx context.Context) (ClientEvent, error) { return c.nextEvent(ctx) }

// SendPingRequest sends a PingRequest; the answer arrives as an
// EventPingResponseFromServer.
func (c *client) SendPingRequest(timestamp uint32) error {
	if err := c.conn.Write(CSIDControl, 0, 0, message.NewPingRequest(timestamp)); err != nil {
		return err
	}
	return c.conn.Flush()
}

// Call sends a call to the server; with a context it waits for and returns
// the answer (_result, or a *StatusError for _error).
func (c *client) Call(ctx context.Context, name string, args ...amf0.Value) (message.Command, error) {
	ch, err := c.call(0, name, ctx != nil, args...)
	if err != nil || ctx == nil {
		return message.Command{}, err
	}
	return c.await(ctx, ch, name)
}

// closeConn flushes, half-closes, drains briefly and closes.
func (c *client) closeConn() error {
	err := c.conn.CloseWrite()
	select {
	case <-c.done:
	case <-time.After(drainTime):
	}
	c.conn.Close()
	<-c.done
	return err
}

// releaseEarly puts the events seen while waiting for the start back in
// front of the queue, for ReadEvent.
func (c *client) releaseEarly() {
	c.mu.Lock()
	early := c.early
	c.early = nil
	c.mu.Unlock()
	c.events.prepend(early)
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
