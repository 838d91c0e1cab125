package rtmp

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ertmp/rtmp/handshake"
)

// ErrServerClosed is returned by Serve, ListenAndServe and Listener.Accept
// after Shutdown or Close.
var ErrServerClosed = errors.New("rtmp: server closed")

// Defaults for Server fields left zero.
const (
	DefaultHandshakeTimeout = 10 * time.Second
	DefaultRequestTimeout   = 20 * time.Second
	DefaultAddr             = ":1935"
)

// Handler serves one request: a peer that announced publish or play. It
// runs on the connection's goroutine; when it returns, the connection is
// closed (politely, if a session is still open).
type Handler interface {
	ServeRTMP(*Request)
}

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

	mu         sync.Mutex
	listeners  map[*net.Listener]struct{}
	conns      map[*serverConn]struct{}
	inShutdown atomic.Bool
	connWG     sync.WaitGroup
	onceInit   sync.Once
	done       chan struct{}
}

func (s *Server) init() {
	s.onceInit.Do(func() {
		s.listeners = map[*net.Listener]struct{}{}
		s.conns = map[*serverConn]struct{}{}
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
// gives RTMPS. Temporary accept errors are retried with backoff.
func (s *Server) Serve(ln net.Listener) error {
	s.init()
	if !s.trackListener(&ln, true) {
		return ErrServerClosed
	}
	defer s.trackListener(&ln, false)
	var delay time.Duration
	for {
		nc, err := ln.Accept()
		if err != nil {
			if s.inShutdown.Load() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				delay = min(max(2*delay, 5*time.Millisecond), time.Second)
				s.logger().Warn("rtmp: accept", "err", err, "retry_in", delay)
				select {
				case <-time.After(delay):
				case <-s.done:
					return ErrServerClosed
				}
				continue
			}
			return err
		}
		delay = 0
		c := &serverConn{srv: s, nc: nc, released: make(chan struct{})}
		if !s.trackConn(c, true) {
			nc.Close()
			return ErrServerClosed
		}
		go c.serve()
	}
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

func (s *Server) trackConn(c *serverConn, add bool) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		if s.inShutdown.Load() {
			return false
		}
		s.conns[c] = struct{}{}
		s.connWG.Add(1)
	} else {
		delete(s.conns, c)
		s.connWG.Done()
	}
	return true
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
		c.release()
	}
	s.mu.Unlock()
	return nil
}

// serverConn is one accepted connection.
//
// Its read side has one owner at a time, the holder of rmu: the
// connection's goroutine up to the Request, then the publisher's ReadPacket
// or the player's readLoop, and last whoever drains. Nothing else reads the
// socket: a second reader takes bytes from under the chunk reader and
// corrupts the stream. A goroutine that closes a session while another
// reads only signals (closing messages, half-close, session flag,
// Conn.stopReading); the reader sees the flag when its read fails, drains
// and closes (finishLocked).
type serverConn struct {
	srv *Server
	nc  net.Conn
	// conn is set once the handshake is done; read-only after.
	conn *Conn
	// closing is set by Shutdown.
	closing atomic.Bool
	// session is the open session, if any (for Shutdown).
	mu      sync.Mutex
	session interface{ shutdown() }
	// rmu is the read token (see above); finished, guarded by it, is set
	// once the connection was drained and closed.
	rmu      sync.Mutex
	finished bool
	// released is closed when the connection is done with (closed politely
	// or shut down); relOnce guards it.
	released chan struct{}
	relOnce  sync.Once
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
	c.mu.Lock()
	sess := c.session
	c.mu.Unlock()
	if sess != nil {
		// Sessions close politely in parallel: closing messages, half-close,
		// then their readers drain; the connection's goroutine ends when
		// they do.
		go sess.shutdown()
		return
	}
	// No session yet: a connection still in handshake or connect ends now.
	c.nc.Close()
	c.release()
}

func (c *serverConn) setSession(sess interface{ shutdown() }) {
	c.mu.Lock()
	c.session = sess
	c.mu.Unlock()
	if c.closing.Load() {
		go sess.shutdown()
	}
}

func (c *serverConn) serve() {
	defer c.srv.trackConn(c, false)
	defer c.release()
	defer c.nc.Close()
	defer func() {
		// A panic in one connection closes that connection only.
		if v := recover(); v != nil {
			c.srv.logger().Error("rtmp: panic serving connection", "remote", c.nc.RemoteAddr().String(), "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	s := c.srv
	c.nc.SetDeadline(time.Now().Add(durationOr(s.HandshakeTimeout, DefaultHandshakeTimeout)))
	if _, err := handshake.Server(c.nc, &s.Handshake); err != nil {
		s.logger().Debug("rtmp: handshake", "remote", c.nc.RemoteAddr().String(), "err", err)
		return
	}
	c.nc.SetDeadline(time.Time{})
	c.conn = NewConn(c.nc, &s.Conn)
	req, err := c.readRequest()
	if err != nil {
		s.logger().Debug("rtmp: before publish/play", "remote", c.nc.RemoteAddr().String(), "err", err)
		return
	}
	h := s.Handler
	if h == nil {
		h = HandlerFunc(func(r *Request) { r.Reject("", "no handler") })
	}
	h.ServeRTMP(req)
	req.finish()
	// A player's readLoop may still be draining: wait for it, so the close
	// stays polite.
	c.finish()
}
