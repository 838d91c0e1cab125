package rtmp

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// Chunk stream ids ertmp writes on. Any id works for a peer; these follow
// the common practice of separating control, commands and media so a large
// video message never delays a command (RTMP 1.0 §5.3.1.1: id 2 is reserved
// for protocol control).
const (
	CSIDControl = 2
	CSIDCommand = 3
	CSIDData    = 5
	CSIDAudio   = 6
	CSIDVideo   = 7
)

// Defaults for ConnConfig fields left zero.
const (
	DefaultReadTimeout  = 30 * time.Second
	DefaultWriteTimeout = 30 * time.Second
	// DefaultControlWriteTimeout bounds the answers the reading goroutine
	// writes itself (acknowledgements, ping responses).
	DefaultControlWriteTimeout = 2 * time.Second
	DefaultWindowAckSize       = 2_500_000
	DefaultChunkSize           = 4096
)

// ConnConfig configures a Conn. The zero value uses the defaults above and
// chunk.Reader's own limits.
type ConnConfig struct {
	// ReadTimeout bounds each wait for the next message; negative means none.
	ReadTimeout time.Duration
	// WriteTimeout bounds each flush; negative means none.
	WriteTimeout time.Duration
	// ControlWriteTimeout bounds each answer the reading goroutine writes
	// on its own (Acknowledgement, PingResponse, Window Acknowledgement
	// Size): a peer that sends but never reads (a publisher whose socket
	// stopped draining) fills its receive window, that write blocks, and
	// the read fails with ErrPeerNotReading after this long rather than
	// the connection staying open. Default DefaultControlWriteTimeout
	// (2 s); negative means WriteTimeout's bound.
	ControlWriteTimeout time.Duration
	// Reader sets the chunk reader's limits (message size, chunk streams,
	// chunk size ceiling, buffered bytes).
	Reader chunk.ReaderConfig
	// WriteBufferSize is the chunk writer's buffer; 0 means chunk's default.
	WriteBufferSize int
}

func (c *ConnConfig) readTimeout() time.Duration {
	switch {
	case c == nil || c.ReadTimeout == 0:
		return DefaultReadTimeout
	case c.ReadTimeout < 0:
		return 0
	}
	return c.ReadTimeout
}

func (c *ConnConfig) controlWriteTimeout() time.Duration {
	switch {
	case c == nil || c.ControlWriteTimeout == 0:
		return DefaultControlWriteTimeout
	case c.ControlWriteTimeout < 0:
		return c.writeTimeout()
	}
	return c.ControlWriteTimeout
}

// ErrPeerNotReading is the error (wrapped, with the write's own timeout
// error) of a connection whose peer did not take an answer of the reading
// goroutine within ConnConfig.ControlWriteTimeout.
var ErrPeerNotReading = errors.New("rtmp: the peer reads nothing: a control write blocked")

func (c *ConnConfig) writeTimeout() time.Duration {
	switch {
	case c == nil || c.WriteTimeout == 0:
		return DefaultWriteTimeout
	case c.WriteTimeout < 0:
		return 0
	}
	return c.WriteTimeout
}

// Conn is an RTMP connection after the handshake. ReadMessage reads
// messages and applies protocol control without the caller's help: Set Chunk
// Size, Abort, Window Acknowledgement Size (an Acknowledgement goes out when
// due), Set Peer Bandwidth (answered with Window Acknowledgement Size) and
// PingRequest (answered with PingResponse). Control messages are returned
// too, after they took effect, so a caller can watch them.
//
// One goroutine reads; writes may come from any goroutine and are
// serialized. Writes are buffered until Flush (the automatic answers flush
// themselves).
type Conn struct {
	nc  net.Conn
	cfg ConnConfig

	// Read side: owned by the reading goroutine.
	r         *chunk.Reader
	ackWindow uint32 // the peer's Window Acknowledgement Size
	lastAck   uint64 // BytesRead at the last Acknowledgement sent
	ackDue    bool   // an Acknowledgement waits for the end of the read batch
	// flushDue: answers of the reader (ping responses) are buffered and
	// wait for the end of the read batch to be flushed.
	flushDue bool
	bw       uint32 // the limit Set Peer Bandwidth imposes on us
	bwLimit  message.LimitType
	haveBW   bool
	// readDeadline (Unix ns, 0 for none), when set, overrides ReadTimeout.
	// Atomic: a closing goroutine sets it while the reader runs.
	readDeadline atomic.Int64
	// nread mirrors the reader's byte count for other goroutines.
	nread atomic.Uint64
	// readTimeout is the idle timeout per ReadMessage, in ns (0: none).
	readTimeout atomic.Int64
	// stopped is set by stopReading, from any goroutine: every read fails
	// at once from then on, whatever deadline anybody sets.
	stopped atomic.Bool
	// wake, when set (a server's connection, before its first read), gives
	// a parked player's read side its goroutine back (PlaySession.park):
	// what changes how the socket is read (a deadline, a stop, a close)
	// calls it.
	wake func()
	// readBase (Unix ns, 0: now), when set by a parked reader's timeout,
	// is what the next ReadMessage counts ReadTimeout from, once; owned by
	// the reading goroutine.
	readBase int64

	// src is what the chunk reader reads: the socket, with the
	// before-read hook (owned by the reading goroutine).
	src        sourceReader
	beforeRead func()

	// pending are control messages queued behind a writer (writeControl);
	// guarded by cmu, which is taken alone or inside wmu.
	cmu     sync.Mutex
	pending []message.Message

	// Write side: guarded by wmu.
	wmu       sync.Mutex
	w         *chunk.Writer
	ackSent   uint32 // the Window Acknowledgement Size we last sent
	wdeadline time.Time
	werr      error
}

