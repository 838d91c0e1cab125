package rtmp

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// connEvents collects Server.OnConnClose events.
func connEvents(s *Server) <-chan ConnInfo {
	ch := make(chan ConnInfo, 64)
	s.OnConnClose = func(ci ConnInfo) { ch <- ci }
	return ch
}

func nextEvent(t *testing.T, ch <-chan ConnInfo) ConnInfo {
	t.Helper()
	select {
	case ci := <-ch:
		return ci
	case <-time.After(10 * time.Second):
		t.Fatal("no OnConnClose event")
	}
	return ConnInfo{}
}

// refused reports whether the server closed nc without a byte of
// handshake.
func refused(t *testing.T, nc net.Conn) bool {
	t.Helper()
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	_, err := nc.Read(b[:])
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)
}

func TestServerConnLimits(t *testing.T) {
	for _, tc := range []struct {
		name  string
		total int
		perIP int
		want  CloseReason
		err   error
	}{
		{"total", 2, 0, ReasonTooManyConns, ErrTooManyConns},
		{"per IP", 0, 2, ReasonTooManyConnsPerIP, ErrTooManyConnsPerIP},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{MaxConns: tc.total, MaxConnsPerIP: tc.perIP, Handler: HandlerFunc(func(r *Request) { r.Reject("", "") })}
			events := connEvents(s)
			addr := startServer(t, s)
			// Two peers are in (their handshakes are answered), a third is
			// closed before the handshake.
			_, first := dialPeer(t, addr)
			dialPeer(t, addr)
			third, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer third.Close()
			if !refused(t, third) {
				t.Fatal("a connection over the limit was not closed")
			}
			ev := nextEvent(t, events)
			if ev.Reason != tc.want || !errors.Is(ev.Err, tc.err) || ev.RemoteAddr.String() != third.LocalAddr().String() || ev.BytesRead != 0 {
				t.Fatalf("event %+v, want %v for %v", ev, tc.want, third.LocalAddr())
			}
			// One leaves: the next peer is served.
			first.Close()
			if ev := nextEvent(t, events); ev.Reason != ReasonClientClosed {
				t.Fatalf("event %+v, want the first peer's close", ev)
			}
			p, _ := dialPeer(t, addr)
			p.connect(amf0.Object{{Key: "app", Value: "live"}})

			if tc.perIP == 0 {
				return
			}
			// Another address is not counted with this one.
			d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}}
			other, err := d.Dial("tcp", addr)
			if err != nil {
				t.Skipf("no second loopback address: %v", err)
			}
			defer other.Close()
			other.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := handshake.Client(other, nil); err != nil {
				t.Fatalf("a peer from another address: %v", err)
			}
		})
	}
	t.Run("unlimited", func(t *testing.T) {
		s := &Server{MaxConns: -1, MaxConnsPerIP: -1, Handler: HandlerFunc(func(r *Request) { r.Reject("", "") })}
		addr := startServer(t, s)
		for i := 0; i < 3; i++ {
			dialPeer(t, addr)
		}
	})
}

