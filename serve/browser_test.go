package serve

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
)

// browser is a headless Chromium with the status page of a running
// server open.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // http://host:port/

	mu   sync.Mutex
	logs []string // the page's console and exceptions
}

// openPage starts Debian's Chromium headless (no sandbox in a container,
// autoplay of muted video allowed) and loads the status page of r.
func openPage(t *testing.T, r *running) *browser {
	t.Helper()
	path := interop.Chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Flag("headless", "new"),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1000),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	b := &browser{t: t, base: "http://" + r.HTTPAddr().String() + "/"}
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithLogf(b.logf), chromedp.WithErrorf(b.logf))
	ctx, cancelTime := context.WithTimeout(ctx, 90*time.Second)
	b.ctx = ctx
	// The page's console and exceptions, shown when the test fails.
	console := chromedp.Console(ctx)
	consoleDone := make(chan struct{})
	go func() {
		defer close(consoleDone)
		for m, err := range console {
			if err != nil {
				return
			}
			b.logf("console: %s", m)
		}
	}()
	t.Cleanup(func() {
		cancelTime()
		cancelCtx() // closes the browser
		cancelAlloc()
		<-consoleDone
		if t.Failed() {
			for _, l := range b.logs {
				t.Log("page: " + l)
			}
		}
	})
	if err := chromedp.Do(ctx, chromedp.Navigate(b.base), chromedp.WaitVisible(chromedp.CSS("#summary"))); err != nil {
		t.Fatalf("chromium: load %s: %v", b.base, err)
	}
	return b
}

func (b *browser) logf(format string, args ...any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.logs) < 500 {
		b.logs = append(b.logs, fmt.Sprintf(format, args...))
	}
}

// eval evaluates a JavaScript expression into v.
func eval[T any](b *browser, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.t.Fatalf("chromium: %s: %v", js, err)
	}
	return v
}

// click clicks the first element a CSS selector finds.
func (b *browser) click(sel string) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(sel))); err != nil {
		b.t.Fatalf("chromium: click %s: %v", sel, err)
	}
}

