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
// ("nodes=100,streams=10000,ttl=10s,for=15s,churn=10").
type simConfig struct {
	nodes, streams int
	ttl, window    time.Duration
	churn          float64 // streams that end and start per second, cluster-wide
}

func parseSim(t *testing.T, s string) simConfig {
	c := simConfig{nodes: 100, streams: 10000, ttl: 10 * time.Second, window: 15 * time.Second, churn: 10}
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
		case "churn":
			c.churn, err = strconv.ParseFloat(v, 64)
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
	revs    map[live.Key]uint64 // its goroutine's
}

// TestRegistryLoad is a load test of the registry alone: N simulated
// nodes (each its own NATS connection, registry and watch) against the
// embedded NATS server, S streams spread over them, each node renewing
// its node entry every ttl/3 for the window while streams end and start
// (churn per second). It prints the write and watch
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
	for i := range nodes {
		reg, err := OpenRegistry(ctxT(t, 30*time.Second), jsConn(t, ns), "sim", sc.ttl)
		if err != nil {
			t.Fatal(err)
		}
		nodes[i] = &simNode{id: fmt.Sprintf("node-%03d", i), revs: map[live.Key]uint64{}, reg: reg}
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer cancel()
	t.Logf("%d nodes; registering %d streams", sc.nodes, sc.streams)

	// Each node writes its entry and claims its share at once, then
	// renews its entry every ttl/3 from then on.
	// The nodes' renewals and churn run under rctx, the watches under ctx.
	rctx, rcancel := context.WithCancel(ctx)
	defer rcancel()
	start := time.Now()
	var errs, writes, failures atomic.Int64
	var measuring atomic.Bool
	var cw, rw sync.WaitGroup
	registered := make(chan struct{})
	for i, n := range nodes {
		cw.Add(1)
		rw.Add(1)
		go func() {
			defer rw.Done()
			if _, err := n.reg.PutNode(rctx, NodeEntry{ID: n.id, URL: "rtmp://10.0.0.1:1935"}); err != nil {
				t.Errorf("%s: node entry: %v", n.id, err)
			}
			for s := i; s < sc.streams; s += sc.nodes {
				e := StreamEntry{App: "live", Name: fmt.Sprintf("stream-%05d", s), Node: n.id, URL: "rtmp://10.0.0.1:1935",
					Since: time.Now(), Codecs: []string{"avc1", "mp4a"}}
				rev, err := n.reg.Claim(rctx, e, nil)
				if err != nil {
					if errs.Add(1) < 5 {
						t.Logf("%s: claim: %v", n.id, err)
					}
					continue
				}
				n.revs[e.Key()] = rev
			}
			cw.Done()
			tick := time.NewTicker(sc.ttl / 3)
			defer tick.Stop()
			for {
				select {
				case <-tick.C:
				case <-rctx.Done():
					return
				}
				if _, err := n.reg.PutNode(rctx, NodeEntry{ID: n.id, URL: "rtmp://10.0.0.1:1935", Load: Load{Players: 100}}); err != nil {
					if rctx.Err() == nil && failures.Add(1) < 5 {
						t.Logf("%s: node entry: %v", n.id, err)
					}
				} else if measuring.Load() {
					writes.Add(1)
				}
			}
		}()
		// Streams end and start (churn per node: its share of the
		// cluster's): each a delete and a create.
		if sc.churn > 0 {
			rw.Add(1)
			go func() {
				defer rw.Done()
				<-registered
				every := time.Duration(float64(time.Second) * float64(sc.nodes) / sc.churn)
				tick := time.NewTicker(every)
				defer tick.Stop()
				for j := 0; ; j++ {
					select {
					case <-tick.C:
					case <-rctx.Done():
						return
					}
					var k live.Key
					for k = range n.revs {
						break
					}
					// Each end and start runs whole (the watches' context).
					if err := n.reg.Release(ctx, k, n.revs[k]); err != nil {
						continue
					}
					delete(n.revs, k)
					e := StreamEntry{App: "live", Name: fmt.Sprintf("%s-new-%d", n.id, j), Node: n.id, URL: "rtmp://10.0.0.1:1935",
						Since: time.Now(), Codecs: []string{"avc1", "mp4a"}}
					if rev, err := n.reg.Claim(ctx, e, nil); err == nil {
						n.revs[e.Key()] = rev
						if measuring.Load() {
							writes.Add(2)
						}
					}
				}
			}()
		}
	}
	cw.Wait()
	claimed := time.Since(start)
	t.Logf("registered %d streams in %v (%.0f claims/s, %d errors), no node watching yet",
		sc.streams, claimed.Round(time.Millisecond), float64(sc.streams)/claimed.Seconds(), errs.Load())
	// Every node starts watching: its first load is the whole registry.
	lstart := time.Now()
	for _, n := range nodes {
		ready := make(chan struct{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := n.reg.Watch(ctx, n.id, func() { close(ready) }, func(Change) { n.changes.Add(1) }); ctx.Err() == nil {
				t.Errorf("%s: watch ended: %v", n.id, err)
			}
		}()
		<-ready
	}
	loaded := time.Since(lstart)
	want := sc.streams - int(errs.Load())
	for _, n := range nodes {
		if got := len(n.reg.Streams()); got < want {
			t.Errorf("%s loaded %d streams, want %d", n.id, got, want)
		}
	}
	t.Logf("%d nodes loaded the registry one after the other in %v (%v per node)", sc.nodes, loaded.Round(time.Millisecond), (loaded / time.Duration(sc.nodes)).Round(time.Millisecond))
	close(registered) // the churn starts

	// Measure the renewals over the window by the server's counters.
	v0, _ := ns.s.Varz(nil)
	for _, n := range nodes {
		n.changes.Store(0)
	}
	measuring.Store(true)
	wstart := time.Now()
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
	if rest := sc.window - time.Since(wstart); rest > 0 {
		time.Sleep(rest)
	}
	el := time.Since(wstart)
	v1, _ := ns.s.Varz(nil)
	rcancel()
	rw.Wait()
	var changes int64
	for _, n := range nodes {
		changes += n.changes.Load()
	}
	// Every cache holds what the nodes hold, once the last changes came.
	want = 1 // the probe
	for _, n := range nodes {
		want += len(n.revs)
	}
	time.Sleep(time.Second)
	lost := 0
	for _, n := range nodes {
		if got := len(n.reg.Streams()); got != want {
			if lost++; lost < 5 {
				t.Logf("%s's cache has %d streams, the nodes %d", n.id, got, want)
				if lost == 1 {
					has := map[live.Key]bool{}
					for _, e := range n.reg.Streams() {
						has[e.Key()] = true
					}
					for _, m := range nodes {
						for k := range m.revs {
							if !has[k] {
								e, ok := n.reg.Lookup(k)
								t.Logf("missing %s of %s (%v %v)", k, m.id, e, ok)
							}
						}
					}
				}
			}
		}
	}
	sec := el.Seconds()
	t.Logf("for %v (ttl %v, node entries every ttl/3, %.0f streams end and start per second): %.0f writes/s (%d failed), watch deliveries %.0f/s in all, %.0f/s per node",
		el.Round(time.Millisecond), sc.ttl, sc.churn, float64(writes.Load())/sec, failures.Load(), float64(changes)/sec, float64(changes)/sec/float64(sc.nodes))
	t.Logf("NATS server: in %.0f msgs/s %.2f MB/s, out %.0f msgs/s %.2f MB/s (%.2f MB/s per node)",
		float64(v1.InMsgs-v0.InMsgs)/sec, float64(v1.InBytes-v0.InBytes)/sec/1e6, float64(v1.OutMsgs-v0.OutMsgs)/sec,
		float64(v1.OutBytes-v0.OutBytes)/sec/1e6, float64(v1.OutBytes-v0.OutBytes)/sec/1e6/float64(sc.nodes))
	t.Logf("a new stream reached all %d nodes in %v; %d nodes' caches differ from what the nodes hold at the end", sc.nodes, slowest.Round(time.Millisecond), lost)
}
