package live

import (
	"context"
	"encoding/binary"
	"errors"
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live/internal/testpeer"
	"github.com/ertmp/rtmp/message"
)

// Synthetic FLV tag bodies (FLV 10.1 §E.4.2.1, §E.4.3.1; Enhanced RTMP v2
// ExVideoTagHeader). The bytes after the header are a marker the tests
// recognise: a sequence number.

func avcSeq() []byte { return []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f} }
func avcFrame(key bool, n uint32) []byte {
	b := []byte{0x27, 1, 0, 0, 0}
	if key {
		b[0] = 0x17
	}
	return binary.BigEndian.AppendUint32(b, n)
}
func aacSeq() []byte { return []byte{0xaf, 0, 0x12, 0x10} }
func aacFrame(n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{0xaf, 1}, n)
}

// enhanced video: single track of fourcc, or a multitrack tag.
func exVideo(t testing.TB, v flv.VideoTag) []byte {
	t.Helper()
	b, err := v.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hevcFrame(t testing.TB, key bool, n uint32) []byte {
	ft := flv.FrameInter
	if key {
		ft = flv.FrameKey
	}
	return exVideo(t, flv.VideoTag{Enhanced: true, FrameType: ft, PacketType: flv.VideoCodedFrames, FourCC: flv.FourCCHEVC, Data: binary.BigEndian.AppendUint32(nil, n)})
}

// endInfo is what the End hook got.
type endInfo struct {
	*Session
	SessionEnd
}

// serverHub serves a Hub on a loopback port. Its cleanup shuts both down
// and checks that no goroutine is left.
type serverHub struct {
	hub  *Hub
	srv  *rtmp.Server
	addr string
	ends chan endInfo
}

func startHub(t *testing.T, cfg Config) *serverHub {
	t.Helper()
	return startHubServer(t, cfg, &rtmp.Server{})
}

// startHubServer is startHub with server settings (timeouts).
func startHubServer(t *testing.T, cfg Config, srv *rtmp.Server) *serverHub {
	t.Helper()
	before := runtime.NumGoroutine()
	sh := &serverHub{ends: make(chan endInfo, 256)}
	user := cfg.Hooks.End
	cfg.Hooks.End = func(s *Session, e SessionEnd) {
		if user != nil {
			user(s, e)
		}
		select {
		case sh.ends <- endInfo{s, e}:
		default:
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	sh.hub = NewHub(cfg)
	sh.srv = srv
	srv.Handler, srv.Logger = sh.hub, cfg.Logger
	srv.Capabilities = &rtmp.Capabilities{FourCCList: []string{"*"}, CapsEx: message.CapsExMultitrack}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sh.addr = ln.Addr().String()
	served := make(chan error, 1)
	go func() { served <- sh.srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := sh.hub.Shutdown(ctx); err != nil {
			t.Errorf("hub shutdown: %v", err)
		}
		if err := sh.srv.Shutdown(ctx); err != nil {
			t.Errorf("server shutdown: %v", err)
		}
		if err := <-served; !errors.Is(err, rtmp.ErrServerClosed) {
			t.Errorf("Serve: %v", err)
		}
		checkGoroutines(t, before)
	})
	return sh
}

// checkGoroutines waits (bounded) for the goroutine count to fall back.
func checkGoroutines(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		buf := make([]byte, 1<<20)
		t.Errorf("%d goroutines before, %d after shutdown:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// waitEnd waits for the end of a session matching pred.
func (sh *serverHub) waitEnd(t *testing.T, within time.Duration, pred func(endInfo) bool) endInfo {
	t.Helper()
	timer := time.NewTimer(within)
	defer timer.Stop()
	for {
		select {
		case si := <-sh.ends:
			if pred(si) {
				return si
			}
		case <-timer.C:
			t.Fatalf("no matching session end within %v", within)
		}
	}
}

// waitStream waits until the hub reports the stream with pred true.
func (sh *serverHub) waitStream(t *testing.T, name string, pred func(StreamInfo) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, si := range sh.hub.Streams() {
			if si.Name == name && pred(si) {
				return
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("stream %q never reached the expected state: %+v", name, sh.hub.Streams())
}

func dial(t *testing.T, addr string) *testpeer.Peer {
	t.Helper()
	p, err := testpeer.Dial(addr, 5*time.Second, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	p.NC.SetDeadline(time.Now().Add(30 * time.Second))
	return p
}

// publisher connects and publishes app/name, failing the test unless the
// server answers Publish.Start.
func publishPeer(t *testing.T, addr, app, name string) *testpeer.Peer {
	t.Helper()
	p := dial(t, addr)
	if err := p.Connect(app, nil); err != nil {
		t.Fatal(err)
	}
	code, err := p.Publish(name)
	if err != nil {
		t.Fatal(err)
	}
	if code != message.CodePublishStart {
		t.Fatalf("publish answered %q", code)
	}
	return p
}

// playPeer connects with the given capabilities and plays app/name; it
// returns once the server answered Play.Start (or fails).
func playPeer(t *testing.T, addr, app, name string, caps *rtmp.Capabilities) *testpeer.Peer {
	t.Helper()
	p := dial(t, addr)
	var extra amf0.Object
	if caps != nil {
		extra = caps.AppendTo(nil)
	}
	if err := p.Connect(app, extra); err != nil {
		t.Fatal(err)
	}
	if err := p.Play(name); err != nil {
		t.Fatal(err)
	}
	for {
		m, err := p.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		switch code := m.Status(); code {
		case "", message.CodePlayReset:
		case message.CodePlayStart:
			return p
		default:
			t.Fatalf("play answered %q", code)
		}
	}
}

// media reads until n audio/video messages arrived (other messages are
// returned in ctl), or a status in stop arrives.
func readMedia(t *testing.T, p *testpeer.Peer, n int, stop ...string) (media []testpeer.Msg, status string) {
	t.Helper()
	for len(media) < n {
		m, err := p.ReadMessage()
		if err != nil {
			t.Fatalf("after %d media messages: %v", len(media), err)
		}
		switch m.Type {
		case message.TypeAudio, message.TypeVideo:
			media = append(media, m)
		}
		if code := m.Status(); code != "" {
			for _, s := range stop {
				if s == code {
					return media, code
				}
			}
		}
	}
	return media, ""
}

// testLogger logs to the test's log.
func testLogger(t *testing.T) *slogLogger { return newTestLogger(t) }

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

type testpeerPeer = testpeer.Peer
