package rtmp

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// ErrServerClosed is returned by Serve, ListenAndServe and Listener.Accept
// after Shutdown or Close.
var ErrServerClosed = errors.New("rtmp: server closed")

// Defaults for Server fields left zero.
const (
	DefaultHandshakeTimeout      = 10 * time.Second
	DefaultRequestTimeout        = 20 * time.Second
	DefaultAddr                  = ":1935"
	DefaultMaxConns              = 10000
	DefaultMaxConnsPerIP         = 1024
	DefaultMaxRequestMessageSize = 64 << 10
)

// Handler serves one request: a peer that announced publish or play on a
// NetStream. The first request of a connection runs on the connection's
// goroutine; a peer that publishes or plays on several NetStreams of one
// connection brings one request for each, each served on a goroutine of
// its own, concurrently. When ServeRTMP returns, its session is closed
// (politely) if still open; the connection closes once its last request
// and session ended.
type Handler interface {
	ServeRTMP(*Request)
}

// ConnectHandler is a Handler that is also asked about each connect, before
// the connect is answered: an error refuses it with _error
// NetConnection.Connect.Rejected (the error's Description() when it has
// one, else its text) and closes the connection. The request holds the
// connect fields only (App, TcURL, ConnectObject, Capabilities,
// RemoteAddr); Kind is 0.
type ConnectHandler interface {
	Handler
	ServeConnect(*Request) error
}

// ErrConnectRejected marks a connect the handler refused.
var ErrConnectRejected = errors.New("rtmp: connect rejected")

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(*Request)

// ServeRTMP calls f(r).
func (f HandlerFunc) ServeRTMP(r *Request) { f(r) }

// Server accepts RTMP connections and hands each publish or play request to
// Handler. The zero value serves on DefaultAddr with the defaults below;
// fields must not change once serving.
type Server struct {
	Addr    string
	Handler Handler

	// HandshakeTimeout bounds the handshake (default 10 s); RequestTimeout
	// bounds the time from the end of the handshake to publish or play,
	// connect included (default 20 s). A peer that stalls there never holds
	// up another.
	HandshakeTimeout time.Duration
	RequestTimeout   time.Duration
	// Conn sets read and write timeouts and chunk reader limits.
	Conn ConnConfig
	// ChunkSize is the chunk size the server writes with (default 4096).
	ChunkSize uint32
	// WindowAckSize and PeerBandwidth are announced after connect
	// (default 2,500,000 each).
	WindowAckSize uint32
	PeerBandwidth uint32
	// Capabilities, when set, are advertised in the connect _result
	// (Enhanced RTMP v2 capability negotiation).
	Capabilities *Capabilities
	// FMSVersion is the fmsVer of the connect _result.
	FMSVersion string
	// Handshake configures the handshake (digest is answered in kind).
	Handshake handshake.Config
	// Logger receives connection errors; nil means slog.Default().
	Logger *slog.Logger

	// Budget, when set, is the server-wide memory account its
	// connections' chunk readers charge their reassembly buffers to (see
	// MemoryBudget; Conn.Reader.Budget, when set, takes precedence). A
	// live server shares it with its hub (live.Config.Budget), which
	// charges GOP caches, player queues and kept frames. A message whose
	// buffer the budget refuses ends its connection with chunk.ErrBudget
	// (before publish or play, ReasonMemoryBudget). Nil: no server-wide
	// account; each connection is still bounded by Conn.Reader.
	Budget *MemoryBudget

	// MaxConns bounds the connections open at once, MaxConnsPerIP those
	// from one IP address. A connection over either is closed as soon as it
	// is accepted, before the handshake, with ReasonTooManyConns or
	// ReasonTooManyConnsPerIP. Zero means DefaultMaxConns (10000) and
	// DefaultMaxConnsPerIP (1024); negative means no limit. Connections that
	// do not come over IP (a Unix socket) count toward MaxConns only.
	MaxConns      int
	MaxConnsPerIP int

	// MaxRequestMessageSize bounds each message a peer sends before its
	// publish or play is accepted. connect, even with Enhanced RTMP's
	// capability lists and maps (FFmpeg, OBS), and the commands after it
	// are a few hundred bytes to a few kilobytes. A longer message is
	// refused when its chunk header announces it, before anything is
	// allocated, and the connection closes with ReasonMessageTooLarge; the
	// memory all partial messages may hold meanwhile is bounded to four
	// times this. After AcceptPublish or AcceptPlay, the limits of
	// Conn.Reader apply. Zero means DefaultMaxRequestMessageSize (64 KiB);
	// negative means only the limits of Conn.Reader.
	MaxRequestMessageSize int

	// MaxStreamsPerConn bounds the NetStreams that publish or play at once
	// on one connection (a multi-bitrate encoder publishes its renditions
	// on one connection, each on a stream of its own). A publish or play
	// past it is refused on its stream with an error onStatus
	// (NetStream.Publish.BadName, NetStream.Play.Failed) and the others go
	// on. Zero means DefaultMaxStreamsPerConn (16); negative means no limit.
	MaxStreamsPerConn int

	// HandleCalls hands the Handler's sessions the commands the server has
	// no answer for: calls with a transaction id that the library does not
	// know (for a publisher as command packets from ReadPacket, for a
	// player as EventCall), and a publish, play or play2 on a stream that
	// is already publishing or playing. The session answers them (Reply,
	// ReplyError, SendStatus). When false, the default, the server answers
	// them itself, with _error NetConnection.Call.Failed or an error
	// onStatus, so that no peer waits for an answer that never comes.
	// Commands without a transaction id reach the sessions either way.
	HandleCalls bool

	// OnConnClose, when set, is called once for every connection that ends
	// before a Request reaches the Handler: refused for a limit, failed or
	// timed out handshake, request timeout, protocol error, message too
	// large, closed by the client, server shutdown. The same event is
	// logged at Info level (refusals for a limit at most once a second,
	// with a count of those not logged). It runs on the connection's
	// goroutine, or on the accept loop for connections over a limit, so it
	// must not block.
	OnConnClose func(ConnInfo)

	mu         sync.Mutex
	listeners  map[*net.Listener]struct{}
	conns      map[*serverConn]struct{}
	perIP      map[netip.Addr]int
	refusals   logLimiter
	inShutdown atomic.Bool
	connWG     sync.WaitGroup
	onceInit   sync.Once
	done       chan struct{}
	connects   connectCache
}

