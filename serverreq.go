package rtmp

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// ErrProtocol marks a peer that broke the command sequence.
var ErrProtocol = errors.New("rtmp: protocol error")

// serverCapabilities is what the connect _result always carries; Enhanced
// RTMP fields come from Server.Capabilities.
const (
	defaultFMSVersion = "FMS/3,5,7,7009"
	fmsCapabilities   = 31
)

// readRequest runs the connect exchange and the commands before the first
// publish or play, answering them the way common servers do, until the
// peer publishes or plays. It is bounded by RequestTimeout.
func (c *serverConn) readRequest() (*Request, error) {
	s := c.srv
	conn := c.conn
	conn.SetReadDeadline(time.Now().Add(durationOr(s.RequestTimeout, DefaultRequestTimeout)))
	defer conn.SetReadDeadline(time.Time{})
	c.rmu.Lock()
	defer c.rmu.Unlock()
	for {
		m, err := conn.ReadMessage()
		if err != nil {
			return nil, err
		}
		// No stream has a session yet: nothing is routed anywhere.
		_, _, req, err := c.route(m)
		if err != nil {
			return nil, err
		}
		if req != nil {
			return req, nil
		}
	}
}

// route acts on a message read by the holder of the read token and says
// where it goes: to a NetStream (to, with the item to queue), nowhere (to
// is nil), or it opened a new NetStream (req, a publish or play to hand to
// the Handler). The connection's own commands are answered here.
func (c *serverConn) route(m chunk.Message) (to *netStream, it inItem, req *Request, err error) {
	t := message.Type(m.TypeID)
	switch t {
	case message.TypeAudio, message.TypeVideo, message.TypeAggregate,
		message.TypeDataAMF0, message.TypeDataAMF3, message.TypeSharedObjectAMF0, message.TypeSharedObjectAMF3:
		// By message stream id; what comes on the NetConnection's (0),
		// where peers send shared objects and some old clients their
		// metadata, goes to the first session.
		to = c.stream(m.StreamID)
		if to == nil && m.StreamID == 0 {
			to = c.primary()
		}
	case message.TypeUserControl:
		ev, err := message.UnmarshalUserControl(m.Payload)
		if err != nil {
			return nil, inItem{}, nil, nil
		}
		switch ev.Event {
		case message.EventSetBufferLength:
			c.bufLen, c.haveBufLen = ev.BufferLength, true
			to = c.stream(ev.StreamID)
		case message.EventPingResponse:
			to = c.primary()
		}
	case message.TypeCommandAMF0, message.TypeCommandAMF3:
		cmd, err := decodeCommand(t, m.Payload)
		if err != nil {
			return nil, inItem{}, nil, err
		}
		to, it, req, err = c.command(m, cmd)
		if ferr := c.conn.Flush(); err == nil {
			err = ferr
		}
		return to, it, req, err
	}
	if to == nil {
		return nil, inItem{}, nil, nil
	}
	return to, inItem{m: c.detach(m)}, nil, nil
}

