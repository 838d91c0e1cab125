package httpapi_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

// /metrics scraped during a live stream with a library publisher and three
// library players, parsed with Prometheus's text parser: the gauges match
// the hub, the counters move as the sessions do (bytes grow between two
// scrapes; a connection that fails the handshake, a rejected publisher and
// a kicked player are counted by reason), and no counter ever goes
// backwards while sessions start and end (a scrape every 20 ms).
func TestMetricsLiveStream(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	ctx := testCtx(t)
	url := "rtmp://" + s.rtmp + "/live/cam"
	watch := s.watchCounters()

	pub := publish(t, ctx, url)
	players := []*player{play(t, ctx, url), play(t, ctx, url), play(t, ctx, url)}
	eventually(t, "three players got packets", func() bool {
		for _, p := range players {
			if p.packets.Load() < 5 {
				return false
			}
		}
		return true
	})

	m1 := s.scrape(t)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"ertmp_sessions", []string{"kind", "publish", "protocol", "rtmp"}, 1},
		{"ertmp_sessions", []string{"kind", "play", "protocol", "rtmp"}, 3},
		{"ertmp_players", []string{"protocol", "rtmp"}, 3},
		{"ertmp_streams", nil, 1},
		{"ertmp_streams_published", nil, 1},
		{"ertmp_sessions_started_total", []string{"kind", "publish", "protocol", "rtmp"}, 1},
		{"ertmp_sessions_started_total", []string{"kind", "play", "protocol", "rtmp"}, 3},
		{"ertmp_connection_closes_total", []string{"reason", "handshake failed"}, 0},
	} {
		if got := m1.get(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if m1.find("ertmp_connection_closes_total", "reason", "handshake failed") == nil {
		t.Error("ertmp_connection_closes_total{reason=\"handshake failed\"} is not shown before the first failure")
	}

	// Bytes flow: publisher in, players out.
	eventually(t, "the players got 25 more packets each", func() bool {
		for _, p := range players {
			if p.packets.Load() < 30 {
				return false
			}
		}
		return true
	})
	m2 := s.scrape(t)
	in1, in2 := m1.get("ertmp_received_bytes_total", "kind", "publish"), m2.get("ertmp_received_bytes_total", "kind", "publish")
	out1, out2 := m1.get("ertmp_sent_bytes_total", "kind", "play"), m2.get("ertmp_sent_bytes_total", "kind", "play")
	t.Logf("publisher bytes in %v -> %v; players' bytes out %v -> %v", in1, in2, out1, out2)
	if !(in1 > 0 && in2 > in1 && out1 > 0 && out2 > out1) {
		t.Errorf("bytes did not grow between scrapes: in %v -> %v, out %v -> %v", in1, in2, out1, out2)
	}
	// 25 more packets each, half of them 2 kB video frames: three players
	// took at least 10 frames each.
	if out2-out1 < 3*10*2000 {
		t.Errorf("players' bytes out grew by %v, want at least %v", out2-out1, 3*10*2000)
	}

	// A connection that is not RTMP fails the handshake.
	c, err := net.Dial("tcp", s.rtmp)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n%s", strings.Repeat("garbage", 300))
	io.Copy(io.Discard, c) // until the server closes it
	c.Close()
	eventually(t, "the handshake failure counted", func() bool {
		return s.scrape(t).get("ertmp_connection_closes_total", "reason", "handshake failed") == 1
	})

	// A second publisher of the key is rejected.
	_, err = rtmp.DialPublish(ctx, url, nil)
	var se *rtmp.StatusError
	if !errors.As(err, &se) || se.Code != message.CodePublishBadName {
		t.Fatalf("second publisher: %v, want %s", err, message.CodePublishBadName)
	}
	eventually(t, "the rejected publisher counted", func() bool {
		return s.scrape(t).get("ertmp_sessions_ended_total", "kind", "publish", "protocol", "rtmp", "reason", "rejected") == 1
	})

	// A kicked player: ended{reason="kicked"}, two players left, and the
	// bytes it took stay in the counter.
	before := s.scrape(t).get("ertmp_sent_bytes_total", "kind", "play")
	id := sessionOf(t, s, players[0].addr())
	s.call(t, "POST", "/v1/kick", fmt.Sprintf(`{"id": %d}`, id), 200, nil)
	<-players[0].ended
	eventually(t, "the kicked player counted", func() bool {
		m := s.scrape(t)
		return m.get("ertmp_sessions_ended_total", "kind", "play", "reason", "kicked") == 1 &&
			m.get("ertmp_players", "protocol", "rtmp") == 2 && m.get("ertmp_sessions", "kind", "play") == 2
	})
	if after := s.scrape(t).get("ertmp_sent_bytes_total", "kind", "play"); after < before {
		t.Errorf("players' bytes out went from %v to %v when one player ended", before, after)
	}

	// The publisher leaves: published streams fall to 0, its end is
	// counted as client closed.
	if err := pub.close(); err != nil {
		t.Fatalf("publisher: %v", err)
	}
	eventually(t, "the publisher's end counted", func() bool {
		m := s.scrape(t)
		return m.get("ertmp_sessions_ended_total", "kind", "publish", "reason", "client closed") == 1 &&
			m.get("ertmp_streams_published") == 0 && m.get("ertmp_sessions", "kind", "publish") == 0
	})
	watch.check(t)

	m3 := s.scrape(t)
	t.Logf("final: started publish %v play %v; ended publish{client closed} %v {rejected} %v; play{kicked} %v; received %v sent %v bytes",
		m3.get("ertmp_sessions_started_total", "kind", "publish"), m3.get("ertmp_sessions_started_total", "kind", "play"),
		m3.get("ertmp_sessions_ended_total", "kind", "publish", "reason", "client closed"),
		m3.get("ertmp_sessions_ended_total", "kind", "publish", "reason", "rejected"),
		m3.get("ertmp_sessions_ended_total", "kind", "play", "reason", "kicked"),
		m3.get("ertmp_received_bytes_total", "kind", "publish"), m3.get("ertmp_sent_bytes_total", "kind", "play"))
}

// sessionOf finds the ID of the session whose remote address is addr.
func sessionOf(t *testing.T, s *server, addr string) uint64 {
	t.Helper()
	var list sessionList
	s.call(t, "GET", "/v1/sessions", "", 200, &list)
	for _, x := range list.Sessions {
		if x.RemoteAddr == addr {
			return x.ID
		}
	}
	t.Fatalf("no session from %s in %+v", addr, list)
	return 0
}

// Hook latencies land in the histogram by hook and outcome; past 64
// (hook, outcome) pairs, new ones are counted as "other".
func TestMetricsHooks(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	s.api.ObserveHook("on_publish", 30*time.Millisecond, "allow")
	s.api.ObserveHook("on_publish", 3*time.Second, "error")
	s.api.ObserveHook("on_play", time.Millisecond, "refuse")
	m := s.scrape(t)
	if got := m.get("ertmp_hook_duration_seconds", "hook", "on_publish", "outcome", "allow"); got != 1 {
		t.Errorf("on_publish allow: %v calls", got)
	}
	h := m.find("ertmp_hook_duration_seconds", "hook", "on_publish", "outcome", "error").GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 3 {
		t.Errorf("on_publish error: %v calls, %v s", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.Bucket {
		want := uint64(0)
		if b.GetUpperBound() >= 3 {
			want = 1
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("on_publish error: bucket le=%v holds %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	for i := range 100 {
		s.api.ObserveHook(fmt.Sprintf("hook%d", i), time.Millisecond, "allow")
	}
	m = s.scrape(t)
	if n, other := len(m["ertmp_hook_duration_seconds"].Metric), m.get("ertmp_hook_duration_seconds", "hook", "other", "outcome", "other"); n != 65 || other != 100-61 {
		t.Errorf("%d series, %v calls as other; want 65 and %d", n, other, 100-61)
	}
}

// The metrics pass Prometheus's own lint (names, units, help).
func TestMetricsLint(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	s.api.ObserveHook("on_connect", time.Millisecond, "allow")
	s.api.ConnClosed(rtmp.ConnInfo{Reason: rtmp.ReasonHandshakeFailed})
	resp, b := s.do(t, "GET", "/metrics", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("/metrics: %d", resp.StatusCode)
	}
	problems, err := promlint.New(bytes.NewReader(b)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "ertmp_") {
			t.Errorf("%s: %s", p.Metric, p.Text)
		}
	}
	if !bytes.Contains(b, []byte(`ertmp_connection_closes_total{reason="handshake failed"} 1`)) {
		t.Errorf("no handshake failure in\n%s", b)
	}
}