// Every connection that ends before its Request reaches the Handler is
// reported once, with its reason, error and byte counts; one that reaches
// the Handler is not.
func TestServerConnCloseReasons(t *testing.T) {
	s := &Server{HandshakeTimeout: 500 * time.Millisecond, RequestTimeout: 500 * time.Millisecond,
		Handler: HandlerFunc(func(r *Request) { r.Reject("", "") })}
	events := connEvents(s)
	addr := startServer(t, s)
	dial := func(t *testing.T) net.Conn {
		nc, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { nc.Close() })
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		return nc
	}
	const hsIn, hsOut = 1 + handshake.Size + handshake.Size, 1 + 2*handshake.Size
	for _, tc := range []struct {
		name   string
		peer   func(t *testing.T)
		want   CloseReason
		err    error
		minIn  uint64
		minOut uint64
	}{
		{"closed before handshake", func(t *testing.T) { dial(t).Close() }, ReasonClientClosed, io.EOF, 0, 0},
		{"encrypted handshake", func(t *testing.T) {
			nc := dial(t)
			nc.Write(append([]byte{6}, make([]byte, handshake.Size)...))
		}, ReasonHandshakeFailed, handshake.ErrEncrypted, 1, 0},
		{"handshake timeout", func(t *testing.T) { dial(t).Write([]byte{3}) }, ReasonHandshakeTimeout, nil, 1, 0},
		{"request timeout", func(t *testing.T) { dialPeer(t, addr) }, ReasonRequestTimeout, nil, hsIn, hsOut},
		{"publish before connect", func(t *testing.T) {
			p, _ := dialPeer(t, addr)
			p.send(CSIDCommand, 0, 0, cmd("publish", 1, nil, "k"))
		}, ReasonProtocolError, ErrProtocol, hsIn + 12, hsOut},
		{"closed after connect", func(t *testing.T) {
			p, nc := dialPeer(t, addr)
			p.connect(amf0.Object{{Key: "app", Value: "live"}})
			nc.Close()
		}, ReasonClientClosed, io.EOF, hsIn + 12, hsOut + 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.peer(t)
			ev := nextEvent(t, events)
			var ne net.Error
			if ev.Reason != tc.want || (tc.err != nil && !errors.Is(ev.Err, tc.err)) || (tc.err == nil && !(errors.As(ev.Err, &ne) && ne.Timeout())) {
				t.Fatalf("event %+v (err %v), want %v", ev, ev.Err, tc.want)
			}
			if ev.BytesRead < tc.minIn || ev.BytesWritten < tc.minOut || ev.Duration <= 0 {
				t.Fatalf("event counts %d in, %d out, %v; want at least %d, %d", ev.BytesRead, ev.BytesWritten, ev.Duration, tc.minIn, tc.minOut)
			}
		})
	}

	t.Run("request reaches the handler", func(t *testing.T) {
		p, _ := dialPeer(t, addr)
		p.publish("k")
		if code := statusCode(t, p.recvCommand()); code != message.CodePublishBadName {
			t.Fatalf("code %q", code)
		}
		select {
		case ev := <-events:
			t.Fatalf("event %+v for a connection the handler had", ev)
		case <-time.After(200 * time.Millisecond):
		}
	})

	t.Run("server shutdown", func(t *testing.T) {
		s := &Server{Handler: HandlerFunc(func(r *Request) { r.Reject("", "") })}
		events := connEvents(s)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go s.Serve(ln)
		p, _ := dialPeer(t, ln.Addr().String())
		p.connect(amf0.Object{{Key: "app", Value: "live"}})
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := s.Shutdown(ctx); err != nil {
			t.Fatal(err)
		}
		if ev := nextEvent(t, events); ev.Reason != ReasonServerShutdown {
			t.Fatalf("event %+v, want %v", ev, ReasonServerShutdown)
		}
	})
}

// connectOf returns the wire of a connect command of about n bytes: an
// object whose "x" is an array of numbers, the shape that made decoding
// costly (every number a boxed value).
func connectOf(t *testing.T, n int) []byte {
	t.Helper()
	arr := make(amf0.StrictArray, n/9)
	for i := range arr {
		arr[i] = float64(i)
	}
	payload, err := cmd("connect", 1, amf0.Object{{Key: "app", Value: "live"}, {Key: "x", Value: arr}}).AppendPayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	wire, err := chunk.Encode(nil, chunk.Message{CSID: CSIDCommand, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0)}, Payload: payload}, chunk.DefaultChunkSize)
	if err != nil {
		t.Fatal(err)
	}
	return wire
}

// A 12 MB connect is refused at its chunk header: the connection closes
// with ReasonMessageTooLarge and the server allocates next to nothing for
// it (the old server decoded it, allocating about 196 MB).
func TestServerRequestMessageTooLarge(t *testing.T) {
	wire := connectOf(t, 12<<20)
	s := &Server{Handler: HandlerFunc(func(r *Request) { t.Error("handler called") })}
	events := connEvents(s)
	addr := startServer(t, s)

	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := handshake.Client(nc, nil); err != nil {
		t.Fatal(err)
	}
	wrote := make(chan error, 1)
	go func() { _, err := nc.Write(wire); wrote <- err }()
	ev := nextEvent(t, events)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("a %d-byte connect: %v after %d bytes read; %d bytes allocated while handling it", len(wire), ev.Reason, ev.BytesRead, alloc)
	var tooLarge *chunk.MessageTooLargeError
	if ev.Reason != ReasonMessageTooLarge || !errors.As(ev.Err, &tooLarge) || tooLarge.Max != DefaultMaxRequestMessageSize {
		t.Fatalf("event %+v, want %v", ev, ReasonMessageTooLarge)
	}
	if alloc > 2<<20 {
		t.Errorf("%d bytes allocated for a refused connect", alloc)
	}
	if err := <-wrote; err == nil {
		t.Error("the whole connect was taken")
	}
}

