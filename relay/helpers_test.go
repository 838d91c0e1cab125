package relay_test

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net"
	"runtime"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/live/livetest"
	"github.com/ertmp/rtmp/message"
)

func logger(t testing.TB) *slog.Logger {
	return livetest.Logger(t)
}

// everything is what ertmp serve advertises in its connect _result: it
// forwards any codec and any number of tracks.
var everything = &rtmp.Capabilities{
	FourCCList:         []string{"*"},
	VideoFourCCInfoMap: map[string]message.FourCCInfoMask{"*": message.FourCCCanForward},
	AudioFourCCInfoMap: map[string]message.FourCCInfoMask{"*": message.FourCCCanForward},
	CapsEx:             message.CapsExMultitrack | message.CapsExModEx | message.CapsExReconnect,
}

// server is a hub served on a loopback port.
type server struct {
	hub  *live.Hub
	srv  *rtmp.Server
	addr string
	done chan error
}

// serve serves hub on addr ("" for a free port) with caps advertised
// (nil: a legacy server); the test's cleanup shuts both down.
func serve(t *testing.T, hub *live.Hub, addr string, caps *rtmp.Capabilities) *server {
	t.Helper()
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for range 50 { // the port of a server just closed may linger
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatal(err)
	}
	s := &server{hub: hub, srv: &rtmp.Server{Handler: hub, Logger: logger(t), Capabilities: caps}, addr: ln.Addr().String(), done: make(chan error, 1)}
	go func() { s.done <- s.srv.Serve(ln) }()
	t.Cleanup(func() { s.stop(t) })
	return s
}

// stop shuts the server down politely (once).
func (s *server) stop(t *testing.T) {
	if s.srv == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s.hub.Shutdown(ctx)
	s.srv.Shutdown(ctx)
	if err := <-s.done; !errors.Is(err, rtmp.ErrServerClosed) {
		t.Errorf("Serve: %v", err)
	}
	s.srv = nil
}

// kill closes the server and its connections at once, like a crash.
func (s *server) kill(t *testing.T) {
	s.srv.Close()
	<-s.done
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	s.hub.Shutdown(ctx)
	s.srv = nil
}

func newHub(t *testing.T, cfg live.Config) *live.Hub {
	if cfg.Logger == nil {
		cfg.Logger = logger(t)
	}
	return live.NewHub(cfg)
}

// noLeaks checks at the end of the test that the goroutines started
// since are gone (registered first: its cleanup runs last).
func noLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > before {
			buf := make([]byte, 1<<20)
			t.Errorf("%d goroutines left:\n%s", n-before, buf[:runtime.Stack(buf, true)])
		}
	})
}

func ctxT(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

func eventually(t *testing.T, what string, within time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v, still not %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// streamInfo returns a hub's view of key.
func streamInfo(hub *live.Hub, key live.Key) (live.StreamInfo, bool) {
	for _, si := range hub.Streams() {
		if si.Key == key {
			return si, true
		}
	}
	return live.StreamInfo{}, false
}

// Synthetic tag bodies: legacy AVC and AAC, and enhanced avc1 and
// hvc1 (Enhanced RTMP v1), each frame carrying its sequence number.
func avcSeq() []byte { return []byte{0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x1f} }
func aacSeq() []byte { return []byte{0xaf, 0, 0x12, 0x10} }
func aacFrame(n uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte{0xaf, 1}, n)
}

func exVideo(t testing.TB, fourcc flv.FourCC, pt flv.VideoPacketType, key bool, data []byte) []byte {
	t.Helper()
	ft := flv.FrameInter
	if key {
		ft = flv.FrameKey
	}
	b, err := (&flv.VideoTag{Enhanced: true, FrameType: ft, PacketType: pt, FourCC: fourcc, Data: data}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// read reads a subscription until n packets came, or fails.
func read(t *testing.T, sub *live.Subscription, n int, within time.Duration) []*live.Packet {
	t.Helper()
	ctx := ctxT(t, within)
	var out []*live.Packet
	for len(out) < n {
		items, err := sub.Read(ctx, nil)
		if err != nil {
			t.Fatalf("after %d of %d packets: %v", len(out), n, err)
		}
		for _, it := range items {
			if it.Packet != nil {
				out = append(out, it.Packet)
			}
		}
	}
	return out
}
