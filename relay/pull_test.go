package relay_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
	"github.com/ertmp/rtmp/relay"
)

// source publishes a synthetic AVC/AAC stream on a hub in real time (a
// key frame every 10 frames, 25 per second) until stopped, and remembers
// the payloads it sent.
type source struct {
	pub    *live.Publication
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	sent   [][]byte
}

func startSource(t *testing.T, hub *live.Hub, key live.Key, from uint32) *source {
	t.Helper()
	pub, err := hub.Publish(ctxT(t, 5*time.Second), key, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &source{pub: pub, cancel: cancel, done: make(chan struct{})}
	meta, _ := message.NewSetDataFrame(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 320.0})).AppendPayload(nil)
	pub.Write(rtmp.Packet{Type: message.TypeDataAMF0, Payload: meta})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
	pub.Write(rtmp.Packet{Type: message.TypeAudio, Payload: aacSeq()})
	go func() {
		defer close(s.done)
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		for n := from; ; n++ {
			v := binary.BigEndian.AppendUint32([]byte{0x27, 1, 0, 0, 0}, n)
			if n%10 == 0 {
				v[0] = 0x17
			}
			a := aacFrame(n)
			// Noted before it is written: a player may have it (and
			// look it up) before Write returns.
			s.mu.Lock()
			s.sent = append(s.sent, v, a)
			s.mu.Unlock()
			pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: n * 40, Payload: v})
			pub.Write(rtmp.Packet{Type: message.TypeAudio, Timestamp: n * 40, Payload: a})
			select {
			case <-tick.C:
			case <-ctx.Done():
				return
			}
		}
	}()
	t.Cleanup(s.stop)
	return s
}

func (s *source) stop() {
	s.cancel()
	<-s.done
	s.pub.Close()
}

// index returns where payload b is among the packets sent, or -1.
func (s *source) index(b []byte) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, p := range s.sent {
		if bytes.Equal(p, b) {
			return i
		}
	}
	return -1
}

// edge is an edge hub of origin: its app "live" pulls on demand.
func edge(t *testing.T, origin string, idle time.Duration) (*live.Hub, *relay.Manager) {
	m := relay.NewManager(relay.Options{
		App: func(app string) relay.App {
			return relay.App{Pull: &relay.Upstream{URL: "rtmp://" + origin + "/live", OnDemand: true, Idle: idle}}
		},
		Pull:   relay.PullOptions{Backoff: relay.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}},
		Logger: logger(t),
	})
	hub := newHub(t, live.Config{Hooks: m.Hooks(), PlayWait: 5 * time.Second, RepublishGrace: 3 * time.Second})
	m.SetHub(hub)
	t.Cleanup(func() {
		m.Shutdown(ctxT(t, 5*time.Second))
		hub.Shutdown(ctxT(t, 5*time.Second))
	})
	return hub, m
}

// firstKey reads until a video key frame and returns when it came.
func firstKey(t *testing.T, sub *live.Subscription) (time.Time, []*live.Packet) {
	t.Helper()
	ctx := ctxT(t, 5*time.Second)
	var got []*live.Packet
	var at time.Time
	for at.IsZero() {
		items, err := sub.Read(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if it.Packet != nil {
				got = append(got, it.Packet)
				if it.Packet.IsKeyFrame() && at.IsZero() {
					at = time.Now()
				}
			}
		}
	}
	return at, got
}

