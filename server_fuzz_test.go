package rtmp

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// panicWatch is a slog.Handler that notes the server's "panic serving
// connection" lines: the server recovers a panic, the fuzzer must still
// see it.
type panicWatch struct{ panics atomic.Int64 }

func (h *panicWatch) Enabled(context.Context, slog.Level) bool { return true }
func (h *panicWatch) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		h.panics.Add(1)
	}
	return nil
}
func (h *panicWatch) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *panicWatch) WithGroup(string) slog.Handler      { return h }

// scriptConn is a client that sent its bytes and then closed its side:
// reads take them, then io.EOF; writes are taken and dropped.
type scriptConn struct {
	in     *bytes.Reader
	closed atomic.Bool
}

func (c *scriptConn) Read(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return c.in.Read(p)
}

func (c *scriptConn) Write(p []byte) (int, error) {
	if c.closed.Load() {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

func (c *scriptConn) Close() error                     { c.closed.Store(true); return nil }
func (c *scriptConn) LocalAddr() net.Addr              { return pipeAddr{} }
func (c *scriptConn) RemoteAddr() net.Addr             { return pipeAddr{} }
func (c *scriptConn) SetDeadline(time.Time) error      { return nil }
func (c *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (c *scriptConn) SetWriteDeadline(time.Time) error { return nil }

type pipeAddr struct{}

func (pipeAddr) Network() string { return "script" }
func (pipeAddr) String() string  { return "script" }

// exchange encodes commands and media as a client sends them after the
// handshake, at chunk size 128.
func exchange(msgs ...chunk.Message) []byte {
	var b []byte
	for _, m := range msgs {
		b, _ = chunk.Encode(b, m, chunk.DefaultChunkSize)
	}
	return b
}

func cmdMsg(sid uint32, c message.Command) chunk.Message {
	p, _ := c.AppendPayload(nil)
	return chunk.Message{CSID: CSIDCommand, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0), StreamID: sid}, Payload: p}
}

// FuzzServerCommands feeds the server's command exchange (connect, the
// NetConnection and NetStream commands, publish or play, media) with
// arbitrary client bytes after a real handshake, over a pipe. The server
// must neither panic (it would recover and log it) nor hang: each
// connection ends once the client's bytes do.
func FuzzServerCommands(f *testing.F) {
	connect := cmdMsg(0, cmd("connect", 1, amf0.Object{{Key: "app", Value: "live"}, {Key: "tcUrl", Value: "rtmp://h/live"}}))
	video := chunk.Message{CSID: CSIDVideo, Header: chunk.Header{TypeID: uint8(message.TypeVideo), StreamID: 1}, Payload: []byte{0x17, 0, 0, 0, 0, 1, 2, 3}}
	f.Add(exchange(connect))
	f.Add(exchange(connect, cmdMsg(0, cmd("releaseStream", 2, nil, "k")), cmdMsg(0, cmd("FCPublish", 3, nil, "k")),
		cmdMsg(0, cmd("createStream", 4, nil)), cmdMsg(1, cmd("publish", 5, nil, "k", "live")), video,
		cmdMsg(0, cmd("FCUnpublish", 6, nil, "k")), cmdMsg(0, cmd("deleteStream", 7, nil, 1.0))))
	f.Add(exchange(connect, cmdMsg(0, cmd("createStream", 2, nil)), cmdMsg(1, cmd("play", 3, nil, "k", -2.0)),
		cmdMsg(1, cmd("pause", 4, nil, true, 0.0)), cmdMsg(0, cmd("createStream", 5, nil)), cmdMsg(2, cmd("play", 6, nil, "j"))))
	f.Add(exchange(connect, cmdMsg(0, cmd("createStream", 2, nil)), cmdMsg(1, cmd("publish", 3, nil, "a")),
		cmdMsg(0, cmd("createStream", 4, nil)), cmdMsg(2, cmd("publish", 5, nil, "b")), video, cmdMsg(0, cmd("close", 0, nil))))
	f.Add(exchange(cmdMsg(0, cmd("publish", 1, nil, "before connect"))))

	f.Fuzz(func(t *testing.T, in []byte) {
		watch := &panicWatch{}
		s := &Server{Logger: slog.New(watch), RequestTimeout: 2 * time.Second, MaxRequestMessageSize: 4096,
			Conn: ConnConfig{ReadTimeout: 2 * time.Second, WriteTimeout: 2 * time.Second,
				Reader: chunk.ReaderConfig{MaxMessageSize: 1 << 16, MaxBuffered: 1 << 18}},
			Budget: NewMemoryBudget(1 << 20),
			Handler: HandlerFunc(func(r *Request) {
				if r.Kind == KindPlay {
					if ps, err := r.AcceptPlay(nil); err == nil {
						ps.Close()
					}
					return
				}
				ps, err := r.AcceptPublish()
				if err != nil {
					return
				}
				for {
					if _, err := ps.ReadPacket(); err != nil {
						return
					}
				}
			})}
		s.init()
		// The client's handshake (C0, a zero C1: the simple kind, any C2:
		// the server does not insist on the echo), then its bytes, then
		// its end, as if it half-closed: the server answers everything
		// it reads, and ends at the end of the bytes.
		hs := make([]byte, 1+2*handshake.Size)
		hs[0] = 3
		c := newServerConn(s, &scriptConn{in: bytes.NewReader(append(hs, in...))})
		if s.trackConn(c) != ReasonNone {
			t.Fatal("connection refused")
		}
		served := make(chan struct{})
		go func() {
			defer close(served)
			c.serve()
		}()
		select {
		case <-served:
		case <-time.After(10 * time.Second):
			t.Fatal("the server's connection did not end 10 s after the client's bytes")
		}
		if n := watch.panics.Load(); n > 0 {
			t.Fatalf("the server panicked serving %q", in)
		}
		if u := s.Budget.Used(); u != 0 {
			t.Fatalf("%d bytes charged to the budget after the connection ended", u)
		}
	})
}
