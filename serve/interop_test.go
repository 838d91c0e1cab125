package serve

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
)

func source(t *testing.T) string {
	return filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
}

// ffmpegRefused runs FFmpeg, which must fail and print "Server error: " and
// text.
func ffmpegRefused(t *testing.T, ffmpeg interop.Tool, text, args string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := ffmpeg.Command(ctx, strings.Fields("-hide_banner -loglevel error "+args)...).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Server error: "+text) {
		t.Errorf("ffmpeg %s: %v, want a failure that says %q:\n%s", args, err, text, out)
		return
	}
	t.Logf("FFmpeg says: %s", strings.TrimSpace(string(out)))
}

// relayFFmpeg plays playURL into a file with FFmpeg (waiting for the stream until
// key has a subscriber), publishes the source in real time to pubURL with
// FFmpeg, and checks the player saved exactly the source's packets.
func relayFFmpeg(t *testing.T, ffmpeg interop.Tool, hub *live.Hub, key live.Key, playURL, pubURL string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "out.flv")
	src := source(t)
	pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+playURL+" -map 0:v -map 0:a -c copy -f flv "+out)...)
	waitFor(t, "a player of "+key.String(), func() bool {
		for _, si := range hub.Streams() {
			if si.Key == key && si.Subscribers == 1 {
				return true
			}
		}
		return false
	})
	interop.Run(t, 30*time.Second, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv "+pubURL)...)
	if err := pl.Wait(15 * time.Second); err != nil {
		t.Fatalf("player: %v\n%s", err, pl.Output)
	}
	interop.SameHashes(t, ffmpeg, src, out)
	t.Logf("%s -> %s: the player's packets hash equal to the source's", pubURL, playURL)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after 15 s, still no %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// formCalls is an HTTP hook endpoint that records the forms it gets.
type formCalls struct {
	mu    sync.Mutex
	forms []url.Values
}

func (f *formCalls) add(v url.Values) {
	f.mu.Lock()
	f.forms = append(f.forms, v)
	f.mu.Unlock()
}

func (f *formCalls) of(call string) []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []url.Values
	for _, v := range f.forms {
		if v.Get("call") == call {
			out = append(out, v)
		}
	}
	return out
}

// HTTP hooks with FFmpeg publishers and players, configured from the
// file: the hook server allows, refuses (FFmpeg prints the answer's body),
// renames a publisher and a player with a 302 Location, and the done hooks
// arrive with the close reason and byte counts.
func TestInteropHooks(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	const refusal = "stream refused by the hook, sorry"
	var calls formCalls
	hooks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		calls.add(r.PostForm)
		switch name := r.PostForm.Get("name"); {
		case name == "refused":
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, refusal+"\n")
		case name == "src" && r.URL.Path == "/publish", name == "alias" && r.URL.Path == "/play":
			w.Header().Set("Location", "dst")
			w.WriteHeader(http.StatusFound)
		}
	}))
	defer hooks.Close()
	var mu sync.Mutex
	observed := map[string]int{}
	r := start(t, testConfig(t, fmt.Sprintf(`
live: {republish_grace: -1s, play_wait: 15s}
apps:
  default:
    on_connect: %[1]s/connect
    on_publish: %[1]s/publish
    on_play: %[1]s/play
    on_publish_done: %[1]s/done
    on_play_done: %[1]s/done
`, hooks.URL)), Options{Observe: func(hook string, _ time.Duration, outcome string) {
		mu.Lock()
		observed[hook+" "+outcome]++
		mu.Unlock()
	}})

	// The player asks for alias and the publisher for src: on_play and
	// on_publish both map them to dst.
	relayFFmpeg(t, ffmpeg, r.Hub(), live.Key{App: "live", Name: "dst"}, r.url("live/alias"), r.url("live/src"))
	ffmpegRefused(t, ffmpeg, refusal, "-re -i "+source(t)+" -c copy -f flv "+r.url("live/refused"))
	ffmpegRefused(t, ffmpeg, refusal, "-i "+r.url("live/refused")+" -c copy -f flv -y "+filepath.Join(t.TempDir(), "x.flv"))

	waitFor(t, "done hooks", func() bool { return len(calls.of("publish_done")) == 1 && len(calls.of("play_done")) == 1 })
	pd, qd := calls.of("publish_done")[0], calls.of("play_done")[0]
	if n, _ := strconv.Atoi(pd.Get("bytes_in")); pd.Get("name") != "src" || pd.Get("reason") != "client closed" || n < 10000 || pd.Get("packets") == "0" {
		t.Errorf("on_publish_done: %v", pd)
	}
	if qd.Get("name") != "alias" || qd.Get("bytes_out") == "0" || (qd.Get("reason") != "client closed" && qd.Get("reason") != "publisher gone") {
		t.Errorf("on_play_done: %v", qd)
	}
	t.Logf("on_publish_done: reason %q, bytes in %s, out %s, %s packets; on_play_done: reason %q, bytes out %s",
		pd.Get("reason"), pd.Get("bytes_in"), pd.Get("bytes_out"), pd.Get("packets"), qd.Get("reason"), qd.Get("bytes_out"))
	if n := len(calls.of("connect")); n != 4 {
		t.Errorf("%d on_connect calls, want 4 (two sessions relayed, two refused)", n)
	}
	p := calls.of("publish")
	if len(p) != 2 || p[0].Get("addr") != "127.0.0.1" || !strings.HasPrefix(p[0].Get("tcurl"), "rtmp://127.0.0.1") || p[0].Get("flashver") == "" {
		t.Errorf("on_publish forms %v", p)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, want := range []string{"on_publish rename", "on_play rename", "on_publish refuse", "on_play refuse", "on_connect allow", "on_publish_done ok", "on_play_done ok"} {
		if observed[want] == 0 {
			t.Errorf("Observe saw no %q: %v", want, observed)
		}
	}
}