// The small limit ends with the request: an accepted publisher may send
// messages of the usual size, and a connect of a few kilobytes passes.
func TestServerRequestLimitLiftedOnAccept(t *testing.T) {
	big := bytes.Repeat([]byte{0x17, 1}, 300<<10)
	got := make(chan int, 1)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			t.Error(err)
			return
		}
		pk, err := ps.ReadPacket()
		if err != nil {
			t.Error(err)
		}
		got <- len(pk.Payload)
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	caps := make(amf0.StrictArray, 200)
	for i := range caps {
		caps[i] = "hvc1"
	}
	p.connect(amf0.Object{{Key: "app", Value: "live"}, {Key: "fourCcList", Value: caps}})
	p.createStream()
	p.send(CSIDData, 1, 0, cmd("publish", 5, nil, "k", "live"))
	p.recv()
	p.recvCommand()
	p.send(CSIDVideo, 1, 0, message.Video{Payload: big})
	if n := <-got; n != len(big) {
		t.Fatalf("read %d bytes, want %d", n, len(big))
	}
}

func TestLogLimiter(t *testing.T) {
	var l logLimiter
	t0 := time.Unix(1000, 0)
	for _, step := range []struct {
		at      time.Duration
		ok      bool
		dropped int
	}{
		{0, true, 0},
		{100 * time.Millisecond, false, 0},
		{900 * time.Millisecond, false, 0},
		{time.Second, true, 2},
		{1500 * time.Millisecond, false, 0},
		{5 * time.Second, true, 1},
	} {
		if n, ok := l.allow(t0.Add(step.at)); ok != step.ok || n != step.dropped {
			t.Fatalf("at %v: allow = %d, %v; want %d, %v", step.at, n, ok, step.dropped, step.ok)
		}
	}
}

// A server connection reads with a small buffer until it carries a
// publisher, then with Conn.Reader's (default 32 KiB); what was read ahead
// into the small buffer (the publisher's first media, sent with its
// publish) is kept across the change. A player's connection reads with
// an even smaller one once its play is accepted.
func TestServerReadBufferGrowsForPublisher(t *testing.T) {
	frames := [][]byte{bytes.Repeat([]byte{0x17, 1}, 3000), bytes.Repeat([]byte{0x27, 1}, 200<<10)}
	type result struct {
		kind  Kind
		sizes []int
		buf   int
	}
	got := make(chan result, 2)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		if r.Kind == KindPlay {
			ps, err := r.AcceptPlay(nil)
			if err != nil {
				t.Error(err)
				return
			}
			// The reader changes buffers before its first read after
			// the accept, the one that brings this event.
			if ev, err := ps.ReadEvent(); err != nil || ev.Kind != EventPause {
				t.Errorf("event %+v, %v; want the pause", ev, err)
			}
			// Read once the read side ended: an idle one parks and
			// drops its buffer meanwhile (its size stays).
			ps.Close()
			<-ps.Done()
			got <- result{kind: KindPlay, buf: ps.conn.r.BufferSize()}
			return
		}
		ps, err := r.AcceptPublish()
		if err != nil {
			t.Error(err)
			return
		}
		var res result
		for range frames {
			pk, err := ps.ReadPacket()
			if err != nil {
				t.Error(err)
				break
			}
			res.sizes = append(res.sizes, len(pk.Payload))
		}
		res.kind, res.buf = KindPublish, ps.conn.r.BufferSize()
		got <- res
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.createStream()
	// The publish and both frames in one go: the server reads ahead.
	p.send(CSIDData, 1, 0, cmd("publish", 5, nil, "k", "live"))
	for _, f := range frames {
		p.send(CSIDVideo, 1, 0, message.Video{Payload: f})
	}
	res := <-got
	if res.kind != KindPublish || len(res.sizes) != 2 || res.sizes[0] != len(frames[0]) || res.sizes[1] != len(frames[1]) {
		t.Fatalf("publisher read %+v, want frames of %d and %d bytes", res, len(frames[0]), len(frames[1]))
	}
	if res.buf != chunk.DefaultReadBufferSize {
		t.Fatalf("publisher's read buffer %d, want %d", res.buf, chunk.DefaultReadBufferSize)
	}
	q, _ := dialPeer(t, addr)
	q.connect(amf0.Object{{Key: "app", Value: "live"}})
	q.createStream()
	q.send(CSIDData, 1, 0, cmd("play", 5, nil, "k"))
	q.send(CSIDData, 1, 0, cmd("pause", 6, nil, true, 0.0))
	if res := <-got; res.kind != KindPlay || res.buf != playReadBuffer {
		t.Fatalf("player's read buffer %d, want %d", res.buf, playReadBuffer)
	}
}