// An edge pulls a stream from its origin when a player asks for it,
// shares the pull with its other players (who start from the edge's own
// GOP cache), keeps it through the origin publisher's return within the
// republish grace, and stops it once its players have been gone for the
// idle time; the next player starts a new pull.
func TestEdge(t *testing.T) {
	noLeaks(t)
	origin := serve(t, newHub(t, live.Config{}), "", everything)
	key := live.Key{App: "live", Name: "cam"}
	src := startSource(t, origin.hub, key, 0)
	e, m := edge(t, origin.addr, 300*time.Millisecond)
	time.Sleep(500 * time.Millisecond) // the origin's stream is live

	asked := time.Now()
	p1, err := e.Subscribe(ctxT(t, 5*time.Second), key, live.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p1.Close)
	at, got := firstKey(t, p1)
	if d := at.Sub(asked); d > time.Second {
		t.Errorf("the first key frame came %v after asking", d)
	} else {
		t.Logf("cold start: the first key frame came %v after asking", d.Round(time.Millisecond))
	}
	// It starts with the metadata and headers, then the origin's key
	// frame; every packet is one the source sent, in order.
	if !got[0].IsData() || !bytes.Equal(got[1].Payload(), avcSeq()) {
		t.Fatalf("the edge player starts with %x, %x", got[0].Payload(), got[1].Payload())
	}
	more := read(t, p1, 40, 5*time.Second)
	last := src.index(got[len(got)-1].Payload())
	for i, p := range more {
		if j := src.index(p.Payload()); j != last+1 {
			t.Fatalf("packet %d after the key frame is the source's %d, want %d", i, j, last+1)
		}
		last++
	}

	// A second player shares the pull and starts from the edge's cache.
	asked = time.Now()
	p2, err := e.Subscribe(ctxT(t, 5*time.Second), key, live.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p2.Close)
	at, _ = firstKey(t, p2)
	if si, _ := streamInfo(origin.hub, key); si.Subscribers != 1 {
		t.Fatalf("the origin has %d subscribers, want 1 (the edge's pull)", si.Subscribers)
	}
	t.Logf("warm start: the first key frame came %v after asking", at.Sub(asked).Round(time.Microsecond))
	if st := m.Pulls(); len(st) != 1 || st[0].Viewers != 2 || st[0].State != relay.StateConnected || !st[0].OnDemand || st[0].Packets == 0 {
		t.Fatalf("pulls %+v", st)
	}

	// The origin's publisher goes and comes back: the edge's players
	// stay (republish grace) and go on.
	src.stop()
	src = startSource(t, origin.hub, key, 1000)
	ctx := ctxT(t, 5*time.Second)
	var notices []live.Notice
	for len(notices) < 2 {
		items, err := p1.Read(ctx, nil)
		if err != nil {
			t.Fatalf("after %v: %v", notices, err)
		}
		for _, it := range items {
			if it.Notice != live.NoticeNone {
				notices = append(notices, it.Notice)
			}
		}
	}
	if notices[0] != live.NoticeUnpublished || notices[1] != live.NoticePublished {
		t.Fatalf("notices %v", notices)
	}
	if _, got := firstKey(t, p1); src.index(got[len(got)-1].Payload()) < 0 {
		t.Fatal("after the republish the player does not get the new publisher's packets")
	}

	// The players leave: the pull stops after the idle time.
	p1.Close()
	p2.Close()
	left := time.Now()
	eventually(t, "the pull to stop", 5*time.Second, func() bool { return len(m.Pulls()) == 0 })
	if d := time.Since(left); d < 300*time.Millisecond {
		t.Errorf("the pull stopped %v after the last player left, before its idle time", d)
	}
	eventually(t, "the origin to lose the edge's pull", 5*time.Second, func() bool {
		si, _ := streamInfo(origin.hub, key)
		return si.Subscribers == 0
	})
	if si, ok := streamInfo(e, key); ok && si.Publishing {
		t.Fatal("the edge still publishes the stream")
	}
	// The next player starts a new pull.
	p3, err := e.Subscribe(ctxT(t, 5*time.Second), key, live.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	firstKey(t, p3)
	p3.Close()
}

// A stream the origin does not have: the player waits and is told it is
// not found; the pull gives up once idle.
func TestEdgeNotFound(t *testing.T) {
	noLeaks(t)
	origin := serve(t, newHub(t, live.Config{PlayWait: -1}), "", everything)
	e, m := edge(t, origin.addr, 200*time.Millisecond)
	_, err := e.Subscribe(ctxT(t, 5*time.Second), live.Key{App: "live", Name: "none"}, live.SubscribeOptions{Wait: 500 * time.Millisecond})
	if !errors.Is(err, live.ErrStreamNotFound) {
		t.Fatalf("subscribe: %v", err)
	}
	eventually(t, "the pull to stop", 5*time.Second, func() bool { return len(m.Pulls()) == 0 })
}

// A stream published on the edge itself is not pulled.
func TestEdgeLocalPublisher(t *testing.T) {
	noLeaks(t)
	origin := serve(t, newHub(t, live.Config{}), "", everything)
	e, m := edge(t, origin.addr, 200*time.Millisecond)
	key := live.Key{App: "live", Name: "here"}
	startSource(t, e, key, 0)
	sub, err := e.Subscribe(ctxT(t, 5*time.Second), key, live.SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	firstKey(t, sub)
	if st := m.Pulls(); len(st) != 0 {
		t.Fatalf("pulls %+v", st)
	}
}
