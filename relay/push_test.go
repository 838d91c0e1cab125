package relay_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
	"github.com/ertmp/rtmp/relay"
)

func TestURLs(t *testing.T) {
	for _, c := range [][3]string{
		{relay.PushURL("rtmp://a/live/{stream}", "cam 1"), "rtmp://a/live/cam%201"},
		{relay.PushURL("rtmp://a.rtmp.youtube.com/live2/abcd-efgh", "cam"), "rtmp://a.rtmp.youtube.com/live2/abcd-efgh"},
		{relay.PullURL("rtmp://origin:1936/live", "cam"), "rtmp://origin:1936/live/cam"},
		{relay.PullURL("rtmp://origin/live/?token=x", "cam"), "rtmp://origin/live/cam?token=x"},
		{relay.Redact("rtmp://a.rtmp.youtube.com/live2/abcd-efgh", "cam"), "rtmp://a.rtmp.youtube.com/live2/***"},
		{relay.Redact("rtmps://edge:443/live/cam?key=secret", "cam"), "rtmps://edge:443/live/cam"},
		{relay.Redact("rtmp://edge/live", "cam"), "rtmp://edge/live"},
	} {
		if c[0] != c[1] {
			t.Errorf("%q, want %q", c[0], c[1])
		}
	}
}

// pusher is a source hub whose app "live" pushes to targets.
func pusher(t *testing.T, targets ...string) (*live.Hub, *relay.Manager) {
	return pusherWith(t, relay.PushOptions{}, targets...)
}

func pusherWith(t *testing.T, o relay.PushOptions, targets ...string) (*live.Hub, *relay.Manager) {
	o.Backoff = relay.Backoff{Min: 50 * time.Millisecond, Max: 200 * time.Millisecond}
	m := relay.NewManager(relay.Options{
		App:    func(app string) relay.App { return relay.App{Push: targets} },
		Push:   o,
		Logger: logger(t),
	})
	hub := newHub(t, live.Config{Hooks: m.Hooks()})
	m.SetHub(hub)
	t.Cleanup(func() {
		m.Shutdown(ctxT(t, 5*time.Second))
		hub.Shutdown(ctxT(t, 5*time.Second))
	})
	return hub, m
}

// subscribe waits (in the background) for key on hub.
func subscribe(t *testing.T, hub *live.Hub, key live.Key, o live.SubscribeOptions) <-chan *live.Subscription {
	c := make(chan *live.Subscription, 1)
	o.Wait = 10 * time.Second
	go func() {
		s, err := hub.Subscribe(ctxT(t, 10*time.Second), key, o)
		if err != nil {
			t.Errorf("subscribe: %v", err)
			close(c)
			return
		}
		t.Cleanup(s.Close)
		c <- s
	}()
	return c
}

func get(t *testing.T, c <-chan *live.Subscription) *live.Subscription {
	t.Helper()
	select {
	case s := <-c:
		if s == nil {
			t.FailNow()
		}
		return s
	case <-time.After(10 * time.Second):
		t.Fatal("no subscription")
	}
	return nil
}

