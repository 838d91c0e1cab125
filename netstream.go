package rtmp

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// Several NetStreams on one server connection.
//
// RTMP lets a client create any number of message streams on one connection
// (createStream) and publish or play on each (§7.2.2): multi-bitrate encoders
// publish their renditions that way. Each publish or play becomes its own
// Request, handed to the Handler on its own goroutine, and its own session.
//
// The rule stays: one reader per connection. Whoever holds the read token
// (serverConn.rmu) reads a message, acts on what belongs to the connection
// (connect, createStream, FCPublish, deleteStream, a publish or play on a
// new stream, calls nobody handles) and routes the rest by message stream
// id. It is one of two goroutines:
//
//   - While the connection has one NetStream, its session reads the socket
//     itself: PublishSession.ReadPacket (and the PlaySession's event loop)
//     takes the token, reads, and returns its own audio and video straight
//     from the chunk reader, with no goroutine or queue in between. This is
//     the common case, and its hot path is what it was.
//   - When a second publish or play arrives, the connection switches for
//     good to a reading goroutine of its own (pump). From then on only the
//     pump reads, and each session takes its messages from its own inbox,
//     bounded by count and bytes. A full inbox makes the pump wait (TCP then
//     slows the peer, as it would for one stream): a session that stops
//     reading holds up its connection, never another connection.
//
// A session ends on its own (the peer's deleteStream, closeStream or
// FCUnpublish, or Close); the connection closes politely when its last
// request or session ends. A publish or play past Server.MaxStreamsPerConn
// is refused on its stream; every command gets an answer.

// inItem is one message for a NetStream, or the peer's end of it.
type inItem struct {
	m   chunk.Message // the payload belongs to the item, not the chunk reader
	eof bool          // the peer ended the stream (unpublish, closeStream, ...)
}

// Bounds of a NetStream's inbox. One message always fits, whatever its size
// (the chunk reader's limits bound it).
const (
	inboxMaxItems = 4096
	inboxMaxBytes = 8 << 20
)

// inbox queues the messages the pump read for one NetStream. Safe for
// concurrent use: the pump pushes, the session pops.
type inbox struct {
	mu    sync.Mutex
	items []inItem
	bytes int
	// err, once set, ends the inbox: the session closed (ErrSessionClosed,
	// nothing more is taken) or the connection's read failed (the queued
	// items come out first).
	err  error
	wake chan struct{} // cap 1: the session waits on it
	// n mirrors len(items) and ended err != nil, for a look without the
	// lock (busy).
	n     atomic.Int32
	ended atomic.Bool
	// full is set when a push found the inbox full: the pump waits for
	// room, and is woken once the inbox is down to half (not at every pop:
	// a wake-up per message costs more than the message).
	full bool
}

// busy reports whether pop has something to say: an item or the end.
func (q *inbox) busy() bool { return q.n.Load() > 0 || q.ended.Load() }

func newInbox() *inbox { return &inbox{wake: make(chan struct{}, 1)} }

func (q *inbox) signal() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// push queues it unless the inbox is full (full) or ended (ended).
func (q *inbox) push(it inItem) (full, ended bool) {
	q.mu.Lock()
	if q.err != nil {
		q.mu.Unlock()
		return false, true
	}
	n := len(it.m.Payload)
	if len(q.items) > 0 && (len(q.items) >= inboxMaxItems || q.bytes+n > inboxMaxBytes) {
		q.full = true
		q.mu.Unlock()
		return true, false
	}
	q.items = append(q.items, it)
	q.bytes += n
	q.n.Add(1)
	q.mu.Unlock()
	q.signal()
	return false, false
}

// pop takes the next item; ok is false when there is none, and err says
// why no more will come. room reports that the pump waits for room in
// this inbox and now has it.
func (q *inbox) pop() (it inItem, ok, room bool, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if errors.Is(q.err, ErrSessionClosed) {
		return inItem{}, false, false, q.err
	}
	if len(q.items) == 0 {
		return inItem{}, false, false, q.err
	}
	it = q.items[0]
	q.items[0] = inItem{}
	q.items = q.items[1:]
	q.n.Add(-1)
	if len(q.items) == 0 {
		q.items = q.items[:0:0] // let the backing array go
	}
	q.bytes -= len(it.m.Payload)
	if q.full && len(q.items) <= inboxMaxItems/2 && q.bytes <= inboxMaxBytes/2 {
		q.full, room = false, true
	}
	return it, true, room, nil
}

// end ends the inbox with err; the first error stays.
func (q *inbox) end(err error) {
	q.mu.Lock()
	if q.err == nil {
		q.err = err
	}
	if errors.Is(err, ErrSessionClosed) {
		q.items, q.bytes = nil, 0
		q.n.Store(0)
	}
	q.ended.Store(true)
	q.mu.Unlock()
	q.signal()
}

