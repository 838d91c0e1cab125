package rtmp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// recvUntil reads messages until one satisfies ok, and returns it. A Set
// Chunk Size on the way is applied.
func (p *rawPeer) recvUntil(what string, ok func(message.Message) bool) message.Message {
	p.t.Helper()
	for i := 0; i < 1000; i++ {
		m := p.recv()
		if sc, isSC := m.(message.SetChunkSize); isSC {
			p.r.SetChunkSize(sc.Size)
		}
		if ok(m) {
			return m
		}
	}
	p.t.Fatalf("no %s in 1000 messages", what)
	return nil
}

// status reads until an onStatus on stream id (any code) and returns its
// code. Messages on other streams are skipped.
func (p *rawPeer) statusOn(id uint32) string {
	p.t.Helper()
	for i := 0; i < 1000; i++ {
		cm, err := p.r.ReadMessage()
		if err != nil {
			p.t.Fatalf("peer read: %v", err)
		}
		t := message.Type(cm.TypeID)
		if cm.StreamID != id || (t != message.TypeCommandAMF0 && t != message.TypeCommandAMF3) {
			continue
		}
		c, err := message.UnmarshalCommand(t, cm.Payload)
		if err != nil || c.Name != message.NameOnStatus {
			continue
		}
		st, _ := c.Status()
		return st.Code
	}
	p.t.Fatalf("no onStatus on stream %d", id)
	return ""
}

// createStreamID sends createStream with tx and returns the id answered.
func (p *rawPeer) createStreamID(tx float64) uint32 {
	p.t.Helper()
	p.send(CSIDCommand, 0, 0, cmd("createStream", tx, nil))
	res := p.recvUntil("createStream _result", func(m message.Message) bool {
		c, ok := m.(message.Command)
		return ok && c.TransactionID == tx
	}).(message.Command)
	id, ok := res.ResultStreamID()
	if !ok || res.Name != message.NameResult {
		p.t.Fatalf("createStream answer %#v", res)
	}
	return id
}

// Two NetStreams on one connection: each publish is a Request of its own,
// answered; media goes by message stream id to its own session; commands
// after the second publish are answered; each stream ends on its own; the
// connection closes when the last ends.
func TestServerTwoPublishersOneConnection(t *testing.T) {
	type got struct {
		name string
		pks  []Packet
		err  error
	}
	results := make(chan got, 2)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPublish()
		if err != nil {
			results <- got{r.StreamName, nil, err}
			return
		}
		var pks []Packet
		for {
			pk, err := ps.ReadPacket()
			if err != nil {
				results <- got{r.StreamName, pks, err}
				return
			}
			pks = append(pks, pk)
		}
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	a := p.createStreamID(2)
	p.send(CSIDData, a, 0, cmd("publish", 0, nil, "a", "live"))
	if code := p.statusOn(a); code != message.CodePublishStart {
		t.Fatalf("publish a: %s", code)
	}
	b := p.createStreamID(3)
	if a == b {
		t.Fatalf("two streams with id %d", a)
	}
	p.send(CSIDData, b, 0, cmd("publish", 0, nil, "b", "live"))
	if code := p.statusOn(b); code != message.CodePublishStart {
		t.Fatalf("publish b: %s", code)
	}
	// Commands after the second publish get their answers.
	p.send(CSIDCommand, 0, 0, cmd("getStreamLength", 4, nil, "b"))
	if res := p.recvUntil("getStreamLength answer", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.TransactionID == 4 }).(message.Command); res.Name != message.NameResult {
		t.Fatalf("getStreamLength: %#v", res)
	}
	p.send(CSIDCommand, 0, 0, cmd("noSuchMethod", 5, nil))
	if res := p.recvUntil("unknown method answer", func(m message.Message) bool { c, ok := m.(message.Command); return ok && c.TransactionID == 5 }).(message.Command); res.Name != message.NameError {
		t.Fatalf("unknown method: %#v", res)
	}
	// Media, interleaved, each on its own stream.
	for i := 0; i < 50; i++ {
		p.send(CSIDVideo, a, uint32(i), message.Video{Payload: []byte{0x27, 'a', byte(i)}})
		p.send(CSIDAudio, b, uint32(i), message.Audio{Payload: []byte{0xAF, 'b', byte(i)}})
	}
	// b ends first (deleteStream), a goes on, then ends (FCUnpublish).
	p.send(CSIDCommand, 0, 0, cmd("deleteStream", 6, nil, float64(b)))
	p.send(CSIDVideo, a, 50, message.Video{Payload: []byte{0x27, 'a', 50}})
	first := <-results
	if first.name != "b" || first.err != io.EOF || len(first.pks) != 50 {
		t.Fatalf("first to end: %s after %d packets with %v, want b after 50 with EOF", first.name, len(first.pks), first.err)
	}
	p.send(CSIDCommand, 0, 0, cmd("FCUnpublish", 7, nil, "a"))
	second := <-results
	if second.name != "a" || second.err != io.EOF || len(second.pks) != 51 {
		t.Fatalf("second to end: %s after %d packets with %v, want a after 51 with EOF", second.name, len(second.pks), second.err)
	}
	for name, pks := range map[string][]Packet{first.name: first.pks, second.name: second.pks} {
		for i, pk := range pks {
			if pk.Payload[1] != name[0] || int(pk.Payload[2]) != i {
				t.Fatalf("%s packet %d: %v", name, i, pk.Payload)
			}
		}
	}
	// The connection closes once both are done.
	for {
		if _, err := p.r.ReadMessage(); err != nil {
			break
		}
	}
}