// Static keys (the stream name itself, or ?key=) and address lists with
// FFmpeg; the keys never reach the log.
func TestInteropKeys(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	const (
		nameKey  = "name-key-5c1e7"
		queryKey = "query-key-9f2a"
		playKey  = "play-key-77d3"
	)
	r := start(t, testConfig(t, `
live: {play_wait: 15s}
apps:
  live:
    publish_keys: [`+nameKey+`, `+queryKey+`]
    play_keys: [`+playKey+`]
  lan:
    allow_publish: [10.0.0.0/8]
    deny_play: [127.0.0.0/8]
`), Options{})
	hub := r.Hub()
	dir := t.TempDir()

	// The stream name is the key; the player shows its own key.
	relayFFmpeg(t, ffmpeg, hub, live.Key{App: "live", Name: nameKey}, r.url("live/"+nameKey+"?key="+playKey), r.url("live/"+nameKey))
	// The key in the query; the stream has a public name.
	relayFFmpeg(t, ffmpeg, hub, live.Key{App: "live", Name: "cam"}, r.url("live/cam?key="+playKey), r.url("live/cam?key="+queryKey))

	ffmpegRefused(t, ffmpeg, "invalid stream key", "-re -i "+source(t)+" -c copy -f flv "+r.url("live/cam?key=wrong-key-1"))
	ffmpegRefused(t, ffmpeg, "invalid stream key", "-i "+r.url("live/cam")+" -c copy -f flv -y "+filepath.Join(dir, "nokey.flv"))
	ffmpegRefused(t, ffmpeg, "address not allowed", "-re -i "+source(t)+" -c copy -f flv "+r.url("lan/x"))
	ffmpegRefused(t, ffmpeg, "address not allowed", "-i "+r.url("lan/x")+" -c copy -f flv -y "+filepath.Join(dir, "lan.flv"))

	logs := r.logs.String()
	for _, k := range []string{nameKey, queryKey, playKey} {
		if strings.Contains(logs, k) {
			t.Errorf("the key %q is in the log", k)
		}
	}
	if n := strings.Count(logs, `"stream":"[redacted]"`); n < 4 {
		t.Errorf("%d log lines with the stream name redacted, want 4 (start and end of the publisher and player of the key-named stream)", n)
	}
	ends := r.logs.lines("live: publish end")
	t.Logf("%d log lines, %d publish ends; no key in them", strings.Count(logs, "\n"), len(ends))
}

// RTMPS: FFmpeg publishes and plays over rtmps:// with a test certificate.
func TestInteropRTMPS(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	cert, key, _ := writeCert(t, t.TempDir(), "rtmps")
	r := start(t, testConfig(t, "rtmps: 127.0.0.1:0\ntls_cert: "+cert+"\ntls_key: "+key+"\nlive: {play_wait: 15s}\n"), Options{
		Hooks: live.Hooks{Start: func(s *live.Session) {
			if s.Protocol != "rtmps" {
				t.Errorf("a %s session over the RTMPS listener", s.Protocol)
			}
		}},
	})
	u := "rtmps://" + r.RTMPSAddr().String() + "/live/tls"
	relayFFmpeg(t, ffmpeg, r.Hub(), live.Key{App: "live", Name: "tls"}, u, u)
	// And the project's client, verifying the certificate.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := rtmp.DialPublish(ctx, u, nil); err == nil {
		t.Error("a client that verifies accepted the self-signed certificate")
	}
}

// A new key applies to new sessions; the publisher and player of the old
// key go on undisturbed.
func TestInteropReloadKeys(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	cfg := func(k string) *Config {
		return testConfig(t, "live: {play_wait: 15s}\napps:\n  live:\n    publish_keys: ["+k+"]\n")
	}
	r := start(t, cfg("old-key-1"), Options{})
	src := source(t)
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop 3 -i "+src+" -c copy -f flv "+r.url("live/s?key=old-key-1"))...)
	out := filepath.Join(t.TempDir(), "out.flv")
	pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+r.url("live/s")+" -c copy -f flv "+out)...)
	waitFor(t, "a publisher and a player", func() bool {
		for _, si := range r.Hub().Streams() {
			if si.Publishing && si.Subscribers == 1 && si.Packets > 10 {
				return true
			}
		}
		return false
	})
	if err := r.Reload(cfg("new-key-2")); err != nil {
		t.Fatal(err)
	}
	ffmpegRefused(t, ffmpeg, "invalid stream key", "-re -i "+src+" -c copy -f flv "+r.url("live/t?key=old-key-1"))
	interop.Run(t, 20*time.Second, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv "+r.url("live/t?key=new-key-2"))...)
	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("the publisher of the old key: %v\n%s", err, pub.Output)
	}
	if err := pl.Wait(15 * time.Second); err != nil {
		t.Fatalf("its player: %v\n%s", err, pl.Output)
	}
	got, want := len(interop.Packets(t, ffmpeg, out)), 4*len(interop.Packets(t, ffmpeg, src))
	if got < want*3/4 {
		t.Errorf("the player of the old key's stream saved %d packets of %d", got, want)
	}
	for _, e := range r.logs.lines("live: publish end") {
		if e["stream"] == "s" && e["reason"] != "client closed" {
			t.Errorf("the old key's publisher ended with %v", e["reason"])
		}
	}
	t.Logf("the old key's player saved %d packets (4 loops of the source: %d)", got, want)
}