// One stream pushed to three targets at once: a server that takes every
// codec and track (ertmp serve), a legacy one, and an address where
// nothing listens. The first gets the Enhanced RTMP and multitrack tags
// as published and the metadata kept for its own players; the second
// the legacy form (avc1 as AVC) and nothing of the second track; the
// dead one is retried with backoff and its failures show in its status.
// Killing the first does not disturb the source, its players or the
// second; when it comes back on its port the push reconnects.
func TestPush(t *testing.T) {
	noLeaks(t)
	full := serve(t, newHub(t, live.Config{PlayWait: 10 * time.Second}), "", everything)
	legacy := serve(t, newHub(t, live.Config{PlayWait: 10 * time.Second}), "", nil)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	src, m := pusher(t, "rtmp://"+full.addr+"/live/{stream}", "rtmp://"+legacy.addr+"/live/{stream}?key=secret", "rtmp://"+dead+"/live/k")

	key := live.Key{App: "live", Name: "cam"}
	fullC := subscribe(t, full.hub, key, live.SubscribeOptions{AllCodecs: true})
	legacyC := subscribe(t, legacy.hub, key, live.SubscribeOptions{AllCodecs: true})
	pub, err := src.Publish(ctxT(t, 5*time.Second), key, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	local, err := src.Subscribe(ctxT(t, 5*time.Second), key, live.SubscribeOptions{AllCodecs: true})
	if err != nil {
		t.Fatal(err)
	}
	defer local.Close()

	// avc1 in enhanced form, a second video track (hvc1, track 1) as
	// FFmpeg sends one, and legacy AAC.
	avcStart := exVideo(t, flv.FourCCAVC, flv.VideoSequenceStart, true, []byte{1, 0x64, 0, 0x1f})
	hevcStart, _ := (&flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoSequenceStart, Multitrack: true, MultitrackType: flv.OneTrack, FourCC: flv.FourCCHEVC, Data: []byte{1, 'h'}}).Append(nil)
	frame := func(n uint32) []byte {
		return exVideo(t, flv.FourCCAVC, flv.VideoCodedFrames, n%10 == 0, binary.BigEndian.AppendUint32([]byte{0, 0, 0}, n))
	}
	hevcFrame := func(n uint32) []byte {
		b, _ := (&flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoCodedFramesX, Multitrack: true, MultitrackType: flv.OneTrack, FourCC: flv.FourCCHEVC, Data: binary.BigEndian.AppendUint32([]byte{1}, n)}).Append(nil)
		return b
	}
	var n uint32
	send := func(count int) {
		for range count {
			ts := n * 40
			pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: ts, Payload: frame(n)})
			pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: ts, Payload: hevcFrame(n)})
			pub.Write(rtmp.Packet{Type: message.TypeAudio, Timestamp: ts, Payload: aacFrame(n)})
			n++
		}
	}
	meta, _ := message.NewSetDataFrame(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 320.0})).AppendPayload(nil)
	pub.Write(rtmp.Packet{Type: message.TypeDataAMF0, Payload: meta})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcStart})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: hevcStart})
	pub.Write(rtmp.Packet{Type: message.TypeAudio, Payload: aacSeq()})
	send(10)

	// The full target: every tag as published.
	fullSub := get(t, fullC)
	got := read(t, fullSub, 4+3*10, 5*time.Second)
	want := [][]byte{meta[16:], avcStart, hevcStart, aacSeq()}
	for i := range uint32(10) {
		want = append(want, frame(i), hevcFrame(i), aacFrame(i))
	}
	for i, p := range got {
		if !bytes.Equal(p.Payload(), want[i]) {
			t.Fatalf("full target: packet %d is %x, want %x", i, p.Payload(), want[i])
		}
	}
	// The legacy target: AVC in legacy form, no second track.
	legacySub := get(t, legacyC)
	got = read(t, legacySub, 3+2*10, 5*time.Second)
	for i, p := range got {
		if p.IsMultitrack() || p.IsEnhanced() {
			t.Fatalf("legacy target: packet %d is enhanced: %x", i, p.Payload())
		}
		if p.IsVideo() && flv.VideoCodecID(p.Payload()[0]&0x0f) != flv.CodecAVC {
			t.Fatalf("legacy target: video %x", p.Payload())
		}
	}
	// Its players get the metadata kept by the target (@setDataFrame).
	late := get(t, subscribe(t, full.hub, key, live.SubscribeOptions{}))
	if p := read(t, late, 1, 5*time.Second)[0]; !p.IsData() || !bytes.Contains(p.Payload(), []byte("width")) {
		t.Fatalf("a late player of the target starts with %x, not the metadata", p.Payload())
	}
	late.Close()

	eventually(t, "the dead target retried", 5*time.Second, func() bool {
		st := m.Pushes()
		return len(st) == 1 && st[0].Targets[2].Reconnects >= 2
	})
	st := m.Pushes()[0].Targets
	if st[0].State != relay.StateConnected || st[0].Bytes == 0 || st[0].ConnectedSince.IsZero() || st[1].State != relay.StateConnected {
		t.Fatalf("targets %+v", st)
	}
	if st[1].URL != "rtmp://"+legacy.addr+"/live/cam" || st[2].URL != "rtmp://"+dead+"/live/***" || !strings.Contains(st[2].LastError, "refused") {
		t.Fatalf("targets %+v", st)
	}

	// The full target dies.
	full.kill(t)
	send(20)
	eventually(t, "the push to notice", 5*time.Second, func() bool {
		return m.Pushes()[0].Targets[0].Reconnects >= 1
	})
	read(t, local, 4+3*30, 5*time.Second)   // the local player missed nothing
	read(t, legacySub, 2*20, 5*time.Second) // nor the other target
	back := serve(t, newHub(t, live.Config{PlayWait: 10 * time.Second}), full.addr, everything)
	backC := subscribe(t, back.hub, key, live.SubscribeOptions{AllCodecs: true})
	send(10)
	backSub := get(t, backC)
	first := read(t, backSub, 5, 5*time.Second)
	if !first[0].IsData() || !bytes.Equal(first[1].Payload(), avcStart) {
		t.Fatalf("after the reconnection the target starts with %x, %x", first[0].Payload(), first[1].Payload())
	}
	eventually(t, "connected again", 5*time.Second, func() bool {
		return m.Pushes()[0].Targets[0].State == relay.StateConnected
	})
	t.Logf("targets: %+v", m.Pushes()[0].Targets)

	// The publisher leaves: the push ends.
	pub.Close()
	eventually(t, "the push to end", 5*time.Second, func() bool { return len(m.Pushes()) == 0 })
}