// netStream is one NetStream of a server connection: a message stream id
// with its publish or play request and, once accepted, its session.
type netStream struct {
	id  uint32   // immutable
	req *Request // immutable (its fields are the handler's)
	in  *inbox
	// sess is set by Accept; guarded by serverConn.smu.
	sess interface{ shutdown() }
	// peerEnded is set when the peer ended the stream (atomic), so the
	// session's Close does not send what the peer no longer waits for.
	peerEnded atomic.Bool
	// beforeRead is the publisher's end-of-batch hook (owned by the
	// session's reading goroutine, see PublishSession.SetBeforeRead).
	beforeRead func()
	// parks is set for a player whose read side can park (PlaySession.park;
	// set before its reading starts, read by its reader): its reads return
	// errIdle when they used up what was received without a message for it.
	parks bool
}

// errSwitched: while a session read the socket, a second NetStream began
// and the pump took over; the session reads its inbox from now on.
var errSwitched = errors.New("rtmp: switched to the connection's reader")

// errIdle: a parking player's read took everything received (control
// messages, commands answered by the connection) and found nothing for
// the session: it may park rather than wait in a read.
var errIdle = errors.New("rtmp: nothing more received")

// Defaults and bounds of NetStreams.
const (
	// DefaultMaxStreamsPerConn is the default of Server.MaxStreamsPerConn.
	DefaultMaxStreamsPerConn = 16
	// maxStreamID bounds the ids createStream hands out: a client that
	// asks for more is answered _error.
	maxStreamID = 1 << 20
)

// stream returns the NetStream with id, if any.
func (c *serverConn) stream(id uint32) *netStream {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.streams[id]
}

// primary is the NetStream that receives what comes on the NetConnection
// (message stream 0) for a session: calls, shared objects, ping responses.
// It is the accepted session with the lowest stream id.
func (c *serverConn) primary() *netStream {
	c.smu.Lock()
	defer c.smu.Unlock()
	var p *netStream
	for _, ns := range c.streams {
		if ns.sess != nil && (p == nil || ns.id < p.id) {
			p = ns
		}
	}
	return p
}

// attach records the session of an accepted request.
func (c *serverConn) attach(ns *netStream, sess interface{ shutdown() }) {
	c.smu.Lock()
	ns.sess = sess
	c.smu.Unlock()
	if c.closing.Load() {
		go sess.shutdown()
	}
}

// endRequest ends a request or session on the server's side: its stream is
// forgotten and, when it was the last one open, it reports true: the
// caller closes the connection.
func (c *serverConn) endRequest(ns *netStream) (last bool) {
	c.smu.Lock()
	if c.streams[ns.id] == ns {
		delete(c.streams, ns.id)
	}
	c.open--
	last = c.open == 0
	c.smu.Unlock()
	ns.in.end(ErrSessionClosed)
	c.signalRoom()
	return last
}

// forget unroutes a NetStream the peer ended: a later publish or play on
// its id is a new request.
func (c *serverConn) forget(ns *netStream) {
	c.smu.Lock()
	if c.streams[ns.id] == ns {
		delete(c.streams, ns.id)
	}
	c.smu.Unlock()
}

// closeAll begins the polite close of the whole connection, once its last
// request or session ended: the reader stops, then whoever holds the read
// token drains and closes.
func (c *serverConn) closeAll() {
	c.closingAll.Store(true)
	c.conn.stopReading()
	c.signalRoom()
}

func (c *serverConn) signalRoom() {
	select {
	case c.room <- struct{}{}:
	default:
	}
}

// next returns the next message for ns: from its inbox or, while the
// connection has one NetStream, read from the socket by the caller itself.
//
// In the single-stream case nothing is ever queued for ns (its messages
// are returned as they are read) but its end, so a look at two atomics
// replaces the inbox's lock; the read token is then a plain mutex: besides
// the session, only a closer draining holds it, briefly.
func (c *serverConn) next(ns *netStream) (inItem, error) {
	for {
		if ns.in.busy() {
			it, ok, room, err := ns.in.pop()
			if room {
				c.signalRoom()
			}
			if ok {
				return it, nil
			}
			if err != nil {
				return inItem{}, err
			}
		}
		if c.multi.Load() {
			if f := ns.beforeRead; f != nil {
				f() // the end of a batch: everything queued was read
			}
			<-ns.in.wake
			continue
		}
		c.rmu.Lock()
		if c.multi.Load() || ns.in.busy() {
			c.rmu.Unlock()
			continue
		}
		if ns.beforeRead != nil {
			c.conn.beforeRead = ns.beforeRead
		}
		it, err := c.readSingle(ns)
		c.rmu.Unlock()
		if c.closingAll.Load() {
			c.tryFinish()
		}
		if errors.Is(err, errSwitched) {
			continue
		}
		return it, err
	}
}

