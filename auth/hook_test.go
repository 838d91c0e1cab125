package auth

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/live/livetest"
	"github.com/ertmp/rtmp/message"
)

// hookServer is an HTTP hook endpoint inside the test: it records every
// call and answers with what answer says.
type hookServer struct {
	*httptest.Server
	mu     sync.Mutex
	calls  []url.Values
	answer func(f url.Values, w http.ResponseWriter)
}

func newHookServer(t *testing.T, answer func(f url.Values, w http.ResponseWriter)) *hookServer {
	h := &hookServer{answer: answer}
	h.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "want a form POST", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		h.mu.Lock()
		h.calls = append(h.calls, r.PostForm)
		h.mu.Unlock()
		h.answer(r.PostForm, w)
	}))
	t.Cleanup(h.Close)
	return h
}

// called returns the calls with call=name.
func (h *hookServer) called(name string) []url.Values {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []url.Values
	for _, f := range h.calls {
		if f.Get("call") == name {
			out = append(out, f)
		}
	}
	return out
}

func (h *hookServer) wait(t *testing.T, name string, n int) []url.Values {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if c := h.called(name); len(c) >= n {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d %s calls after 10 s, want %d", len(h.called(name)), name, n)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// serveAuth serves a hub with a's hooks on a loopback port.
func serveAuth(t *testing.T, a *Auth, cfg live.Config) (*live.Hub, string) {
	t.Helper()
	cfg.Hooks = a.Hooks()
	if cfg.Logger == nil {
		cfg.Logger = livetest.Logger(t)
	}
	hub := live.NewHub(cfg)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &rtmp.Server{Handler: hub, Logger: cfg.Logger}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		hub.Shutdown(ctx)
		srv.Shutdown(ctx)
		<-served
		a.Wait(ctx)
	})
	return hub, ln.Addr().String()
}

type observed struct {
	mu  sync.Mutex
	all []string
}

func (o *observed) observe(hook string, d time.Duration, outcome string) {
	o.mu.Lock()
	o.all = append(o.all, hook+":"+outcome)
	o.mu.Unlock()
}

// has reports whether s was observed, waiting up to 5 s for it: the
// observation follows the hook's answer, which comes after the hook server
// recorded the request.
func (o *observed) has(s string) bool {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		o.mu.Lock()
		found := slices.Contains(o.all, s)
		o.mu.Unlock()
		if found || time.Now().After(deadline) {
			return found
		}
	}
}

