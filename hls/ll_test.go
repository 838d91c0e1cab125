package hls

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
)

// lastPart returns the position of a media playlist's last part: its
// segment's media sequence number and index.
func lastPart(p *playlist) (msn uint64, part int) {
	msn = p.seq + uint64(len(p.segments))
	if len(p.parts) > 0 {
		return msn, len(p.parts) - 1
	}
	return msn - 1, len(p.segments[len(p.segments)-1].parts) - 1
}

// startFed starts an env, a feeder of h264_aac.flv on live/NAME and the
// muxer (a master playlist request), and returns the first media playlist
// of the video.
func startFed(t *testing.T, o Options, name string) (*env, *feeder, *playlist) {
	t.Helper()
	e := startEnv(t, o, live.Config{})
	f := e.feed(t, name, "h264_aac.flv", 0)
	e.master(t, name)
	code, b := e.get(t, "/live/"+name+"/v0.m3u8")
	if code != 200 {
		t.Fatalf("v0.m3u8: %d %s", code, b)
	}
	return e, f, parsePlaylist(t, b)
}

// A blocking reload for the next part returns when the part is out, with
// a playlist that holds it, within about a part duration; one for the
// next segment returns when it is complete; the preload hint's part is
// answered when it is complete, with its bytes.
func TestBlockingReload(t *testing.T) {
	e, _, p := startFed(t, Options{Segment: time.Second, Part: 300 * time.Millisecond}, "b")
	for range 5 {
		msn, part := lastPart(p)
		start := time.Now()
		code, b := e.get(t, fmt.Sprintf("/live/b/v0.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, part+1))
		took := time.Since(start)
		if code != 200 {
			t.Fatalf("blocking reload: %d %s", code, b)
		}
		np := parsePlaylist(t, b)
		checkMedia(t, np, p, b)
		nm, npart := lastPart(np)
		if !(nm > msn || nm == msn && npart >= part+1) {
			t.Fatalf("asked for %d.%d after %d.%d, got a playlist ending at %d.%d", msn, part+1, msn, part, nm, npart)
		}
		if took > 300*time.Millisecond+200*time.Millisecond {
			t.Errorf("the next part took %v", took)
		}
		t.Logf("part %d.%d: playlist after %v", nm, npart, took.Round(time.Millisecond))
		p = np
	}
	// The next segment, with no part asked for.
	msn, _ := lastPart(p)
	code, b := e.get(t, fmt.Sprintf("/live/b/v0.m3u8?_HLS_msn=%d", msn))
	if code != 200 {
		t.Fatalf("blocking reload for a segment: %d %s", code, b)
	}
	np := parsePlaylist(t, b)
	if last := np.seq + uint64(len(np.segments)) - 1; last < msn {
		t.Fatalf("asked for segment %d, the playlist's last complete one is %d", msn, last)
	}
	// The preload hint: asked before it exists, answered when complete.
	hint := np.preload
	start := time.Now()
	code, part := e.get(t, "/live/b/"+hint)
	if code != 200 || len(part) == 0 {
		t.Fatalf("preload hint %s: %d", hint, code)
	}
	_, b = e.get(t, "/live/b/v0.m3u8")
	if !strings.Contains(string(b), `URI="`+hint+`"`) {
		t.Fatalf("the hinted part %s is not in the playlist after it was served:\n%s", hint, b)
	}
	t.Logf("preload hint %s: %d bytes after %v", hint, len(part), time.Since(start).Round(time.Millisecond))
}

// Bad blocking directives get 400 at once (RFC 8216bis §6.2.5.2): no
// number, _HLS_part without _HLS_msn, a segment more than two ahead, a part
// past the advance limit, huge numbers; and on a resource that is not a
// media playlist.
func TestBlockingReloadBadRequests(t *testing.T) {
	e, _, p := startFed(t, Options{Segment: time.Second, Part: 300 * time.Millisecond}, "bad")
	msn, part := lastPart(p)
	for _, q := range []string{
		"_HLS_msn=abc", "_HLS_msn=-1", "_HLS_msn=1.5", "_HLS_msn=", "_HLS_msn=1e3",
		"_HLS_part=1", "_HLS_msn=1&_HLS_msn=2", "_HLS_msn=1&_HLS_part=x", "_HLS_msn=1&_HLS_part=-2",
		"_HLS_msn=1&_HLS_part=70000",
		fmt.Sprintf("_HLS_msn=%d", msn+3),
		fmt.Sprintf("_HLS_msn=%d&_HLS_part=%d", msn, part+11),
		fmt.Sprintf("_HLS_msn=%d&_HLS_part=10", msn+1),
		"_HLS_msn=18446744073709551615", "_HLS_msn=18446744073709551616", "_HLS_msn=99999999999999999999999",
		"_HLS_msn=%zz",
	} {
		start := time.Now()
		code, b := e.get(t, "/live/bad/v0.m3u8?"+q)
		if code != http.StatusBadRequest {
			t.Errorf("%s: %d %s", q, code, b)
		}
		if d := time.Since(start); d > 100*time.Millisecond {
			t.Errorf("%s: answered after %v", q, d)
		}
	}
	code, _ := e.get(t, "/live/bad/index.m3u8?_HLS_msn=1")
	if code != http.StatusBadRequest {
		t.Errorf("_HLS_msn on the master playlist: %d", code)
	}
	for _, path := range []string{"/live/bad/x9.m3u8", "/live/bad/v0-zz-1.m4s", "/live/bad/v0.mp4", "/live/bad/v0-1-01.m4s", "/bad/index.m3u8", "/live/bad/v0-1-1.1.1.m4s", "/live/bad/index.txt"} {
		if code, _ := e.get(t, path); code != http.StatusNotFound {
			t.Errorf("%s: %d", path, code)
		}
	}
}

// A blocking reload that the stream does not satisfy within three target
// durations gets 503; blocked requests past MaxBlocked get 503 at once,
// the others are answered when media comes again.
func TestBlockingReloadBounds(t *testing.T) {
	e, f, p := startFed(t, Options{Segment: time.Second, Part: 300 * time.Millisecond, MaxBlocked: 4}, "bounds")
	f.pause()
	time.Sleep(300 * time.Millisecond)
	_, b := e.get(t, "/live/bounds/v0.m3u8")
	p = parsePlaylist(t, b)
	msn, part := lastPart(p)
	next := fmt.Sprintf("/live/bounds/v0.m3u8?_HLS_msn=%d&_HLS_part=%d", msn, part+1)
	start := time.Now()
	code, _ := e.get(t, next)
	took := time.Since(start)
	if code != http.StatusServiceUnavailable || took < 3*time.Duration(p.target)*time.Second-100*time.Millisecond || took > 3*time.Duration(p.target)*time.Second+2*time.Second {
		t.Fatalf("a part that does not come: %d after %v (target %d s)", code, took, p.target)
	}
	t.Logf("a part that does not come: 503 after %v", took.Round(time.Millisecond))

	const n = 12
	codes := make(chan int, n)
	var wg sync.WaitGroup
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for range n {
		wg.Go(func() {
			code, _, err := e.tryGet(ctx, next)
			if err != nil {
				code = -1
			}
			codes <- code
		})
	}
	eventually(t, "4 requests blocked", func() bool { return e.hls.blocked.Load() == 4 })
	busy := 0
	for busy < n-4 {
		if c := <-codes; c != http.StatusServiceUnavailable {
			t.Fatalf("a request past MaxBlocked: %d", c)
		}
		busy++
	}
	f.resume()
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != 200 {
			t.Errorf("a blocked request: %d", c)
		}
	}
	if e.hls.blocked.Load() != 0 {
		t.Errorf("%d requests still counted as blocked", e.hls.blocked.Load())
	}
}

// HLS of a 3 Mbps stream holds the window and no more: with 3 segments,
// each rendition holds at most 3 complete segments (and the one being
// filled), and the bytes held stay under four seconds of the stream,
// while the media sequence number moves on.
func TestMemoryWindow(t *testing.T) {
	e := startEnv(t, Options{Segment: time.Second, Part: 200 * time.Millisecond, Segments: 3}, live.Config{})
	// 25 frames/s of 15000 bytes: 3 Mbps of video, and AAC at 64 kb/s.
	const pad, rate = 15000, 3_000_000 + 64_000
	e.feed(t, "mem", "h264_aac.flv", pad)
	e.master(t, "mem")
	bound := 4 * rate / 8 * 11 / 10 // four seconds, and a tenth for boxes and uneven segments
	var peak, peakSegs int
	deadline := time.Now().Add(8 * time.Second)
	for time.Now().Before(deadline) {
		for _, st := range e.hls.Stats() {
			if st.MaxSegments > 3 {
				t.Fatalf("a rendition holds %d segments: %+v", st.MaxSegments, st)
			}
			if st.Bytes > bound {
				t.Fatalf("%d bytes held, over %d: %+v", st.Bytes, bound, st)
			}
			peak, peakSegs = max(peak, st.Bytes), max(peakSegs, st.MaxSegments)
		}
		time.Sleep(50 * time.Millisecond)
	}
	_, b := e.get(t, "/live/mem/v0.m3u8")
	p := parsePlaylist(t, b)
	if p.seq < 3 || len(p.segments) != 3 {
		t.Fatalf("media sequence %d with %d segments after 8 s", p.seq, len(p.segments))
	}
	t.Logf("3 Mbps stream, window of 3: at most %d segments per rendition, %d bytes held (bound %d); media sequence at %d", peakSegs, peak, bound, p.seq)
}

// A stream's muxer stops after Idle with no request (its subscription
// ends); the next request starts a new one, with new segment names.
func TestIdleStop(t *testing.T) {
	e := startEnv(t, Options{Segment: time.Second, Part: 300 * time.Millisecond, Idle: 500 * time.Millisecond}, live.Config{})
	e.feed(t, "idle", "h264_aac.flv", 0)
	e.master(t, "idle")
	_, b := e.get(t, "/live/idle/v0.m3u8")
	first := parsePlaylist(t, b).mapURI
	if len(e.hls.Stats()) != 1 {
		t.Fatal("no muxer")
	}
	eventually(t, "the muxer stopped", func() bool {
		if len(e.hls.Stats()) != 0 {
			return false
		}
		for _, si := range e.hub.Streams() {
			if si.Key.Name == "idle" && si.Subscribers != 0 {
				return false
			}
		}
		return true
	})
	if code, _ := e.get(t, "/live/idle/"+first); code != http.StatusNotFound {
		t.Errorf("the stopped run's init segment: %d", code)
	}
	e.master(t, "idle")
	_, b = e.get(t, "/live/idle/v0.m3u8")
	if again := parsePlaylist(t, b).mapURI; again == first {
		t.Errorf("the new run serves the same init URI %s", again)
	}
}

// A stream that is not published: 404 once the hub's play wait is over.
func TestNotPublished(t *testing.T) {
	e := startEnv(t, Options{}, live.Config{PlayWait: 200 * time.Millisecond})
	start := time.Now()
	if code, _ := e.get(t, "/live/none/index.m3u8"); code != http.StatusNotFound {
		t.Fatalf("master of an unpublished stream: %d", code)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("404 after %v", d)
	}
	if code, _ := e.get(t, "/live/none/v0-x-1.m4s"); code != http.StatusNotFound {
		t.Fatalf("segment of an unpublished stream: %d", code)
	}
	if len(e.hls.Stats()) != 0 {
		t.Errorf("a muxer is left: %+v", e.hls.Stats())
	}
}

// Play keys: the hub's Authorize hook sees every HLS request as a play
// with its query; the playlists carry the viewer's query on every URI.
func TestAuthorize(t *testing.T) {
	var calls sync.Map
	cfg := live.Config{Hooks: live.Hooks{Authorize: func(ctx context.Context, s *live.Session) (string, error) {
		if s.Kind.String() == "play" {
			calls.Store(s.Query.Get("key"), true)
			if s.Query.Get("key") != "secret" {
				return "", live.Deny("bad key")
			}
		}
		return "", nil
	}}}
	e := startEnv(t, Options{Segment: time.Second, Part: 300 * time.Millisecond}, cfg)
	e.feed(t, "k", "h264_aac.flv", 0)
	if code, b := e.get(t, "/live/k/index.m3u8"); code != http.StatusForbidden || !strings.Contains(string(b), "bad key") {
		t.Fatalf("no key: %d %s", code, b)
	}
	if code, _ := e.get(t, "/live/k/index.m3u8?key=wrong"); code != http.StatusForbidden {
		t.Fatalf("wrong key: %d", code)
	}
	code, b := e.get(t, "/live/k/index.m3u8?key=secret")
	if code != 200 {
		t.Fatalf("key: %d %s", code, b)
	}
	m := parsePlaylist(t, b)
	if m.variants[0].uri != "v0.m3u8?key=secret" {
		t.Fatalf("variant URI %q", m.variants[0].uri)
	}
	_, b = e.get(t, "/live/k/v0.m3u8?key=secret")
	p := parsePlaylist(t, b)
	if !strings.HasSuffix(p.mapURI, "?key=secret") || !strings.HasSuffix(p.preload, "?key=secret") {
		t.Fatalf("media URIs without the key:\n%s", b)
	}
	uri, _, _ := strings.Cut(p.mapURI, "?")
	if code, _ := e.get(t, "/live/k/"+uri); code != http.StatusForbidden {
		t.Errorf("init segment without the key: %d", code)
	}
	if code, _ := e.get(t, "/live/k/"+p.mapURI); code != 200 {
		t.Errorf("init segment with the key: %d", code)
	}
}

// Track names and languages come from onMetaData: the top level for track
// 0, audioTrackIdInfoMap for the others (Enhanced RTMP v2), for the audio
// renditions; a quote or a bad language tag is dropped rather than
// breaking the playlist. The
// multitrack test file (H.264 + HEVC, AAC + Opus) is published by a
// library client with that metadata.
func TestTrackNames(t *testing.T) {
	md := &flv.Metadata{
		Unknown: []amf0.Property{{Key: "name", Value: "Main \"mix\""}, {Key: "language", Value: "en"}},
		AudioTracks: []flv.TrackMetadata{{ID: 1, Meta: &flv.Metadata{
			Unknown: []amf0.Property{{Key: "name", Value: "Commentaire"}, {Key: "language", Value: "fr-CA"}}}}},
		VideoTracks: []flv.TrackMetadata{{ID: 1, Meta: &flv.Metadata{
			Unknown: []amf0.Property{{Key: "title", Value: "Low"}, {Key: "language", Value: "x\ny"}}}}},
	}
	e := startEnv(t, Options{Segment: time.Second, Part: 300 * time.Millisecond}, live.Config{})
	e.feedTags(t, "names", withMetadata(t, readTags(t, "multitrack.flv"), md), 0)
	m := e.master(t, "names")
	if len(m.media) != 2 || len(m.variants) != 2 {
		_, b := e.get(t, "/live/names/v1.m3u8")
		_, b0 := e.get(t, "/live/names/v0.m3u8")
		t.Fatalf("%d renditions, %d variants\n%s\n%s", len(m.media), len(m.variants), b, b0)
	}
	if a := m.media[0]; a["NAME"] != "Main mix" || a["LANGUAGE"] != "en" || a["URI"] != "a0.m3u8" {
		t.Errorf("track 0: %v", a)
	}
	if a := m.media[1]; a["NAME"] != "Commentaire" || a["LANGUAGE"] != "fr-CA" || a["URI"] != "a1.m3u8" || a["CHANNELS"] == "" {
		t.Errorf("track 1: %v", a)
	}
	// EXT-X-STREAM-INF has no NAME attribute (RFC 8216bis §4.4.6.2).
	if v := m.variants[1].attrs; v["NAME"] != "" || v["RESOLUTION"] != "160x90" {
		t.Errorf("video track 1: %v", v)
	}
}

// A lead track that sends no key frame for too long, or a segment that
// grows too large, ends the stream's HLS (EXT-X-ENDLIST) instead of
// holding more and more.
func TestSegmentLimits(t *testing.T) {
	for _, c := range []struct {
		name  string
		bytes bool
	}{{"no key frame", false}, {"too large", true}} {
		t.Run(c.name, func(t *testing.T) {
			e := startEnv(t, Options{Segment: time.Second, Part: 300 * time.Millisecond}, live.Config{})
			tags, pad := readTags(t, "h264_aac.flv"), 0
			if c.bytes {
				e.hls.maxSegBytes, pad = 100_000, 20_000
			} else {
				e.hls.maxSegDur = 1500 * time.Millisecond
				first := true
				for i, tag := range tags {
					if tag.Type == flv.TagVideo && !isConfig(tag) && tag.Data[0]>>4 == 1 {
						if !first {
							tags[i].Data = append([]byte{0x20 | tag.Data[0]&0x0f}, tag.Data[1:]...)
						}
						first = false
					}
				}
			}
			e.feedTags(t, "lim", tags, pad)
			e.master(t, "lim")
			_, b := e.get(t, "/live/lim/v0.m3u8")
			p := parsePlaylist(t, b)
			if !p.ended {
				t.Fatalf("the playlist goes on:\n%s", b)
			}
			checkMedia(t, p, nil, b)
			st := e.hls.Stats()
			if len(st) != 1 || !st[0].Ended || (c.bytes && st[0].Bytes > 2*100_000+20_000) {
				t.Fatalf("stats %+v", st)
			}
			t.Logf("%s: ended with %d segment(s), %d bytes held", c.name, len(p.segments), st[0].Bytes)
		})
	}
}