// command acts on a command. What the connection answers itself, it
// answers here; what belongs to a session is routed to it; every command
// that asks for an answer gets one (_result, _error or onStatus).
func (c *serverConn) command(m chunk.Message, cmd message.Command) (to *netStream, it inItem, req *Request, err error) {
	amf3 := cmd.AMF3
	sid := m.StreamID
	if !c.connected {
		if cmd.Name != message.NameConnect {
			return nil, inItem{}, nil, fmt.Errorf("%w: %q before connect", ErrProtocol, echoString(cmd.Name))
		}
		k, err := message.ParseConnect(cmd)
		if err != nil {
			return nil, inItem{}, nil, fmt.Errorf("%w: %v", ErrProtocol, err)
		}
		k = c.srv.connects.share(m.Payload, k)
		if err := c.connect(k, amf3); err != nil {
			return nil, inItem{}, nil, err
		}
		c.connected = true
		return nil, inItem{}, nil, nil
	}
	tx := cmd.TransactionID
	switch cmd.Name {
	case message.NameConnect:
		return nil, inItem{}, nil, fmt.Errorf("%w: a second connect", ErrProtocol)
	case message.NameCreateStream:
		if c.nextStream > maxStreamID {
			c.send(amf3, message.NewErrorResult(tx, nil, message.NewStatus(message.LevelError, message.CodeCallFailed, "too many createStream calls").Object()))
			break
		}
		id := c.nextStream
		c.nextStream++
		c.send(amf3, message.NewCreateStreamResult(tx, id))
	case message.NameReleaseStream, message.NameCheckBW:
		c.replyIf(amf3, tx)
	case message.NameFCPublish:
		// onFCPublish, as FMS and common servers send, then _result.
		fc, _ := message.ParseFCPublish(cmd)
		c.send(amf3, message.NewOnFCPublish(message.CodePublishStart, echoString(fc.Name)))
		c.replyIf(amf3, tx)
	case message.NameFCUnpublish:
		c.replyIf(amf3, tx)
		fc, _ := message.ParseFCUnpublish(cmd)
		if ns := c.publisherNamed(fc.Name); ns != nil {
			to, it = c.endStream(ns)
		}
	case message.NameDeleteStream:
		c.replyIf(amf3, tx)
		var ns *netStream
		if v, err := message.ParseDeleteStream(cmd); err == nil && v.StreamID >= 0 && v.StreamID <= maxStreamID {
			ns = c.stream(uint32(v.StreamID))
		} else if c.streamCount() == 1 {
			ns = c.primary() // a deleteStream without a usable id: the one stream
		}
		if ns != nil {
			to, it = c.endStream(ns)
		}
	case message.NameCloseStream:
		c.replyIf(amf3, tx)
		if ns := c.stream(sid); ns != nil {
			to, it = c.endStream(ns)
		}
	case message.NameClose:
		// NetConnection.close: the client is done with every stream. The
		// first is routed as usual, the others queued here.
		for _, ns := range c.allStreams() {
			ns, item := c.endStream(ns)
			switch {
			case ns == nil:
			case to == nil:
				to, it = ns, item
			default:
				c.deliver(ns, item)
			}
		}
	case message.NameGetStreamLength:
		c.reply(amf3, tx, nil, 0.0)
	case message.NamePublish, message.NamePlay:
		return c.openStream(m, cmd)
	case message.NamePlay2:
		// A bit rate switch: the application's to do (Server.HandleCalls).
		ns := c.stream(sid)
		if ns != nil && c.srv.HandleCalls && c.accepted(ns) {
			return ns, inItem{m: c.detach(m)}, nil, nil
		}
		c.sendStatus(sid, amf3, message.LevelError, message.CodePlayFailed, "play2 is not supported on this stream", nil)
	case message.NamePause, message.NameSeek, message.NameReceiveAudio, message.NameReceiveVideo:
		// Commands of a NetStream that is playing.
		ns := c.stream(sid)
		if ns == nil {
			c.sendStatus(sid, amf3, message.LevelError, message.CodeStreamFailed, fmt.Sprintf("%s on stream %d, which plays nothing", echoString(cmd.Name), sid), nil)
			break
		}
		return ns, inItem{m: c.detach(m)}, nil, nil
	case message.NameResult, message.NameError:
		if c.answer(cmd) {
			break
		}
		return c.forSession(m, sid), inItem{m: c.detach(m)}, nil, nil
	default:
		ns := c.forSession(m, sid)
		if tx != 0 && (!c.srv.HandleCalls || ns == nil || !c.accepted(ns)) {
			// A call nobody handles: answer _error so the caller's
			// responder is not left waiting.
			c.send(amf3, message.NewErrorResult(tx, nil, message.NewStatus(message.LevelError, message.CodeCallFailed, "unknown method "+echoString(cmd.Name)).Object()))
			break
		}
		if ns != nil {
			return ns, inItem{m: c.detach(m)}, nil, nil
		}
	}
	return to, it, nil, nil
}

// forSession is the NetStream a message for a session goes to: its own
// stream's, or for the NetConnection the primary session.
func (c *serverConn) forSession(m chunk.Message, sid uint32) *netStream {
	if ns := c.stream(sid); ns != nil || sid != 0 {
		return ns
	}
	return c.primary()
}

func (c *serverConn) accepted(ns *netStream) bool {
	c.smu.Lock()
	defer c.smu.Unlock()
	return ns.sess != nil
}

