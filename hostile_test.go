package rtmp

import (
	"bytes"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/handshake"
	"github.com/ertmp/rtmp/message"
)

// dialSmallWindow connects with a small socket receive buffer, set before
// the connection is made so that the window the peer sees is small too.
func dialSmallWindow(t *testing.T, addr string, rcvbuf int) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, rcvbuf)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	nc, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return nc
}

// A publisher that sends but never reads: the server's answers to it (ping
// responses, acknowledgements) fill its window, the control write blocks,
// and the connection ends with ErrPeerNotReading within the control write
// timeout, not the 30 s write timeout.
func TestPublisherNeverReads(t *testing.T) {
	type end struct {
		err error
		at  time.Time
	}
	ended := make(chan end, 1)
	s := &Server{Conn: ConnConfig{ControlWriteTimeout: time.Second}, Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			ended <- end{err, time.Now()}
			return
		}
		for {
			if _, err := ps.ReadPacket(); err != nil {
				ended <- end{err, time.Now()}
				return
			}
		}
	})}
	addr := startServer(t, s)
	nc := dialSmallWindow(t, addr, 4096)
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := handshake.Client(nc, nil); err != nil {
		t.Fatal(err)
	}
	p := newRawPeer(t, nc)
	p.publish("k")
	p.recv() // StreamBegin 1
	if code := statusCode(t, p.recvCommand()); code != message.CodePublishStart {
		t.Fatalf("publish answered %q", code)
	}

	p.send(CSIDControl, 0, 0, message.SetChunkSize{Size: DefaultChunkSize})
	p.w.SetChunkSize(DefaultChunkSize)
	// From here on the peer reads nothing. It asks for an answer with
	// every message: a ping request, answered with a ping response.
	ping, _ := message.NewPingRequest(7).AppendPayload(nil)
	video := make([]byte, 1000)
	video[0] = 0x27
	stop := make(chan struct{})
	floodDone := make(chan struct{})
	go func() {
		defer close(floodDone)
		w := p.w
		for i := uint32(0); ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
			for range 500 {
				w.WriteMessage(chunk.Message{CSID: CSIDControl, Header: chunk.Header{TypeID: uint8(message.TypeUserControl)}, Payload: ping})
			}
			w.WriteMessage(chunk.Message{CSID: CSIDVideo, Header: chunk.Header{Timestamp: i, TypeID: uint8(message.TypeVideo), StreamID: 1}, Payload: video})
			if w.Flush() != nil {
				return
			}
		}
	}()
	defer func() { close(stop); nc.Close(); <-floodDone }()
	start := time.Now()
	select {
	case e := <-ended:
		if !errors.Is(e.err, ErrPeerNotReading) {
			t.Fatalf("publisher ended with %v, want ErrPeerNotReading", e.err)
		}
		var ne net.Error
		if !errors.As(e.err, &ne) || !ne.Timeout() {
			t.Fatalf("error %v is not a timeout", e.err)
		}
		t.Logf("closed %v after the flood began: %v", e.at.Sub(start).Round(time.Millisecond), e.err)
	case <-time.After(15 * time.Second):
		t.Fatal("a publisher that reads nothing is still open after 15 s")
	}
}

// syncBuffer is a log destination shared by the server's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (w *syncBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (w *syncBuffer) lines() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return strings.Split(strings.TrimSpace(w.b.String()), "\n")
}

// description returns the description of a status command (onStatus,
// onFCPublish, _error) and its details, if any.
func description(t *testing.T, c message.Command) (desc, details string) {
	t.Helper()
	for i := range 2 {
		if info, ok := c.ObjectArg(i); ok {
			desc, _ = info.GetString("description")
			details, _ = info.GetString("details")
			return desc, details
		}
	}
	t.Fatalf("%s without an info object", c.Name)
	return "", ""
}

// A peer's long names (64 KiB stream and method names; 1 MiB ones, which
// are refused) are never echoed back whole, and the log lines about them
// stay short.
func TestPeerStringsBounded(t *testing.T) {
	var logs syncBuffer
	published := make(chan string, 1)
	s := &Server{Logger: slog.New(slog.NewTextHandler(&logs, nil)), Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			return
		}
		published <- r.StreamName
		for {
			if _, err := ps.ReadPacket(); err != nil {
				return
			}
		}
	})}
	events := connEvents(s)
	addr := startServer(t, s)
	long := strings.Repeat("n", 60<<10)
	bounded := func(what, v string) {
		t.Helper()
		// The peer's string, cut, and a few words around it.
		if len(v) > MaxEchoLength+32 || len(v) == 0 {
			t.Fatalf("%s echoed %d bytes, want 1 to %d", what, len(v), MaxEchoLength+32)
		}
	}

	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	p.send(CSIDCommand, 0, 0, cmd("FCPublish", 3, nil, long))
	fc := p.recvCommand()
	if fc.Name != "onFCPublish" {
		t.Fatalf("FCPublish answered %s", fc.Name)
	}
	d, _ := description(t, fc)
	bounded("onFCPublish", d)
	p.recvCommand() // _result
	p.send(CSIDCommand, 0, 0, cmd(long, 4, nil))
	e := p.recvCommand()
	d, _ = description(t, e)
	if e.Name != "_error" || !strings.HasPrefix(d, "unknown method nnn") {
		t.Fatalf("unknown method answered %s %q", e.Name, d[:min(len(d), 40)])
	}
	bounded("_error", d)
	p.send(CSIDCommand, 0, 0, cmd("createStream", 5, nil))
	p.recvCommand()
	p.send(CSIDData, 1, 0, cmd("publish", 6, nil, long, "live"))
	p.recv() // StreamBegin
	st := p.recvCommand()
	if code := statusCode(t, st); code != message.CodePublishStart {
		t.Fatalf("publish: %s", code)
	}
	d, details := description(t, st)
	bounded("Publish.Start description", d)
	bounded("Publish.Start details", details)
	if name := <-published; name != long {
		t.Fatalf("the handler got a name of %d bytes, want the whole %d", len(name), len(long))
	}

	// Before connect, a long command name is a protocol error; a 1 MiB
	// name does not fit the request message limit.
	q, _ := dialPeer(t, addr)
	q.send(CSIDCommand, 0, 0, cmd(long, 1, nil))
	if ev := nextEvent(t, events); ev.Reason != ReasonProtocolError {
		t.Fatalf("long command before connect: %+v", ev)
	}
	r, _ := dialPeer(t, addr)
	r.connect(amf0.Object{{Key: "app", Value: "live"}})
	payload, _ := cmd("FCPublish", 3, nil, strings.Repeat("m", 1<<20)).AppendPayload(nil)
	r.w.WriteMessage(chunk.Message{CSID: CSIDCommand, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0)}, Payload: payload})
	r.w.Flush()
	if ev := nextEvent(t, events); ev.Reason != ReasonMessageTooLarge {
		t.Fatalf("1 MiB name: %+v", ev)
	}
	n := 0
	for _, l := range logs.lines() {
		if len(l) > 2048 {
			t.Errorf("log line of %d bytes: %.200s...", len(l), l)
		}
		n++
	}
	if n < 2 {
		t.Fatalf("%d log lines, want the two refusals", n)
	}
}