func (s *Server) init() {
	s.onceInit.Do(func() {
		s.listeners = map[*net.Listener]struct{}{}
		s.conns = map[*serverConn]struct{}{}
		s.perIP = map[netip.Addr]int{}
		s.done = make(chan struct{})
	})
}

func (s *Server) doneChan() <-chan struct{} {
	s.init()
	return s.done
}

func (s *Server) logger() *slog.Logger {
	if s.Logger != nil {
		return s.Logger
	}
	return slog.Default()
}

func durationOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

func u32Or(v, def uint32) uint32 {
	if v > 0 {
		return v
	}
	return def
}

// limit reads a limit field: zero is def, negative none (-1).
func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return -1
	}
	return v
}

// requestLimits are the chunk reader's limits before publish or play:
// message size and buffered bytes, never above Conn.Reader's.
func (s *Server) requestLimits() (size uint32, buffered int, ok bool) {
	n := limit(s.MaxRequestMessageSize, DefaultMaxRequestMessageSize)
	if n < 0 {
		return 0, 0, false
	}
	size = uint32(min(n, chunk.MaxMessageLength))
	if m := s.Conn.Reader.MaxMessageSize; m > 0 && m < size {
		size = m
	}
	buffered = 4 * int(size)
	if m := s.Conn.Reader.MaxBuffered; m > 0 && m < buffered {
		buffered = m
	}
	return size, buffered, true
}

// ListenAndServe listens on s.Addr (DefaultAddr if empty) and serves.
func (s *Server) ListenAndServe() error {
	if s.inShutdown.Load() {
		return ErrServerClosed
	}
	addr := s.Addr
	if addr == "" {
		addr = DefaultAddr
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ln)
}

