package live_test

import (
	"context"
	"slices"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// A player of the library (rtmp.DialPlay with ContinueAfterUnpublish)
// stays through a republish: the first publisher leaves, a second one
// publishes under the same key within the republish grace, and the player
// reads on: the second publisher's sequence headers and its stream from
// its first key frame, with timestamps that keep going forward. The hub
// sends no StreamEOF when a publisher leaves (it would end the player).
func TestPlayerContinuesAfterRepublish(t *testing.T) {
	var rec ends
	hub := live.NewHub(live.Config{RepublishGrace: 5 * time.Second, Logger: logTo(t), Hooks: live.Hooks{End: rec.hook}})
	addr := serveRTMP(t, hub)
	url := "rtmp://" + addr + "/live/cont"
	key := live.Key{App: "live", Name: "cont"}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()

	// Tag bodies (FLV 10.1 §E.4.2.1, §E.4.3.1) whose last bytes name them.
	avcSeq := func(n byte) []byte { return []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f, n} }
	aacSeq := func(n byte) []byte { return []byte{0xaf, 0, 0x12, 0x10, n} }
	frame := func(key bool, name string) []byte {
		b := []byte{0x27, 1, 0, 0, 0}
		if key {
			b[0] = 0x17
		}
		return append(b, name...)
	}
	audio := func(name string) []byte { return append([]byte{0xaf, 1}, name...) }
	type media struct {
		video   bool
		ts      uint32
		payload string
	}
	v := func(ts uint32, b []byte) media { return media{true, ts, string(b)} }
	a := func(ts uint32, b []byte) media { return media{false, ts, string(b)} }
	send := func(p *rtmp.Publisher, ms ...media) {
		t.Helper()
		for _, m := range ms {
			typ := message.TypeAudio
			if m.video {
				typ = message.TypeVideo
			}
			if err := p.WritePacket(rtmp.Packet{Type: typ, Timestamp: m.ts, Payload: []byte(m.payload)}); err != nil {
				t.Fatal(err)
			}
		}
	}

	pub1, err := rtmp.DialPublish(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub1.Close()
	send(pub1, v(0, avcSeq(1)), a(0, aacSeq(1)), v(0, frame(true, "1k0")), a(10, audio("1a0")), v(40, frame(false, "1p1")))

	player, err := rtmp.DialPlay(ctx, url, &rtmp.ClientConfig{ContinueAfterUnpublish: true})
	if err != nil {
		t.Fatal(err)
	}
	defer player.Close()
	got := make(chan media, 64)
	go func() {
		defer close(got)
		for {
			pk, err := player.ReadPacket()
			if err != nil {
				return
			}
			if pk.IsMedia() {
				got <- media{pk.Type == message.TypeVideo, pk.Timestamp, string(pk.Payload)}
			}
		}
	}()
	expect := func(want ...media) {
		t.Helper()
		for i, w := range want {
			select {
			case m, ok := <-got:
				if !ok {
					t.Fatalf("the player's stream ended after %d of %d packets", i, len(want))
				}
				if m != w {
					t.Fatalf("packet %d: %+v, want %+v", i, m, w)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("packet %d (%+v) did not come", i, w)
			}
		}
	}
	// The joining player gets the headers and the GOP, then live packets.
	expect(v(0, avcSeq(1)), a(0, aacSeq(1)), v(0, frame(true, "1k0")), a(10, audio("1a0")), v(40, frame(false, "1p1")))
	send(pub1, v(80, frame(false, "1p2")))
	expect(v(80, frame(false, "1p2")))
	if err := pub1.Close(); err != nil {
		t.Fatal(err)
	}
	waitStream(t, hub, key, func(si live.StreamInfo) bool { return !si.Publishing && si.Subscribers == 1 })

	// The second publisher starts over at 0; the hub places it just after
	// what the player got (81 ms), and the player skips its video up to
	// its first key frame.
	pub2, err := rtmp.DialPublish(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub2.Close()
	send(pub2, v(0, avcSeq(2)), a(0, aacSeq(2)), v(0, frame(false, "2p-before-key")), v(40, frame(true, "2k0")), a(50, audio("2a0")), v(80, frame(false, "2p1")))
	expect(v(81, avcSeq(2)), a(81, aacSeq(2)), v(121, frame(true, "2k0")), a(131, audio("2a0")), v(161, frame(false, "2p1")))

	if e := rec.of("rtmp", rtmp.KindPlay); len(e) != 0 {
		t.Fatalf("the player's session ended: %+v", e[0].e)
	}
	// What the player was told, in order: no StreamEOF between the
	// unpublish and the publish.
	var events []string
	ectx, ecancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer ecancel()
	for {
		ev, err := player.ReadEvent(ectx)
		if err != nil {
			break
		}
		switch ev.Kind {
		case rtmp.EventStatus:
			events = append(events, ev.Code)
		case rtmp.EventStreamBegin:
			events = append(events, "StreamBegin")
		case rtmp.EventStreamEOF:
			events = append(events, "StreamEOF")
		}
	}
	un := slices.Index(events, message.CodePlayUnpublishNotify)
	re := slices.Index(events, message.CodePlayPublishNotify)
	if un < 0 || re < un {
		t.Fatalf("the player was told %q, want %s then %s", events, message.CodePlayUnpublishNotify, message.CodePlayPublishNotify)
	}
	for _, e := range events[un:re] {
		if e == "StreamEOF" {
			t.Errorf("StreamEOF between unpublish and publish: %q", events)
		}
	}
	t.Logf("the player read 11 packets from two publishers over one play; it was told %q", events)
	pub2.Close()
	player.Close()
	eventually(t, "the player's session ended", func() bool { return len(rec.of("rtmp", rtmp.KindPlay)) == 1 })
	// The second publisher's frame before its key frame counts as
	// dropped: the player skipped it.
	if e := rec.of("rtmp", rtmp.KindPlay)[0].e; e.Packets != 11 || e.Dropped != 1 {
		t.Errorf("the player's session: %d packets delivered, %d dropped; want 11 and 1", e.Packets, e.Dropped)
	}
}
