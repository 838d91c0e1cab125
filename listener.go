package rtmp

import (
	"context"
	"net"
	"sync"
)

// Listener is the blocking style of serving: Accept returns the next peer
// that announced publish or play. The caller owns each Request from then on
// and must accept or reject it. Use Server for the handler style.
type Listener struct {
	srv    *Server
	ln     net.Listener
	reqs   chan *Request
	served chan error
	once   sync.Once
}

// Listen listens on a TCP address and returns a Listener. cfg supplies the
// server settings (timeouts, limits, capabilities; its Handler is ignored);
// nil means the defaults.
func Listen(addr string, cfg *Server) (*Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return NewListener(ln, cfg), nil
}

// NewListener serves RTMP on an existing net.Listener (a tls.Listener gives
// RTMPS).
func NewListener(ln net.Listener, cfg *Server) *Listener {
	s := &Server{}
	if cfg != nil {
		s = &Server{HandshakeTimeout: cfg.HandshakeTimeout, RequestTimeout: cfg.RequestTimeout, Conn: cfg.Conn,
			ChunkSize: cfg.ChunkSize, WindowAckSize: cfg.WindowAckSize, PeerBandwidth: cfg.PeerBandwidth,
			Capabilities: cfg.Capabilities, FMSVersion: cfg.FMSVersion, Handshake: cfg.Handshake, Logger: cfg.Logger,
			MaxConns: cfg.MaxConns, MaxConnsPerIP: cfg.MaxConnsPerIP, MaxRequestMessageSize: cfg.MaxRequestMessageSize,
			MaxStreamsPerConn: cfg.MaxStreamsPerConn, HandleCalls: cfg.HandleCalls, OnConnClose: cfg.OnConnClose}
	}
	l := &Listener{srv: s, ln: ln, reqs: make(chan *Request), served: make(chan error, 1)}
	s.Handler = HandlerFunc(func(r *Request) {
		select {
		case l.reqs <- r:
		case <-s.done:
			return
		}
		// The connection lives until the caller's session ends.
		select {
		case <-r.c.released:
		case <-s.done:
		}
	})
	go func() { l.served <- s.Serve(ln) }()
	return l
}

// Accept waits for the next request. After Close it returns ErrServerClosed.
func (l *Listener) Accept() (*Request, error) {
	select {
	case r := <-l.reqs:
		return r, nil
	case <-l.srv.doneChan():
		return nil, ErrServerClosed
	}
}

// Addr returns the listening address.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops accepting and closes every connection at once.
func (l *Listener) Close() error { return l.srv.Close() }

// Shutdown stops accepting and ends open sessions politely (see
// Server.Shutdown).
func (l *Listener) Shutdown(ctx context.Context) error { return l.srv.Shutdown(ctx) }