// Serve accepts connections on ln until it fails or the server shuts down;
// then it returns ErrServerClosed. Any net.Listener works: a tls.Listener
// gives RTMPS. Temporary accept errors, and running out of file
// descriptors, buffers or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM), are
// retried with backoff, 5 ms doubling to 1 s, like net/http: the server
// keeps serving the connections it has and accepts again once resources
// are free. A Warn line marks the start of a backoff (at most one a
// second), not every retry.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	if !s.trackListener(&ln, true) {
		return ErrServerClosed
	}
	defer s.trackListener(&ln, false)
	var (
		delay    time.Duration
		warnings logLimiter
	)
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.inShutdown.Load() {
				return ErrServerClosed
			}
			if !retryAccept(err) {
				return err
			}
			if delay == 0 {
				delay = 5 * time.Millisecond
				if n, ok := warnings.allow(time.Now()); ok {
					s.logger().Warn("rtmp: accept failed; retrying with backoff up to 1s", "err", err, "backoffs_not_logged", n)
				}
			} else {
				delay = min(2*delay, time.Second)
			}
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-s.done:
				t.Stop()
				return ErrServerClosed
			}
			continue
		}
		delay = 0
		c := newServerConn(s, nc)
		switch reason := s.trackConn(c); reason {
		case ReasonNone:
			go c.serve()
		case ReasonServerShutdown:
			nc.Close()
			s.reportClose(ConnInfo{RemoteAddr: nc.RemoteAddr(), Reason: reason, Err: ErrServerClosed})
			return ErrServerClosed
		default:
			nc.Close()
			err := ErrTooManyConns
			if reason == ReasonTooManyConnsPerIP {
				err = ErrTooManyConnsPerIP
			}
			s.reportClose(ConnInfo{RemoteAddr: nc.RemoteAddr(), Reason: reason, Err: err})
		}
	}
}

// retryAccept reports whether an accept error passes: a timeout, or a
// shortage of descriptors, buffers or memory that closing connections
// relieves.
func retryAccept(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	for _, e := range []syscall.Errno{syscall.EMFILE, syscall.ENFILE, syscall.ENOBUFS, syscall.ENOMEM, syscall.ECONNABORTED} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

func (s *Server) trackListener(ln *net.Listener, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.inShutdown.Load() {
			return false
		}
		s.listeners[ln] = struct{}{}
	} else {
		delete(s.listeners, ln)
	}
	return true
}

// trackConn counts a new connection in, unless the server is shutting
// down or a limit is reached: then it says why.
func (s *Server) trackConn(c *serverConn) CloseReason {
	ip := remoteIP(c.nc.RemoteAddr())
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.inShutdown.Load():
		return ReasonServerShutdown
	case over(len(s.conns), limit(s.MaxConns, DefaultMaxConns)):
		return ReasonTooManyConns
	case ip.IsValid() && over(s.perIP[ip], limit(s.MaxConnsPerIP, DefaultMaxConnsPerIP)):
		return ReasonTooManyConnsPerIP
	}
	s.conns[c] = struct{}{}
	if ip.IsValid() {
		c.ip = ip
		s.perIP[ip]++
	}
	s.connWG.Add(1)
	return ReasonNone
}

func over(n, max int) bool { return max >= 0 && n >= max }

func (s *Server) untrackConn(c *serverConn) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.conns, c)
	if c.ip.IsValid() {
		if s.perIP[c.ip]--; s.perIP[c.ip] <= 0 {
			delete(s.perIP, c.ip)
		}
	}
	s.connWG.Done()
}

// remoteIP is the IP address of a TCP peer (IPv4-mapped addresses as
// IPv4), or the zero Addr for other kinds of connection.
func remoteIP(a net.Addr) netip.Addr {
	if ta, ok := a.(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// closeListeners stops accepting; it reports whether this call did it.
func (s *Server) closeListeners() bool {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.inShutdown.Swap(true) {
		return false
	}
	close(s.done)
	for ln := range s.listeners {
		(*ln).Close()
	}
	return true
}

// Shutdown stops accepting, tells every open session the server is going
// away (players get StreamEOF and end of stream, publishers a polite close),
// waits for the connections to end, and force-closes what is left when ctx
// ends. It is safe to call more than once.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		c.shutdown()
	}
	s.mu.Unlock()
	finished := make(chan struct{})
	go func() { s.connWG.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-finished
		return ctx.Err()
	}
}

