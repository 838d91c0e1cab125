package live

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

// bigFrame is a video frame of n bytes with its sequence number in front.
func bigFrame(key bool, seq uint32, n int) []byte {
	b := make([]byte, n)
	copy(b, avcFrame(key, seq))
	return b
}

func budgetHub(t *testing.T, limit int64) (*Hub, *rtmp.MemoryBudget) {
	t.Helper()
	b := rtmp.NewMemoryBudget(limit)
	h := NewHub(Config{Budget: b, PlayWait: -1, RepublishGrace: -1, Logger: newTestLogger(t)})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
	})
	return h, b
}

// A GOP that would take the budget over its limit is cut to its key frame;
// a player that joins then gets the key frame, skips the inter frames that
// follow and resumes at the next key frame. Once the stream ends, the
// budget is back to zero.
func TestBudgetTrimsGOP(t *testing.T) {
	h, b := budgetHub(t, 4<<20)
	k := Key{"live", "gop"}
	pub := mustPublish(t, h, k, PublishOptions{})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
	const frame = 256 << 10
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: bigFrame(true, 0, frame)})
	for i := uint32(1); i < 40; i++ { // 10 MB of inter frames: over the budget
		pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: i * 33, Payload: bigFrame(false, i, frame)})
	}
	st := b.Stats()
	if st.Trimmed == 0 {
		t.Fatalf("GOP not trimmed: %+v", st)
	}
	if st.Used > st.Limit || st.Peak > st.Limit+frame+64 {
		t.Fatalf("budget %+v: the GOP went past the limit", st)
	}

	sub, err := h.Subscribe(context.Background(), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: 40 * 33, Payload: bigFrame(false, 40, 1000)})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: 41 * 33, Payload: bigFrame(true, 41, 1000)})
	items, err := sub.TryRead(nil)
	if err != nil {
		t.Fatal(err)
	}
	var seqs []string
	for _, it := range items {
		if p := it.Packet; p != nil && len(p.Payload()) >= 1000 {
			seqs = append(seqs, fmt.Sprintf("%x", p.Payload()[:9]))
		}
	}
	want := []string{fmt.Sprintf("%x", avcFrame(true, 0)), fmt.Sprintf("%x", avcFrame(true, 41))}
	if fmt.Sprint(seqs) != fmt.Sprint(want) {
		t.Fatalf("late player got %v, want the cut GOP's key frame, then the next key frame %v", seqs, want)
	}
	sub.Close()
	pub.Close()
	if u := b.Used(); u != 0 {
		t.Fatalf("budget %d bytes in use after the stream ended", u)
	}
}

