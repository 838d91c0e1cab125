package cluster

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ertmp/rtmp/live"
)

// simConfig is the load test's shape, from ERTMP_CLUSTER_SIM
// ("nodes=100,streams=10000,ttl=10s,for=15s").
type simConfig struct {
	nodes, streams int
	ttl, window    time.Duration
}

func parseSim(t *testing.T, s string) simConfig {
	c := simConfig{nodes: 100, streams: 10000, ttl: 10 * time.Second, window: 15 * time.Second}
	for _, kv := range strings.Split(s, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		var err error
		switch k {
		case "nodes":
			c.nodes, err = strconv.Atoi(v)
		case "streams":
			c.streams, err = strconv.Atoi(v)
		case "ttl":
			c.ttl, err = time.ParseDuration(v)
		case "for":
			c.window, err = time.ParseDuration(v)
		case "", "1":
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			t.Fatalf("ERTMP_CLUSTER_SIM %q: %v", kv, err)
		}
	}
	return c
}

// simNode is a simulated node: a registry of its own connection, its
// watch, the streams it holds.
type simNode struct {
	id      string
	reg     *Registry
	changes atomic.Int64
	mu      sync.Mutex
	revs    map[live.Key]uint64
}

// TestRegistryLoad is a load test of the registry alone: N simulated
// nodes (each its own NATS connection, registry and watch) against the
// embedded NATS server, S streams spread over them, each node renewing
// its entries every ttl/3 for the window. It prints the write and watch
// load, the bytes through NATS and how long a new entry takes to reach
// every node. Set ERTMP_CLUSTER_SIM (e.g.
// "nodes=100,streams=10000,ttl=10s,for=15s") to run it; figures from a
// busy machine are noise within a factor.
func TestRegistryLoad(t *testing.T) {
	env := os.Getenv("ERTMP_CLUSTER_SIM")
	if env == "" {
		t.Skip("a load test: set ERTMP_CLUSTER_SIM=nodes=100,streams=10000,ttl=10s,for=15s to run it")
	}
	sc := parseSim(t, env)
	ns := startNATS(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	nodes := make([]*simNode, sc.nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		n := &simNode{id: fmt.Sprintf("node-%03d", i), revs: map[live.Key]uint64{}}
		reg, err := OpenRegistry(ctxT(t, 30*time.Second), jsConn(t, ns), "sim", sc.ttl)
		if err != nil {
			t.Fatal(err)
		}
		n.reg = reg
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			reg.Watch(ctx, func() { close(ready) }, func(Change) { n.changes.Add(1) })
		}()
		<-ready
		nodes[i] = n
	}
	defer wg.Wait()
	defer cancel()
	t.Logf("%d nodes watching; registering %d streams", sc.nodes, sc.streams)

	// Register: each node claims its share at once.
	start := time.Now()
	var errs atomic.Int64
	var cw sync.WaitGroup
	for i, n := range nodes {
		cw.Add(1)
		go func() {
			defer cw.Done()
			for s := i; s < sc.streams; s += sc.nodes {
				e := StreamEntry{App: "live", Name: fmt.Sprintf("stream-%05d", s), Node: n.id, URL: "rtmp://10.0.0.1:1935",
					Since: time.Now(), Codecs: []string{"avc1", "mp4a"}}
				rev, err := n.reg.Claim(ctx, e, nil)
				if err != nil {
					errs.Add(1)
					continue
				}
				n.revs[e.Key()] = rev
			}
		}()
	}
	cw.Wait()
	claimed := time.Since(start)
	for _, n := range nodes {
		for len(n.reg.Streams()) < sc.streams-int(errs.Load()) {
			if time.Since(start) > 2*time.Minute {
				t.Fatalf("%s sees %d streams after 2 min", n.id, len(n.reg.Streams()))
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	seen := time.Since(start)
	t.Logf("registered %d streams in %v (%.0f claims/s, %d errors); every node saw them all after %v",
		sc.streams, claimed.Round(time.Millisecond), float64(sc.streams)/claimed.Seconds(), errs.Load(), seen.Round(time.Millisecond))

	// Renew for the window, measured by the server's counters.
	v0, _ := ns.s.Varz(nil)
	for _, n := range nodes {
		n.changes.Store(0)
	}
	var writes, failures atomic.Int64
	wctx, wcancel := context.WithTimeout(ctx, sc.window)
	defer wcancel()
	var rw sync.WaitGroup
	wstart := time.Now()
	for i, n := range nodes {
		rw.Add(1)
		go func() {
			defer rw.Done()
			// Spread the nodes' renewals over the interval, as their
			// start times would.
			select {
			case <-time.After(time.Duration(i) * sc.ttl / 3 / time.Duration(sc.nodes)):
			case <-wctx.Done():
				return
			}
			tick := time.NewTicker(sc.ttl / 3)
			defer tick.Stop()
			for {
				if _, err := n.reg.PutNode(wctx, NodeEntry{ID: n.id, URL: "rtmp://10.0.0.1:1935", Load: Load{Players: 100}}); err == nil {
					writes.Add(1)
				}
				n.mu.Lock()
				for k, rev := range n.revs {
					e := StreamEntry{App: k.App, Name: k.Name, Node: n.id, URL: "rtmp://10.0.0.1:1935", Codecs: []string{"avc1", "mp4a"}}
					nrev, err := n.reg.Renew(wctx, e, rev)
					if err != nil {
						if wctx.Err() == nil {
							failures.Add(1)
						}
						continue
					}
					n.revs[k] = nrev
					writes.Add(1)
				}
				n.mu.Unlock()
				select {
				case <-tick.C:
				case <-wctx.Done():
					return
				}
			}
		}()
	}
	// Mid-window: how long a new stream takes to reach every node.
	time.Sleep(sc.window / 2)
	k := live.Key{App: "live", Name: "probe"}
	pstart := time.Now()
	if _, err := nodes[0].reg.Claim(ctx, StreamEntry{App: "live", Name: "probe", Node: nodes[0].id, URL: "rtmp://10.0.0.1:1935"}, nil); err != nil {
		t.Fatal(err)
	}
	var slowest time.Duration
	for _, n := range nodes {
		for {
			if _, ok := n.reg.Lookup(k); ok {
				break
			}
			if time.Since(pstart) > time.Minute {
				t.Fatalf("%s did not see the probe within a minute", n.id)
			}
			time.Sleep(time.Millisecond)
		}
	}
	slowest = time.Since(pstart)
	rw.Wait()
	el := time.Since(wstart)
	v1, _ := ns.s.Varz(nil)
	var changes int64
	lost := 0
	for _, n := range nodes {
		changes += n.changes.Load()
		if got := len(n.reg.Streams()); got < sc.streams {
			lost++
		}
	}
	sec := el.Seconds()
	t.Logf("renewing for %v (ttl %v, every ttl/3): %.0f writes/s (%d failed), watch deliveries %.0f/s in all, %.0f/s per node",
		el.Round(time.Millisecond), sc.ttl, float64(writes.Load())/sec, failures.Load(), float64(changes)/sec, float64(changes)/sec/float64(sc.nodes))
	t.Logf("NATS server: in %.0f msgs/s %.2f MB/s, out %.0f msgs/s %.2f MB/s (%.2f MB/s per node)",
		float64(v1.InMsgs-v0.InMsgs)/sec, float64(v1.InBytes-v0.InBytes)/sec/1e6, float64(v1.OutMsgs-v0.OutMsgs)/sec,
		float64(v1.OutBytes-v0.OutBytes)/sec/1e6, float64(v1.OutBytes-v0.OutBytes)/sec/1e6/float64(sc.nodes))
	t.Logf("a new stream reached all %d nodes in %v; %d nodes' caches lost entries (renewals late past the ttl)", sc.nodes, slowest.Round(time.Millisecond), lost)
}