func (c *serverConn) allStreams() []*netStream {
	c.smu.Lock()
	defer c.smu.Unlock()
	all := make([]*netStream, 0, len(c.streams))
	for _, ns := range c.streams {
		all = append(all, ns)
	}
	return all
}

// publisherNamed finds the publishing NetStream that FCUnpublish names: by
// its name as published, or without its query; failing that, the only
// publisher.
func (c *serverConn) publisherNamed(name string) *netStream {
	c.smu.Lock()
	defer c.smu.Unlock()
	var only *netStream
	n := 0
	for _, ns := range c.streams {
		r := ns.req
		if r.Kind != KindPublish {
			continue
		}
		if r.rawName == name || r.StreamName == name {
			return ns
		}
		only = ns
		n++
	}
	if n == 1 {
		return only
	}
	return nil
}

// openStream answers a publish or play: a new NetStream becomes a Request; one
// already in use, arguments that do not parse, or one stream too many are
// refused on the stream (the peer may try again).
func (c *serverConn) openStream(m chunk.Message, cmd message.Command) (to *netStream, it inItem, req *Request, err error) {
	sid, amf3 := m.StreamID, cmd.AMF3
	kind, code := KindPublish, message.CodePublishBadName
	if cmd.Name == message.NamePlay {
		kind, code = KindPlay, message.CodePlayFailed
	}
	if ns := c.stream(sid); ns != nil {
		if c.srv.HandleCalls && c.accepted(ns) {
			return ns, inItem{m: c.detach(m)}, nil, nil
		}
		c.sendStatus(sid, amf3, message.LevelError, code, fmt.Sprintf("stream %d is already in use (%s %s)", sid, ns.req.Kind, echoString(ns.req.StreamName)), nil)
		return nil, inItem{}, nil, nil
	}
	r := c.newRequest(kind, sid, amf3)
	if kind == KindPublish {
		pub, err := message.ParsePublish(cmd)
		if err != nil {
			c.sendStatus(sid, amf3, message.LevelError, code, err.Error(), nil)
			return nil, inItem{}, nil, nil
		}
		r.rawName = pub.Name
		r.StreamName, r.RawQuery, r.Query = splitName(pub.Name)
		r.PublishType = pub.Type
		if r.PublishType == "" {
			r.PublishType = message.PublishLive
		}
	} else {
		play, err := message.ParsePlay(cmd)
		if err != nil {
			c.sendStatus(sid, amf3, message.LevelError, code, err.Error(), nil)
			return nil, inItem{}, nil, nil
		}
		r.rawName = play.Name
		r.StreamName, r.RawQuery, r.Query = splitName(play.Name)
		r.Start, r.Duration, r.Reset = play.Start, play.Duration, play.Reset
	}
	ns := &netStream{id: sid, req: r, in: newInbox()}
	r.ns = ns
	c.smu.Lock()
	if max := c.srv.maxStreams(); max >= 0 && c.open >= max {
		c.smu.Unlock()
		c.sendStatus(sid, amf3, message.LevelError, code, errTooManyStreams(max), nil)
		return nil, inItem{}, nil, nil
	}
	c.streams[sid] = ns
	c.open++
	c.smu.Unlock()
	return nil, inItem{}, r, nil
}

// newRequest returns a request with the connect fields, on stream sid.
func (c *serverConn) newRequest(kind Kind, sid uint32, amf3 bool) *Request {
	b := &c.base
	r := &Request{Kind: kind, App: b.App, TcURL: b.TcURL, StreamID: sid, RemoteAddr: b.RemoteAddr,
		ConnectObject: b.ConnectObject, ConnectArgs: b.ConnectArgs, Capabilities: b.Capabilities,
		Handshake: b.Handshake, c: c, amf3: amf3}
	if c.haveBufLen {
		// The last SetBufferLength before play, whatever stream id it named.
		r.BufferLength = c.bufLen
	}
	return r
}

// answer hands a _result or _error to the server call waiting for it.
func (c *serverConn) answer(cmd message.Command) bool {
	c.smu.Lock()
	ch := c.waiters[cmd.TransactionID]
	delete(c.waiters, cmd.TransactionID)
	c.smu.Unlock()
	if ch == nil {
		return false
	}
	ch <- cmd
	return true
}

