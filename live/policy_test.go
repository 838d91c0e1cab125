package live

import (
	"errors"
	"testing"
	"time"

	"github.com/ertmp/rtmp/message"
)

func pk(t *testing.T, typ message.Type, ts uint32, body []byte) *Packet {
	p, _ := classified(t, typ, body)
	p.ts = ts
	return p
}

// queued lists the queue as "v<ts>", "V<ts>" (key), "a<ts>", "c<ts>" (config).
func queued(s *Subscription) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i := 0; i < s.q.len(); i++ {
		e := s.q.buf[(s.q.head+i)%len(s.q.buf)]
		c := "a"
		switch {
		case e.Packet.flags&fConfig != 0:
			c = "c"
		case e.Packet.flags&fKey != 0:
			c = "V"
		case e.Packet.flags&fVideo != 0:
			c = "v"
		}
		out = append(out, c+itoa(e.Packet.ts))
	}
	return out
}

func itoa(n uint32) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDropToKeyFrame(t *testing.T) {
	// Each Packet counts len(payload)+32 bytes: video 41, audio 38, seq 41.
	lim := subLimits{queueBytes: 400, slowTimeout: time.Hour}
	s := newSubscriber(nil, lim)
	killed := false
	s.stop = func(Reason) { killed = true }
	now := int64(1)
	enq(s, pk(t, message.TypeVideo, 0, avcSeq()), now)
	enq(s, pk(t, message.TypeVideo, 0, avcFrame(true, 0)), now)
	for i := uint32(1); i <= 4; i++ {
		enq(s, pk(t, message.TypeVideo, i*40, avcFrame(false, i)), now)
		enq(s, pk(t, message.TypeAudio, i*40+1, aacFrame(i)), now)
	}
	// 41*6 + 38*4 = 398: full. The next video overflows: queued video goes,
	// it goes too, and video waits for a key frame.
	enq(s, pk(t, message.TypeVideo, 200, avcFrame(false, 5)), now)
	if want := []string{"c0", "a41", "a81", "a121", "a161"}; !equal(queued(s), want) {
		t.Fatalf("after overflow: %v, want %v", queued(s), want)
	}
	enq(s, pk(t, message.TypeAudio, 201, aacFrame(5)), now)
	enq(s, pk(t, message.TypeVideo, 240, avcFrame(false, 6)), now)
	enq(s, pk(t, message.TypeVideo, 280, avcFrame(true, 7)), now)
	enq(s, pk(t, message.TypeVideo, 320, avcFrame(false, 8)), now)
	if want := []string{"c0", "a41", "a81", "a121", "a161", "a201", "V280", "v320"}; !equal(queued(s), want) {
		t.Fatalf("after the next key frame: %v, want %v", queued(s), want)
	}
	if dropped := s.Stats().Dropped; dropped != 7 {
		t.Fatalf("dropped %d, want 7 (5 queued, the one that overflowed, 1 before the key frame)", dropped)
	}
	if killed {
		t.Fatal("killed while video could be dropped")
	}
}

func TestQueueMaxDelay(t *testing.T) {
	lim := subLimits{queueBytes: 1 << 20, queueDelay: time.Second, slowTimeout: time.Hour}
	s := newSubscriber(nil, lim)
	enq(s, pk(t, message.TypeVideo, 0, avcFrame(true, 0)), 1)
	enq(s, pk(t, message.TypeAudio, 1, aacFrame(0)), 1)
	enq(s, pk(t, message.TypeVideo, 40, avcFrame(false, 1)), int64(time.Second))
	if want := []string{"V0", "a1", "v40"}; !equal(queued(s), want) {
		t.Fatalf("within the delay: %v", queued(s))
	}
	// The oldest entry has now waited more than a second.
	enq(s, pk(t, message.TypeVideo, 80, avcFrame(false, 2)), int64(time.Second)+2)
	if want := []string{"a1"}; !equal(queued(s), want) {
		t.Fatalf("past the delay: %v, want %v", queued(s), want)
	}
}