// NewConn wraps a handshaken net.Conn. cfg may be nil.
func NewConn(nc net.Conn, cfg *ConnConfig) *Conn {
	c := &Conn{nc: nc}
	if cfg != nil {
		c.cfg = *cfg
	}
	c.readTimeout.Store(int64(c.cfg.readTimeout()))
	c.src = sourceReader{c: c}
	c.r = chunk.NewReader(&c.src, &c.cfg.Reader)
	if c.cfg.WriteBufferSize > 0 {
		c.w = chunk.NewWriterSize(nc, c.cfg.WriteBufferSize)
	} else {
		c.w = chunk.NewWriter(nc)
	}
	return c
}

// NetConn returns the underlying connection.
func (c *Conn) NetConn() net.Conn { return c.nc }

// RemoteAddr returns the peer's address.
func (c *Conn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

// BytesRead counts bytes read, chunk headers included, up to the last
// message read. Safe to call from any goroutine.
func (c *Conn) BytesRead() uint64 { return c.nread.Load() }

// BytesWritten counts bytes written, chunk headers included.
func (c *Conn) BytesWritten() uint64 {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.w.BytesWritten()
}

// PeerBandwidth returns the bandwidth limit the peer set with Set Peer
// Bandwidth, and whether it set one.
func (c *Conn) PeerBandwidth() (uint32, message.LimitType, bool) { return c.bw, c.bwLimit, c.haveBW }

// SetReadDeadline sets an absolute deadline for reads, overriding
// ReadTimeout until it is cleared with the zero time.
func (c *Conn) SetReadDeadline(t time.Time) error {
	var ns int64
	if !t.IsZero() {
		ns = t.UnixNano()
	}
	c.readDeadline.Store(ns)
	err := c.nc.SetReadDeadline(t)
	c.keepStopped()
	c.wakeParked()
	return err
}

// SetReadTimeout changes the idle timeout of each ReadMessage; zero or
// negative means none. It applies at once, to a read already waiting too.
func (c *Conn) SetReadTimeout(d time.Duration) {
	c.readTimeout.Store(int64(max(d, 0)))
	if c.readDeadline.Load() != 0 {
		return // an explicit deadline wins
	}
	if d > 0 {
		c.nc.SetReadDeadline(time.Now().Add(d))
	} else {
		c.nc.SetReadDeadline(time.Time{})
	}
	c.keepStopped()
	c.wakeParked()
}

// aLongTimeAgo is a read deadline that has passed: a read waiting on the
// socket returns at once.
var aLongTimeAgo = time.Unix(1, 0)

// stopReading makes the read in progress, if any, and every later one fail
// at once with a timeout. It is how a goroutine that does not own the read
// side (a closer) gets the reading goroutine to stop; it never reads
// itself. The chunk reader fails its message in progress, so nothing cut
// by it is ever returned.
func (c *Conn) stopReading() {
	c.stopped.Store(true)
	c.nc.SetReadDeadline(aLongTimeAgo)
	c.wakeParked()
}

// wakeParked gives a parked player's read side its goroutine back, so that
// it reads under the connection's new terms (see PlaySession.park).
func (c *Conn) wakeParked() {
	if f := c.wake; f != nil {
		f()
	}
}

// keepStopped runs after every change of the socket's read deadline: if
// stopReading ran meanwhile, its deadline must win. (It stored the flag
// before setting its deadline, and we set ours before loading the flag, so
// either we see the flag or its deadline comes after ours.)
func (c *Conn) keepStopped() {
	if c.stopped.Load() {
		c.nc.SetReadDeadline(aLongTimeAgo)
	}
}

// sourceReader reads the socket for the chunk reader, calling the
// connection's before-read hook first.
type sourceReader struct{ c *Conn }

func (r *sourceReader) Read(p []byte) (int, error) {
	if err := r.c.sendAck(); err != nil {
		return 0, err // a peer that does not read its acknowledgements is gone
	}
	if f := r.c.beforeRead; f != nil {
		f()
	}
	return r.c.nc.Read(p)
}

// SetBeforeRead sets a function called each time the connection is about
// to read from the network, that is when everything already received has
// been read: the end of a batch of inbound messages. A live server wakes
// its players there rather than once per message. Call it from the
// goroutine that reads.
func (c *Conn) SetBeforeRead(f func()) { c.beforeRead = f }

// ReadMessage returns the next message. Its Payload is valid until the next
// call (see chunk.Reader.Detach to keep it).
func (c *Conn) ReadMessage() (chunk.Message, error) {
	if c.readDeadline.Load() == 0 {
		if d := time.Duration(c.readTimeout.Load()); d > 0 {
			from := time.Now()
			if c.readBase != 0 {
				from = time.Unix(0, c.readBase)
			}
			c.nc.SetReadDeadline(from.Add(d))
			c.keepStopped()
		}
	}
	c.readBase = 0
	m, err := c.r.ReadMessage()
	c.nread.Store(c.r.BytesRead())
	if err != nil {
		return m, err
	}
	if err := c.control(m); err != nil {
		return m, err
	}
	if err := c.maybeAck(); err != nil {
		return m, err
	}
	if c.flushDue && c.r.Buffered() == 0 {
		// The end of a read batch: the answers go out now, once.
		return m, c.sendAck()
	}
	return m, nil
}

// Detach hands the payload of the last message read to the caller.
func (c *Conn) Detach() []byte { return c.r.Detach() }

// control applies a protocol control or user control message.
func (c *Conn) control(m chunk.Message) error {
	switch message.Type(m.TypeID) {
	case message.TypeSetChunkSize:
		// A set reserved top bit is masked, as §5.4.1's peers do in
		// practice; a size of 0 is fatal.
		v, err := message.UnmarshalSetChunkSize(m.Payload)
		if err != nil && v.Size == 0 {
			return err
		}
		return c.r.SetChunkSize(v.Size)
	case message.TypeAbort:
		v, err := message.UnmarshalAbort(m.Payload)
		if err != nil {
			return err
		}
		c.r.Abort(v.CSID)
	case message.TypeWindowAckSize:
		v, err := message.UnmarshalWindowAckSize(m.Payload)
		if err != nil {
			return err
		}
		// A floor: a peer that asks for an acknowledgement every few
		// bytes would have us write one per read (an acknowledgement
		// storm).
		c.ackWindow = max(v.Size, minAckWindow)
	case message.TypeSetPeerBandwidth:
		v, err := message.UnmarshalSetPeerBandwidth(m.Payload)
		if err != nil && len(m.Payload) == 4 {
			// Some peers send the window size without the limit type
			// (§5.4.5 gives 5 bytes). Read it as a hard limit: the size
			// the peer asks for is the size it gets.
			v, err = message.SetPeerBandwidth{Size: binary.BigEndian.Uint32(m.Payload), Limit: message.LimitHard}, nil
		}
		if err != nil {
			return err
		}
		size, limit, changed := message.ApplyPeerBandwidth(c.bw, c.bwLimit, c.haveBW, v)
		c.bw, c.bwLimit, c.haveBW = size, limit, true
		// §5.4.5: "The peer receiving this message SHOULD respond with a
		// Window Acknowledgement Size message if the window size is
		// different from the last one sent to the sender of this message."
		c.wmu.Lock()
		send := changed && size != c.ackSent
		c.wmu.Unlock()
		if send {
			return c.SetWindowAckSize(size)
		}
	case message.TypeUserControl:
		ev, err := message.UnmarshalUserControl(m.Payload)
		if err != nil {
			return err
		}
		if ev.Event == message.EventPingRequest {
			// Buffered, flushed at the end of the read batch: a peer
			// that sends pings back to back gets one write per batch,
			// not one per ping.
			return c.answer(message.NewPingResponse(ev.Timestamp))
		}
	}
	return nil
}

// minAckWindow is the smallest Window Acknowledgement Size the connection
// honours.
const minAckWindow = 4096

// maybeAck notes that an Acknowledgement is due once a window's worth of
// bytes arrived since the last one (§5.4.3); it is sent when the reader
// has read everything received so far (sendAck), one per batch of
// inbound messages however small the window.
func (c *Conn) maybeAck() error {
	if c.ackWindow == 0 {
		return nil
	}
	if c.r.BytesRead()-c.lastAck >= uint64(c.ackWindow) {
		c.ackDue = true
	}
	return nil
}

// sendAck sends the Acknowledgement that is due, if any, and flushes the
// answers buffered during the read batch. The sequence number is the byte
// count so far, modulo 2^32.
func (c *Conn) sendAck() error {
	if c.ackDue {
		c.ackDue = false
		n := c.r.BytesRead()
		c.lastAck = n
		if err := c.answer(message.Acknowledgement{SequenceNumber: uint32(n)}); err != nil {
			return err
		}
	}
	if !c.flushDue {
		return nil
	}
	c.flushDue = false
	if !c.wmu.TryLock() {
		return nil // the writer holding it flushes what is buffered
	}
	err := c.flushControlLocked()
	c.unlockWrite()
	return err
}

// answer buffers a control message of the reading goroutine's (see
// writeControl) for sendAck to flush at the end of the read batch.
func (c *Conn) answer(m message.Message) error {
	if !c.wmu.TryLock() {
		c.queueControl(m)
		return nil
	}
	err := c.writeLocked(CSIDControl, 0, 0, m)
	c.wmu.Unlock()
	c.flushDue = true
	return err
}

// writeControl writes a control message on chunk stream 2 and flushes.
// The reading goroutine answers the peer with it (acknowledgements, ping
// responses): when a writer holds the connection (a flush to a slow
// player), the message is queued for the writer to send with its next
// flush rather than making the reader wait behind it.
func (c *Conn) writeControl(m message.Message) error {
	if !c.wmu.TryLock() {
		c.queueControl(m)
		return nil
	}
	err := c.writeLocked(CSIDControl, 0, 0, m)
	if err == nil {
		err = c.flushControlLocked()
	}
	c.unlockWrite()
	return err
}

// flushControlLocked flushes an answer of the reading goroutine within
// ControlWriteTimeout. The caller holds wmu.
func (c *Conn) flushControlLocked() error {
	if c.werr != nil {
		return c.werr
	}
	c.writePendingLocked()
	if d := c.cfg.controlWriteTimeout(); d > 0 {
		// A shorter deadline than the writers', for this flush only.
		prev := c.wdeadline
		c.nc.SetWriteDeadline(time.Now().Add(d))
		if err := c.w.Flush(); err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				err = fmt.Errorf("%w for %v: %w", ErrPeerNotReading, d, err)
			}
			return c.failWrite(err)
		}
		c.nc.SetWriteDeadline(prev)
		return nil
	}
	return c.flushLocked()
}

