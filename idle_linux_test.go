//go:build linux

package rtmp

import (
	"errors"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/ertmp/rtmp/chunk"
	"github.com/ertmp/rtmp/message"
)

// parkServer serves players that report their events and their end.
type parkServer struct {
	addr   string
	srv    *Server
	events chan Event
	ends   chan error
	conns  chan *Conn
}

func startParkServer(t *testing.T, timeout time.Duration) *parkServer {
	t.Helper()
	ps := &parkServer{events: make(chan Event, 64), ends: make(chan error, 64), conns: make(chan *Conn, 64)}
	ps.srv = &Server{HandleCalls: true, Budget: NewMemoryBudget(0), Handler: HandlerFunc(func(r *Request) {
		s, err := r.AcceptPlay(nil)
		if err != nil {
			return
		}
		if timeout > 0 {
			r.Conn().SetReadTimeout(timeout)
		}
		ps.conns <- r.Conn()
		for {
			ev, err := s.ReadEvent()
			if err != nil {
				ps.ends <- err
				return
			}
			ps.events <- ev
		}
	})}
	ps.addr = startServer(t, ps.srv)
	return ps
}

// settle waits for the goroutine count to stop falling, and returns it.
func settle() int {
	n := runtime.NumGoroutine()
	for i := 0; i < 100; i++ {
		time.Sleep(20 * time.Millisecond)
		m := runtime.NumGoroutine()
		if m == n && i >= 5 {
			break
		}
		n = m
	}
	return n
}

// A player that sends nothing costs one goroutine (its handler's), not
// two: its read side waits in the idle watch. What it sends later still
// arrives as events, and its end is seen.
func TestIdlePlayersParkTheirReads(t *testing.T) {
	ps := startParkServer(t, 0)
	before := settle()
	const n = 20
	peers := make([]*rawPeer, n)
	ncs := make([]net.Conn, n)
	for i := range peers {
		peers[i], ncs[i] = playPeer(t, ps.addr)
	}
	after := settle()
	// Each player: its connection's goroutine (the handler); the idle
	// watch adds one for all. Two per player would be 2n.
	if per := float64(after-before-1) / n; per > 1.1 {
		t.Fatalf("%d goroutines for %d idle players (%.2f each), want 1 each", after-before, n, per)
	}
	// And their readers hold no buffers (their commands' were charged).
	if used := ps.srv.Budget.Used(); used != 0 {
		t.Fatalf("idle players' readers hold %d bytes, want 0", used)
	}
	// A parked player's command and ping response are events.
	peers[3].send(CSIDCommand, 1, 0, cmd("pause", 0, nil, true, 1500.0))
	peers[7].send(CSIDControl, 0, 0, message.NewPingResponse(42))
	got := map[EventKind]bool{}
	for len(got) < 2 {
		select {
		case ev := <-ps.events:
			got[ev.Kind] = true
			if ev.Kind == EventPause && (!ev.Paused || ev.Millis != 1500) {
				t.Fatalf("pause event %+v", ev)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("events of parked players: got %v, want pause and ping response", got)
		}
	}
	// An acknowledgement is the connection's, no event: that read side
	// parks again too, as do the two above.
	peers[9].send(CSIDControl, 0, 0, message.Acknowledgement{SequenceNumber: 100})
	time.Sleep(50 * time.Millisecond)
	if again := settle(); again > after {
		t.Fatalf("%d goroutines after the players spoke, %d before", again, after)
	}
	// A player that hangs up ends.
	ncs[5].Close()
	select {
	case err := <-ps.ends:
		if err == nil {
			t.Fatal("end without an error")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a parked player that hung up did not end")
	}
	// Close ends every parked player at once.
	ps.srv.Close()
	for i := 0; i < n-1; i++ {
		select {
		case <-ps.ends:
		case <-time.After(5 * time.Second):
			t.Fatalf("after Close, %d of %d parked players ended", i, n-1)
		}
	}
}

// The read timeout holds while parked: a silent player ends at about the
// timeout, one that speaks more often than that stays.
func TestParkedPlayerReadTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	ps := startParkServer(t, timeout)
	playPeer(t, ps.addr) // silent
	talker, _ := playPeer(t, ps.addr)
	start := time.Now()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		tick := time.NewTicker(timeout / 3)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				// Not p.send: t.Fatal must not run on this goroutine.
				if err := sendRaw(talker, CSIDControl, message.NewPingResponse(1)); err != nil {
					return
				}
			}
		}
	}()
	select {
	case err := <-ps.ends:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("silent player ended with %v, want a read timeout", err)
		}
		if d := time.Since(start); d > 10*timeout {
			t.Fatalf("silent player ended after %v, timeout %v", d, timeout)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a silent parked player outlived its read timeout")
	}
	// The talker lives on for several timeouts.
	select {
	case err := <-ps.ends:
		t.Fatalf("a player that speaks every %v ended: %v", timeout/3, err)
	case <-time.After(5 * timeout):
	}
}

// sendRaw sends m on the control stream, reporting errors instead of
// failing the test (for other goroutines).
func sendRaw(p *rawPeer, csid uint32, m message.Message) error {
	payload, err := m.AppendPayload(nil)
	if err != nil {
		return err
	}
	if err := p.w.WriteMessage(chunk.Message{CSID: csid, Header: chunk.Header{TypeID: uint8(m.Type())}, Payload: payload}); err != nil {
		return err
	}
	return p.w.Flush()
}