// One publish and one play on the same connection.
func TestServerPublishAndPlayOneConnection(t *testing.T) {
	var mu sync.Mutex
	var published []Packet
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		switch r.Kind {
		case KindPublish:
			ps, err := r.AcceptPublish()
			if err != nil {
				return
			}
			for {
				pk, err := ps.ReadPacket()
				if err != nil {
					return
				}
				mu.Lock()
				published = append(published, pk)
				mu.Unlock()
			}
		case KindPlay:
			ps, err := r.AcceptPlay(nil)
			if err != nil {
				return
			}
			ps.WritePacket(Packet{Type: message.TypeVideo, Timestamp: 7, Payload: []byte{0x17, 9}})
			ps.Flush()
			for {
				ev, err := ps.ReadEvent()
				if err != nil {
					return
				}
				if ev.Kind == EventPause {
					ps.NotifyPause(true)
				}
			}
		}
	})}
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	a := p.createStreamID(2)
	p.send(CSIDData, a, 0, cmd("publish", 0, nil, "a", "live"))
	if code := p.statusOn(a); code != message.CodePublishStart {
		t.Fatalf("publish: %s", code)
	}
	b := p.createStreamID(3)
	p.send(CSIDData, b, 0, cmd("play", 0, nil, "x"))
	if code := p.statusOn(b); code != message.CodePlayReset {
		t.Fatalf("play: %s", code)
	}
	p.recvUntil("the player's video", func(m message.Message) bool { v, ok := m.(message.Video); return ok && len(v.Payload) == 2 })
	p.send(CSIDVideo, a, 1, message.Video{Payload: []byte{0x27, 1}})
	p.send(CSIDData, b, 0, cmd("pause", 0, nil, true, 0.0))
	if code := p.statusOn(b); code != message.CodePauseNotify {
		t.Fatalf("pause: %s", code)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(published)
		mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d packets published, want 1", n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Past Server.MaxStreamsPerConn, a publish is refused on its stream and the
// connection goes on; every publish gets an answer.
func TestServerStreamCap(t *testing.T) {
	s := &Server{MaxStreamsPerConn: 3, Handler: HandlerFunc(func(r *Request) {
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
	addr := startServer(t, s)
	p, _ := dialPeer(t, addr)
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	codes := map[string]int{}
	for i := 0; i < 6; i++ {
		id := p.createStreamID(float64(2 + i))
		p.send(CSIDData, id, 0, cmd("publish", 0, nil, fmt.Sprint("s", i), "live"))
		codes[p.statusOn(id)]++
	}
	if codes[message.CodePublishStart] != 3 || codes[message.CodePublishBadName] != 3 {
		t.Fatalf("answers %v, want 3 starts and 3 refusals", codes)
	}
}

// 1000 publishes on one connection, sent back to back: every one is
// answered, NetStream.Publish.Start up to Server.MaxStreamsPerConn and
// NetStream.Publish.BadName past it; with no cap, all 1000 start (as
// nginx-rtmp answers them).
func TestServerThousandPublishesOneConnection(t *testing.T) {
	const n = 1000
	for _, c := range []struct {
		name   string
		max    int
		starts int
	}{
		{"default cap", 0, DefaultMaxStreamsPerConn},
		{"no cap", -1, n},
	} {
		t.Run(c.name, func(t *testing.T) {
			var mu sync.Mutex
			handled := 0
			s := &Server{MaxStreamsPerConn: c.max, Handler: HandlerFunc(func(r *Request) {
				ps, err := r.AcceptPublish()
				if err != nil {
					return
				}
				mu.Lock()
				handled++
				mu.Unlock()
				for {
					if _, err := ps.ReadPacket(); err != nil {
						return
					}
				}
			})}
			addr := startServer(t, s)
			p, nc := dialPeer(t, addr)
			nc.SetDeadline(time.Now().Add(60 * time.Second))
			p.connect(amf0.Object{{Key: "app", Value: "live"}})
			start := time.Now()
			// Stream ids are 1, 2, ...: createStream and publish go out
			// together, answers are read as they come.
			go func() {
				for i := 1; i <= n; i++ {
					pl, _ := cmd("createStream", float64(1+i), nil).AppendPayload(nil)
					pb, _ := cmd("publish", 0, nil, fmt.Sprint("s", i), "live").AppendPayload(nil)
					p.w.WriteMessage(chunk.Message{CSID: CSIDCommand, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0)}, Payload: pl})
					p.w.WriteMessage(chunk.Message{CSID: CSIDData, Header: chunk.Header{TypeID: uint8(message.TypeCommandAMF0), StreamID: uint32(i)}, Payload: pb})
					if i%50 == 0 {
						p.w.Flush()
					}
				}
				p.w.Flush()
			}()
			codes := map[string]int{}
			results, answered := 0, map[uint32]bool{}
			for len(answered) < n || results < n {
				cm, err := p.r.ReadMessage()
				if err != nil {
					t.Fatalf("after %d answers: %v", len(answered), err)
				}
				typ := message.Type(cm.TypeID)
				if typ != message.TypeCommandAMF0 {
					continue
				}
				cc, err := message.UnmarshalCommand(typ, cm.Payload)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case cc.Name == message.NameResult:
					results++
				case cc.Name == message.NameOnStatus && cm.StreamID != 0:
					st, _ := cc.Status()
					if answered[cm.StreamID] {
						t.Fatalf("stream %d answered twice", cm.StreamID)
					}
					answered[cm.StreamID] = true
					codes[st.Code]++
				}
			}
			t.Logf("%d publishes on one connection answered in %v: %v", n, time.Since(start).Round(time.Millisecond), codes)
			if codes[message.CodePublishStart] != c.starts || codes[message.CodePublishBadName] != n-c.starts {
				t.Fatalf("answers %v, want %d starts and %d refusals", codes, c.starts, n-c.starts)
			}
			// Publish.Start goes out before the handler counts itself.
			deadline := time.Now().Add(10 * time.Second)
			for {
				mu.Lock()
				h := handled
				mu.Unlock()
				if h == c.starts {
					break
				}
				if h > c.starts || time.Now().After(deadline) {
					t.Fatalf("%d sessions, want %d", h, c.starts)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}

// Shutdown with a publisher and a player on one connection: each is told
// (StreamEOF on its own stream), both handlers return, no goroutine is
// left (the pump included).
func TestServerShutdownSeveralStreams(t *testing.T) {
	before := runtime.NumGoroutine()
	ended := make(chan error, 2)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		if r.Kind == KindPublish {
			ps, err := r.AcceptPublish()
			if err != nil {
				ended <- err
				return
			}
			for {
				if _, err := ps.ReadPacket(); err != nil {
					ended <- err
					return
				}
			}
		}
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			ended <- err
			return
		}
		<-ps.Done()
		_, err = ps.ReadEvent()
		ended <- err
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan error, 1)
	go func() { served <- s.Serve(ln) }()
	p, nc := dialPeer(t, ln.Addr().String())
	p.connect(amf0.Object{{Key: "app", Value: "live"}})
	a := p.createStreamID(2)
	p.send(CSIDData, a, 0, cmd("publish", 0, nil, "a", "live"))
	if code := p.statusOn(a); code != message.CodePublishStart {
		t.Fatalf("publish: %s", code)
	}
	b := p.createStreamID(3)
	p.send(CSIDData, b, 0, cmd("play", 0, nil, "x"))
	if code := p.statusOn(b); code != message.CodePlayReset {
		t.Fatalf("play: %s", code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 2 {
		if err := <-ended; !errors.Is(err, ErrSessionClosed) {
			t.Errorf("a session ended with %v, want ErrSessionClosed", err)
		}
	}
	told := map[uint32]bool{}
	for {
		cm, err := p.r.ReadMessage()
		if err != nil {
			break
		}
		if m, err := message.Decode(message.Type(cm.TypeID), cm.Payload); err == nil {
			if uc, ok := m.(message.UserControl); ok && uc.Event == message.EventStreamEOF {
				told[uc.StreamID] = true
			}
		}
	}
	if !told[a] || !told[b] {
		t.Errorf("StreamEOF for %v, want both %d and %d", told, a, b)
	}
	nc.Close()
	if err := <-served; !errors.Is(err, ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after Shutdown\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}