// readSingle reads the socket for the connection's only NetStream, ns,
// until a message for it. The caller holds the read token.
func (c *serverConn) readSingle(ns *netStream) (inItem, error) {
	c.liftLimits()
	m, err := c.conn.ReadMessage()
	return c.readSingleAfter(ns, m, err)
}

// readSingleAfter is readSingle once a message (or the error of its read)
// is at hand.
func (c *serverConn) readSingleAfter(ns *netStream, m chunk.Message, err error) (inItem, error) {
	for ; ; m, err = c.conn.ReadMessage() {
		if err != nil {
			if c.closingAll.Load() {
				c.finishLocked()
			}
			return inItem{}, err
		}
		t := message.Type(m.TypeID)
		if (t == message.TypeAudio || t == message.TypeVideo) && m.StreamID == ns.id {
			return inItem{m: c.detach(m)}, nil // the hot path
		}
		to, it, req, err := c.route(m)
		if err != nil {
			return inItem{}, err
		}
		if req != nil {
			c.spawn(req)
			return inItem{}, errSwitched
		}
		if to == ns {
			return it, nil
		}
		if to != nil {
			c.deliver(to, it)
		}
		if ns.parks && c.conn.r.Buffered() == 0 {
			return inItem{}, errIdle
		}
	}
}

// spawn serves a request that came while sessions run: its handler runs on
// a goroutine of its own, and the connection's reading moves to the pump
// (once).
func (c *serverConn) spawn(req *Request) {
	// multi first: the new session must never wait for the read token,
	// which the pump holds for good.
	first := !c.multi.Swap(true)
	if first {
		c.pumpDone = make(chan struct{}) // before the handler: serve waits on it once handlers are done
	}
	c.handlers.Add(1)
	go c.runHandler(req)
	if first {
		go c.pump()
	}
}

// pump is the connection's reader once it has several NetStreams.
func (c *serverConn) pump() {
	defer close(c.pumpDone)
	c.rmu.Lock()
	defer c.rmu.Unlock()
	c.conn.beforeRead = nil // sessions call their own hooks (see next)
	for {
		c.liftLimits()
		m, err := c.conn.ReadMessage()
		if err != nil {
			if c.closingAll.Load() {
				c.finishLocked()
			}
			c.endAll(err)
			return
		}
		to, it, req, err := c.route(m)
		if err != nil {
			// A protocol error: every session reads it and ends; the last
			// to close closes the connection.
			c.endAll(err)
			return
		}
		if req != nil {
			c.spawn(req)
		}
		if to != nil {
			c.deliver(to, it)
		}
	}
}

// endAll ends every inbox with the error that stopped the reader.
func (c *serverConn) endAll(err error) {
	c.smu.Lock()
	var all []*netStream
	for _, ns := range c.streams {
		all = append(all, ns)
	}
	c.smu.Unlock()
	for _, ns := range all {
		ns.in.end(err)
	}
}

// deliver queues it for ns, waiting while its inbox is full (so the peer
// is slowed by TCP), unless the stream or the connection ends meanwhile.
// The caller holds the read token.
func (c *serverConn) deliver(ns *netStream, it inItem) {
	for {
		full, ended := ns.in.push(it)
		if !full || ended || c.closingAll.Load() {
			return
		}
		<-c.room
	}
}

// detach takes a message's payload from the chunk reader: small ones are
// copied (the reader keeps its buffer), large ones handed over.
func (c *serverConn) detach(m chunk.Message) chunk.Message {
	if len(m.Payload) < 512 {
		m.Payload = bytes.Clone(m.Payload)
		if m.Payload == nil {
			m.Payload = []byte{}
		}
		return m
	}
	m.Payload = c.conn.Detach()
	return m
}

// endStream ends a NetStream for its peer (unpublish, closeStream,
// deleteStream, close): a publisher is told NetStream.Unpublish.Success,
// and the session reads io.EOF after what was queued.
func (c *serverConn) endStream(ns *netStream) (*netStream, inItem) {
	if ns.peerEnded.Swap(true) {
		return nil, inItem{}
	}
	c.forget(ns)
	if ns.req.Kind == KindPublish && c.accepted(ns) {
		c.sendStatus(ns.id, ns.req.amf3, message.LevelStatus, message.CodeUnpublishSuccess, echoString(ns.req.StreamName)+" is now unpublished", nil)
	}
	return ns, inItem{eof: true}
}

// streamCount is the number of requests and sessions open.
func (c *serverConn) streamCount() int {
	c.smu.Lock()
	defer c.smu.Unlock()
	return c.open
}

// maxStreams is the cap of NetStreams per connection (-1: none).
func (s *Server) maxStreams() int { return limit(s.MaxStreamsPerConn, DefaultMaxStreamsPerConn) }

// errTooManyStreams describes a refusal past Server.MaxStreamsPerConn.
func errTooManyStreams(n int) string {
	return fmt.Sprintf("too many streams on one connection (at most %d)", n)
}
