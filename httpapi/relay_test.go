package httpapi_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/relay"
)

// The ertmp_relay_* metrics, parsed with Prometheus's text parser, follow
// a push to two targets (a second server, and a port where nothing
// listens) and an on-demand pull of the pushed stream back from the
// second server: the states are gauged, the dead target's failures are
// counted as unreachable, bytes and packets grow, and once the publisher
// has left and the pull gone idle the gauges fall to 0 while no counter
// goes backwards (a scrape every 20 ms throughout).
func TestRelayMetrics(t *testing.T) {
	target := start(t, httpapi.Options{}, live.Config{})
	dead := deadAddr(t)
	m := relay.NewManager(relay.Options{
		App: func(app string) relay.App {
			switch app {
			case "live":
				return relay.App{Push: []string{"rtmp://" + target.rtmp + "/live/{stream}", "rtmp://" + dead + "/live/{stream}"}}
			case "edge":
				return relay.App{Pull: &relay.Upstream{URL: "rtmp://" + target.rtmp + "/live", OnDemand: true, Idle: 300 * time.Millisecond}}
			}
			return relay.App{}
		},
		Push:   relay.PushOptions{Backoff: relay.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}},
		Pull:   relay.PullOptions{Backoff: relay.Backoff{Min: 20 * time.Millisecond, Max: 100 * time.Millisecond}},
		Logger: logTo(t),
	})
	s := start(t, httpapi.Options{}, live.Config{Hooks: m.Hooks()})
	m.SetHub(s.hub)
	s.api.SetRelay(m)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := m.Shutdown(ctx); err != nil {
			t.Errorf("relay shutdown: %v", err)
		}
	})

	before := s.scrape(t)
	for _, kind := range []string{"push", "pull"} {
		for _, state := range []string{"connecting", "connected", "retrying"} {
			if before.find("ertmp_relay_connections", "kind", kind, "state", state) == nil {
				t.Errorf("no ertmp_relay_connections{kind=%q,state=%q} before any relay", kind, state)
			}
		}
		for _, f := range relay.Failures() {
			if before.find("ertmp_relay_failures_total", "kind", kind, "reason", f.String()) == nil {
				t.Errorf("no ertmp_relay_failures_total{kind=%q,reason=%q} before any relay", kind, f)
			}
		}
	}

	watch := s.watchCounters()
	ctx := testCtx(t)
	pub := publish(t, ctx, "rtmp://"+s.rtmp+"/live/cam")
	var during families
	eventually(t, "the push connected to one target and failing on the other", func() bool {
		during = s.scrape(t)
		return during.get("ertmp_relay_connections", "kind", "push", "state", "connected") == 1 &&
			during.get("ertmp_relay_failures_total", "kind", "push", "reason", "unreachable") >= 3 &&
			during.get("ertmp_relay_packets_total", "kind", "push") >= 50
	})
	if n := during.get("ertmp_relay_connections", "kind", "push", "state", "connecting") +
		during.get("ertmp_relay_connections", "kind", "push", "state", "retrying"); n != 1 {
		t.Errorf("the dead target is connecting or retrying: %v, want 1", n)
	}
	if got, fails := during.get("ertmp_relay_reconnects_total", "kind", "push"), during.get("ertmp_relay_failures_total", "kind", "push", "reason", "unreachable"); got < fails {
		t.Errorf("push reconnects %v < unreachable failures %v", got, fails)
	}
	// Half the packets are 2000-byte video frames.
	if during.get("ertmp_relay_bytes_total", "kind", "push") < during.get("ertmp_relay_packets_total", "kind", "push")*1000 {
		t.Errorf("push bytes %v for %v packets", during.get("ertmp_relay_bytes_total", "kind", "push"), during.get("ertmp_relay_packets_total", "kind", "push"))
	}

	// A player of the edge app: the stream is pulled back from the target.
	pl := play(t, ctx, "rtmp://"+s.rtmp+"/edge/cam")
	eventually(t, "the pull connected and publishing", func() bool {
		during = s.scrape(t)
		return during.get("ertmp_relay_connections", "kind", "pull", "state", "connected") == 1 &&
			during.get("ertmp_relay_packets_total", "kind", "pull") >= 20 && pl.packets.Load() >= 20
	})
	if b := during.get("ertmp_relay_bytes_total", "kind", "pull"); b < 20*200 {
		t.Errorf("pull bytes %v", b)
	}
	pushBytes := during.get("ertmp_relay_bytes_total", "kind", "push")

	// The publisher leaves: the push ends (its counters stay in the
	// totals); the pull sees the upstream end.
	if err := pub.close(); err != nil {
		t.Fatal(err)
	}
	var after families
	eventually(t, "the push gone and the pull's upstream ended", func() bool {
		after = s.scrape(t)
		return after.get("ertmp_relay_connections", "kind", "push", "state", "connected")+
			after.get("ertmp_relay_connections", "kind", "push", "state", "connecting")+
			after.get("ertmp_relay_connections", "kind", "push", "state", "retrying") == 0 &&
			after.get("ertmp_relay_failures_total", "kind", "pull", "reason", "upstream ended") >= 1
	})
	if b := after.get("ertmp_relay_bytes_total", "kind", "push"); b < pushBytes {
		t.Errorf("push bytes went from %v to %v once the push ended", pushBytes, b)
	}
	// The player leaves: the on-demand pull stops after its idle time.
	pl.pl.Close()
	eventually(t, "the idle pull gone", func() bool {
		after = s.scrape(t)
		return after.get("ertmp_relay_connections", "kind", "pull", "state", "connected")+
			after.get("ertmp_relay_connections", "kind", "pull", "state", "connecting")+
			after.get("ertmp_relay_connections", "kind", "pull", "state", "retrying") == 0 && len(m.Pulls()) == 0
	})
	watch.check(t)
	if after.get("ertmp_relay_packets_total", "kind", "pull") < 20 {
		t.Errorf("pull packets %v after the pull ended", after.get("ertmp_relay_packets_total", "kind", "pull"))
	}
	t.Logf("push: %v bytes, %v packets, %v unreachable failures; pull: %v bytes, %v packets, %v upstream ends",
		after.get("ertmp_relay_bytes_total", "kind", "push"), after.get("ertmp_relay_packets_total", "kind", "push"),
		after.get("ertmp_relay_failures_total", "kind", "push", "reason", "unreachable"),
		after.get("ertmp_relay_bytes_total", "kind", "pull"), after.get("ertmp_relay_packets_total", "kind", "pull"),
		after.get("ertmp_relay_failures_total", "kind", "pull", "reason", "upstream ended"))
}

// deadAddr is a loopback address where nothing listens.
func deadAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
