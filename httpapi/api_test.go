package httpapi_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// The JSON shapes the tests read, by their field names.
type session struct {
	ID         uint64 `json:"id"`
	Kind       string `json:"kind"`
	Protocol   string `json:"protocol"`
	App        string `json:"app"`
	Stream     string `json:"stream"`
	Key        struct{ App, Name string }
	RemoteAddr string `json:"remote_addr"`
	TcURL      string `json:"tc_url"`
	FlashVer   string `json:"flash_ver"`
	BytesIn    uint64 `json:"bytes_in"`
	BytesOut   uint64 `json:"bytes_out"`
	Packets    uint64 `json:"packets"`
}

type sessionList struct {
	Sessions []session `json:"sessions"`
}

type track struct {
	Type  string `json:"type"`
	ID    uint8  `json:"id"`
	Codec string `json:"codec"`
}

type stream struct {
	App         string         `json:"app"`
	Name        string         `json:"name"`
	Publishing  bool           `json:"publishing"`
	Publisher   *session       `json:"publisher"`
	Tracks      []track        `json:"tracks"`
	Subscribers int            `json:"subscribers"`
	Protocols   map[string]int `json:"protocols"`
	BitrateIn   int64          `json:"bitrate_in"`
	BitrateOut  int64          `json:"bitrate_out"`
}

type streamList struct {
	Streams []stream `json:"streams"`
}

type apiError struct {
	Error string `json:"error"`
}

// The JSON API with a library publisher and two players: the stream with
// its tracks (avc1, mp4a), bitrates, publisher and players by protocol;
// the sessions; kick by session ID ends a player (the others go on), kick
// by stream ends the publisher, which sees its connection end.
func TestAPIStreamsSessionsKick(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	ctx := testCtx(t)
	url := "rtmp://" + s.rtmp + "/live/cam"
	pub := publish(t, ctx, url)
	p1, p2 := play(t, ctx, url), play(t, ctx, url)

	var st stream
	eventually(t, "the stream shows its tracks, players and bitrates", func() bool {
		var list streamList
		s.call(t, "GET", "/v1/streams", "", 200, &list)
		if len(list.Streams) != 1 {
			t.Fatalf("streams: %+v", list)
		}
		st = list.Streams[0]
		return len(st.Tracks) == 2 && st.Subscribers == 2 && st.BitrateIn > 0 && st.BitrateOut > 0
	})
	t.Logf("stream: %+v, publisher %+v", st, *st.Publisher)
	want := []track{{"video", 0, "avc1"}, {"audio", 0, "mp4a"}}
	if st.App != "live" || st.Name != "cam" || !st.Publishing || fmt.Sprint(st.Tracks) != fmt.Sprint(want) ||
		st.Protocols["rtmp"] != 2 || len(st.Protocols) != 1 {
		t.Errorf("stream: %+v, want live/cam publishing tracks %v, 2 rtmp players", st, want)
	}
	if p := st.Publisher; p == nil || p.Protocol != "rtmp" || p.RemoteAddr != pub.pub.Conn().NetConn().LocalAddr().String() ||
		!strings.HasPrefix(p.TcURL, "rtmp://"+s.rtmp+"/live") || p.FlashVer == "" || p.ID == 0 {
		t.Errorf("publisher: %+v", st.Publisher)
	}

	var one stream
	s.call(t, "GET", "/v1/streams/live/cam", "", 200, &one)
	if one.App != "live" || one.Name != "cam" || !one.Publishing {
		t.Errorf("/v1/streams/live/cam: %+v", one)
	}
	var e apiError
	s.call(t, "GET", "/v1/streams/live/nope", "", 404, &e)
	if e.Error == "" {
		t.Error("404 without an error text")
	}

	var list sessionList
	s.call(t, "GET", "/v1/sessions", "", 200, &list)
	kinds := map[string]int{}
	for _, x := range list.Sessions {
		kinds[x.Kind]++
		if x.Protocol != "rtmp" || x.Key.App != "live" || x.Key.Name != "cam" || x.BytesIn == 0 || x.BytesOut == 0 {
			t.Errorf("session: %+v", x)
		}
	}
	if len(list.Sessions) != 3 || kinds["publish"] != 1 || kinds["play"] != 2 {
		t.Fatalf("sessions: %+v", list)
	}

	// Kick a player by its session ID: it ends, the other goes on.
	id := sessionOf(t, s, p1.addr())
	var kicked struct {
		Kicked struct {
			ID uint64 `json:"id"`
		} `json:"kicked"`
	}
	s.call(t, "POST", "/v1/kick", fmt.Sprintf(`{"id": %d}`, id), 200, &kicked)
	if kicked.Kicked.ID != id {
		t.Errorf("kick answered %+v", kicked)
	}
	select {
	case <-p1.ended:
	case <-time.After(10 * time.Second):
		t.Fatal("the kicked player still plays")
	}
	n := p2.packets.Load()
	eventually(t, "the other player goes on", func() bool { return p2.packets.Load() > n+10 })
	s.call(t, "POST", "/v1/kick", fmt.Sprintf(`{"id": %d}`, id), 404, &e)

	// Kick the stream's publisher: its connection ends.
	var kickedStream struct {
		Kicked struct{ App, Name string } `json:"kicked"`
	}
	s.call(t, "POST", "/v1/kick", `{"app": "live", "name": "cam"}`, 200, &kickedStream)
	if kickedStream.Kicked.App != "live" || kickedStream.Kicked.Name != "cam" {
		t.Errorf("kick answered %+v", kickedStream)
	}
	ectx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	for {
		ev, err := pub.pub.ReadEvent(ectx)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) {
				t.Fatal("the kicked publisher's connection did not end")
			}
			t.Logf("the kicked publisher's connection ended: %v", err)
			break
		}
		t.Logf("publisher event: %+v", ev)
	}
	s.call(t, "GET", "/v1/streams/live/cam", "", 200, &one)
	if one.Publishing {
		t.Errorf("after the kick the stream is still published: %+v", one)
	}
	s.call(t, "POST", "/v1/kick", `{"app": "live", "name": "cam"}`, 404, &e)
}

