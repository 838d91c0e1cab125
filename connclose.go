package rtmp

import (
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/ertmp/rtmp/chunk"
)

// CloseReason says why the server closed a connection before a Request
// reached the Handler (see Server.OnConnClose). Once the Handler has the
// Request, the session's own end is the handler's to record.
type CloseReason uint8

// Reasons a connection ends before its Request reaches the Handler.
const (
	// ReasonNone: not closed.
	ReasonNone CloseReason = iota
	// ReasonTooManyConns: Server.MaxConns connections were open; closed as
	// soon as accepted, before the handshake.
	ReasonTooManyConns
	// ReasonTooManyConnsPerIP: Server.MaxConnsPerIP connections from the
	// same IP address were open; closed as soon as accepted.
	ReasonTooManyConnsPerIP
	// ReasonHandshakeFailed: the peer's handshake was not one we answer
	// (a bad or encrypted version, a truncated handshake, a required
	// digest missing).
	ReasonHandshakeFailed
	// ReasonHandshakeTimeout: the handshake did not finish within
	// Server.HandshakeTimeout.
	ReasonHandshakeTimeout
	// ReasonRequestTimeout: the peer did not publish or play within
	// Server.RequestTimeout after the handshake.
	ReasonRequestTimeout
	// ReasonMessageTooLarge: before publish or play, the peer announced a
	// message longer than Server.MaxRequestMessageSize.
	ReasonMessageTooLarge
	// ReasonProtocolError: the peer broke the chunk stream or the command
	// sequence (a command before connect, a second connect, a message that
	// does not decode, too many chunk streams...).
	ReasonProtocolError
	// ReasonClientClosed: the peer closed or reset the connection before
	// it published or played.
	ReasonClientClosed
	// ReasonServerShutdown: Server.Shutdown or Server.Close ended it.
	ReasonServerShutdown
	// ReasonInternalError: serving the connection panicked.
	ReasonInternalError
	// ReasonMemoryBudget: the server's memory budget (Server.Budget)
	// refused the buffer of a message the peer sent.
	ReasonMemoryBudget
)

var closeReasonNames = [...]string{
	ReasonNone:              "none",
	ReasonTooManyConns:      "too many connections",
	ReasonTooManyConnsPerIP: "too many connections from this IP",
	ReasonHandshakeFailed:   "handshake failed",
	ReasonHandshakeTimeout:  "handshake timeout",
	ReasonRequestTimeout:    "request timeout",
	ReasonMessageTooLarge:   "message too large",
	ReasonProtocolError:     "protocol error",
	ReasonClientClosed:      "client closed before request",
	ReasonServerShutdown:    "server shutdown",
	ReasonInternalError:     "internal error",
	ReasonMemoryBudget:      "memory budget",
}

