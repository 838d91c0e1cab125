package rtmp

import (
	"context"
	"testing"
	"time"

	"github.com/ertmp/rtmp/message"
)

// A queue nobody reads keeps the newest max events, in order, in storage
// of at most max; read empty, it holds no storage.
func TestEventQueueBoundedStorage(t *testing.T) {
	q := newEventQueue[int](64)
	for i := range 1000 {
		q.push(i)
		if cap(q.items) > 64 {
			t.Fatalf("after %d pushes: storage for %d events, bound 64", i+1, cap(q.items))
		}
	}
	for want := 1000 - 64; want < 1000; want++ {
		v, ok := q.tryNext()
		if !ok || v != want {
			t.Fatalf("tryNext = %d, %v; want %d", v, ok, want)
		}
	}
	if _, ok := q.tryNext(); ok {
		t.Fatal("an event after the last")
	}
	if q.items != nil {
		t.Fatalf("empty queue keeps storage for %d events", cap(q.items))
	}
	q.push(7)
	q.close(nil)
	if v, err := q.next(context.Background()); v != 7 || err != nil {
		t.Fatalf("next = %d, %v; want the event queued before the close", v, err)
	}
	if _, err := q.next(context.Background()); err == nil {
		t.Fatal("no end after the close")
	}
}

// TryReadEvent takes the player's queued events without waiting, in order,
// and reports none once they are taken.
func TestPlaySessionTryReadEvent(t *testing.T) {
	got := make(chan []EventKind, 1)
	s := &Server{Handler: HandlerFunc(func(r *Request) {
		ps, err := r.AcceptPlay(nil)
		if err != nil {
			got <- nil
			return
		}
		var kinds []EventKind
		deadline := time.Now().Add(5 * time.Second)
		for len(kinds) < 2 && time.Now().Before(deadline) {
			if ev, ok := ps.TryReadEvent(); ok {
				kinds = append(kinds, ev.Kind)
				continue
			}
			time.Sleep(5 * time.Millisecond)
		}
		if _, ok := ps.TryReadEvent(); ok {
			kinds = append(kinds, 0) // one too many
		}
		got <- kinds
		ps.Close()
	})}
	p, _ := playPeer(t, startServer(t, s))
	p.send(CSIDCommand, 1, 0, cmd("pause", 0, nil, true, 10.0))
	p.send(CSIDControl, 0, 0, message.NewPingResponse(5))
	select {
	case kinds := <-got:
		if len(kinds) != 2 || kinds[0] != EventPause || kinds[1] != EventPingResponse {
			t.Fatalf("events %v, want pause then ping response, then none", kinds)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the handler reported nothing within 10 s")
	}
}