// maxPendingControl bounds the control messages queued behind a writer;
// past it the oldest ping response goes (an acknowledgement is replaced,
// never dropped).
const maxPendingControl = 8

// queueControl queues m for the writer holding the connection, then
// sends it itself if the writer let go meanwhile.
func (c *Conn) queueControl(m message.Message) {
	c.cmu.Lock()
	if _, ack := m.(message.Acknowledgement); ack {
		// Only the latest acknowledgement matters.
		for i, p := range c.pending {
			if _, ok := p.(message.Acknowledgement); ok {
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				break
			}
		}
	}
	if len(c.pending) >= maxPendingControl {
		c.pending = c.pending[1:]
	}
	c.pending = append(c.pending, m)
	c.cmu.Unlock()
	if c.wmu.TryLock() {
		if c.writePendingLocked() {
			c.flushLocked()
		}
		c.unlockWrite()
	}
}

// writePendingLocked queues the pending control messages; it reports
// whether there were any. The caller holds wmu.
func (c *Conn) writePendingLocked() bool {
	c.cmu.Lock()
	ms := c.pending
	c.pending = nil
	c.cmu.Unlock()
	for _, m := range ms {
		c.writeLocked(CSIDControl, 0, 0, m)
	}
	return len(ms) > 0
}

// unlockWrite releases wmu, then sends control messages queued while it
// was held, if nobody else took it (see queueControl).
func (c *Conn) unlockWrite() {
	for {
		c.wmu.Unlock()
		c.cmu.Lock()
		n := len(c.pending)
		c.cmu.Unlock()
		if n == 0 || !c.wmu.TryLock() {
			return
		}
		c.writePendingLocked()
		c.flushLocked()
	}
}

