package rtmp

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// pairMaker hands out the two ends of loopback TCP connections from one
// listener, to one goroutine at a time; it never calls t.Fatal.
type pairMaker struct {
	ln net.Listener
}

func newPairMaker(t *testing.T) *pairMaker {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return &pairMaker{ln: ln}
}

// pair dials the listener and accepts.
func (m *pairMaker) pair() (server, peer net.Conn, err error) {
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := m.ln.Accept()
		ch <- res{c, err}
	}()
	peer, err = net.Dial("tcp", m.ln.Addr().String())
	r := <-ch
	if err != nil || r.err != nil {
		if peer != nil {
			peer.Close()
		}
		if r.c != nil {
			r.c.Close()
		}
		return nil, nil, errors.Join(err, r.err)
	}
	return r.c, peer, nil
}

// acceptedSession returns a serverConn over nc as readRequest leaves it,
// with a publish or play Request that reached the handler (no handshake, no
// connect: the test drives the chunk stream directly).
func acceptedRequest(srv *Server, nc net.Conn, kind Kind) *Request {
	c := newServerConn(srv, nc)
	c.conn = NewConn(nc, &srv.Conn)
	c.connected = true
	r := &Request{c: c, Kind: kind, StreamName: "k", StreamID: 1, RemoteAddr: nc.RemoteAddr()}
	r.ns = &netStream{id: 1, req: r, in: newInbox()}
	c.streams[1] = r.ns
	c.open = 1
	return r
}

// The payload of video message seq: a frame type byte, seq, then a slice
// of a random block that starts at an offset given by seq, so a payload
// with bytes lost, shifted or taken from another message is caught.
const patternSize = 20 << 10

var patternBlock = func() []byte {
	b := make([]byte, 2*patternSize)
	r := rand.New(rand.NewPCG(1, 2))
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}()

func patternBody(seq uint32) []byte {
	off := int(seq*977) % patternSize
	return patternBlock[off : off+patternSize-5]
}

func patternPayload(buf []byte, seq uint32) []byte {
	buf = buf[:patternSize]
	buf[0] = 0x17
	binary.BigEndian.PutUint32(buf[1:], seq)
	copy(buf[5:], patternBody(seq))
	return buf
}

func checkPattern(p []byte, want uint32) error {
	if len(p) != patternSize {
		return fmt.Errorf("payload of %d bytes, want %d", len(p), patternSize)
	}
	if seq := binary.BigEndian.Uint32(p[1:]); p[0] != 0x17 || seq != want {
		return fmt.Errorf("payload seq %d (type byte %#x), want %d", seq, p[0], want)
	}
	if !bytes.Equal(p[5:], patternBody(want)) {
		return fmt.Errorf("payload %d corrupt", want)
	}
	return nil
}

// streamVideo plays a publisher: 20 KB video messages in 128-byte chunks,
// until a write fails. Each message goes out in two writes with a pause
// between them, at a random point (a chunk header or data), so the
// server's reader mostly waits in the middle of a message. Everything the
// server sends is read and dropped; at its EOF (the server's half-close) the
// peer closes, as real publishers do.
func streamVideo(nc net.Conn) {
	go func() {
		io.Copy(io.Discard, nc)
		nc.Close()
	}()
	var wire bytes.Buffer
	w := chunk.NewWriter(&wire)
	buf := make([]byte, patternSize)
	for seq := uint32(0); ; seq++ {
		wire.Reset()
		w.WriteMessage(chunk.Message{CSID: CSIDVideo, Header: chunk.Header{Timestamp: seq * 33, TypeID: uint8(message.TypeVideo), StreamID: 1}, Payload: patternPayload(buf, seq)})
		w.Flush()
		b := wire.Bytes()
		cut := 1 + rand.IntN(len(b)-1)
		if _, err := nc.Write(b[:cut]); err != nil {
			return
		}
		time.Sleep(100 * time.Microsecond)
		if _, err := nc.Write(b[cut:]); err != nil {
			return
		}
	}
}

