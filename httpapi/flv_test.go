package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/httpapi"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// ended records the sessions that ended (Hooks.End).
type ended struct {
	mu   sync.Mutex
	list []endOf
}

type endOf struct {
	s *live.Session
	e live.SessionEnd
}

func (r *ended) hook(s *live.Session, e live.SessionEnd) {
	r.mu.Lock()
	r.list = append(r.list, endOf{s, e})
	r.mu.Unlock()
}

// of returns the end of the play session of protocol from addr, if any.
func (r *ended) of(protocol, addr string) (live.SessionEnd, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.list {
		if x.s.Kind == rtmp.KindPlay && x.s.Protocol == protocol && (addr == "" || x.s.RemoteAddr == addr) {
			return x.e, true
		}
	}
	return live.SessionEnd{}, false
}

// flvServer is the FLV handler (under httpapi.Root) of a hub served as
// start serves it, on a web server of its own.
type flvServer struct {
	*server
	web  string // http://host:port
	ends *ended
}

func startFLV(t *testing.T, cfg live.Config) *flvServer {
	t.Helper()
	ends := &ended{}
	cfg.Hooks = live.JoinHooks(cfg.Hooks, live.Hooks{End: ends.hook})
	if cfg.RepublishGrace == 0 {
		cfg.RepublishGrace = -1 // viewers leave with the publisher
	}
	s := start(t, httpapi.Options{}, cfg)
	web := httptest.NewServer(&httpapi.Root{FLV: httpapi.NewFLV(s.hub, httpapi.FLVOptions{Logger: logTo(t)})})
	t.Cleanup(func() { // before start's: no viewer is left
		web.CloseClientConnections()
		web.Close()
	})
	return &flvServer{server: s, web: web.URL, ends: ends}
}

// source publishes packets to the hub directly.
type source struct {
	t    *testing.T
	pub  *live.Publication
	sent []rtmp.Packet // media packets, in order
}

