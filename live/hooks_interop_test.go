package live_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/internal/interop"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// hookCalls records what a hub's hooks were asked and told.
type hookCalls struct {
	ends
	mu         sync.Mutex
	connects   []live.Session
	authorized []live.Session
	starts     []live.Session
}

func (h *hookCalls) add(to *[]live.Session, s *live.Session) {
	h.mu.Lock()
	*to = append(*to, *s)
	h.mu.Unlock()
}

// started returns the sessions of kind k that Start reported for key.
func (h *hookCalls) started(k rtmp.Kind, key live.Key) []live.Session {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []live.Session
	for _, s := range h.starts {
		if s.Kind == k && s.Key == key {
			out = append(out, s)
		}
	}
	return out
}

// endsOf returns the ends of the sessions of kind k that asked for stream.
func (h *hookCalls) endsOf(k rtmp.Kind, stream string) []ended {
	var out []ended
	for _, x := range h.of("rtmp", k) {
		if x.s.Stream == stream {
			out = append(out, x)
		}
	}
	return out
}

// The hub's lifecycle hooks with real FFmpeg publishers and players:
// allowed sessions; refusals by Connect and Authorize, whose descriptions
// FFmpeg prints; a publish that Authorize renames; and a rejected second
// publisher, which Start never reports and End reports as rejected with
// ErrStreamBusy.
func TestInteropHooks(t *testing.T) {
	ffmpeg := interop.FFmpeg(t)
	src := filepath.Join(interop.ModuleRoot(t), "testdata/ffmpeg/h264_aac.flv")
	const (
		closedText  = "closed for maintenance until noon"
		publishText = "no publishing to forbidden, sorry"
		playText    = "private stream: ask its owner"
	)
	var calls hookCalls
	hub := live.NewHub(live.Config{PlayWait: 10 * time.Second, Logger: logTo(t), Hooks: live.Hooks{
		Connect: func(_ context.Context, s *live.Session) error {
			calls.add(&calls.connects, s)
			if s.App == "closed" {
				return live.Deny(closedText)
			}
			return nil
		},
		Authorize: func(_ context.Context, s *live.Session) (string, error) {
			calls.add(&calls.authorized, s)
			switch {
			case s.Kind == rtmp.KindPublish && s.Stream == "forbidden":
				return "", live.Deny(publishText)
			case s.Kind == rtmp.KindPlay && s.Stream == "private":
				return "", live.Deny(playText)
			case s.Kind == rtmp.KindPublish && s.Stream == "a":
				return "b", nil // nginx-rtmp's on_publish redirect
			}
			return "", nil
		},
		Start: func(s *live.Session) { calls.add(&calls.starts, s) },
		End:   calls.hook,
	}})
	addr := serveRTMP(t, hub)
	base := "rtmp://" + addr + "/"
	dir := t.TempDir()

	// relay plays key with FFmpeg, waiting for it, publishes src to
	// pubPath with FFmpeg in real time, and checks that the player saved
	// exactly the source's packets.
	relay := func(t *testing.T, key live.Key, pubPath string) {
		t.Helper()
		out := filepath.Join(dir, key.Name+".flv")
		pl := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -i "+base+key.String()+" -map 0:v -map 0:a -c copy -f flv "+out)...)
		waitStream(t, hub, key, func(si live.StreamInfo) bool { return si.Subscribers == 1 })
		interop.Run(t, 20*time.Second, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv "+base+pubPath)...)
		if err := pl.Wait(10 * time.Second); err != nil {
			t.Fatalf("player: %v\n%s", err, pl.Output)
		}
		interop.SameHashes(t, ffmpeg, src, out)
		t.Logf("%s: the player's %d packets hash equal to the source's", key, len(interop.WithData(interop.FrameMD5(t, ffmpeg, out))))
		eventually(t, "both sessions of "+key.String()+" ended", func() bool {
			n := 0
			for _, x := range calls.of("rtmp", rtmp.KindPublish) {
				n += b2i(x.s.Key == key)
			}
			for _, x := range calls.of("rtmp", rtmp.KindPlay) {
				n += b2i(x.s.Key == key)
			}
			return n == 2
		})
	}
	// refused runs FFmpeg, which must fail and print text.
	refused := func(t *testing.T, text string, args string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, err := ffmpeg.Command(ctx, strings.Fields("-hide_banner -loglevel error "+args)...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "Server error: "+text) {
			t.Errorf("ffmpeg %s: %v, want a failure that says %q:\n%s", args, err, text, out)
		}
	}

	t.Run("allowed", func(t *testing.T) {
		key := live.Key{App: "live", Name: "ok"}
		relay(t, key, "live/ok")
		if p, s := calls.started(rtmp.KindPublish, key), calls.started(rtmp.KindPlay, key); len(p) != 1 || len(s) != 1 {
			t.Fatalf("Start: %d publishes and %d plays of %v, want 1 and 1", len(p), len(s), key)
		}
		for _, k := range []rtmp.Kind{rtmp.KindPublish, rtmp.KindPlay} {
			e := calls.endsOf(k, "ok")
			if len(e) != 1 || e[0].e.Reason != live.ReasonClientClosed || e[0].e.Packets == 0 || e[0].e.BytesIn == 0 || e[0].e.BytesOut == 0 {
				t.Errorf("End of the %v session: %+v", k, e)
			}
		}
		calls.mu.Lock()
		defer calls.mu.Unlock()
		for _, s := range calls.authorized {
			if s.Protocol != "rtmp" || s.RemoteAddr == "" || !strings.HasPrefix(s.TcURL, "rtmp://127.0.0.1") || s.FlashVer == "" || s.Request == nil {
				t.Errorf("Authorize got %+v", s)
			}
		}
		if len(calls.connects) != 2 || calls.connects[0].App != "live" || calls.connects[0].Kind != 0 {
			t.Errorf("Connect got %+v, want two connects to live", calls.connects)
		}
	})

	t.Run("refused", func(t *testing.T) {
		refused(t, publishText, "-i "+src+" -c copy -f flv "+base+"live/forbidden")
		refused(t, playText, "-i "+base+"live/private -c copy -f flv -y "+filepath.Join(dir, "private.flv"))
		refused(t, closedText, "-i "+base+"closed/x -c copy -f flv -y "+filepath.Join(dir, "closed.flv"))
		refused(t, closedText, "-i "+src+" -c copy -f flv "+base+"closed/y")
		for _, c := range []struct {
			k      rtmp.Kind
			stream string
		}{{rtmp.KindPublish, "forbidden"}, {rtmp.KindPlay, "private"}} {
			e := calls.endsOf(c.k, c.stream)
			var d *live.DeniedError
			if len(e) != 1 || e[0].e.Reason != live.ReasonRejected || !errors.As(e[0].e.Err, &d) || !errors.Is(e[0].e.Err, live.ErrDenied) {
				t.Errorf("End of the refused %v of %s: %+v", c.k, c.stream, e)
			}
			if s := calls.started(c.k, live.Key{App: "live", Name: c.stream}); len(s) != 0 {
				t.Errorf("Start reported the refused %v of %s", c.k, c.stream)
			}
		}
		for _, x := range calls.of("rtmp", 0) {
			t.Errorf("a refused connect reached the hub as a session: %+v", x.s)
		}
		calls.mu.Lock()
		closed := 0
		for _, s := range calls.connects {
			closed += b2i(s.App == "closed")
		}
		for _, s := range calls.authorized {
			if s.App == "closed" {
				t.Errorf("Authorize was asked about a refused connection: %+v", s)
			}
		}
		calls.mu.Unlock()
		if closed != 2 {
			t.Errorf("Connect was asked about %d connects to closed, want 2", closed)
		}
	})

	t.Run("renamed", func(t *testing.T) {
		// The publisher asks for live/a; Authorize maps it to live/b.
		relay(t, live.Key{App: "live", Name: "b"}, "live/a")
		p := calls.started(rtmp.KindPublish, live.Key{App: "live", Name: "b"})
		if len(p) != 1 || p[0].Stream != "a" {
			t.Fatalf("Start of the renamed publish: %+v", p)
		}
		if e := calls.endsOf(rtmp.KindPublish, "a"); len(e) != 1 || e[0].s.Key.Name != "b" || e[0].e.Reason != live.ReasonClientClosed {
			t.Errorf("End of the renamed publish: %+v", e)
		}
	})

	t.Run("duplicate", func(t *testing.T) {
		key := live.Key{App: "live", Name: "dup"}
		first := interop.Start(t, ffmpeg, strings.Fields("-hide_banner -loglevel error -re -i "+src+" -c copy -f flv "+base+"live/dup")...)
		waitStream(t, hub, key, func(si live.StreamInfo) bool { return si.Publishing && si.Packets > 0 })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		second, err := rtmp.DialPublish(ctx, base+"live/dup", nil)
		var se *rtmp.StatusError
		if err == nil {
			second.Close()
			t.Fatal("a second publisher of a live key was accepted")
		}
		if !errors.As(err, &se) || se.Code != message.CodePublishBadName {
			t.Errorf("second publisher: %v, want %s", err, message.CodePublishBadName)
		}
		if err := first.Wait(20 * time.Second); err != nil {
			t.Fatalf("first publisher: %v\n%s", err, first.Output)
		}
		eventually(t, "both publishes of dup ended", func() bool { return len(calls.endsOf(rtmp.KindPublish, "dup")) == 2 })
		if p := calls.started(rtmp.KindPublish, key); len(p) != 1 {
			t.Errorf("Start reported %d publishes of %v, want 1 (the duplicate is not started)", len(p), key)
		}
		var busy, done int
		for _, x := range calls.endsOf(rtmp.KindPublish, "dup") {
			switch {
			case x.e.Reason == live.ReasonRejected && errors.Is(x.e.Err, live.ErrStreamBusy):
				busy++
			case x.e.Reason == live.ReasonClientClosed && x.e.Err == nil && x.e.Packets > 0:
				done++
			default:
				t.Errorf("End of a publish of dup: %v (%v)", x.e.Reason, x.e.Err)
			}
		}
		if busy != 1 || done != 1 {
			t.Errorf("End: %d rejected-busy and %d finished publishes of dup, want 1 and 1", busy, done)
		}
	})
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
