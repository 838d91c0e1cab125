package cluster

import (
	"errors"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// pulls returns a node's pulls of key and their viewers.
func pulls(tn *testNode, k live.Key) (n, viewers int) {
	for _, p := range tn.node.View().Pulls {
		if p.Key == k {
			n++
			viewers += p.Viewers
		}
	}
	return n, viewers
}

func subscribers(tn *testNode, k live.Key) int {
	si, _ := streamInfo(tn.hub, k)
	return si.Subscribers
}

// grows waits until every player got frames past what it had.
func grows(t *testing.T, what string, ps ...*player) {
	t.Helper()
	from := make([]int, len(ps))
	for i, p := range ps {
		from[i] = p.count()
	}
	eventually(t, what, 10*time.Second, func() bool {
		for i, p := range ps {
			if p.failure() != nil {
				t.Fatalf("%s: player %d: %v", what, i, p.failure())
			}
			if p.count() < from[i]+10 {
				return false
			}
		}
		return true
	})
}

// A stream published on A plays on B and C: each pulls it once however
// many players it has; the origin's end ends it on the edges, whose
// players stay through the republish grace and go on when it is back;
// pulls without players stop after the idle time.
func TestPlayAnywhere(t *testing.T) {
	ns := startNATS(t)
	ttl := 2 * time.Second
	a := startNode(t, ns, "A", ttl, live.Config{}, false)
	b := startNode(t, ns, "B", ttl, live.Config{}, false)
	c := startNode(t, ns, "C", ttl, live.Config{}, false)
	k := live.Key{App: "live", Name: "cam 1"}
	src, err := publish(t, a.hub, k)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the stream in C's registry", 5*time.Second, func() bool {
		e, ok := c.node.reg.Load().Lookup(k)
		return ok && e.Node == "A" && e.URL == "rtmp://"+a.addr
	})
	onB := []*player{play(t, b.addr, k), play(t, b.addr, k), play(t, b.addr, k)}
	onC := []*player{play(t, c.addr, k), play(t, c.addr, k)}
	grows(t, "players on B and C get frames", append(onB, onC...)...)
	if n, v := pulls(b, k); n != 1 || v != 3 {
		t.Errorf("B: %d pulls with %d viewers, want 1 with 3", n, v)
	}
	if n, v := pulls(c, k); n != 1 || v != 2 {
		t.Errorf("C: %d pulls with %d viewers, want 1 with 2", n, v)
	}
	if s := subscribers(a, k); s != 2 {
		t.Errorf("A has %d subscribers, want 2 (one pull per node)", s)
	}
	// A player asking A itself is served there, and adds no pull.
	local := play(t, a.addr, k)
	grows(t, "a player on A", local)
	if s := subscribers(a, k); s != 3 {
		t.Errorf("A has %d subscribers, want 3", s)
	}

	// The publisher leaves: the entry goes, edge players wait.
	src.stop()
	eventually(t, "the entry gone from B", 5*time.Second, func() bool { _, ok := b.node.reg.Load().Lookup(k); return !ok })
	time.Sleep(300 * time.Millisecond)
	if _, err := publish(t, a.hub, k); err != nil {
		t.Fatal(err)
	}
	grows(t, "edge players go on after the republish", append(onB, onC...)...)
	for _, p := range onB {
		if p.failure() != nil {
			t.Errorf("a player on B ended: %v", p.failure())
		}
	}

	// Players leave B: its pull stops after the idle time (1s).
	for _, p := range onB {
		p.cancel()
		<-p.done
	}
	eventually(t, "B's pull stopped", 5*time.Second, func() bool { n, _ := pulls(b, k); return n == 0 })
	eventually(t, "A serves C and its own player only", 5*time.Second, func() bool { return subscribers(a, k) == 2 })
	grows(t, "C goes on", onC...)
}