func newSource(t *testing.T, hub *live.Hub, key live.Key) *source {
	t.Helper()
	pub, err := hub.Publish(testCtx(t), key, live.PublishOptions{Session: &live.Session{Protocol: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	return &source{t: t, pub: pub}
}

func (s *source) write(typ message.Type, ts uint32, payload []byte) {
	s.t.Helper()
	p := rtmp.Packet{Type: typ, Timestamp: ts, Payload: payload}
	if err := s.pub.Write(p); err != nil {
		s.t.Fatal(err)
	}
	if typ != message.TypeDataAMF0 {
		s.sent = append(s.sent, p)
	}
}

func metadata() []byte {
	b, _ := message.NewSetDataFrame(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 320.0})).AppendPayload(nil)
	return b
}

// gop publishes metadata, the sequence headers and a GOP start.
func (s *source) start() {
	s.write(message.TypeDataAMF0, 0, metadata())
	s.write(message.TypeVideo, 0, avcSeq())
	s.write(message.TypeAudio, 0, aacSeq())
	s.write(message.TypeVideo, 0, avcFrame(true, 300))
	s.write(message.TypeAudio, 0, aacFrame(50))
}

// more publishes n frames of video and audio after the start.
func (s *source) more(n int) {
	for i := 1; i <= n; i++ {
		s.write(message.TypeVideo, uint32(40*i), avcFrame(i%10 == 0, 300+i))
		s.write(message.TypeAudio, uint32(40*i), aacFrame(50+i))
	}
}

// sameMedia checks that tags, after an onMetaData tag, are the media
// packets sent, in order and byte for byte.
func sameMedia(t *testing.T, tags []flv.Tag, sent []rtmp.Packet) {
	t.Helper()
	if len(tags) == 0 || tags[0].Type != flv.TagScript {
		t.Fatalf("%d tags, the first not onMetaData", len(tags))
	}
	if d, err := flv.ParseScript(tags[0].Data); err != nil || d.Name != "onMetaData" {
		t.Errorf("first tag: %v %v, want onMetaData", d.Name, err)
	}
	tags = tags[1:]
	if len(tags) != len(sent) {
		t.Fatalf("%d media tags, %d packets sent", len(tags), len(sent))
	}
	for i, p := range sent {
		g := tags[i]
		if uint8(g.Type) != uint8(p.Type) || g.Timestamp != p.Timestamp || !bytes.Equal(g.Data, p.Payload) {
			t.Fatalf("tag %d: %v at %d ms, %d bytes; sent %v at %d ms, %d bytes", i, g.Type, g.Timestamp, len(g.Data), p.Type, p.Timestamp, len(p.Payload))
		}
	}
}

// readFLV reads a whole FLV stream.
func readFLV(t *testing.T, r io.Reader) (flv.Header, []flv.Tag) {
	t.Helper()
	fr := flv.NewReader(r)
	h, err := fr.ReadHeader()
	if err != nil {
		t.Fatalf("FLV header: %v", err)
	}
	var tags []flv.Tag
	for {
		tag, err := fr.ReadTag()
		if err == io.EOF {
			return h, tags
		}
		if err != nil {
			t.Fatalf("after %d tags: %v", len(tags), err)
		}
		tag.Data = bytes.Clone(tag.Data)
		tags = append(tags, tag)
	}
}

// HTTP-FLV from a stream under an app with a slash: the viewer that
// joins after the GOP start gets the metadata, the sequence headers, the
// GOP and the live packets as they were published, with the CORS header,
// and its file ends with the stream.
func TestFLVHTTP(t *testing.T) {
	s := startFLV(t, live.Config{})
	src := newSource(t, s.hub, live.Key{App: "live/inst", Name: "cam"})
	src.start()
	resp, err := http.Get(s.web + "/live/inst/cam.flv") // returns once subscribed
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	src.more(30)
	src.pub.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/x-flv" || resp.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("%s, Content-Type %q, Access-Control-Allow-Origin %q", resp.Status, resp.Header.Get("Content-Type"), resp.Header.Get("Access-Control-Allow-Origin"))
	}
	h, tags := readFLV(t, resp.Body)
	if !h.HasAudio() || !h.HasVideo() {
		t.Errorf("header flags %#x, want audio and video", h.Flags)
	}
	sameMedia(t, tags, src.sent)
	eventually(t, "the viewer's end", func() bool { _, ok := s.ends.of("http-flv", ""); return ok })
	e, _ := s.ends.of("http-flv", "")
	if e.Reason != live.ReasonPublisherGone || e.Packets != uint64(len(tags)) || e.BytesOut == 0 {
		t.Errorf("viewer end: %v, %d packets, %d bytes out; want publisher gone, %d packets", e.Reason, e.Packets, e.BytesOut, len(tags))
	}
	t.Logf("%d tags (%d media packets as sent), %d bytes; ended: %v", len(tags), len(src.sent), e.BytesOut, e.Reason)
}