// HTTP hooks with the project's client: allow, refuse with the answer's
// body, rename with a 3xx Location, no answer (refuse or allow by policy),
// connect refused, the form fields, done hooks with reasons and counts.
func TestHTTPHooks(t *testing.T) {
	hooks := newHookServer(t, func(f url.Values, w http.ResponseWriter) {
		switch {
		case f.Get("call") == "connect" && f.Get("app") == "closed":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "closed today\n")
		case f.Get("name") == "refuse":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "  not you, "+f.Get("addr")+"\n")
		case f.Get("name") == "empty":
			w.WriteHeader(http.StatusUnauthorized)
		case f.Get("name") == "rename":
			w.Header().Set("Location", "renamed")
			w.WriteHeader(http.StatusFound)
		case f.Get("name") == "slow":
			time.Sleep(time.Second)
		}
	})
	var obs observed
	x := App{OnConnect: hooks.URL, OnPublish: hooks.URL + "/publish", OnPlay: hooks.URL + "/play",
		OnPublishDone: hooks.URL, OnPlayDone: hooks.URL, HookTimeout: 300 * time.Millisecond}
	lenient := x
	lenient.HookFailure = FailAllow
	lenient.OnPublish = "http://127.0.0.1:1/unreachable"
	a, err := New(Rules{Apps: map[string]App{DefaultApp: x, "lenient": lenient}}, Options{Observe: obs.observe})
	if err != nil {
		t.Fatal(err)
	}
	hub, addr := serveAuth(t, a, live.Config{PlayWait: 5 * time.Second})
	base := "rtmp://" + addr + "/"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	refused := func(rawurl, want string) {
		t.Helper()
		p, err := rtmp.DialPublish(ctx, rawurl, nil)
		if err == nil {
			p.Close()
			t.Fatalf("%s: allowed", rawurl)
		}
		var se *rtmp.StatusError
		if !errors.As(err, &se) || se.Description != want {
			t.Fatalf("%s: %v, want the description %q", rawurl, err, want)
		}
	}

	t.Run("allow", func(t *testing.T) {
		p, err := rtmp.DialPublish(ctx, base+"live/ok?key=abc&call=evil", nil)
		if err != nil {
			t.Fatal(err)
		}
		pl, err := rtmp.DialPlay(ctx, base+"live/ok", nil)
		if err != nil {
			t.Fatal(err)
		}
		f := hooks.wait(t, "publish", 1)[0]
		want := url.Values{"call": {"publish"}, "app": {"live"}, "name": {"ok"}, "addr": {"127.0.0.1"},
			"tcurl": {base + "live"}, "flashver": {rtmp.DefaultPublishFlashVer}, "type": {"live"}, "key": {"abc"}}
		for k, v := range want {
			if f.Get(k) != v[0] {
				t.Errorf("on_publish %s = %q, want %q", k, f.Get(k), v[0])
			}
		}
		if len(f["call"]) != 1 || f.Get("clientid") == "" || f.Get("clientid") == "0" {
			t.Errorf("on_publish form %v: call overridden by the query, or no clientid", f)
		}
		pf := hooks.wait(t, "play", 1)[0]
		if pf.Get("name") != "ok" || pf.Get("start") != "-2" || pf.Get("duration") != "-1" || pf.Get("reset") != "1" {
			t.Errorf("on_play form %v", pf)
		}
		if c := hooks.wait(t, "connect", 2); c[0].Get("name") != "" || c[0].Get("app") != "live" {
			t.Errorf("on_connect form %v", c[0])
		}
		p.Close()
		pl.Close()
		d := hooks.wait(t, "publish_done", 1)[0]
		if d.Get("reason") != "client closed" || d.Get("name") != "ok" || d.Get("bytes_in") == "0" || d.Get("bytes_in") == "" || d.Get("duration") == "" {
			t.Errorf("on_publish_done form %v", d)
		}
		hooks.wait(t, "play_done", 1)
		if !obs.has("on_publish:allow") || !obs.has("on_publish_done:ok") || !obs.has("on_connect:allow") {
			t.Errorf("observed %v", obs.all)
		}
	})
	t.Run("refuse", func(t *testing.T) {
		refused(base+"live/refuse", "not you, 127.0.0.1")
		refused(base+"live/empty", "refused by on_publish (HTTP 401)")
		_, err := rtmp.DialPlay(ctx, base+"live/refuse", nil)
		var se *rtmp.StatusError
		if !errors.As(err, &se) || se.Code != message.CodePlayStreamNotFound || se.Description != "not you, 127.0.0.1" {
			t.Errorf("refused player: %v", err)
		}
		_, err = rtmp.DialPublish(ctx, base+"closed/x", nil)
		if !errors.As(err, &se) || se.Description != "closed today" {
			t.Errorf("refused connect: %v", err)
		}
		if !obs.has("on_publish:refuse") {
			t.Errorf("observed %v", obs.all)
		}
	})
	t.Run("rename", func(t *testing.T) {
		p, err := rtmp.DialPublish(ctx, base+"live/rename", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer p.Close()
		var names []string
		for _, s := range hub.Sessions() {
			names = append(names, s.Key.String())
		}
		if len(names) != 1 || names[0] != "live/renamed" {
			t.Errorf("sessions %v, want live/renamed", names)
		}
	})
	t.Run("no answer", func(t *testing.T) {
		start := time.Now()
		refused(base+"live/slow", "authorization unavailable")
		if d := time.Since(start); d > 900*time.Millisecond {
			t.Errorf("a hook with a 300 ms timeout held the publisher %v", d)
		}
		p, err := rtmp.DialPublish(ctx, base+"lenient/x", nil)
		if err != nil {
			t.Fatalf("hook_failure allow: %v", err)
		}
		p.Close()
		if !obs.has("on_publish:error") {
			t.Errorf("observed %v", obs.all)
		}
	})
	// A refused session gets no done hook.
	if err := a.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range hooks.called("publish_done") {
		if n := f.Get("name"); n != "ok" && n != "x" && n != "rename" {
			t.Errorf("a done hook for %s, which never started", n)
		}
	}
}

// A change of rules applies to new sessions only.
func TestUpdate(t *testing.T) {
	a, err := New(Rules{Apps: map[string]App{"live": {PublishKeys: []string{"first-key"}}}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	hub, addr := serveAuth(t, a, live.Config{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	first, err := rtmp.DialPublish(ctx, "rtmp://"+addr+"/live/s1?key=first-key", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if err := a.Update(Rules{Apps: map[string]App{"live": {PublishKeys: []string{"second-key"}}}}); err != nil {
		t.Fatal(err)
	}
	if p, err := rtmp.DialPublish(ctx, "rtmp://"+addr+"/live/s2?key=first-key", nil); err == nil {
		p.Close()
		t.Fatal("the old key still publishes")
	}
	second, err := rtmp.DialPublish(ctx, "rtmp://"+addr+"/live/s3?key=second-key", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer second.Close()
	if n := len(hub.Sessions()); n != 2 {
		t.Fatalf("%d sessions, want the first (untouched) and the new one", n)
	}
	if err := first.WriteTag(fakeTag()); err != nil {
		t.Fatalf("the first publisher was disturbed: %v", err)
	}
}

func fakeTag() flv.Tag { return flv.Tag{Type: flv.TagAudio, Data: []byte{0xAF, 0x01, 0x21}} }