// Errors are JSON with their status: unknown paths, methods (with
// Allow), bad kick bodies.
func TestAPIErrors(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	for _, c := range []struct {
		method, path, body string
		code               int
		allow              string
	}{
		{"GET", "/v1/nothing", "", 404, ""},
		{"GET", "/nothing", "", 404, ""},
		{"GET", "/v1/kick", "", 405, "POST"},
		{"DELETE", "/v1/streams", "", 405, "GET, HEAD"},
		{"POST", "/metrics", "", 405, "GET, HEAD"},
		{"POST", "/v1/kick", `{"id": 1`, 400, ""},
		{"POST", "/v1/kick", `{}`, 400, ""},
		{"POST", "/v1/kick", `{"id": 1, "name": "x"}`, 400, ""},
		{"POST", "/v1/kick", `{"id": "1"}`, 400, ""},
		{"POST", "/v1/kick", `{"session": 1}`, 400, ""},
		{"POST", "/v1/kick", `{"id": 1} {"id": 2}`, 400, ""},
		{"POST", "/v1/kick", `{"id": 12345}`, 404, ""},
		{"POST", "/v1/kick", `{"app": "live", "name": "none"}`, 404, ""},
		{"POST", "/v1/kick", `{"id": 1, "pad": "` + strings.Repeat("x", 70<<10) + `"}`, 400, ""},
		{"POST", "/v1/drain", "", 501, ""},
	} {
		var e apiError
		resp := s.call(t, c.method, c.path, c.body, c.code, &e)
		if e.Error == "" || resp.Header.Get("Allow") != c.allow {
			t.Errorf("%s %s: error %q, Allow %q; want an error text and Allow %q", c.method, c.path, e.Error, resp.Header.Get("Allow"), c.allow)
		}
	}
}

// With a token, /v1/ needs it (401 without or wrong, whatever the path);
// /metrics and /healthz do not.
func TestAPIToken(t *testing.T) {
	s := start(t, httpapi.Options{Token: "s3cret-token"}, live.Config{})
	for _, c := range []struct {
		method, path, auth string
		code               int
	}{
		{"GET", "/v1/streams", "", 401},
		{"GET", "/v1/streams", "Bearer wrong", 401},
		{"GET", "/v1/streams", "Bearer s3cret-token-and-more", 401},
		{"GET", "/v1/streams", "Basic czNjcmV0LXRva2Vu", 401},
		{"GET", "/v1/streams", "s3cret-token", 401},
		{"GET", "/v1/sessions", "", 401},
		{"GET", "/v1/nothing", "", 401},
		{"POST", "/v1/kick", "", 401},
		{"GET", "/v1/streams", "Bearer s3cret-token", 200},
		{"GET", "/v1/streams", "bearer s3cret-token", 200},
		{"GET", "/v1/sessions", "Bearer s3cret-token", 200},
		{"GET", "/metrics", "", 200},
		{"GET", "/healthz", "", 200},
	} {
		resp, body := s.do(t, c.method, c.path, c.auth, `{"id": 1}`)
		if resp.StatusCode != c.code {
			t.Errorf("%s %s with %q: %d %s, want %d", c.method, c.path, c.auth, resp.StatusCode, body, c.code)
		}
		if c.code == 401 && (!strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Bearer") || !strings.Contains(string(body), `"error"`)) {
			t.Errorf("%s %s: 401 with WWW-Authenticate %q, body %s", c.method, c.path, resp.Header.Get("WWW-Authenticate"), body)
		}
	}
}