// A publisher closed from another goroutine in the middle of a message:
// its reader ends with a clean error and every packet it returned is one
// the peer sent, whole and in order. Before one reader per connection, the
// closer drained the socket under the chunk reader, which then failed with
// chunk protocol errors or returned a corrupted payload.
func TestPublishCloseFromAnotherGoroutine(t *testing.T) {
	const iterations = 1000
	const workers = 4
	srv := &Server{}
	var cut, packets atomic.Int64
	errs := make(chan error, iterations)
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		pm := newPairMaker(t)
		go func() {
			defer wg.Done()
			for i := w; i < iterations; i += workers {
				n, mid, err := closeMidMessage(pm, srv, rand.N(2*time.Millisecond))
				packets.Add(int64(n))
				if mid {
					cut.Add(1)
				}
				if err != nil {
					errs <- fmt.Errorf("iteration %d: %w", i, err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	nerr := 0
	for err := range errs {
		if nerr++; nerr <= 10 {
			t.Error(err)
		}
	}
	if nerr > 10 {
		t.Errorf("... %d failed iterations in all", nerr)
	}
	t.Logf("%d closes in %v: %d cut a message in the middle, %d packets read and checked", iterations, time.Since(start).Round(time.Millisecond), cut.Load(), packets.Load())
	if cut.Load() < iterations/4 {
		t.Errorf("only %d of %d closes came in the middle of a message; the test does not test", cut.Load(), iterations)
	}
}

// closeMidMessage runs one publisher that another goroutine closes after
// delay. It reports the packets read, whether the reader was inside a
// message when it stopped, and what went wrong.
func closeMidMessage(pm *pairMaker, srv *Server, delay time.Duration) (n int, mid bool, err error) {
	nc, peer, err := pm.pair()
	if err != nil {
		return 0, false, err
	}
	defer nc.Close()
	defer peer.Close()
	deadline := time.Now().Add(10 * time.Second)
	nc.SetDeadline(deadline)
	peer.SetDeadline(deadline)
	go streamVideo(peer)
	ps, err := acceptedRequest(srv, nc, KindPublish).AcceptPublish()
	if err != nil {
		return 0, false, err
	}
	closed := make(chan error, 1)
	go func() {
		time.Sleep(delay)
		closed <- ps.Close()
	}()
	var last uint64
	for {
		pk, rerr := ps.ReadPacket()
		if rerr != nil {
			mid = ps.BytesRead() > last
			if !errors.Is(rerr, io.EOF) && !errors.Is(rerr, ErrSessionClosed) {
				err = fmt.Errorf("ReadPacket after %d packets: %w", n, rerr)
			}
			break
		}
		last = ps.BytesRead()
		if pk.Type != message.TypeVideo || pk.Timestamp != uint32(n)*33 {
			err = fmt.Errorf("packet %d: type %v at %d", n, pk.Type, pk.Timestamp)
			break
		}
		if cerr := checkPattern(pk.Payload, uint32(n)); cerr != nil {
			err = fmt.Errorf("packet %d: %w", n, cerr)
			break
		}
		n++
	}
	ps.Close() // the owner's own close: it finishes what the closer began
	<-closed
	return n, mid, err
}

// A player closed from another goroutine while its readLoop is in the
// middle of a message: the loop drains and closes, ReadEvent ends with
// ErrSessionClosed, and every event before is one the player sent.
func TestPlayCloseFromAnotherGoroutine(t *testing.T) {
	const iterations = 200
	pm := newPairMaker(t)
	srv := &Server{}
	for i := 0; i < iterations; i++ {
		nc, peer, err := pm.pair()
		if err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		nc.SetDeadline(deadline)
		peer.SetDeadline(deadline)
		go playerSends(peer)
		ps, err := acceptedRequest(srv, nc, KindPlay).AcceptPlay(nil)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			time.Sleep(rand.N(2 * time.Millisecond))
			ps.Close()
		}()
		next := 0.0
		for {
			ev, err := ps.ReadEvent()
			if err != nil {
				if !errors.Is(err, ErrSessionClosed) {
					t.Fatalf("iteration %d: ReadEvent after %v seeks: %v", i, next, err)
				}
				break
			}
			if ev.Kind != EventSeek || ev.Millis < next {
				t.Fatalf("iteration %d: event %+v after seek %v", i, ev, next)
			}
			next = ev.Millis + 1
		}
		select {
		case <-ps.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("Done not closed after Close")
		}
		nc.Close()
		peer.Close()
	}
	t.Logf("%d player closes", iterations)
}

// playerSends plays a chatty player: 20 KB data messages, each followed by
// a seek whose position counts the messages, each written in two parts with
// a pause between, until a write fails. At the server's EOF it closes.
func playerSends(nc net.Conn) {
	go func() {
		io.Copy(io.Discard, nc)
		nc.Close()
	}()
	var wire bytes.Buffer
	w := chunk.NewWriter(&wire)
	buf := make([]byte, patternSize)
	for seq := uint32(0); ; seq++ {
		wire.Reset()
		w.WriteMessage(chunk.Message{CSID: CSIDData, Header: chunk.Header{TypeID: uint8(message.TypeDataAMF0), StreamID: 1}, Payload: patternPayload(buf, seq)})
		seek, _ := cmd("seek", 0, nil, float64(seq)).AppendPayload(nil)
		w.WriteMessage(chunk.Message{CSID: CSIDCommand, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0), StreamID: 1}, Payload: seek})
		w.Flush()
		b := wire.Bytes()
		cut := 1 + rand.IntN(len(b)-1)
		if _, err := nc.Write(b[:cut]); err != nil {
			return
		}
		time.Sleep(100 * time.Microsecond)
		if _, err := nc.Write(b[cut:]); err != nil {
			return
		}
	}
}

// Shutdown with publishers streaming: each is told (StreamEOF,
// NetStream.Unpublish.Success), its ReadPacket ends cleanly, its handler
// returns and Shutdown returns well before its deadline.
func TestServerShutdownPublishers(t *testing.T) {
	const n = 4
	ended := make(chan error, n)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			ended <- err
			return
		}
		for seq := uint32(0); ; seq++ {
			pk, err := ps.ReadPacket()
			if err != nil {
				ended <- err
				return
			}
			if err := checkPattern(pk.Payload, seq); err != nil {
				ended <- err
				return
			}
		}
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	told := make(chan bool, n)
	for i := 0; i < n; i++ {
		p, nc := dialPeer(t, ln.Addr().String())
		p.publish("k" + fmt.Sprint(i))
		p.recv()
		if code := statusCode(t, p.recvCommand()); code != message.CodePublishStart {
			t.Fatalf("code %q", code)
		}
		go func() {
			// The peer's chunk reader keeps its state: read on with it.
			sawEOF, sawUnpublish := false, false
			for {
				cm, err := p.r.ReadMessage()
				if err != nil {
					break
				}
				m, _ := message.Decode(message.Type(cm.TypeID), cm.Payload)
				if c, ok := m.(message.Command); ok && c.Name == "onStatus" {
					info, _ := c.ObjectArg(0)
					code, _ := info.GetString("code")
					sawUnpublish = sawUnpublish || code == message.CodeUnpublishSuccess
				} else if reflect.DeepEqual(m, message.NewStreamEOF(1)) {
					sawEOF = true
				}
			}
			nc.Close()
			told <- sawEOF && sawUnpublish
		}()
		go func() {
			w := chunk.NewWriter(nc)
			w.SetChunkSize(128)
			buf := make([]byte, patternSize)
			for seq := uint32(0); ; seq++ {
				if w.WriteMessage(chunk.Message{CSID: CSIDVideo, Header: chunk.Header{Timestamp: seq, TypeID: uint8(message.TypeVideo), StreamID: 1}, Payload: patternPayload(buf, seq)}) != nil || w.Flush() != nil {
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("Shutdown took %v", d)
	}
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	for i := 0; i < n; i++ {
		if err := <-ended; !errors.Is(err, ErrSessionClosed) {
			t.Errorf("a publisher's ReadPacket ended with %v, want ErrSessionClosed", err)
		}
		if !<-told {
			t.Error("a publisher was not told StreamEOF and NetStream.Unpublish.Success")
		}
	}
}