// When players' backlogs take the budget over its limit, the player with
// the largest backlog is closed with ReasonMemoryBudget; a player that
// keeps up gets every packet and stays.
func TestBudgetClosesFattestPlayer(t *testing.T) {
	h, b := budgetHub(t, 8<<20)
	k := Key{"live", "fat"}
	pub := mustPublish(t, h, k, PublishOptions{})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: bigFrame(true, 0, 1000)})
	stopped := make(chan Reason, 2)
	slow, err := h.Subscribe(context.Background(), k, SubscribeOptions{Stop: func(r Reason) { stopped <- r }})
	if err != nil {
		t.Fatal(err)
	}
	good, err := h.Subscribe(context.Background(), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got int
	read := func() {
		items, err := good.TryRead(nil)
		if err != nil {
			t.Fatalf("the player that keeps up: %v", err)
		}
		for _, it := range items {
			if p := it.Packet; p != nil && p.Type() == message.TypeVideo && len(p.Payload()) == 128<<10 {
				got++
			}
		}
	}
	read()
	const n = 200 // 25 MB through the stream
	for i := uint32(1); i <= n; i++ {
		pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: i * 33, Payload: bigFrame(false, i, 128<<10)})
		read()
	}
	read()
	select {
	case r := <-stopped:
		if r != ReasonMemoryBudget {
			t.Fatalf("slow player stopped with %v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("the slow player was not closed: budget %+v", b.Stats())
	}
	var ee *EndError
	if _, err := slow.TryRead(nil); !errors.As(err, &ee) || ee.Reason != ReasonMemoryBudget {
		t.Fatalf("slow player read %v, want ReasonMemoryBudget", err)
	}
	if got != n {
		t.Fatalf("the player that keeps up got %d of %d frames", got, n)
	}
	st := b.Stats()
	if st.Closed != 1 || st.Peak > st.Limit+st.Limit/4 {
		t.Fatalf("budget %+v: want one player closed and the peak near the limit", st)
	}
	slow.Close()
	good.Close()
	pub.Close()
	if u := b.Used(); u != 0 {
		t.Fatalf("budget %d bytes in use after the stream ended", u)
	}
}

// Data frames (@setDataFrame) are kept only as far as the budget grants;
// the others are relayed but not kept, and counted as refused.
func TestBudgetDataFrames(t *testing.T) {
	h, b := budgetHub(t, 256<<10)
	k := Key{"live", "frames"}
	pub := mustPublish(t, h, k, PublishOptions{})
	sub, err := h.Subscribe(context.Background(), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	relayed := 0
	for i := range 8 {
		d := message.Data{Values: []amf0.Value{message.SetDataFrame, fmt.Sprintf("frame%d", i), string(make([]byte, 64<<10))}}
		payload, _ := d.AppendPayload(nil)
		pub.Write(rtmp.Packet{Type: message.TypeDataAMF0, Payload: payload})
		items, _ := sub.TryRead(nil)
		relayed += len(items)
	}
	if relayed != 8 {
		t.Fatalf("%d of 8 data frames relayed", relayed)
	}
	st := b.Stats()
	if st.Refused == 0 || st.Peak > st.Limit {
		t.Fatalf("budget %+v: want frames refused within the limit", st)
	}
	sub.Close()
	pub.Close()
	if u := b.Used(); u != 0 {
		t.Fatalf("budget %d bytes in use after the stream ended", u)
	}
}

// Players' queues share their packets: a hundred players each 3 MiB
// behind on one stream hold 3 MiB of it, not 300, and none is closed for a
// 16 MiB budget. What the queues hold is released as they drain.
func TestBudgetCountsSharedBacklogOnce(t *testing.T) {
	h, b := budgetHub(t, 16<<20)
	k := Key{"live", "shared"}
	pub := mustPublish(t, h, k, PublishOptions{})
	defer pub.Close()
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()})
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Payload: bigFrame(true, 0, 1000)})
	const players, frames = 100, 24 // 3 MiB behind each
	subs := make([]*Subscription, players)
	for i := range subs {
		var err error
		subs[i], err = h.Subscribe(context.Background(), k, SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		defer subs[i].Close()
	}
	for i := uint32(1); i <= frames; i++ {
		pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: i * 33, Payload: bigFrame(false, i, 128<<10)})
	}
	st := b.Stats()
	if st.Closed != 0 {
		t.Fatalf("budget %+v: players closed for a backlog they share", st)
	}
	// The GOP cache (3 MiB) and the longest queue (3 MiB).
	if st.Peak > 7<<20 {
		t.Fatalf("budget peak %d bytes for %d players 3 MiB behind on one stream, want at most 7 MiB", st.Peak, players)
	}
	for i, s := range subs {
		items, err := s.TryRead(nil)
		if err != nil || len(items) < frames {
			t.Fatalf("player %d read %d items, %v", i, len(items), err)
		}
		s.TryRead(nil) // the first read is written: the queue is empty
	}
	pub.Write(rtmp.Packet{Type: message.TypeVideo, Timestamp: (frames + 1) * 33, Payload: bigFrame(false, frames+1, 1000)})
	if u := b.Used(); u > 4<<20 {
		t.Fatalf("budget %d bytes in use once the players caught up, want the GOP cache alone (about 3 MiB)", u)
	}
}