// /healthz answers 200 until SetDraining(true), then 503. POST /v1/drain
// starts Options.Drain once (a second request while it runs does not call
// it again), and /healthz answers 503 from then on; a failed drain may be
// asked again.
func TestHealthzDrain(t *testing.T) {
	var calls atomic.Int32
	release := make(chan error)
	s := start(t, httpapi.Options{Drain: func(ctx context.Context) error {
		calls.Add(1)
		return <-release
	}}, live.Config{})
	health := func(want int, text string) {
		t.Helper()
		resp, b := s.do(t, "GET", "/healthz", "", "")
		if resp.StatusCode != want || string(b) != text {
			t.Fatalf("/healthz: %d %q, want %d %q", resp.StatusCode, b, want, text)
		}
	}
	health(200, "ok\n")
	s.api.SetDraining(true)
	health(503, "draining\n")
	s.api.SetDraining(false)
	health(200, "ok\n")

	var d struct {
		Draining bool `json:"draining"`
	}
	s.call(t, "POST", "/v1/drain", "", http.StatusAccepted, &d)
	health(503, "draining\n")
	eventually(t, "Drain called", func() bool { return calls.Load() == 1 })
	s.call(t, "POST", "/v1/drain", "", http.StatusAccepted, &d)
	release <- errors.New("drain: no luck")
	eventually(t, "Drain called again after it failed", func() bool {
		s.call(t, "POST", "/v1/drain", "", http.StatusAccepted, &d)
		return calls.Load() == 2
	})
	release <- nil
	s.call(t, "POST", "/v1/drain", "", http.StatusAccepted, &d)
	time.Sleep(50 * time.Millisecond)
	if n := calls.Load(); n != 2 || !d.Draining {
		t.Errorf("Drain called %d times, want 2; answer %+v", n, d)
	}
	health(503, "draining\n")
}

// A source that is not RTMP (hub.Publish) shows under its own protocol,
// and a tcUrl's query, where stream keys go, is left out.
func TestAPIOtherProtocolAndRedaction(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	ctx := testCtx(t)
	p, err := s.hub.Publish(ctx, live.Key{App: "live", Name: "relayed"}, live.PublishOptions{Session: &live.Session{
		Protocol: "relay", TcURL: "rtmp://origin.example/live?key=TOPSECRET", RemoteAddr: "192.0.2.1:1935"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if err := p.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcSeq()}); err != nil {
		t.Fatal(err)
	}
	resp, b := s.do(t, "GET", "/v1/streams", "", "")
	if resp.StatusCode != 200 || strings.Contains(string(b), "TOPSECRET") || !strings.Contains(string(b), `"tc_url":"rtmp://origin.example/live"`) {
		t.Errorf("/v1/streams: %d %s", resp.StatusCode, b)
	}
	resp, b = s.do(t, "GET", "/v1/sessions", "", "")
	if resp.StatusCode != 200 || strings.Contains(string(b), "TOPSECRET") || !strings.Contains(string(b), `"protocol":"relay"`) {
		t.Errorf("/v1/sessions: %d %s", resp.StatusCode, b)
	}
	if got := p.Session().TcURL; !strings.Contains(got, "TOPSECRET") {
		t.Errorf("the hub's session was changed: tcUrl %q", got)
	}
	m := s.scrape(t)
	if m.get("ertmp_sessions", "kind", "publish", "protocol", "relay") != 1 || m.get("ertmp_sessions_started_total", "kind", "publish", "protocol", "relay") != 1 {
		t.Errorf("relay publisher not counted: %v", m.find("ertmp_sessions", "protocol", "relay"))
	}
	p.Close()
	m = s.scrape(t)
	if m.get("ertmp_sessions", "kind", "publish", "protocol", "relay") != 0 || m.get("ertmp_sessions_ended_total", "protocol", "relay", "reason", "client closed") != 1 {
		t.Errorf("relay publisher's end not counted")
	}
}

// An app with a slash (RTMP's app/instance) is one escaped path segment;
// the stream name takes the rest of the path.
func TestAPIStreamPath(t *testing.T) {
	s := start(t, httpapi.Options{}, live.Config{})
	p, err := s.hub.Publish(testCtx(t), live.Key{App: "live/inst", Name: "a/b"}, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	var one stream
	s.call(t, "GET", "/v1/streams/live%2Finst/a/b", "", 200, &one)
	if one.App != "live/inst" || one.Name != "a/b" || !one.Publishing {
		t.Errorf("got %+v", one)
	}
	var e apiError
	s.call(t, "GET", "/v1/streams/live/inst/a/b", "", 404, &e)
}

// Without a hub yet (SetHub not called), /v1/ answers 503 and /metrics
// still serves the event counters.
func TestAPINoHub(t *testing.T) {
	api := httpapi.New(httpapi.Options{})
	api.ConnClosed(rtmp.ConnInfo{Reason: rtmp.ReasonHandshakeTimeout})
	s := &server{api: api, client: http.DefaultClient}
	hs := httptest.NewServer(api)
	defer hs.Close()
	s.base = hs.URL
	var e apiError
	s.call(t, "GET", "/v1/streams", "", 503, &e)
	s.call(t, "POST", "/v1/kick", `{"id": 1}`, 503, &e)
	m := s.scrape(t)
	if m.get("ertmp_connection_closes_total", "reason", "handshake timeout") != 1 || m.get("ertmp_streams") != 0 {
		t.Errorf("metrics without a hub: %v", m["ertmp_connection_closes_total"])
	}
}