// Close closes the listeners and every connection at once. Like
// net/http's, it does not wait for handlers to return; Shutdown does.
func (s *Server) Close() error {
	s.closeListeners()
	s.mu.Lock()
	for c := range s.conns {
		c.nc.Close()
		c.wakeParked()
		c.release()
	}
	s.mu.Unlock()
	return nil
}

// serverConn is one accepted connection.
//
// Its read side has one owner at a time, the holder of the read token rmu:
// the connection's goroutine up to the first Request, then the session that
// reads (PublishSession.ReadPacket, the PlaySession's event loop) while the
// connection has one NetStream, or the pump once it has several (see
// netstream.go), and last whoever drains. Nothing else reads the socket: a
// second reader takes bytes from under the chunk reader and corrupts the
// stream. A goroutine that closes a session while another reads only
// signals (closing messages, half-close, flags, Conn.stopReading); the
// reader sees it when its read fails, drains and closes (finishLocked).
type serverConn struct {
	srv   *Server
	nc    net.Conn
	start time.Time  // immutable: when accepted
	ip    netip.Addr // immutable: the peer's, as counted for MaxConnsPerIP
	// conn is set once the handshake is done; read-only after.
	conn *Conn
	// hs counts the handshake's bytes; handed is set when the Request
	// reaches the Handler; end is why the connection ended before that.
	// Owned by the connection's goroutine.
	hs     countingRW
	handed bool
	end    ConnInfo
	// closing is set by Shutdown.
	closing atomic.Bool

	// Owned by the holder of the read token: the connect fields every
	// Request copies (set by connect), the next createStream id, the last
	// SetBufferLength.
	base       Request
	connected  bool
	lifted     bool // the request limits were lifted (liftLimits)
	grown      bool // the read buffer was grown for a publisher (liftLimits)
	nextStream uint32
	bufLen     uint32
	haveBufLen bool

	// The NetStreams, guarded by smu: streams routes messages by message
	// stream id; open counts the requests and sessions not yet ended (the
	// connection closes when it falls to 0); waiters are the server's calls
	// waiting for an answer.
	smu     sync.Mutex
	streams map[uint32]*netStream
	open    int
	waiters map[float64]chan message.Command
	nextTx  float64
	// multi is set, once, when the connection gets its second NetStream:
	// from then on the pump reads (pumpDone is closed when it ends) and
	// sessions read their inboxes; room wakes the pump waiting for room in
	// an inbox.
	multi    atomic.Bool
	pumpDone chan struct{}
	room     chan struct{}
	// handlers counts the handlers running on goroutines of their own.
	handlers sync.WaitGroup

	// parked is the player whose read side waits in the idle watch (see
	// PlaySession.park), if any.
	parked atomic.Pointer[PlaySession]
	// rmu is the read token; finished, guarded by it, is set once the
	// connection was drained and closed. closingAll is set when the last request or session ended and
	// the connection is closing: a reader whose read fails finishes it.
	rmu        sync.Mutex
	finished   bool
	closingAll atomic.Bool
	// accepted1 is set when a request was accepted: the reader lifts the
	// request limits.
	accepted1 atomic.Bool
	// publishing is set when a publish was accepted: the reader grows its
	// buffer.
	publishing atomic.Bool
	// released is closed when the connection is done with (closed politely
	// or shut down); relOnce guards it.
	released chan struct{}
	relOnce  sync.Once
}

// newServerConn returns the state of an accepted connection.
func newServerConn(s *Server, nc net.Conn) *serverConn {
	return &serverConn{srv: s, nc: nc, start: time.Now(), released: make(chan struct{}),
		nextStream: 1, streams: map[uint32]*netStream{}, waiters: map[float64]chan message.Command{}, nextTx: 1,
		room: make(chan struct{}, 1)}
}

// wakeParked gives a parked player's read side its goroutine back.
func (c *serverConn) wakeParked() {
	if p := c.parked.Load(); p != nil {
		p.resume(false)
	}
}