// A publish of a stream live on another node is refused, naming it; with
// replace_publisher it takes the stream over and the other node ends its
// publisher.
func TestPublishElsewhere(t *testing.T) {
	ns := startNATS(t)
	t.Run("refused", func(t *testing.T) {
		a := startNode(t, ns, "A", 2*time.Second, live.Config{}, false)
		b := startNode(t, ns, "B", 2*time.Second, live.Config{}, false)
		k := live.Key{App: "live", Name: "refused"}
		if _, err := publish(t, a.hub, k); err != nil {
			t.Fatal(err)
		}
		eventually(t, "B sees it", 5*time.Second, func() bool { _, ok := b.node.reg.Load().Lookup(k); return ok })
		_, err := publish(t, b.hub, k)
		var d *live.DeniedError
		if !errors.As(err, &d) || d.Text != "already publishing on node A" {
			t.Fatalf("publish on B: %v", err)
		}
		// Over RTMP: NetStream.Publish.Denied with the same words.
		_, err = rtmp.DialPublish(ctxT(t, 5*time.Second), "rtmp://"+b.addr+"/live/refused", nil)
		var se *rtmp.StatusError
		if !errors.As(err, &se) || se.Code != message.CodePublishDenied || se.Description != "already publishing on node A" {
			t.Fatalf("RTMP publish on B: %v", err)
		}
	})
	t.Run("takeover", func(t *testing.T) {
		a := startNode(t, ns, "A2", 2*time.Second, live.Config{}, true)
		b := startNode(t, ns, "B2", 2*time.Second, live.Config{}, true)
		k := live.Key{App: "live", Name: "takeover"}
		sa, err := publish(t, a.hub, k)
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "B sees it", 5*time.Second, func() bool { _, ok := b.node.reg.Load().Lookup(k); return ok })
		p := play(t, a.addr, k)
		grows(t, "a player on A", p)
		if _, err := publish(t, b.hub, k); err != nil {
			t.Fatalf("takeover: %v", err)
		}
		select {
		case <-sa.done:
		case <-time.After(5 * time.Second):
			t.Fatal("A's publisher was not ended")
		}
		eventually(t, "A sees B own it", 5*time.Second, func() bool {
			e, ok := a.node.reg.Load().Lookup(k)
			return ok && e.Node == "B2"
		})
		grows(t, "A's player goes on, now from B", p)
		if n, _ := pulls(a, k); n != 1 {
			t.Errorf("A: %d pulls, want 1", n)
		}
	})
}

// A node that crashes loses its entries within the ttl; the publisher
// then publishes on B and C's players go on.
func TestNodeCrash(t *testing.T) {
	ns := startNATS(t)
	ttl := 2 * time.Second
	a := startNode(t, ns, "A", ttl, live.Config{}, false)
	b := startNode(t, ns, "B", ttl, live.Config{}, false)
	c := startNode(t, ns, "C", ttl, live.Config{RepublishGrace: 8 * time.Second}, false)
	k := live.Key{App: "live", Name: "crash"}
	if _, err := publish(t, a.hub, k); err != nil {
		t.Fatal(err)
	}
	eventually(t, "C sees it", 5*time.Second, func() bool { _, ok := c.node.reg.Load().Lookup(k); return ok })
	onC := []*player{play(t, c.addr, k), play(t, c.addr, k)}
	grows(t, "players on C", onC...)
	a.crash()
	start := time.Now()
	eventually(t, "A's entry gone from C", 2*ttl, func() bool { _, ok := c.node.reg.Load().Lookup(k); return !ok })
	if d := time.Since(start); d > ttl+ttl/2 {
		t.Errorf("gone after %v, ttl %v", d, ttl)
	}
	eventually(t, "A's node entry gone from B", ttl, func() bool { _, ok := b.node.reg.Load().Node("A"); return !ok })
	eventually(t, "the publisher publishes on B", 2*ttl, func() bool {
		_, err := publish(t, b.hub, k)
		return err == nil
	})
	grows(t, "C's players go on from B", onC...)
}

