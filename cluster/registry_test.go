package cluster

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ertmp/rtmp/live"
)

// watched runs a registry's watch and records the changes it reports.
type watched struct {
	reg     *Registry
	mu      sync.Mutex
	changes []Change
	ready   chan struct{}
}

func watch(t *testing.T, reg *Registry, self string) *watched {
	w := &watched{reg: reg, ready: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		reg.Watch(ctx, self, func() { close(w.ready) }, func(c Change) {
			w.mu.Lock()
			w.changes = append(w.changes, c)
			w.mu.Unlock()
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	select {
	case <-w.ready:
	case <-time.After(5 * time.Second):
		t.Fatal("watch not ready")
	}
	return w
}

func (w *watched) lastOf(k live.Key) (Change, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := len(w.changes) - 1; i >= 0; i-- {
		if w.changes[i].Key == k {
			return w.changes[i], true
		}
	}
	return Change{}, false
}

// One node claims a stream; another's claim is refused with the owner
// named, or takes it over when it says so; the first node's renewal and
// release then fail (its entry is gone), and every watcher saw each step.
func TestRegistryClaim(t *testing.T) {
	ns := startNATS(t)
	ttl := 5 * time.Second
	a, err := OpenRegistry(ctxT(t, 5*time.Second), jsConn(t, ns), "test", ttl)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenRegistry(ctxT(t, 5*time.Second), jsConn(t, ns), "test", ttl)
	if err != nil {
		t.Fatal(err)
	}
	wb := watch(t, b, "B")
	ctx := ctxT(t, 10*time.Second)
	for _, id := range []string{"A", "B"} {
		if _, err := a.PutNode(ctx, NodeEntry{ID: id, URL: "rtmp://" + id + ":1"}); err != nil {
			t.Fatal(err)
		}
	}
	k := live.Key{App: "live", Name: "a.b c"}
	ea := StreamEntry{App: k.App, Name: k.Name, Node: "A", URL: "rtmp://a:1", Since: time.Now()}
	revA, err := a.Claim(ctx, ea, nil)
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "B sees A's entry", 5*time.Second, func() bool { e, ok := b.Lookup(k); return ok && e.Node == "A" })

	eb := ea
	eb.Node, eb.URL = "B", "rtmp://b:1"
	var owned *OwnedError
	if _, err := b.Claim(ctx, eb, func(StreamEntry) bool { return false }); !errors.As(err, &owned) || owned.Entry.Node != "A" {
		t.Fatalf("B's claim: %v, want OwnedError naming A", err)
	}
	// The same node claims again (a publisher back on it): allowed.
	if revA, err = a.Claim(ctx, ea, nil); err != nil {
		t.Fatalf("A again: %v", err)
	}
	if revA, err = a.Renew(ctx, ea, revA); err != nil {
		t.Fatalf("renew: %v", err)
	}
	var asked StreamEntry
	revB, err := b.Claim(ctx, eb, func(cur StreamEntry) bool { asked = cur; return true })
	if err != nil || asked.Node != "A" {
		t.Fatalf("takeover: %v (asked about %+v)", err, asked)
	}
	eventually(t, "B's watch sees B own it", 5*time.Second, func() bool {
		c, ok := wb.lastOf(k)
		return ok && c.Entry != nil && c.Entry.Node == "B" && c.Entry.Revision == revB
	})
	if _, err := a.Renew(ctx, ea, revA); !errors.Is(err, ErrLost) {
		t.Errorf("A's renewal after the takeover: %v, want ErrLost", err)
	}
	if err := a.Release(ctx, k, revA); !errors.Is(err, ErrLost) {
		t.Errorf("A's release after the takeover: %v, want ErrLost", err)
	}
	if e, ok := b.Lookup(k); !ok || e.Node != "B" {
		t.Fatalf("after A's release: %+v %v", e, ok)
	}
	if err := b.Release(ctx, k, revB); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B's watch sees the entry gone", 5*time.Second, func() bool {
		c, ok := wb.lastOf(k)
		return ok && c.Entry == nil
	})
	// Gone: anyone may claim it.
	if _, err := a.Claim(ctx, ea, nil); err != nil {
		t.Fatalf("claim after release: %v", err)
	}
}