func (c *serverConn) release() { c.relOnce.Do(func() { close(c.released) }) }

// finishLocked drains what the peer still sends (bounded) and closes the
// connection, once. The caller holds rmu.
func (c *serverConn) finishLocked() {
	if c.finished {
		return
	}
	c.finished = true
	drain(c.nc)
	c.nc.Close()
	c.wakeParked()
	c.release()
}

// tryFinish finishes the connection if nobody is reading it; otherwise the
// reader does when its read returns (it was told with stopReading).
func (c *serverConn) tryFinish() {
	if c.rmu.TryLock() {
		c.finishLocked()
		c.rmu.Unlock()
	}
}

// finish waits for the reader to stop, then finishes the connection.
func (c *serverConn) finish() {
	c.rmu.Lock()
	c.finishLocked()
	c.rmu.Unlock()
}

// Bounds of the drain after a polite close: it ends when the peer closes,
// after drainTime in all, or once the peer sent nothing for drainIdle (a
// peer that is silent but open has read what it wanted).
const (
	drainTime = 2 * time.Second
	drainIdle = 500 * time.Millisecond
)

var drainPool = sync.Pool{New: func() any { return new([16 << 10]byte) }}

// drain reads and drops what the peer sends until it closes or goes quiet,
// bounded by drainTime. Only the owner of the read side calls it.
func drain(nc net.Conn) {
	buf := drainPool.Get().(*[16 << 10]byte)
	defer drainPool.Put(buf)
	end := time.Now().Add(drainTime)
	for {
		now := time.Now()
		if !now.Before(end) {
			return
		}
		d := now.Add(drainIdle)
		if d.After(end) {
			d = end
		}
		nc.SetReadDeadline(d)
		if _, err := nc.Read(buf[:]); err != nil {
			return
		}
	}
}

func (c *serverConn) shutdown() {
	c.closing.Store(true)
	c.smu.Lock()
	var sessions []interface{ shutdown() }
	for _, ns := range c.streams {
		if ns.sess != nil {
			sessions = append(sessions, ns.sess)
		}
	}
	open := c.open
	c.smu.Unlock()
	for _, sess := range sessions {
		// Sessions close politely in parallel: closing messages, then the
		// last half-closes and the reader drains; the connection's
		// goroutine ends when they do.
		go sess.shutdown()
	}
	if open > 0 {
		// Requests not yet answered are the handlers' to answer (a live
		// server refuses them while it shuts down).
		return
	}
	// No request yet: a connection still in handshake or connect ends now.
	c.nc.Close()
	c.release()
}

func (c *serverConn) serve() {
	// This frame stays at the bottom of the stack for the connection's
	// life: the handshake and setup are in begin, the deferred work in
	// cleanup, so that a waiting session's stack stays small.
	defer c.cleanup()
	req := c.begin()
	if req == nil {
		return
	}
	c.handed = true
	c.handler().ServeRTMP(req)
	req.finish()
	// The requests that came after this one run on their own goroutines;
	// the connection lives until the last of them is done.
	c.handlers.Wait()
	// A player's readLoop or the pump may still be draining: wait for it,
	// so the close stays polite.
	c.finish()
	if c.pumpDone != nil {
		<-c.pumpDone
	}
}

