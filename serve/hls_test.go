package serve

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/hls"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
)

// The hls section: on by default, its values checked (a part over 1 s, a
// window of one segment), and off with enabled: false.
func TestConfigHLS(t *testing.T) {
	c := testConfig(t, "")
	if !c.HLS.Enabled || time.Duration(c.HLS.Part) != 500*time.Millisecond || c.HLS.Segments != 7 || time.Duration(c.HLS.Idle) != 30*time.Second {
		t.Fatalf("defaults: %+v", c.HLS)
	}
	for _, y := range []string{"hls: {part: 2s}", "hls: {segments: 1}", "hls: {part: 100ms}", "hls: {segment: 200ms}"} {
		if _, err := Parse([]byte(y), "test.yaml"); !errors.Is(err, hls.ErrBadOption) {
			t.Errorf("%s: %v", y, err)
		}
	}
	if err := testConfig(t, "hls: {enabled: false, part: 2s}").Validate(); err != nil {
		t.Errorf("a disabled hls section is not checked: %v", err)
	}
	r := start(t, testConfig(t, "hls: {enabled: false}"), Options{})
	if code, _ := httpGet(t, "http://"+r.HTTPAddr().String()+"/live/x/index.m3u8", ""); code != 404 || r.HLS() != nil {
		t.Errorf("HLS off: %d", code)
	}
}

// FFmpeg publishes H.264/AAC over RTMP; FFmpeg reads it over HLS from
// `ertmp serve`'s HTTP listener with the play key, and gets the source's
// packets; without the key, 403.
func TestInteropHLS(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	dir := t.TempDir()
	src := filepath.Join(dir, "src.flv")
	interop.H264AAC(t, ffmpeg, src, 3)
	r := start(t, testConfig(t, "live: {play_wait: 15s}\nhls: {part: 300ms, segment: 1s}\napps:\n  live:\n    play_keys: [pk-1]\n"), Options{})
	web := "http://" + r.HTTPAddr().String()
	if code, body := httpGet(t, web+"/live/x/index.m3u8", ""); code != http.StatusForbidden {
		t.Fatalf("no key: %d %s", code, body)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	go func() {
		// Starts the stream's HLS; it waits for the publisher.
		req, _ := http.NewRequestWithContext(ctx, "GET", web+"/live/x/index.m3u8?key=pk-1", nil)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	waitFor(t, "the HLS subscriber", func() bool {
		for _, si := range r.Hub().Streams() {
			if si.Key == (live.Key{App: "live", Name: "x"}) && si.Protocols["hls"] == 1 {
				return true
			}
		}
		return false
	})
	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv rtmp://"+r.Addr().String()+"/live/x")...)
	out := filepath.Join(dir, "hls.mp4")
	interop.Run(t, time.Minute, ffmpeg, strings.Fields("-hide_banner -loglevel error -live_start_index 0 -i "+web+"/live/x/index.m3u8?key=pk-1 -map 0 -c copy -f mp4 "+out)...)
	if err := pub.Wait(30 * time.Second); err != nil {
		t.Fatalf("publisher: %v\n%s", err, pub.Output)
	}
	// The times start elsewhere; the packets are the same.
	strip := func(lines []string) []string {
		var out []string
		for _, l := range interop.WithData(lines) {
			if f := strings.Split(l, ","); len(f) >= 6 {
				out = append(out, strings.TrimSpace(f[0])+","+strings.TrimSpace(f[4])+","+strings.TrimSpace(f[5]))
			}
		}
		return out
	}
	// Stream by stream, in any stream order.
	byStream := func(lines []string) []string {
		m := map[string][]string{}
		for _, l := range lines {
			st, rest, _ := strings.Cut(l, ",")
			m[st] = append(m[st], rest)
		}
		var out []string
		for _, ps := range m {
			out = append(out, strings.Join(ps, " "))
		}
		slices.Sort(out)
		return out
	}
	want, got := strip(interop.FrameMD5(t, ffmpeg, src)), strip(interop.FrameMD5(t, ffmpeg, out))
	if len(want) == 0 || !slices.Equal(byStream(want), byStream(got)) {
		t.Fatalf("over HLS: %d packets, the source's %d differ:\n%.300q\n%.300q", len(got), len(want), got, want)
	}
	t.Logf("%d packets over HLS, as the source's", len(got))
}