// Write encodes a typed message and queues it on chunk stream csid.
func (c *Conn) Write(csid, streamID, timestamp uint32, m message.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeLocked(csid, streamID, timestamp, m)
}

// scratch buffers typed encodings; writes are serialized by wmu.
var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (c *Conn) writeLocked(csid, streamID, timestamp uint32, m message.Message) error {
	if c.werr != nil {
		return c.werr
	}
	bp := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(bp)
	payload, err := m.AppendPayload((*bp)[:0])
	if err != nil {
		return err
	}
	*bp = payload[:0]
	return c.writeRawLocked(chunk.Message{CSID: csid, Header: chunk.Header{Timestamp: timestamp, TypeID: uint8(m.Type()), StreamID: streamID}, Payload: payload})
}

func (c *Conn) writeRawLocked(m chunk.Message) error {
	if c.werr != nil {
		return c.werr
	}
	c.setWriteDeadline()
	if err := c.w.WriteMessage(m); err != nil {
		return c.failWrite(err)
	}
	return nil
}

// WriteMessage queues a raw message (the payload is copied).
func (c *Conn) WriteMessage(m chunk.Message) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.writeRawLocked(m)
}

// WritePrepared queues a message chunked once for many connections.
func (c *Conn) WritePrepared(p *chunk.Prepared) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.werr != nil {
		return c.werr
	}
	c.setWriteDeadline()
	if err := c.w.WritePrepared(p); err != nil {
		return c.failWrite(err)
	}
	return nil
}