// A node that stops renewing its entry loses it and its streams from
// every cache within the ttl (plus the watch's tick); the lowest live
// node deletes the streams' entries, and anyone may claim them.
func TestRegistryExpiry(t *testing.T) {
	ns := startNATS(t)
	ttl := 2 * time.Second
	a, err := OpenRegistry(ctxT(t, 5*time.Second), jsConn(t, ns), "exp", ttl)
	if err != nil {
		t.Fatal(err)
	}
	b, err := OpenRegistry(ctxT(t, 5*time.Second), jsConn(t, ns), "exp", ttl)
	if err != nil {
		t.Fatal(err)
	}
	ctx := ctxT(t, 20*time.Second)
	// B stays: it renews its node entry.
	renewB := func() {
		if _, err := b.PutNode(ctx, NodeEntry{ID: "B", URL: "rtmp://b:1"}); err != nil {
			t.Error(err)
		}
	}
	renewB()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			case <-time.After(ttl / 3):
				renewB()
			}
		}
	}()
	defer func() { close(stop); <-done }()
	wb := watch(t, b, "B")
	k := live.Key{App: "live", Name: "x"}
	if _, err := a.PutNode(ctx, NodeEntry{ID: "A", URL: "rtmp://a:1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Claim(ctx, StreamEntry{App: "live", Name: "x", Node: "A", URL: "rtmp://a:1"}, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "B sees A's stream", 5*time.Second, func() bool { _, ok := b.Lookup(k); return ok })
	start := time.Now()
	eventually(t, "A's stream gone from B's cache", 3*ttl, func() bool {
		c, ok := wb.lastOf(k)
		return ok && c.Entry == nil
	})
	gone := time.Since(start)
	// The ttl, the watch's tick (ttl/8) and a margin for a busy machine.
	if gone > ttl+ttl/2 {
		t.Errorf("gone after %v, ttl %v", gone, ttl)
	}
	if _, ok := b.Node("A"); ok {
		t.Error("A's node entry still cached")
	}
	// B, the lowest live node, deleted the entry: a claim needs no
	// takeover.
	eventually(t, "C claims without a takeover", 3*ttl, func() bool {
		_, err := b.Claim(ctx, StreamEntry{App: "live", Name: "x", Node: "C", URL: "rtmp://c:1"}, func(StreamEntry) bool { return false })
		return err == nil
	})
	t.Logf("caches forgot the stream %v after B first saw it, its node no longer renewed (ttl %v)", gone.Round(time.Millisecond), ttl)
}

// The least loaded node that is not draining is chosen.
func TestLeastLoaded(t *testing.T) {
	ns := startNATS(t)
	r, err := OpenRegistry(ctxT(t, 5*time.Second), jsConn(t, ns), "load", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	watch(t, r, "self")
	ctx := ctxT(t, 5*time.Second)
	for _, n := range []NodeEntry{
		{ID: "self", URL: "rtmp://s:1"},
		{ID: "busy", URL: "rtmp://b:1", Load: Load{Players: 10}},
		{ID: "idle-draining", URL: "rtmp://d:1", Draining: true},
		{ID: "light", URL: "rtmp://l:1", Load: Load{Players: 2, BitrateOut: 100}},
		{ID: "light-quiet", URL: "rtmp://q:1", Load: Load{Players: 1, Publishers: 1, BitrateOut: 10}},
	} {
		if _, err := r.PutNode(ctx, n); err != nil {
			t.Fatal(err)
		}
	}
	eventually(t, "five nodes cached", 5*time.Second, func() bool { return len(r.Nodes()) == 5 })
	if n, ok := r.LeastLoaded("self"); !ok || n.ID != "light-quiet" {
		t.Errorf("least loaded: %+v %v, want light-quiet", n, ok)
	}
}

// The longest names a hub takes (live.MaxNameLength bytes each, any
// bytes) make a key that NATS carries: claimed, watched, released.
func TestRegistryLongNames(t *testing.T) {
	ns := startNATS(t)
	r, err := OpenRegistry(ctxT(t, 5*time.Second), jsConn(t, ns), "long", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	w := watch(t, r, "A")
	ctx := ctxT(t, 10*time.Second)
	if _, err := r.PutNode(ctx, NodeEntry{ID: "A", URL: "rtmp://a:1"}); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("\xff.*>", live.MaxNameLength/4)
	k := live.Key{App: long, Name: long}
	rev, err := r.Claim(ctx, StreamEntry{App: k.App, Name: k.Name, Node: "A", URL: "rtmp://a:1"}, nil)
	if err != nil {
		t.Fatalf("claim of %d-byte names: %v", len(long), err)
	}
	eventually(t, "the watch sees it", 5*time.Second, func() bool { c, ok := w.lastOf(k); return ok && c.Entry != nil })
	if err := r.Release(ctx, k, rev); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the watch sees it gone", 5*time.Second, func() bool { c, ok := w.lastOf(k); return ok && c.Entry == nil })
}
