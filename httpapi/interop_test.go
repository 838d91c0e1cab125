package httpapi_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
)

// FFmpeg 5.1 publishes H.264 and AAC (the test file, looped in real
// time); an FFmpeg player and a library player watch. Behind the bearer
// token, the JSON API lists the stream with tracks avc1 and mp4a, FFmpeg's
// flashVer and two RTMP players; /metrics agrees; a kick of the stream
// ends the FFmpeg publisher.
func TestInteropFFmpeg(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	s := start(t, httpapi.Options{Token: "tok"}, live.Config{})
	ctx := testCtx(t)
	url := "rtmp://" + s.rtmp + "/live/ff"

	pub := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -stream_loop -1 -i "+src+" -c copy -f flv "+url)...)
	var st stream
	get := func() stream {
		var one stream
		resp, b := s.do(t, "GET", "/v1/streams/live/ff", "Bearer tok", "")
		if resp.StatusCode == 200 {
			if err := json.Unmarshal(b, &one); err != nil {
				t.Fatal(err)
			}
		}
		return one
	}
	eventually(t, "FFmpeg's stream shows both tracks", func() bool {
		st = get()
		return st.Publishing && len(st.Tracks) == 2
	})
	pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+url+" -c copy -f null -")...)
	lib := play(t, ctx, url)
	eventually(t, "two players and bitrates", func() bool {
		st = get()
		return st.Subscribers == 2 && st.BitrateIn > 0 && st.BitrateOut > st.BitrateIn && lib.packets.Load() > 10
	})
	t.Logf("stream: tracks %v, players %v, bitrate in %d out %d b/s, publisher %q", st.Tracks, st.Protocols, st.BitrateIn, st.BitrateOut, st.Publisher.FlashVer)
	if got, want := st.Tracks, []track{{"video", 0, "avc1"}, {"audio", 0, "mp4a"}}; len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("tracks %v, want %v", got, want)
	}
	if st.Protocols["rtmp"] != 2 || !strings.HasPrefix(st.Publisher.FlashVer, "FMLE/3.0 (compatible; Lavf") {
		t.Errorf("players %v, publisher %+v", st.Protocols, st.Publisher)
	}

	m := s.scrape(t)
	if m.get("ertmp_players", "protocol", "rtmp") != 2 || m.get("ertmp_sessions", "kind", "publish") != 1 ||
		m.get("ertmp_received_bytes_total", "kind", "publish") < 10000 {
		t.Errorf("metrics: players %v, publishers %v, received %v bytes", m.get("ertmp_players", "protocol", "rtmp"),
			m.get("ertmp_sessions", "kind", "publish"), m.get("ertmp_received_bytes_total", "kind", "publish"))
	}

	s.call(t, "POST", "/v1/kick", `{"app": "live", "name": "ff"}`, 200, nil)
	err := pub.Wait(10 * time.Second)
	if err != nil && strings.HasPrefix(err.Error(), "still running") {
		t.Fatalf("FFmpeg still publishes after the kick:\n%s", pub.Output)
	}
	t.Logf("FFmpeg publisher after the kick: %v: %s", err, strings.TrimSpace(pub.Output.String()))
	eventually(t, "the kick counted", func() bool {
		return s.scrape(t).get("ertmp_sessions_ended_total", "kind", "publish", "reason", "kicked") == 1
	})
	pl.Kill()
}