// WritePreparedBatch queues messages chunked once for many connections
// and, with flush, writes everything queued: one lock, one deadline and
// one flush for a batch.
func (c *Conn) WritePreparedBatch(ps []*chunk.Prepared, flush bool) error {
	c.wmu.Lock()
	defer c.unlockWrite()
	if c.werr != nil {
		return c.werr
	}
	c.setWriteDeadline()
	for _, p := range ps {
		if err := c.w.WritePrepared(p); err != nil {
			return c.failWrite(err)
		}
	}
	if flush {
		return c.flushLocked()
	}
	return nil
}

// Flush writes everything queued.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.unlockWrite()
	return c.flushLocked()
}

func (c *Conn) flushLocked() error {
	if c.werr != nil {
		return c.werr
	}
	c.writePendingLocked()
	c.setWriteDeadline()
	if err := c.w.Flush(); err != nil {
		return c.failWrite(err)
	}
	return nil
}

func (c *Conn) setWriteDeadline() {
	if d := c.cfg.writeTimeout(); d > 0 {
		// Refreshing the deadline costs a timer update; do it at most every
		// tenth of the timeout.
		now := time.Now()
		if c.wdeadline.Sub(now) < d-d/10 {
			c.wdeadline = now.Add(d)
			c.nc.SetWriteDeadline(c.wdeadline)
		}
	}
}

// failWrite makes a write error sticky: a chunk stream cut in the middle of
// a message cannot be resumed.
func (c *Conn) failWrite(err error) error {
	c.werr = fmt.Errorf("rtmp: write: %w", err)
	return c.werr
}

// SetChunkSize sends Set Chunk Size and switches the writer to n (§5.4.1).
func (c *Conn) SetChunkSize(n uint32) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if err := c.writeLocked(CSIDControl, 0, 0, message.SetChunkSize{Size: n}); err != nil {
		return err
	}
	if err := c.w.SetChunkSize(n); err != nil {
		return err
	}
	return nil
}

// ChunkSize returns the chunk size this side writes with.
func (c *Conn) ChunkSize() uint32 {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.w.ChunkSize()
}

// SetWindowAckSize tells the peer how many bytes it may send between our
// Acknowledgements (§5.4.4), and flushes.
func (c *Conn) SetWindowAckSize(n uint32) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.ackSent = n
	if err := c.writeLocked(CSIDControl, 0, 0, message.WindowAckSize{Size: n}); err != nil {
		return err
	}
	return c.flushLocked()
}

// SetPeerBandwidth limits the peer's output bandwidth (§5.4.5).
func (c *Conn) SetPeerBandwidth(n uint32, limit message.LimitType) error {
	return c.Write(CSIDControl, 0, 0, message.SetPeerBandwidth{Size: n, Limit: limit})
}

// CloseWrite flushes and half-closes the write side, so the peer reads
// everything sent and then EOF, while we can still drain what it sends.
func (c *Conn) CloseWrite() error {
	c.wmu.Lock()
	err := c.flushLocked()
	c.wmu.Unlock()
	if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
		if e := cw.CloseWrite(); err == nil {
			err = e
		}
	}
	return err
}

// Close closes the connection at once.
func (c *Conn) Close() error {
	err := c.nc.Close()
	c.wakeParked()
	return err
}
