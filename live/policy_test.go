package live

import (
	"sync"
	"testing"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// fakeSink records what a writer sends. When gate is set, each Flush first
// takes a token from it, so a test can hold the writer in a "slow write".
type fakeSink struct {
	mu      sync.Mutex
	writes  []*chunk.Prepared
	flushes []int // writes per flush
	pending int
	gate    chan struct{}
	inFlush chan struct{} // gets a value when a Flush starts waiting
}

func (f *fakeSink) WritePrepared(m *chunk.Prepared) error {
	f.mu.Lock()
	f.writes = append(f.writes, m)
	f.pending++
	f.mu.Unlock()
	return nil
}

func (f *fakeSink) Flush() error {
	if f.gate != nil {
		select {
		case f.inFlush <- struct{}{}:
		default:
		}
		<-f.gate
	}
	f.mu.Lock()
	f.flushes = append(f.flushes, f.pending)
	f.pending = 0
	f.mu.Unlock()
	return nil
}

func (f *fakeSink) timestamps() []uint32 {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ts []uint32
	for _, m := range f.writes {
		ts = append(ts, m.Header().Timestamp)
	}
	return ts
}

func pk(t *testing.T, typ message.Type, ts uint32, body []byte) *packet {
	p, _ := classified(t, typ, body)
	p.ts = ts
	return p
}

// queued lists the queue as "v<ts>", "V<ts>" (key), "a<ts>", "c<ts>" (config).
func queued(s *subscriber) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for i := 0; i < s.q.len(); i++ {
		e := s.q.buf[(s.q.head+i)%len(s.q.buf)]
		c := "a"
		switch {
		case e.p.flags&fConfig != 0:
			c = "c"
		case e.p.flags&fKey != 0:
			c = "V"
		case e.p.flags&fVideo != 0:
			c = "v"
		}
		out = append(out, c+itoa(e.p.ts))
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
	// Each packet counts len(payload)+32 bytes: video 41, audio 38, seq 41.
	lim := &limits{queueBytes: 400, slowTimeout: time.Hour}
	s := newSubscriber(nil, lim, nil)
	killed := false
	s.kill = func() { killed = true }
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
	if _, dropped, _ := s.stats(); dropped != 7 {
		t.Fatalf("dropped %d, want 7 (5 queued, the one that overflowed, 1 before the key frame)", dropped)
	}
	if killed {
		t.Fatal("killed while video could be dropped")
	}
}

func TestQueueMaxDelay(t *testing.T) {
	lim := &limits{queueBytes: 1 << 20, queueDelay: time.Second, slowTimeout: time.Hour}
	s := newSubscriber(nil, lim, nil)
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
	lim := &limits{queueBytes: 200, slowTimeout: time.Second}
	s := newSubscriber(nil, lim, nil)
	var killed int
	s.kill = func() { killed++ }
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
	lim := &limits{queueBytes: 200, slowTimeout: time.Hour}
	s := newSubscriber(nil, lim, nil)
	killed := false
	s.kill = func() { killed = true }
	for i := uint32(0); i < 5; i++ {
		enq(s, pk(t, message.TypeAudio, i*20, aacFrame(i)), 1)
	}
	// 5*38 = 190; audio cannot be dropped: over the bound means closed.
	enq(s, pk(t, message.TypeAudio, 100, aacFrame(5)), 1)
	if !killed || s.ended() != ReasonSlowConsumer {
		t.Fatalf("killed %v reason %v", killed, s.ended())
	}
}

// The writer takes everything queued, writes it and flushes once.
func TestWriterBatches(t *testing.T) {
	lim := &limits{queueBytes: 1 << 20}
	f := &fakeSink{gate: make(chan struct{}), inFlush: make(chan struct{}, 1)}
	clock := func() int64 { return 1 }
	s := newSubscriber(f, lim, clock)
	hubDone := make(chan struct{})
	done := make(chan Reason, 1)
	go func() {
		r, _ := s.run(runEnv{hubDone: hubDone})
		done <- r
	}()
	enq(s, pk(t, message.TypeVideo, 0, avcFrame(true, 0)), 1)
	<-f.inFlush // the writer is in its first flush, held there
	for i := uint32(1); i <= 10; i++ {
		enq(s, pk(t, message.TypeVideo, i*40, avcFrame(false, i)), 1)
	}
	f.gate <- struct{}{}
	<-f.inFlush
	f.gate <- struct{}{}
	close(hubDone)
	if r := <-done; r != ReasonShutdown {
		t.Fatalf("writer ended with %v", r)
	}
	if len(f.flushes) != 2 || f.flushes[0] != 1 || f.flushes[1] != 10 {
		t.Fatalf("writes per flush %v, want [1 10]", f.flushes)
	}
	ts := f.timestamps()
	for i := range ts {
		if ts[i] != uint32(i*40) {
			t.Fatalf("timestamps %v", ts)
		}
	}
}

// enq is what stream.publish does with one subscriber: enqueue, and close
// the connection if the policy ended it.
func enq(s *subscriber, p *packet, now int64) {
	if s.enqueue(p, now) {
		s.kill()
	}
}