// A target that takes the publish and then reads nothing: its queue
// loses video (reported), its connection times out and is made again;
// meanwhile the source's writes never wait and the other target gets
// every packet in time.
func TestPushSlowTarget(t *testing.T) {
	noLeaks(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	block := make(chan struct{})
	stuck := &rtmp.Server{Logger: logger(t), Handler: rtmp.HandlerFunc(func(r *rtmp.Request) {
		if _, err := r.AcceptPublish(); err == nil {
			<-block // and never read
		}
	})}
	go stuck.Serve(ln)
	t.Cleanup(func() {
		close(block)
		stuck.Close()
	})
	fast := serve(t, newHub(t, live.Config{PlayWait: 10 * time.Second}), "", everything)
	src, m := pusherWith(t, relay.PushOptions{
		QueueMaxBytes: 1 << 20, QueueMaxDelay: 300 * time.Millisecond,
		Client: &rtmp.ClientConfig{Conn: rtmp.ConnConfig{WriteTimeout: 500 * time.Millisecond}},
	}, "rtmp://"+ln.Addr().String()+"/live/{stream}", "rtmp://"+fast.addr+"/live/{stream}")
	key := live.Key{App: "live", Name: "cam"}
	fastC := subscribe(t, fast.hub, key, live.SubscribeOptions{})
	pub, err := src.Publish(ctxT(t, 5*time.Second), key, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
	fastSub := get(t, fastC)

	// 64 KiB frames, 50 a second, for 4 s: 13 MB, far more than the
	// stuck target's socket buffers hold.
	const frames = 200
	var slowest time.Duration
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	got := make(chan int, 1)
	go func() {
		n := 0
		ctx := ctxT(t, 20*time.Second)
		for n < frames+1 {
			items, err := fastSub.Read(ctx, nil)
			if err != nil {
				break
			}
			n += len(items)
		}
		got <- n
	}()
	for i := range frames {
		b := make([]byte, 64<<10)
		copy(b, []byte{0x27, 1, 0, 0, 0})
		if i%10 == 0 {
			b[0] = 0x17
		}
		start := time.Now()
		if err := pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: uint32(i * 20), Payload: b}); err != nil {
			t.Fatal(err)
		}
		slowest = max(slowest, time.Since(start))
		<-tick.C
	}
	if n := <-got; n != frames+1 {
		t.Fatalf("the other target's player got %d packets of %d", n, frames+1)
	}
	st := m.Pushes()[0].Targets
	if st[0].Lost == 0 || st[0].Reconnects == 0 || !strings.Contains(st[0].LastError, "timeout") {
		t.Fatalf("the stuck target: %+v", st[0])
	}
	if st[1].Lost != 0 || st[1].Reconnects != 0 {
		t.Fatalf("the other target: %+v", st[1])
	}
	if slowest > 50*time.Millisecond {
		t.Errorf("a source write took %v", slowest)
	}
	t.Logf("the stuck target lost %d packets and was reconnected %d times (%s); the other got all %d; the slowest source write took %v",
		st[0].Lost, st[0].Reconnects, st[0].LastError, frames+1, slowest)
}