// The answers that are not a stream: CORS preflight, 405, 404 for no
// publisher within the wait and for paths that are not a stream, 503
// once the hub shuts down.
func TestFLVErrors(t *testing.T) {
	s := startFLV(t, live.Config{PlayWait: 100 * time.Millisecond})
	req, _ := http.NewRequest(http.MethodOptions, s.web+"/live/cam.flv", nil)
	req.Header.Set("Origin", "https://example.com")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "*" ||
		!strings.Contains(resp.Header.Get("Access-Control-Allow-Methods"), "GET") || resp.Header.Get("Access-Control-Allow-Headers") != "range" {
		t.Errorf("preflight: %s %v", resp.Status, resp.Header)
	}
	for _, c := range []struct {
		method, path string
		code         int
	}{
		{"POST", "/live/cam.flv", 405},
		{"GET", "/live/none.flv", 404},
		{"GET", "/cam.flv", 404},
		{"GET", "/live/.flv", 404},
		{"GET", "/live/cam.mp4", 404},
		{"GET", "/", 404},
	} {
		req, _ := http.NewRequest(c.method, s.web+c.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.code {
			t.Errorf("%s %s: %s, want %d", c.method, c.path, resp.Status, c.code)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := s.hub.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	resp, err = http.Get(s.web + "/live/cam.flv")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("after shutdown: %s, want 503", resp.Status)
	}
}

// WebSocket-FLV: the FLV header alone in the first binary message, then
// messages of whole tags, the packets as published; the server closes
// with 1000 "publisher gone" when the stream ends.
func TestFLVWebSocket(t *testing.T) {
	s := startFLV(t, live.Config{})
	src := newSource(t, s.hub, live.Key{App: "live", Name: "cam"})
	src.start()
	ctx := testCtx(t)
	c, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(s.web, "http")+"/live/cam.flv", &websocket.DialOptions{
		HTTPHeader: http.Header{"Origin": {"https://player.example"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	c.SetReadLimit(16 << 20)
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("%s", resp.Status)
	}
	src.more(30)
	src.pub.Close()
	var all bytes.Buffer
	var messages int
	for {
		typ, b, err := c.Read(ctx)
		if err != nil {
			if st := websocket.CloseStatus(err); st != websocket.StatusNormalClosure {
				t.Fatalf("after %d messages: %v, want a normal closure", messages, err)
			}
			var ce websocket.CloseError
			if errors.As(err, &ce) && ce.Reason != "publisher gone" {
				t.Errorf("close reason %q", ce.Reason)
			}
			break
		}
		if typ != websocket.MessageBinary {
			t.Fatalf("message %d: %v", messages, typ)
		}
		if messages == 0 {
			if len(b) != 13 || string(b[:3]) != "FLV" {
				t.Fatalf("first message: % x, want the FLV header alone", b)
			}
		} else if _, tags := readFLV(t, io.MultiReader(bytes.NewReader(all.Bytes()[:13]), bytes.NewReader(b))); len(tags) == 0 {
			t.Fatalf("message %d holds no whole tag", messages)
		}
		all.Write(b)
		messages++
	}
	size := all.Len()
	_, tags := readFLV(t, &all)
	sameMedia(t, tags, src.sent)
	eventually(t, "the viewer's end", func() bool { _, ok := s.ends.of("ws-flv", ""); return ok })
	t.Logf("%d messages, %d tags, %d bytes", messages, len(tags), size)
}

// Enhanced RTMP (HEVC, enhanced tags) goes to a viewer that asks with
// ?enhanced=1, byte for byte; a legacy viewer gets the AAC audio only.
func TestFLVEnhanced(t *testing.T) {
	s := startFLV(t, live.Config{})
	src := newSource(t, s.hub, live.Key{App: "live", Name: "hevc"})
	hvc1 := func(b0 byte, body ...byte) []byte { return append([]byte{b0, 'h', 'v', 'c', '1'}, body...) }
	// FrameType 1 (key) and PacketType SequenceStart, then CodedFramesX
	// (Enhanced RTMP v1, ExVideoTagHeader).
	src.write(message.TypeDataAMF0, 0, metadata())
	src.write(message.TypeVideo, 0, hvc1(0x90, 1, 1, 0x60, 0, 0, 0, 0x90, 0, 0, 0, 0, 0, 0x5d, 0xf0, 0, 0xfc, 0xfd, 0xf8, 0xf8, 0, 0, 0x0f, 0))
	src.write(message.TypeAudio, 0, aacSeq())
	src.write(message.TypeVideo, 0, hvc1(0x93, 0, 0, 0, 4, 0x26, 1, 0xaf, 0x08))
	src.write(message.TypeAudio, 0, aacFrame(40))

	get := func(query string) *http.Response {
		resp, err := http.Get(s.web + "/live/hevc.flv" + query)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}
	enhanced, legacy := get("?enhanced=1"), get("")
	for i := 1; i <= 5; i++ {
		src.write(message.TypeVideo, uint32(40*i), hvc1(0xa3, 0, 0, 0, 4, 2, 1, 0xd0, byte(i)))
		src.write(message.TypeAudio, uint32(40*i), aacFrame(40+i))
	}
	src.pub.Close()
	_, tags := readFLV(t, enhanced.Body)
	sameMedia(t, tags, src.sent)
	_, ltags := readFLV(t, legacy.Body)
	var audio []rtmp.Packet
	for _, p := range src.sent {
		if p.Type == message.TypeAudio {
			audio = append(audio, p)
		}
	}
	sameMedia(t, ltags, audio)
	t.Logf("enhanced viewer: %d tags; legacy viewer: %d tags (audio only)", len(tags), len(ltags))
}

// A viewer that never reads is closed as a slow consumer (small queue
// bounds) while another viewer of the stream gets every packet, none
// dropped.
func TestFLVSlowViewer(t *testing.T) {
	s := startFLV(t, live.Config{QueueMaxBytes: 256 << 10, QueueMaxDelay: time.Second, SlowConsumerTimeout: 200 * time.Millisecond})
	src := newSource(t, s.hub, live.Key{App: "live", Name: "cam"})
	src.start()

	slow, err := net.Dial("tcp", strings.TrimPrefix(s.web, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	slow.(*net.TCPConn).SetReadBuffer(4096)
	fmt.Fprintf(slow, "GET /live/cam.flv HTTP/1.1\r\nHost: x\r\n\r\n")
	br := bufio.NewReader(slow)
	if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
		t.Fatalf("slow viewer: %v %v", resp, err)
	}
	// It reads nothing from here on.

	resp, err := http.Get(s.web + "/live/cam.flv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got atomic.Int64
	done := make(chan []flv.Tag, 1)
	go func() {
		fr := flv.NewReader(resp.Body)
		var tags []flv.Tag
		for {
			tag, err := fr.ReadTag()
			if err != nil {
				done <- tags
				return
			}
			tag.Data = nil
			tags = append(tags, tag)
			got.Add(1)
		}
	}()

	slowAddr := slow.LocalAddr().String()
	deadline := time.Now().Add(15 * time.Second)
	var sentBytes int
	for i := 1; ; i++ {
		if _, ok := s.ends.of("http-flv", slowAddr); ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %d frames (%d bytes), the viewer that never reads is still on", i, sentBytes)
		}
		src.write(message.TypeVideo, uint32(4*i), avcFrame(i%50 == 0, 16<<10))
		sentBytes += 16 << 10
		time.Sleep(2 * time.Millisecond)
	}
	src.more(5) // the live packets go on after the slow viewer left
	src.pub.Close()
	tags := <-done
	e, _ := s.ends.of("http-flv", slowAddr)
	if e.Reason != live.ReasonSlowConsumer {
		t.Errorf("the viewer that never reads ended: %v, want slow consumer", e.Reason)
	}
	var other live.SessionEnd
	eventually(t, "the reader's end", func() bool {
		s.ends.mu.Lock()
		defer s.ends.mu.Unlock()
		for _, x := range s.ends.list {
			if x.s.Protocol == "http-flv" && x.s.RemoteAddr != slowAddr {
				other = x.e
				return true
			}
		}
		return false
	})
	if other.Reason != live.ReasonPublisherGone || other.Dropped != 0 || other.Packets != uint64(len(src.sent)+1) || len(tags) != len(src.sent)+1 {
		t.Errorf("the other viewer: %v, %d dropped, %d packets, %d tags; want publisher gone, none dropped, %d packets", other.Reason, other.Dropped, other.Packets, len(tags), len(src.sent))
	}
	t.Logf("slow viewer closed after %v (%d bytes queued at most, %d packets delivered); the other viewer: %d packets, %d dropped, peak queue %d bytes",
		e.Duration.Round(time.Millisecond), e.PeakQueue, e.Packets, other.Packets, other.Dropped, other.PeakQueue)
}

// Over HTTP/2 (no hijacking: the response writer's path) a viewer gets the
// same stream as over HTTP/1.1, and its end is recorded the same way.
func TestFLVHTTP2(t *testing.T) {
	s := startFLV(t, live.Config{})
	web := httptest.NewUnstartedServer(&httpapi.Root{FLV: httpapi.NewFLV(s.hub, httpapi.FLVOptions{Logger: logTo(t)})})
	web.EnableHTTP2 = true
	web.StartTLS()
	t.Cleanup(func() {
		web.CloseClientConnections()
		web.Close()
	})
	src := newSource(t, s.hub, live.Key{App: "live", Name: "h2"})
	src.start()
	resp, err := web.Client().Get(web.URL + "/live/h2.flv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("served over %s, want HTTP/2", resp.Proto)
	}
	src.more(30)
	src.pub.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "video/x-flv" {
		t.Errorf("%s, Content-Type %q", resp.Status, resp.Header.Get("Content-Type"))
	}
	_, tags := readFLV(t, resp.Body)
	sameMedia(t, tags, src.sent)
	eventually(t, "the viewer's end", func() bool { _, ok := s.ends.of("http-flv", ""); return ok })
	if e, _ := s.ends.of("http-flv", ""); e.Reason != live.ReasonPublisherGone || e.Packets != uint64(len(tags)) || e.BytesOut == 0 {
		t.Errorf("viewer end: %v, %d packets, %d bytes out; want publisher gone, %d packets", e.Reason, e.Packets, e.BytesOut, len(tags))
	}
}