// Draining a node names the least loaded other one, and a publish there
// of one of its streams takes it over (even without replace_publisher):
// the drained node's publisher ends, players elsewhere go on.
func TestDrainMoves(t *testing.T) {
	ns := startNATS(t)
	ttl := 2 * time.Second
	a := startNode(t, ns, "A", ttl, live.Config{}, false)
	b := startNode(t, ns, "B", ttl, live.Config{}, false)
	c := startNode(t, ns, "C", ttl, live.Config{}, false)
	k := live.Key{App: "live", Name: "drain"}
	sb, err := publish(t, b.hub, k)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "A sees it", 5*time.Second, func() bool { _, ok := a.node.reg.Load().Lookup(k); return ok })
	onA := play(t, a.addr, k)
	grows(t, "a player on A", onA)
	// A has a player; C has nothing: C is the least loaded.
	eventually(t, "B sees A's load", 5*time.Second, func() bool { n, ok := b.node.reg.Load().Node("A"); return ok && n.Load.Players > 0 })
	if got := b.node.Drain(ctxT(t, 5*time.Second)); got != "rtmp://"+c.addr {
		t.Fatalf("drain target %q, want C (rtmp://%s)", got, c.addr)
	}
	eventually(t, "C sees B draining", 5*time.Second, func() bool { n, ok := c.node.reg.Load().Node("B"); return ok && n.Draining })
	if _, err := publish(t, b.hub, live.Key{App: "live", Name: "new"}); err == nil {
		t.Error("a draining node took a new publisher")
	}
	if _, err := publish(t, c.hub, k); err != nil {
		t.Fatalf("publish on C while B drains: %v", err)
	}
	select {
	case <-sb.done:
	case <-time.After(5 * time.Second):
		t.Fatal("B's publisher was not ended")
	}
	grows(t, "A's player goes on from C", onA)
}

// NATS down: local streams go on, a player of another node's stream is
// refused with "cluster registry unavailable", running pulls go on; NATS
// back: the registry is rebuilt, streams published meanwhile included.
func TestNATSDown(t *testing.T) {
	ns := startNATS(t)
	ttl := 2 * time.Second
	a := startNode(t, ns, "A", ttl, live.Config{}, false)
	b := startNode(t, ns, "B", ttl, live.Config{}, false)
	k := live.Key{App: "live", Name: "one"}
	if _, err := publish(t, a.hub, k); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B sees it", 5*time.Second, func() bool { _, ok := b.node.reg.Load().Lookup(k); return ok })
	onB := play(t, b.addr, k)
	grows(t, "a player on B", onB)

	ns.stop()
	eventually(t, "B's registry unavailable", 10*time.Second, func() bool { return !b.node.Ready() })
	_, err := rtmp.DialPlay(ctxT(t, 5*time.Second), "rtmp://"+b.addr+"/live/two", nil)
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != message.CodePlayStreamNotFound || se.Description != "cluster registry unavailable" {
		t.Fatalf("remote play without NATS: %v", err)
	}
	k2 := live.Key{App: "live", Name: "two"}
	if _, err := publish(t, a.hub, k2); err != nil {
		t.Fatalf("a local publish without NATS: %v", err)
	}
	local := play(t, a.addr, k2)
	grows(t, "local play and the running pull go on", local, onB)
	time.Sleep(ttl) // past the ttl: nothing expires while NATS is away
	grows(t, "the pull outlives the ttl", onB)

	ns.start()
	eventually(t, "B's registry rebuilt with both streams", 15*time.Second, func() bool {
		reg := b.node.reg.Load()
		e1, ok1 := reg.Lookup(k)
		e2, ok2 := reg.Lookup(k2)
		return b.node.Ready() && ok1 && ok2 && e1.Node == "A" && e2.Node == "A"
	})
	grows(t, "remote play of the stream published while NATS was away", play(t, b.addr, k2))
}
