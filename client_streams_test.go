package rtmp_test

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/message"
)

// tagged is the payload of packet i of stream name.
func tagged(name string, i int) []byte { return []byte(fmt.Sprintf("\x27%s/%04d", name, i)) }

// Our client publishes two streams over one connection and plays two over
// another: the server sees each as its own request and session, each gets
// exactly its own packets, and each ends on its own.
func TestClientSeveralStreamsOneConnection(t *testing.T) {
	const n = 200
	var mu sync.Mutex
	published := map[string][][]byte{}
	conns := map[string]string{}
	ended := make(chan string, 4)
	// The players' streams are served once both are open: the server
	// closes a connection with its last session.
	var bothPlaying sync.WaitGroup
	bothPlaying.Add(2)
	base := serve(t, func(r *rtmp.Request) {
		switch r.Kind {
		case rtmp.KindPublish:
			ps, err := r.AcceptPublish()
			if err != nil {
				return
			}
			mu.Lock()
			conns[r.StreamName] = r.RemoteAddr.String()
			mu.Unlock()
			for {
				pk, err := ps.ReadPacket()
				if err != nil {
					ended <- r.StreamName
					return
				}
				mu.Lock()
				published[r.StreamName] = append(published[r.StreamName], pk.Payload)
				mu.Unlock()
			}
		case rtmp.KindPlay:
			ps, err := r.AcceptPlay(nil)
			bothPlaying.Done()
			if err != nil {
				return
			}
			bothPlaying.Wait()
			for i := range n {
				ps.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(i), Payload: tagged(r.StreamName, i)})
			}
			ps.Flush()
			ps.Close()
		}
	})

	a, err := rtmp.DialPublish(ctx(t), base+"/live/a", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Publish(ctx(t), "b")
	if err != nil {
		t.Fatal(err)
	}
	if a.Conn() != b.Conn() || a.StreamID() == b.StreamID() {
		t.Fatalf("a on stream %d, b on stream %d: want one connection, two streams", a.StreamID(), b.StreamID())
	}
	if b.URL().Stream != "b" || a.URL().Stream != "a" {
		t.Fatalf("URLs %v, %v", a.URL(), b.URL())
	}
	var wg sync.WaitGroup
	for _, p := range []*rtmp.Publisher{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := p.URL().Stream
			for i := range n {
				if err := p.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(i), Payload: tagged(name, i)}); err != nil {
					t.Errorf("%s: %v", name, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// b ends first; a goes on.
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-ended; got != "b" {
		t.Fatalf("%s ended first", got)
	}
	if err := a.WritePacket(rtmp.Packet{Type: message.TypeVideo, Timestamp: n, Payload: tagged("a", n)}); err != nil {
		t.Fatalf("a after b closed: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if got := <-ended; got != "a" {
		t.Fatalf("%s ended second", got)
	}
	mu.Lock()
	gotAll, connA, connB := published, conns["a"], conns["b"]
	mu.Unlock()
	for name, want := range map[string]int{"a": n + 1, "b": n} {
		got := gotAll[name]
		if len(got) != want {
			t.Fatalf("%s: %d packets, want %d", name, len(got), want)
		}
		for i, p := range got {
			if string(p) != string(tagged(name, i)) {
				t.Fatalf("%s packet %d = %q", name, i, p)
			}
		}
	}
	if connA != connB {
		t.Fatalf("published from %s and %s", connA, connB)
	}

	// Two players on one connection.
	x, err := rtmp.DialPlay(ctx(t), base+"/live/x", nil)
	if err != nil {
		t.Fatal(err)
	}
	y, err := x.Play(ctx(t), "y")
	if err != nil {
		t.Fatal(err)
	}
	if x.Conn() != y.Conn() || x.StreamID() == y.StreamID() {
		t.Fatal("want one connection, two streams")
	}
	var pwg sync.WaitGroup
	for _, p := range []*rtmp.Player{x, y} {
		pwg.Add(1)
		go func() {
			defer pwg.Done()
			name := p.URL().Stream
			for i := 0; ; i++ {
				pk, err := p.ReadPacket()
				if errors.Is(err, io.EOF) {
					if i != n {
						t.Errorf("%s: %d packets, want %d", name, i, n)
					}
					return
				}
				if err != nil {
					t.Errorf("%s: %v", name, err)
					return
				}
				if string(pk.Payload) != string(tagged(name, i)) {
					t.Errorf("%s packet %d = %q", name, i, pk.Payload)
					return
				}
			}
		}()
	}
	pwg.Wait()
	x.Close()
	y.Close()
}

// A refused second stream leaves the connection and the first stream open.
func TestClientSecondStreamRefused(t *testing.T) {
	base := serve(t, func(r *rtmp.Request) {
		if r.StreamName == "bad" {
			r.Reject(message.CodePublishDenied, "no")
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
	})
	a, err := rtmp.DialPublish(ctx(t), base+"/live/good", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.Publish(ctx(t), "bad")
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != message.CodePublishDenied {
		t.Fatalf("second publish: %v, want NetStream.Publish.Denied", err)
	}
	if err := a.WritePacket(rtmp.Packet{Type: message.TypeVideo, Payload: []byte{0x17, 1}}); err != nil {
		t.Fatalf("first stream after the refusal: %v", err)
	}
	c, err := a.Publish(ctx(t), "good2")
	if err != nil {
		t.Fatalf("third publish: %v", err)
	}
	c.Close()
}