// connectCache keeps the last few connect commands the server decoded, by
// their bytes, so that connections that sent the same command share one
// decoded command object: a thousand players of one kind each keeping its
// own copy of the same properties and capability maps held about 2 KB
// each (Request.ConnectObject says they are shared, and read-only).
type connectCache struct {
	mu   sync.Mutex
	next int
	ents [8]struct {
		raw string
		k   message.Connect
	}
}

// maxSharedConnect bounds the connect commands kept, in bytes: larger
// ones (rare, and perhaps a peer's doing) are not shared.
const maxSharedConnect = 4 << 10

// share returns the decoded command of an earlier connect that sent raw,
// or k, which it keeps for the next ones.
func (cc *connectCache) share(raw []byte, k message.Connect) message.Connect {
	if len(raw) > maxSharedConnect {
		return k
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	for i := range cc.ents {
		if e := &cc.ents[i]; e.raw != "" && e.raw == string(raw) {
			return e.k
		}
	}
	cc.ents[cc.next].raw, cc.ents[cc.next].k = string(raw), k
	cc.next = (cc.next + 1) % len(cc.ents)
	return k
}

// connect answers the connect command: Window Acknowledgement Size, Set
// Peer Bandwidth, Stream Begin 0, the _result, then Set Chunk Size.
func (c *serverConn) connect(k message.Connect, amf3 bool) error {
	s := c.srv
	req := &c.base
	req.c = c
	req.RemoteAddr = c.nc.RemoteAddr()
	req.ConnectObject = k.Props
	req.ConnectArgs = k.Args
	req.App = k.App
	req.TcURL = k.TcURL
	req.Capabilities = capabilitiesOf(k)

	conn := c.conn
	if ch, ok := s.Handler.(ConnectHandler); ok {
		if err := ch.ServeConnect(req); err != nil {
			desc := err.Error()
			if d, ok := err.(interface{ Description() string }); ok {
				desc = d.Description()
			}
			c.send(amf3, message.NewErrorResult(k.TransactionID, nil, message.NewStatus(message.LevelError, message.CodeConnectRejected, desc).Object()))
			conn.Flush()
			return fmt.Errorf("%w: %s", ErrConnectRejected, desc)
		}
	}
	if err := conn.SetWindowAckSize(u32Or(s.WindowAckSize, DefaultWindowAckSize)); err != nil {
		return err
	}
	conn.SetPeerBandwidth(u32Or(s.PeerBandwidth, DefaultWindowAckSize), message.LimitDynamic)
	conn.Write(CSIDControl, 0, 0, message.NewStreamBegin(0))
	fms := s.FMSVersion
	if fms == "" {
		fms = defaultFMSVersion
	}
	props := amf0.Object{{Key: "fmsVer", Value: fms}, {Key: "capabilities", Value: float64(fmsCapabilities)}, {Key: "mode", Value: 1.0}}
	if s.Capabilities != nil {
		props = s.Capabilities.AppendTo(props)
	}
	info := message.Status{Level: message.LevelStatus, Code: message.CodeConnectSuccess, Description: "Connection succeeded.",
		Props: amf0.Object{{Key: "objectEncoding", Value: float64(k.ObjectEncoding)}}}
	c.reply(amf3, k.TransactionID, props, info.Object())
	if err := conn.SetChunkSize(u32Or(s.ChunkSize, DefaultChunkSize)); err != nil {
		return err
	}
	return conn.Flush()
}

// send queues a command on the NetConnection (message stream 0), in AMF3
// form (type 17) when the peer sends its commands so.
func (c *serverConn) send(amf3 bool, cmd message.Command) error {
	cmd.AMF3 = amf3
	return c.sendCommand(0, cmd)
}

// reply answers transaction tx with _result, props, info.
func (c *serverConn) reply(amf3 bool, tx float64, props, info amf0.Value) error {
	return c.send(amf3, message.NewResult(tx, props, info))
}

// replyIf answers _result, null, undefined when the command has a
// transaction id.
func (c *serverConn) replyIf(amf3 bool, tx float64) {
	if tx != 0 {
		c.reply(amf3, tx, nil, amf0.Undefined{})
	}
}
