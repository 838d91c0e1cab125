package serve

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/ertmp/rtmp/flv"
	"testing"

	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
)

// The HTTP listener serves /APP/STREAM.flv and the status page at /
// beside /healthz, /metrics and /v1/ without shadowing them; play keys apply to HTTP-FLV viewers as to
// RTMP players: 403 with the description without the key.
func TestServerFLVRoutes(t *testing.T) {
	r := start(t, testConfig(t, "live: {play_wait: 200ms}\napps:\n  live:\n    play_keys: [pk-1]\n"), Options{})
	base := "http://" + r.HTTPAddr().String()
	for _, c := range []struct {
		path string
		code int
		body string
	}{
		{"/healthz", 200, ""},
		{"/metrics", 200, "ertmp_"},
		{"/v1/streams", 200, "streams"},
		{"/", 200, "<title>ertmp</title>"},
		{"/assets/nope.js", 404, ""},
		{"/live/cam.m3u8", 404, ""},
		{"/live/cam.flv", 403, "invalid stream key"},
		{"/live/cam.flv?key=wrong", 403, "invalid stream key"},
		{"/live/cam.flv?key=pk-1", 404, "stream not found"}, // admitted; no publisher within play_wait
		{"/other/cam.flv", 404, "stream not found"},
	} {
		code, body := httpGet(t, base+c.path, "")
		if code != c.code || !strings.Contains(string(body), c.body) {
			t.Errorf("GET %s: %d %.80q, want %d with %q", c.path, code, body, c.code, c.body)
		}
	}
}

// While FFmpeg publishes H.264/AAC over RTMP in real time, FFmpeg plays
// it over HTTP-FLV (with the play key) and a WebSocket client over
// WebSocket-FLV: both save exactly the source's packets (framemd5), and
// the WebSocket stream reads as an FLV file.
func TestInteropFLV(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 3)
	r := start(t, testConfig(t, "live: {play_wait: 15s}\napps:\n  live:\n    play_keys: [pk-1]\n"), Options{})
	hub, web := r.Hub(), r.HTTPAddr().String()
	key := live.Key{App: "live", Name: "x"}

	httpOut, wsOut := filepath.Join(dir, "http.flv"), filepath.Join(dir, "ws.flv")
	pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i http://"+web+"/live/x.flv?key=pk-1 -map 0 -c copy -f flv "+httpOut)...)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	type wsResult struct {
		data     []byte
		messages int
		err      error
	}
	got := make(chan wsResult, 1)
	go func() {
		// The upgrade is answered once the subscription is made: when the
		// publisher comes.
		var res wsResult
		c, _, err := websocket.Dial(ctx, "ws://"+web+"/live/x.flv?key=pk-1", nil)
		if err != nil {
			res.err = err
			got <- res
			return
		}
		defer c.CloseNow()
		c.SetReadLimit(64 << 20)
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				res.err = err
				got <- res
				return
			}
			res.data = append(res.data, b...)
			res.messages++
		}
	}()
	waitFor(t, "two viewers", func() bool {
		for _, si := range hub.Streams() {
			if si.Key == key && si.Subscribers == 2 {
				return true
			}
		}
		return false
	})
	interop.Run(t, 30*time.Second, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv "+r.url("live/x"))...)
	if err := pl.Wait(15 * time.Second); err != nil {
		t.Fatalf("HTTP-FLV player: %v\n%s", err, pl.Output)
	}
	res := <-got
	if websocket.CloseStatus(res.err) != websocket.StatusNormalClosure {
		t.Errorf("WebSocket ended with %v, want a normal closure", res.err)
	}
	fr := flv.NewReader(bytes.NewReader(res.data))
	tags, err := fr.ReadAll()
	if err != nil {
		t.Fatalf("WebSocket-FLV: %v", err)
	}
	if err := os.WriteFile(wsOut, res.data, 0o644); err != nil {
		t.Fatal(err)
	}
	interop.SameHashes(t, ffmpeg, src, httpOut)
	interop.SameHashes(t, ffmpeg, src, wsOut)
	t.Logf("source: %d packets with data; HTTP-FLV (FFmpeg) and WebSocket-FLV (%d messages, %d tags, %d bytes) saved the same hashes",
		len(interop.WithData(interop.FrameMD5(t, ffmpeg, src))), res.messages, len(tags), len(res.data))
}