// cleanup ends serve: a panic in one connection closes that connection
// only; the connection is closed, its reader's buffers go back to the
// budget, and it stops being counted, then its close is reported.
func (c *serverConn) cleanup() {
	if v := recover(); v != nil {
		c.srv.logger().Error("rtmp: panic serving connection", "remote", c.nc.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		if !c.handed {
			c.ended(ReasonInternalError, fmt.Errorf("rtmp: panic: %v", v))
		}
	}
	c.nc.Close()
	// After a panic the reader may be held: its share stays counted
	// rather than racing with it.
	if c.conn != nil && c.rmu.TryLock() {
		c.conn.r.ReleaseBudget()
		c.rmu.Unlock()
	}
	c.release()
	c.srv.untrackConn(c)
	// Reported once the connection is closed and no longer counted.
	if c.end.Reason != ReasonNone {
		c.srv.reportClose(c.end)
	}
}

// begin makes the handshake, sets the connection up and reads its first
// request; nil when the connection ended before one (the reason noted).
func (c *serverConn) begin() *Request {
	s := c.srv
	c.nc.SetDeadline(time.Now().Add(durationOr(s.HandshakeTimeout, DefaultHandshakeTimeout)))
	c.hs.rw = c.nc
	hs, err := handshake.Server(&c.hs, &s.Handshake)
	if err != nil {
		c.ended(c.closeReason(err, true), err)
		return nil
	}
	c.base.Handshake = hs
	c.nc.SetDeadline(time.Time{})
	cc := s.Conn
	if cc.Reader.Budget == nil && s.Budget != nil {
		cc.Reader.Budget = s.Budget
	}
	if cc.Reader.BufferSize <= 0 {
		// Small until the connection carries a publisher (liftLimits).
		cc.Reader.BufferSize = requestReadBuffer
	}
	c.conn = NewConn(c.nc, &cc)
	c.conn.wake = c.wakeParked
	if size, buffered, ok := s.requestLimits(); ok {
		c.conn.r.SetMaxMessageSize(size)
		c.conn.r.SetMaxBuffered(buffered)
	}
	req, err := c.readRequest()
	if err != nil {
		c.ended(c.closeReason(err, false), err)
		return nil
	}
	return req
}

func (c *serverConn) handler() Handler {
	if h := c.srv.Handler; h != nil {
		return h
	}
	return HandlerFunc(func(r *Request) { r.Reject("", "no handler") })
}

// runHandler serves a request that came on a connection already serving
// another, on a goroutine of its own.
func (c *serverConn) runHandler(req *Request) {
	defer c.handlers.Done()
	defer func() {
		// A panic in a handler closes its connection only.
		if v := recover(); v != nil {
			c.srv.logger().Error("rtmp: panic serving connection", "remote", c.nc.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			c.nc.Close()
		}
	}()
	c.handler().ServeRTMP(req)
	req.finish()
}

// ended notes why a connection ends before its Request, with its byte
// counts, for the log and Server.OnConnClose.
func (c *serverConn) ended(reason CloseReason, err error) {
	info := ConnInfo{RemoteAddr: c.nc.RemoteAddr(), Reason: reason, Err: err,
		BytesRead: c.hs.r, BytesWritten: c.hs.w, Duration: time.Since(c.start)}
	if c.conn != nil {
		info.BytesRead += c.conn.BytesRead()
		info.BytesWritten += c.conn.BytesWritten()
	}
	c.end = info
}

// acceptLimits lifts the limits of the time before publish or play: from
// now on the peer is authorized, and Conn.Reader's limits apply. The
// chunk reader is its reader's: the holder of the read token applies them
// before its next read (liftLimits).
func (c *serverConn) acceptLimits() { c.accepted1.Store(true) }

// requestReadBuffer is the read buffer of a server connection until it
// carries a publisher: a player or a connection still in its commands
// sends little, and thousands of players should cost little memory.
const requestReadBuffer = 4 << 10

// liftLimits applies acceptLimits; holder of the read token only.
func (c *serverConn) liftLimits() {
	if c.grown || !c.accepted1.Load() || c.lifted && !c.publishing.Load() {
		return
	}
	cfg := &c.srv.Conn.Reader
	if !c.lifted {
		c.lifted = true
		c.conn.r.SetMaxMessageSize(cfg.MaxMessageSize)
		c.conn.r.SetMaxBuffered(cfg.MaxBuffered)
	}
	if c.publishing.Load() {
		// A publisher sends much: a large read buffer means fewer reads.
		c.grown = true
		c.conn.r.SetBufferSize(cmp.Or(cfg.BufferSize, chunk.DefaultReadBufferSize))
		return
	}
	if cfg.BufferSize <= 0 {
		// Only players so far: they send acknowledgements, ping
		// replies and the odd command, a few dozen bytes each.
		c.conn.r.SetBufferSize(playReadBuffer)
	}
}

// playReadBuffer is the read buffer of a connection that only plays.
const playReadBuffer = 512