// waitFor evaluates js every 100 ms until it is true, at most within.
func (b *browser) waitFor(what, js string, within time.Duration) {
	b.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if eval[bool](b, js) {
			return
		}
		if time.Now().After(deadline) {
			text := eval[string](b, `document.querySelector('main').innerText`)
			b.t.Fatalf("after %v, still not %s; the page shows:\n%s", within, what, text)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// card is the selector of a stream's card.
func card(stream string) string { return fmt.Sprintf(`section[data-stream=%q]`, stream) }

// playerState is what a card's player shows.
type playerState struct {
	State string  `json:"state"`
	Time  float64 `json:"time"`
	Text  string  `json:"text"`
}

func (b *browser) player(stream string) playerState {
	b.t.Helper()
	return eval[playerState](b, fmt.Sprintf(`(() => { const c = document.querySelector(%q);
		const v = c.querySelector('video');
		return {state: v.dataset.state, time: v.currentTime, text: c.querySelector('.player-state').textContent}; })()`, card(stream)))
}

// play waits for the stream's card to show its tracks, clicks the button
// of a player (hls, flv, wsflv), waits for the video to play and for its
// currentTime to advance by 3 s of media.
func (b *browser) play(stream, kind string, tracks int) {
	b.t.Helper()
	b.waitFor(fmt.Sprintf("%s listed with %d tracks", stream, tracks),
		fmt.Sprintf(`document.querySelectorAll(%q).length >= %d`, card(stream)+" .tracks li", tracks), 20*time.Second)
	b.click(card(stream) + fmt.Sprintf(` button[data-play=%q]`, kind))
	start := time.Now()
	var first playerState
	for {
		first = b.player(stream)
		if first.State == "playing" && first.Time > 0 {
			break
		}
		if first.State == "error" || time.Since(start) > 30*time.Second {
			b.t.Fatalf("%s via %s: not playing after %v: %+v", stream, kind, time.Since(start).Round(time.Millisecond), first)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.t.Logf("%s via %s: playing %v after the click, at %.2f s", stream, kind, time.Since(start).Round(time.Millisecond), first.Time)
	t0 := time.Now()
	for {
		s := b.player(stream)
		if s.State == "error" {
			b.t.Fatalf("%s via %s: %+v", stream, kind, s)
		}
		if s.Time >= first.Time+3 {
			b.t.Logf("%s via %s: currentTime %.2f s -> %.2f s in %v (%q)", stream, kind, first.Time, s.Time, time.Since(t0).Round(time.Millisecond), s.Text)
			return
		}
		if time.Since(t0) > 20*time.Second {
			b.t.Fatalf("%s via %s: currentTime %.2f s -> %.2f s in %v, want +3 s", stream, kind, first.Time, s.Time, time.Since(t0).Round(time.Millisecond))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// screenshot saves the page as a PNG in the test's artifacts and logs
// the path.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("chromium: screenshot: %v", err)
	}
	path := filepath.Join(interop.Artifacts(b.t), name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("screenshot: %s (%d bytes)", path, len(png))
}

// publishFile publishes a file over RTMP in real time with FFmpeg, looped
// (loop -1) or not (0); args go before the output (-rtmp_enhanced_codecs).
func publishFile(t *testing.T, ffmpeg interop.Tool, file string, loop int, url string, args ...string) *interop.Process {
	t.Helper()
	a := append(strings.Fields(fmt.Sprintf("-hide_banner -loglevel error -re -stream_loop %d -i %s -c copy", loop, file)), args...)
	p := interop.Start(t, ffmpeg, append(a, "-f", "flv", url)...)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("%s publishing %s: %s", ffmpeg.Name, file, p.Output)
		}
	})
	return p
}

// In headless Chromium, the status page lists an H.264/AAC stream that
// FFmpeg 5.1 publishes and plays it with mpegts.js over HTTP-FLV, then
// over WebSocket-FLV: each time the video plays and its currentTime
// advances by 3 s. The page shows the stream's tracks, both supported, and
// the player among the stream's players.
func TestBrowserFLVH264AAC(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	r := start(t, testConfig(t, ""), Options{})
	src := filepath.Join(t.TempDir(), "h264_aac.flv")
	interop.H264AAC(t, ffmpeg, src, 4)
	publishFile(t, ffmpeg, src, -1, r.url("live/cam"))

	b := openPage(t, r)
	b.play("live/cam", "flv", 2)
	text := eval[string](b, `document.querySelector('`+card("live/cam")+`').innerText`)
	for _, want := range []string{"video 0: H.264 (avc1) ✓", "audio 0: AAC (mp4a) ✓", "live"} {
		if !strings.Contains(text, want) {
			t.Errorf("the card lacks %q:\n%s", want, text)
		}
	}
	b.waitFor("the HTTP-FLV viewer listed", `document.querySelector('`+card("live/cam")+` .viewers').textContent.includes('http-flv')`, 10*time.Second)
	b.screenshot("h264_aac_http_flv")

	b.play("live/cam", "wsflv", 2)
	b.waitFor("the WebSocket-FLV viewer listed", `document.querySelector('`+card("live/cam")+` .viewers').textContent.includes('ws-flv')`, 10*time.Second)
}

// AV1 video and Opus audio (FFmpeg 9, Enhanced RTMP): mpegts.js plays them
// over HTTP-FLV with ?enhanced=1, and currentTime advances by 3 s.
func TestBrowserFLVAV1Opus(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	r := start(t, testConfig(t, ""), Options{})
	// 30 s, played once: FFmpeg 9 fails to loop this FLV file (EPERM on
	// the seek back). Low-delay prediction, as for live streaming.
	src := filepath.Join(t.TempDir(), "av1_opus.flv")
	interop.Run(t, 2*time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -y "+
		"-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 30 "+
		"-c:v libaom-av1 -usage realtime -cpu-used 8 -g 25 -pix_fmt yuv420p -c:a libopus -b:a 64k "+src)...)
	publishFile(t, ff9, src, 0, r.url("live/av1"), "-rtmp_enhanced_codecs", "av01,Opus")

	b := openPage(t, r)
	b.play("live/av1", "flv", 2)
	text := eval[string](b, `document.querySelector('`+card("live/av1")+`').innerText`)
	for _, want := range []string{"video 0: AV1 (av01) ✓", "audio 0: Opus (Opus) ✓"} {
		if !strings.Contains(text, want) {
			t.Errorf("the card lacks %q:\n%s", want, text)
		}
	}
	b.screenshot("av1_opus_http_flv")
}

// HEVC video (FFmpeg 7.1) and AC-3 audio (FFmpeg 9), which Debian's
// Chromium does not decode through MSE: the page says so on each stream's
// card, and a click on a player says it cannot play instead of failing
// silently.
func TestBrowserUnsupportedCodecs(t *testing.T) {
	ff7, ff9 := interop.FFmpeg7(t, "ffmpeg"), interop.FFmpeg9(t, "ffmpeg")
	root := interop.ModuleRoot(t)
	r := start(t, testConfig(t, ""), Options{})
	publishFile(t, ff7, filepath.Join(root, "testdata/ffmpeg/hevc.flv"), -1, r.url("live/hevc"), "-rtmp_enhanced_codecs", "hvc1")
	publishFile(t, ff9, filepath.Join(root, "testdata/ffmpeg/ac3.flv"), -1, r.url("live/ac3"), "-rtmp_enhanced_codecs", "ac-3")

	b := openPage(t, r)
	for _, c := range []struct{ stream, says string }{
		{"live/hevc", "HEVC (hvc1) is not supported by this browser"},
		{"live/ac3", "AC-3 (ac-3) is not supported by this browser"},
	} {
		b.waitFor(c.stream+" saying "+c.says, fmt.Sprintf(`(document.querySelector(%q)?.innerText || '').includes(%q)`, card(c.stream)+" .support", c.says), 20*time.Second)
		for _, kind := range []string{"flv", "hls"} {
			b.click(card(c.stream) + fmt.Sprintf(` button[data-play=%q]`, kind))
			s := b.player(c.stream)
			if s.State != "error" || !strings.Contains(s.Text, "cannot play: "+c.says) {
				t.Errorf("%s via %s: %+v, want an error saying %q", c.stream, kind, s, c.says)
			}
		}
	}
	b.screenshot("unsupported")
}

// In headless Chromium, the status page plays an H.264/AAC stream that
// FFmpeg 5.1 publishes with hls.js (LL-HLS, /APP/STREAM/index.m3u8): the
// video plays and its currentTime advances by 3 s; the HLS viewer shows
// among the stream's players.
func TestBrowserHLSH264AAC(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	r := start(t, testConfig(t, ""), Options{})
	src := filepath.Join(t.TempDir(), "h264_aac.flv")
	interop.H264AAC(t, ffmpeg, src, 4)
	publishFile(t, ffmpeg, src, -1, r.url("live/cam"))

	b := openPage(t, r)
	b.play("live/cam", "hls", 2)
	b.waitFor("the HLS viewer listed", `document.querySelector('`+card("live/cam")+` .viewers').textContent.includes('hls')`, 10*time.Second)
	b.screenshot("h264_aac_hls")
}

// AV1 video and Opus audio (FFmpeg 9, Enhanced RTMP) and VP9 video with
// Opus audio: hls.js plays them from fMP4, and currentTime advances by 3 s.
func TestBrowserHLSAV1VP9Opus(t *testing.T) {
	ff9 := interop.FFmpeg9(t, "ffmpeg")
	r := start(t, testConfig(t, ""), Options{})
	dir := t.TempDir()
	codecs := []struct{ name, video, fourcc string }{
		{"av1", "-c:v libaom-av1 -usage realtime -cpu-used 8", "av01"},
		{"vp9", "-c:v libvpx-vp9 -deadline realtime -cpu-used 8", "vp09"},
	}
	// 40 s each, played once (FFmpeg 9 fails to loop these FLV files),
	// both made before either is published.
	for _, c := range codecs {
		interop.Run(t, 2*time.Minute, ff9, strings.Fields("-hide_banner -loglevel error -y "+
			"-f lavfi -i testsrc2=size=320x180:rate=25 -f lavfi -i sine=frequency=440:sample_rate=48000 -t 40 "+
			c.video+" -g 25 -pix_fmt yuv420p -c:a libopus -b:a 64k "+filepath.Join(dir, c.name+".flv"))...)
	}
	for _, c := range codecs {
		publishFile(t, ff9, filepath.Join(dir, c.name+".flv"), 0, r.url("live/"+c.name), "-rtmp_enhanced_codecs", c.fourcc+",Opus")
	}
	b := openPage(t, r)
	b.play("live/av1", "hls", 2)
	b.play("live/vp9", "hls", 2)
	b.screenshot("av1_vp9_opus_hls")
}

// With an API token, the page asks for it: a wrong one is refused, the
// right one lists the stream (a library publisher's H.264 and AAC). The
// stream's name is its publish key, which the API hides: the page lists
// it and says its players cannot play it.
func TestBrowserToken(t *testing.T) {
	r := start(t, testConfig(t, "api_token: tok-1\napps:\n  live:\n    publish_keys: [s3cret]\n"), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pub, err := rtmp.DialPublish(ctx, r.url("live/s3cret"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	if err := pub.WritePackets(mediaPackets()[:2]...); err != nil {
		t.Fatal(err)
	}

	b := openPage(t, r)
	b.waitFor("the token form", `!document.getElementById('auth').hidden && document.getElementById('banner').textContent.includes('wants a bearer token')`, 10*time.Second)
	for _, c := range []struct{ token, then string }{
		{"wrong", `document.getElementById('banner').textContent.includes('The token was refused')`},
		{"tok-1", `!!document.querySelector('` + card("live/[redacted]") + `') && document.getElementById('auth').hidden`},
	} {
		if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS("#token"), c.token), chromedp.Click(chromedp.CSS(`#auth button`))); err != nil {
			t.Fatalf("chromium: token form: %v", err)
		}
		b.waitFor("the page after token "+c.token, c.then, 10*time.Second)
	}
	b.waitFor("the stream's tracks", `document.querySelector('`+card("live/[redacted]")+`').innerText.includes('video 0: H.264 (avc1) ✓')`, 10*time.Second)
	if text := eval[string](b, `document.body.innerText`); strings.Contains(text, "s3cret") {
		t.Errorf("the page shows the key:\n%s", text)
	}
	b.click(card("live/[redacted]") + ` button[data-play="flv"]`)
	if s := b.player("live/[redacted]"); s.State != "error" || !strings.Contains(s.Text, "secret key") {
		t.Errorf("playing a hidden stream name: %+v", s)
	}
}