func (r CloseReason) String() string {
	if int(r) < len(closeReasonNames) {
		return closeReasonNames[r]
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Errors of connections refused for a limit (ConnInfo.Err).
var (
	ErrTooManyConns      = errors.New("rtmp: too many connections")
	ErrTooManyConnsPerIP = errors.New("rtmp: too many connections from this IP address")
)

// ConnInfo describes a connection that ended before a Request reached the
// Handler.
type ConnInfo struct {
	// RemoteAddr is the peer's address.
	RemoteAddr net.Addr
	// Reason says why it ended; Err is the error that ended it (nil only
	// when there was none, e.g. a shutdown between messages). Errors from
	// the chunk reader match the chunk package's sentinels
	// (chunk.ErrMessageTooLarge...), refusals ErrTooManyConns and
	// ErrTooManyConnsPerIP.
	Reason CloseReason
	Err    error
	// BytesRead and BytesWritten count the connection's bytes, handshake
	// and chunk headers included.
	BytesRead, BytesWritten uint64
	// Duration is the time from accept to close.
	Duration time.Duration
}

// closeReason classifies the error that ended a connection before its
// Request; handshake tells whether the handshake was still going on.
func (c *serverConn) closeReason(err error, handshake bool) CloseReason {
	var ne net.Error
	switch {
	case c.closing.Load() || c.srv.inShutdown.Load():
		return ReasonServerShutdown
	case errors.Is(err, chunk.ErrMessageTooLarge):
		return ReasonMessageTooLarge
	case errors.Is(err, chunk.ErrBudget):
		return ReasonMemoryBudget
	case errors.As(err, &ne) && ne.Timeout():
		if handshake {
			return ReasonHandshakeTimeout
		}
		return ReasonRequestTimeout
	case errors.Is(err, io.EOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		// io.EOF from the handshake: the peer closed before its first byte.
		return ReasonClientClosed
	case handshake:
		return ReasonHandshakeFailed
	case errors.Is(err, io.ErrUnexpectedEOF):
		// Cut inside a message (a chunk, or a command that does not
		// decode whole): the stream is broken, not closed.
		return ReasonProtocolError
	}
	return ReasonProtocolError
}

// reportClose records the end of a connection whose Request never reached
// the Handler: one Info line, then Server.OnConnClose. Refusals for a limit
// come as fast as a peer can connect, so their lines are limited to one a
// second, with the count of those not logged; the hook sees every one.
func (s *Server) reportClose(info ConnInfo) {
	if s.OnConnClose != nil {
		defer s.OnConnClose(info)
	}
	attrs := []any{"remote", addrString(info.RemoteAddr), "reason", info.Reason.String(),
		"bytes_in", info.BytesRead, "bytes_out", info.BytesWritten, "duration", info.Duration.Round(time.Millisecond)}
	if info.Reason == ReasonTooManyConns || info.Reason == ReasonTooManyConnsPerIP {
		n, ok := s.refusals.allow(time.Now())
		if !ok {
			return
		}
		attrs = append(attrs, "refusals_not_logged", n)
	}
	if info.Err != nil {
		attrs = append(attrs, "err", logString(info.Err.Error()))
	}
	s.logger().Info("rtmp: connection closed before publish or play", attrs...)
}

// logLimiter lets one log line a second through and counts the others.
// Safe for concurrent use.
type logLimiter struct {
	mu      sync.Mutex
	last    time.Time
	dropped int
}

// allow reports whether a line may be logged now and, if so, how many
// were not since the last one.
func (l *logLimiter) allow(now time.Time) (dropped int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.last.IsZero() && now.Sub(l.last) < time.Second {
		l.dropped++
		return 0, false
	}
	dropped, l.last, l.dropped = l.dropped, now, 0
	return dropped, true
}

func addrString(a net.Addr) string {
	if a == nil {
		return ""
	}
	return a.String()
}

// countingRW counts the bytes of the handshake, which runs before the
// chunk reader and writer do their own counting.
type countingRW struct {
	rw   io.ReadWriter
	r, w uint64
}

func (c *countingRW) Read(p []byte) (int, error) {
	n, err := c.rw.Read(p)
	c.r += uint64(n)
	return n, err
}

func (c *countingRW) Write(p []byte) (int, error) {
	n, err := c.rw.Write(p)
	c.w += uint64(n)
	return n, err
}

// Bounds on a peer's strings (stream and method names, apps) that the
// server repeats: MaxEchoLength in what it sends back (onFCPublish and
// onStatus descriptions), maxLogLength in its log lines.
const (
	MaxEchoLength = 256
	maxLogLength  = 512
)

// echoString is s as the server repeats it to the peer: at most
// MaxEchoLength bytes, cut on a character boundary, "..." marking a cut.
func echoString(s string) string { return cutString(s, MaxEchoLength) }

// logString is a peer's string (or an error that may quote one) as a log
// line shows it: at most maxLogLength bytes, control and invalid bytes
// escaped, "..." marking a cut.
func logString(s string) string {
	s = cutString(s, maxLogLength)
	q := strconv.QuoteToGraphic(s)
	return q[1 : len(q)-1]
}

func cutString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	i := n - 3
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return s[:i] + "..."
}