func TestSlowConsumerStaysBehind(t *testing.T) {
	lim := subLimits{queueBytes: 200, slowTimeout: time.Second}
	s := newSubscriber(nil, lim)
	var killed int
	s.stop = func(Reason) { killed++ }
	now := int64(1)
	for i := uint32(0); i < 10; i++ { // overflows at once: behind from now on
		enq(s, pk(t, message.TypeVideo, i*40, avcFrame(i%5 == 0, i)), now)
	}
	if s.ended() != ReasonNone {
		t.Fatal("ended too early")
	}
	// Nothing drains the queue: still behind a second later.
	enq(s, pk(t, message.TypeVideo, 400, avcFrame(false, 10)), now+int64(time.Second)+1)
	if s.ended() != ReasonSlowConsumer || killed != 1 {
		t.Fatalf("reason %v, killed %d", s.ended(), killed)
	}
	// Later packets are ignored.
	enq(s, pk(t, message.TypeAudio, 401, aacFrame(1)), now+int64(2*time.Second))
	if n := len(queued(s)); n != 0 {
		t.Fatalf("%d queued after the end", n)
	}
}

func TestSlowConsumerNothingToDrop(t *testing.T) {
	lim := subLimits{queueBytes: 200, slowTimeout: time.Hour}
	s := newSubscriber(nil, lim)
	killed := false
	s.stop = func(Reason) { killed = true }
	for i := uint32(0); i < 5; i++ {
		enq(s, pk(t, message.TypeAudio, i*20, aacFrame(i)), 1)
	}
	// 5*38 = 190; audio cannot be dropped: over the bound means closed.
	enq(s, pk(t, message.TypeAudio, 100, aacFrame(5)), 1)
	if !killed || s.ended() != ReasonSlowConsumer {
		t.Fatalf("killed %v reason %v", killed, s.ended())
	}
}

// A reader takes everything queued at once; what it took counts against
// the bounds until its next read.
func TestReadBatches(t *testing.T) {
	s := newSubscriber(nil, subLimits{queueBytes: 1 << 20})
	enq(s, pk(t, message.TypeVideo, 0, avcFrame(true, 0)), 1)
	items, err := s.TryRead(nil)
	if err != nil || len(items) != 1 {
		t.Fatalf("first read: %d items, %v", len(items), err)
	}
	for i := uint32(1); i <= 10; i++ {
		enq(s, pk(t, message.TypeVideo, i*40, avcFrame(false, i)), 1)
	}
	if q := s.Stats().Queued; q != 11*41 {
		t.Fatalf("queued %d bytes with one read in flight, want %d", q, 11*41)
	}
	items, err = s.TryRead(items[:0])
	if err != nil || len(items) != 10 {
		t.Fatalf("second read: %d items, %v", len(items), err)
	}
	for i, it := range items {
		if it.Packet.Timestamp() != uint32(i+1)*40 {
			t.Fatalf("item %d at %d", i, it.Packet.Timestamp())
		}
	}
	if items, _ = s.TryRead(items[:0]); len(items) != 0 {
		t.Fatalf("%d items from an empty queue", len(items))
	}
	if st := s.Stats(); st.Queued != 0 || st.Packets != 11 {
		t.Fatalf("after the reads: %+v", st)
	}
	s.end(ReasonShutdown)
	var e *EndError
	if _, err := s.TryRead(nil); !errors.As(err, &e) || e.Reason != ReasonShutdown {
		t.Fatalf("after the end: %v", err)
	}
}

// A subscriber that reports loss is never closed as a slow consumer: it
// skips to the next key frame and gets a NoticeLoss just before it.
func TestReportLoss(t *testing.T) {
	s := newSubscriber(nil, subLimits{queueBytes: 200, slowTimeout: time.Second, reportLoss: true})
	killed := false
	s.stop = func(Reason) { killed = true }
	// 41 bytes each: the fifth overflows; queued video and the rest of
	// the GOP are lost.
	for i := uint32(0); i < 6; i++ {
		enq(s, pk(t, message.TypeVideo, i*40, avcFrame(i == 0, i)), 1)
	}
	enq(s, pk(t, message.TypeVideo, 240, avcFrame(true, 6)), 2+int64(2*time.Second))
	if killed || s.ended() != ReasonNone {
		t.Fatalf("a loss-reporting subscriber was ended: %v", s.ended())
	}
	items, _ := s.TryRead(nil)
	if len(items) != 2 || items[0].Notice != NoticeLoss || items[1].Packet == nil || !items[1].Packet.IsKeyFrame() {
		t.Fatalf("items %+v, want a NoticeLoss then the key frame", items)
	}
	if items[0].Lost != 6 || s.Stats().Dropped != 6 {
		t.Fatalf("reported %d lost, dropped %d, want 6", items[0].Lost, s.Stats().Dropped)
	}
}

// enq is what stream.publish does with one subscriber: enqueue, and close
// the connection if the policy ended it.
func enq(s *Subscription, p *Packet, now int64) {
	if kill, _, _ := s.enqueue(p, now); kill {
		s.kill(ReasonSlowConsumer)
	}
}
