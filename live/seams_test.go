package live

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

// hookLog records the hooks a hub called.
type hookLog struct {
	mu     sync.Mutex
	starts []string
	ends   []endInfo
}

func (l *hookLog) hooks() Hooks {
	return Hooks{
		Start: func(s *Session) {
			l.mu.Lock()
			l.starts = append(l.starts, s.Kind.String()+" "+s.Key.String())
			l.mu.Unlock()
		},
		End: func(s *Session, e SessionEnd) {
			l.mu.Lock()
			l.ends = append(l.ends, endInfo{s, e})
			l.mu.Unlock()
		},
	}
}

func (l *hookLog) snapshot() ([]string, []endInfo) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.starts), slices.Clone(l.ends)
}

func ctx5(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func mustPublish(t *testing.T, h *Hub, k Key, o PublishOptions) *Publication {
	t.Helper()
	p, err := h.Publish(ctx5(t), k, o)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func write(t *testing.T, p *Publication, typ message.Type, ts uint32, body []byte) {
	t.Helper()
	if err := p.Write(rtmp.Packet{Type: typ, Timestamp: ts, Payload: body}); err != nil {
		t.Fatal(err)
	}
}

// readN reads until n packets arrived (notices are returned too).
func readN(t *testing.T, s *Subscription, n int) []Item {
	t.Helper()
	ctx := ctx5(t)
	var out []Item
	packets := 0
	for packets < n {
		items, err := s.Read(ctx, nil)
		if err != nil {
			t.Fatalf("after %d packets: %v", packets, err)
		}
		for _, it := range items {
			if it.Packet != nil {
				packets++
			}
		}
		out = append(out, items...)
	}
	return out
}

func quietHub(t *testing.T, cfg Config) *Hub {
	if cfg.Logger == nil {
		cfg.Logger = testLogger(t)
	}
	h := NewHub(cfg)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		h.Shutdown(ctx)
	})
	return h
}

// A source that is not RTMP publishes through the seam; a subscriber
// that is not RTMP reads from it: headers, GOP, live packets, in order.
func TestSeamPublishSubscribe(t *testing.T) {
	var hl hookLog
	h := quietHub(t, Config{Hooks: hl.hooks()})
	k := Key{"live", "s"}
	pub := mustPublish(t, h, k, PublishOptions{Session: &Session{Protocol: "file"}})
	write(t, pub, message.TypeVideo, 0, avcSeq())
	write(t, pub, message.TypeAudio, 0, aacSeq())
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 1))
	write(t, pub, message.TypeVideo, 40, avcFrame(false, 2))

	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{Session: &Session{Protocol: "test"}})
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeVideo, 80, avcFrame(false, 3))
	items := readN(t, sub, 5)
	var got []string
	for _, it := range items {
		p := it.Packet
		kind := "a"
		switch {
		case p.IsSequenceHeader():
			kind = "c"
		case p.IsKeyFrame():
			kind = "V"
		case p.IsVideo():
			kind = "v"
		}
		got = append(got, kind+itoa(p.Timestamp()))
	}
	if want := []string{"c0", "c0", "V0", "v40", "v80"}; !equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	if c := items[2].Packet.Codec(); c.String() != "avc1" {
		t.Fatalf("codec %v", c)
	}
	si := h.Streams()
	if len(si) != 1 || !si[0].Publishing || si[0].Publisher.Protocol != "file" || si[0].Subscribers != 1 || si[0].Packets != 5 {
		t.Fatalf("streams %+v", si)
	}
	if tr := si[0].Tracks; len(tr) != 2 || tr[0] != (TrackInfo{"video", 0, "avc1"}) || tr[1] != (TrackInfo{"audio", 0, "mp4a"}) {
		t.Fatalf("tracks %+v", tr)
	}
	ss := h.Sessions()
	if len(ss) != 2 || ss[0].ID >= ss[1].ID || ss[0].Kind != "publish" || ss[1].Protocol != "test" || ss[1].Packets != 5 {
		t.Fatalf("sessions %+v", ss)
	}
	sub.Close()
	pub.Close()
	starts, ends := hl.snapshot()
	if !equal(starts, []string{"publish live/s", "play live/s"}) {
		t.Fatalf("starts %v", starts)
	}
	if len(ends) != 2 || ends[0].Reason != ReasonClientClosed || ends[0].Packets != 5 || ends[1].Packets != 5 {
		t.Fatalf("ends %+v", ends)
	}
	if n := len(h.Streams()); n != 0 {
		t.Fatalf("%d streams left", n)
	}
}

// Rejections keep their sentinels; a rejected duplicate is never
// reported as started.
func TestSeamRejections(t *testing.T) {
	var hl hookLog
	h := quietHub(t, Config{Hooks: hl.hooks(), MaxStreams: 1, MaxPlayers: 1, PlayWait: -1})
	k := Key{"live", "a"}
	pub := mustPublish(t, h, k, PublishOptions{})
	if _, err := h.Publish(ctx5(t), k, PublishOptions{}); !errors.Is(err, ErrStreamBusy) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := h.Publish(ctx5(t), Key{"live", "b"}, PublishOptions{}); !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("second stream: %v", err)
	}
	if _, err := h.Publish(ctx5(t), Key{"live", ""}, PublishOptions{}); !errors.Is(err, ErrBadName) {
		t.Fatalf("empty name: %v", err)
	}
	if _, err := h.Subscribe(ctx5(t), Key{"live", "nobody"}, SubscribeOptions{}); !errors.Is(err, ErrStreamNotFound) {
		t.Fatalf("unpublished: %v", err)
	}
	s, err := h.Subscribe(ctx5(t), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.Subscribe(ctx5(t), k, SubscribeOptions{}); !errors.Is(err, ErrTooManyPlayers) {
		t.Fatalf("second player: %v", err)
	}
	starts, ends := hl.snapshot()
	if !equal(starts, []string{"publish live/a", "play live/a"}) {
		t.Fatalf("starts %v (a refused session was reported as started)", starts)
	}
	if len(ends) != 5 || !errors.Is(ends[0].Err, ErrStreamBusy) || ends[0].Reason != ReasonRejected {
		t.Fatalf("ends %+v", ends)
	}
	s.Close()
	pub.Close()
}

// Authorize refuses with a description or renames the stream.
func TestSeamAuthorize(t *testing.T) {
	h := quietHub(t, Config{PlayWait: -1, Hooks: Hooks{Authorize: func(_ context.Context, s *Session) (string, error) {
		switch {
		case s.Stream == "secret" && s.Query.Get("key") != "k":
			return "", Deny("wrong key")
		case s.Stream == "alias":
			return "real", nil
		}
		return "", nil
	}}})
	_, err := h.Publish(ctx5(t), Key{"live", "secret"}, PublishOptions{Session: &Session{Stream: "secret"}})
	var d *DeniedError
	if !errors.As(err, &d) || d.Text != "wrong key" || !errors.Is(err, ErrDenied) {
		t.Fatalf("denied: %v", err)
	}
	pub := mustPublish(t, h, Key{"live", "alias"}, PublishOptions{Session: &Session{Stream: "alias"}})
	if pub.Key() != (Key{"live", "real"}) || pub.Session().Key.Name != "real" {
		t.Fatalf("renamed to %v", pub.Key())
	}
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 1))
	sub, err := h.Subscribe(ctx5(t), Key{"live", "real"}, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if items := readN(t, sub, 1); !items[0].Packet.IsKeyFrame() {
		t.Fatal("no key frame from the renamed stream")
	}
	sub.Close()
	pub.Close()
}

// Subscribers waiting for a key start with its publisher's first packet;
// a publisher that leaves and comes back within the grace continues their
// stream (notices in order); one that does not ends them.
func TestSeamWaitAndRepublish(t *testing.T) {
	h := quietHub(t, Config{RepublishGrace: 200 * time.Millisecond})
	k := Key{"live", "w"}
	got := make(chan *Subscription, 1)
	go func() {
		s, err := h.Subscribe(context.Background(), k, SubscribeOptions{Wait: 5 * time.Second})
		if err != nil {
			t.Error(err)
		}
		got <- s
	}()
	for len(h.Streams()) == 0 || h.Streams()[0].Subscribers == 0 {
		time.Sleep(time.Millisecond)
	}
	pub := mustPublish(t, h, k, PublishOptions{})
	write(t, pub, message.TypeVideo, 1000, avcSeq())
	write(t, pub, message.TypeVideo, 1000, avcFrame(true, 1))
	sub := <-got
	if items := readN(t, sub, 2); !items[0].Packet.IsSequenceHeader() || items[0].Packet.Timestamp() != 1000 {
		t.Fatalf("first item %+v", items[0])
	}
	pub.Close()
	pub2 := mustPublish(t, h, k, PublishOptions{})
	write(t, pub2, message.TypeVideo, 0, avcSeq())
	write(t, pub2, message.TypeVideo, 0, avcFrame(true, 2))
	items := readN(t, sub, 2)
	if items[0].Notice != NoticeUnpublished || items[1].Notice != NoticePublished || items[3].Packet.Timestamp() <= 1000 {
		t.Fatalf("republish items %+v", items)
	}
	pub2.Close()
	var e *EndError
	for {
		_, err := sub.Read(ctx5(t), nil)
		if err != nil {
			if !errors.As(err, &e) || e.Reason != ReasonPublisherGone {
				t.Fatalf("after the grace: %v", err)
			}
			break
		}
	}
	sub.Close()
}

// Replace and Kick end a publication: its Stop is called, its writes
// fail; Kick ends a subscriber with ReasonKicked and calls its Stop.
func TestSeamReplaceAndKick(t *testing.T) {
	h := quietHub(t, Config{ReplacePublisher: true})
	k := Key{"live", "r"}
	stopped := make(chan Reason, 4)
	stop := func(r Reason) { stopped <- r }
	p1 := mustPublish(t, h, k, PublishOptions{Stop: stop})
	write(t, p1, message.TypeVideo, 0, avcFrame(true, 1))
	p2 := mustPublish(t, h, k, PublishOptions{Stop: stop})
	if r := <-stopped; r != ReasonReplaced {
		t.Fatalf("replaced publisher stopped with %v", r)
	}
	var e *EndError
	if err := p1.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcFrame(false, 2)}); !errors.As(err, &e) || e.Reason != ReasonReplaced {
		t.Fatalf("write after replace: %v", err)
	}
	p1.Close()
	write(t, p2, message.TypeVideo, 0, avcFrame(true, 3))
	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{Stop: stop})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Kick(sub.Session().ID); err != nil {
		t.Fatal(err)
	}
	if r := <-stopped; r != ReasonKicked {
		t.Fatalf("kicked subscriber stopped with %v", r)
	}
	if _, err := sub.Read(ctx5(t), nil); !errors.As(err, &e) || e.Reason != ReasonKicked {
		t.Fatalf("read after kick: %v", err)
	}
	sub.Close()
	if err := h.KickPublisher(k); err != nil {
		t.Fatal(err)
	}
	if r := <-stopped; r != ReasonKicked {
		t.Fatalf("kicked publisher stopped with %v", r)
	}
	if err := p2.Write(rtmp.Packet{Type: message.TypeVideo, Payload: avcFrame(false, 4)}); !errors.As(err, &e) || e.Reason != ReasonKicked {
		t.Fatalf("write after kick: %v", err)
	}
	p2.Close()
	if err := h.Kick(12345); !errors.Is(err, ErrNoSession) {
		t.Fatalf("kick of no session: %v", err)
	}
}

// Three FLV subscribers share one FLV encoding per packet.
func TestSeamFLVSharedEncoding(t *testing.T) {
	h := quietHub(t, Config{})
	k := Key{"live", "f"}
	pub := mustPublish(t, h, k, PublishOptions{})
	var subs []*Subscription
	for range 3 {
		s, err := h.Subscribe(ctx5(t), k, SubscribeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	before := FLVTag.Encodings()
	const n = 50
	for i := range uint32(n) {
		write(t, pub, message.TypeVideo, i*40, avcFrame(i%10 == 0, i))
	}
	var first [][]byte
	for j, s := range subs {
		for i, it := range readN(t, s, n) {
			b, err := it.Packet.Bytes(FLVTag)
			if err != nil {
				t.Fatal(err)
			}
			if j == 0 {
				first = append(first, b)
			} else if &b[0] != &first[i][0] {
				t.Fatalf("subscriber %d got its own encoding of packet %d", j, i)
			}
		}
	}
	if made := FLVTag.Encodings() - before; made != n {
		t.Fatalf("%d FLV encodings for %d packets and 3 subscribers", made, n)
	}
	// The tag: type 9, size, timestamp, stream id 0, body, back-pointer.
	b := first[3]
	body := avcFrame(false, 3)
	if b[0] != 9 || int(b[1])<<16|int(b[2])<<8|int(b[3]) != len(body) || b[6] != 120 || !bytes.Equal(b[11:11+len(body)], body) || int(b[len(b)-1]) != 11+len(body) {
		t.Fatalf("tag % x", b)
	}
	for _, s := range subs {
		s.Close()
	}
	pub.Close()
}

// A late FLV subscriber's kept onMetaData is stamped 0 in FLV form.
func TestSeamFLVJoinMetadataAtZero(t *testing.T) {
	h := quietHub(t, Config{})
	k := Key{"live", "m"}
	pub := mustPublish(t, h, k, PublishOptions{})
	meta, err := message.NewSetDataFrame(amf0.Object{{Key: "width", Value: 640.0}}).AppendPayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeDataAMF0, 5000, meta)
	write(t, pub, message.TypeVideo, 5000, avcFrame(true, 1))
	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	items := readN(t, sub, 2)
	b, _ := items[0].Packet.Bytes(FLVTag)
	if b[0] != 18 || b[4] != 0 || b[5] != 0 || b[6] != 0 || b[7] != 0 || !strings.Contains(string(b), "onMetaData") {
		t.Fatalf("join metadata tag % x", b[:12])
	}
	if items[0].Packet.Timestamp() != 5000 {
		t.Fatalf("packet time %d", items[0].Packet.Timestamp())
	}
	sub.Close()
	pub.Close()
}

// Shutdown ends reads with ReasonShutdown and stops publications.
func TestSeamShutdown(t *testing.T) {
	h := NewHub(Config{Logger: testLogger(t)})
	k := Key{"live", "x"}
	stopped := make(chan Reason, 1)
	pub := mustPublish(t, h, k, PublishOptions{Stop: func(r Reason) { stopped <- r }})
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 1))
	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- h.Shutdown(ctx5(t)) }()
	if r := <-stopped; r != ReasonShutdown {
		t.Fatalf("publication stopped with %v", r)
	}
	var e *EndError
	for {
		if _, err := sub.Read(ctx5(t), nil); err != nil {
			if !errors.As(err, &e) || e.Reason != ReasonShutdown {
				t.Fatalf("read: %v", err)
			}
			break
		}
	}
	sub.Close()
	pub.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := h.Publish(ctx5(t), k, PublishOptions{}); !errors.Is(err, ErrShutdown) {
		t.Fatalf("publish after shutdown: %v", err)
	}
}

// Data frames are kept within MaxDataFrames and MaxDataFrameBytes.
func TestDataFrameBytes(t *testing.T) {
	h := NewHub(Config{})
	st := newStream(h, Key{"a", "b"})
	big := &Packet{payload: make([]byte, MaxDataFrameBytes/2+1)}
	st.setFrame("one", big)
	st.setFrame("two", big)
	if len(st.frames) != 1 || st.frameBytes != len(big.payload) {
		t.Fatalf("%d frames, %d bytes kept", len(st.frames), st.frameBytes)
	}
	st.clearFrame("one")
	if st.frameBytes != 0 {
		t.Fatalf("%d bytes after clearing", st.frameBytes)
	}
}

func TestJoinHooks(t *testing.T) {
	var order []string
	mk := func(tag, rename string, deny bool) Hooks {
		return Hooks{
			Authorize: func(_ context.Context, s *Session) (string, error) {
				order = append(order, tag+":"+s.Key.Name)
				if deny {
					return "", Deny(tag)
				}
				return rename, nil
			},
			End: func(*Session, SessionEnd) { order = append(order, tag+":end") },
		}
	}
	j := JoinHooks(mk("a", "b", false), Hooks{}, mk("c", "", false))
	s := &Session{Key: Key{"live", "x"}}
	if n, err := j.Authorize(context.Background(), s); n != "b" || err != nil {
		t.Fatalf("%q %v", n, err)
	}
	j.End(s, SessionEnd{})
	if want := []string{"a:x", "c:b", "a:end", "c:end"}; !equal(order, want) {
		t.Fatalf("%v, want %v", order, want)
	}
	j = JoinHooks(mk("d", "", true), mk("e", "", false))
	if _, err := j.Authorize(context.Background(), s); !errors.Is(err, ErrDenied) {
		t.Fatalf("%v", err)
	}
	if j.Connect != nil || j.Start != nil {
		t.Fatal("hooks nobody set are set")
	}
}

// Stop is never called once Close returned, even when a forced Shutdown
// comes after it.
func TestStopNotAfterClose(t *testing.T) {
	h := NewHub(Config{Logger: testLogger(t)})
	k := Key{"live", "s"}
	pub := mustPublish(t, h, k, PublishOptions{})
	var mu sync.Mutex
	closed, late := false, false
	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{Stop: func(Reason) {
		mu.Lock()
		late = late || closed
		mu.Unlock()
	}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := sub.Read(context.Background(), nil); err != nil {
				sub.Close()
				mu.Lock()
				closed = true
				mu.Unlock()
				return
			}
		}
	}()
	time.AfterFunc(300*time.Millisecond, pub.Close) // the source stops late: the shutdown is forced
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	h.Shutdown(ctx)
	<-done
	mu.Lock()
	defer mu.Unlock()
	if late {
		t.Fatal("Stop was called after Close returned")
	}
}

// A batching publication wakes its subscribers at Flush, once per batch.
func TestSeamBatchWakesAtFlush(t *testing.T) {
	h := quietHub(t, Config{MergeWindow: -1})
	k := Key{"live", "b"}
	pub := mustPublish(t, h, k, PublishOptions{Batch: true})
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 0))
	pub.Flush()
	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	readN(t, sub, 1)
	select { // a wake-up left from the join (spurious wake-ups are allowed)
	case <-sub.Ready():
	default:
	}
	for i := uint32(1); i <= 5; i++ {
		write(t, pub, message.TypeVideo, i*40, avcFrame(false, i))
	}
	select {
	case <-sub.Ready():
		t.Fatal("woken before the flush")
	case <-time.After(20 * time.Millisecond):
	}
	pub.Flush()
	select {
	case <-sub.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("not woken by the flush")
	}
	if items, _ := sub.TryRead(nil); len(items) != 5 {
		t.Fatalf("%d items in the batch", len(items))
	}
	sub.Close()
	pub.Close()
}

// A bare onMetaData (no @setDataFrame) is kept for late subscribers too.
func TestBareOnMetaDataKept(t *testing.T) {
	h := quietHub(t, Config{})
	k := Key{"live", "bare"}
	pub := mustPublish(t, h, k, PublishOptions{})
	meta, err := message.Data{Values: []amf0.Value{"onMetaData", amf0.Object{{Key: "width", Value: 320.0}}}}.AppendPayload(nil)
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeDataAMF0, 0, meta)
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 1))
	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	items := readN(t, sub, 2)
	if !items[0].Packet.IsData() || !bytes.Equal(items[0].Packet.Payload(), meta) {
		t.Fatalf("first item %+v", items[0])
	}
	sub.Close()
	pub.Close()
}

// Config.App gives an application its own GOP cache and queue bounds.
func TestAppSettings(t *testing.T) {
	h := quietHub(t, Config{App: func(app string) AppSettings {
		if app == "nogop" {
			return AppSettings{GOPMaxPackets: -1, QueueMaxBytes: 100}
		}
		return AppSettings{}
	}})
	for _, tc := range []struct {
		app        string
		gop, queue int
	}{{"nogop", 0, 100}, {"live", DefaultGOPMaxPackets, DefaultQueueMaxBytes}} {
		st := newStream(h, Key{tc.app, "s"})
		if st.lim.gopPackets != tc.gop {
			t.Errorf("%s: GOP packets %d, want %d", tc.app, st.lim.gopPackets, tc.gop)
		}
		if l := h.subLimits(tc.app, &SubscribeOptions{}); l.queueBytes != tc.queue {
			t.Errorf("%s: queue bytes %d, want %d", tc.app, l.queueBytes, tc.queue)
		}
	}
	// The app without a GOP cache: a late subscriber starts at the next
	// key frame, not at the cached one.
	pub := mustPublish(t, h, Key{"nogop", "s"}, PublishOptions{})
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 1))
	write(t, pub, message.TypeVideo, 40, avcFrame(false, 2))
	sub, err := h.Subscribe(ctx5(t), Key{"nogop", "s"}, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeVideo, 80, avcFrame(true, 3))
	if items := readN(t, sub, 1); items[0].Packet.Timestamp() != 80 {
		t.Fatalf("first packet at %d, want the next key frame at 80", items[0].Packet.Timestamp())
	}
	sub.Close()
	pub.Close()
}

// With a merge window, a batch of media waits for the window's end (or a
// decoder configuration) before subscribers are woken.
func TestMergeWindow(t *testing.T) {
	h := quietHub(t, Config{MergeWindow: 300 * time.Millisecond})
	k := Key{"live", "mw"}
	pub := mustPublish(t, h, k, PublishOptions{Batch: true})
	write(t, pub, message.TypeVideo, 0, avcFrame(true, 0))
	write(t, pub, message.TypeVideo, 40, avcFrame(false, 1))
	pub.Flush()
	// Nobody to wake: no timer (a stream without players armed one per
	// batch, and its callback's goroutine woke a thread for nothing).
	h.mu.Lock()
	st := h.streams[k]
	h.mu.Unlock()
	st.mu.Lock()
	armed := st.mergeTimer != nil
	st.mu.Unlock()
	if armed {
		t.Fatal("a batch without subscribers armed the merge timer")
	}
	sub, err := h.Subscribe(ctx5(t), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	readN(t, sub, 2)
	select {
	case <-sub.Ready():
	default:
	}
	start := time.Now()
	write(t, pub, message.TypeVideo, 80, avcFrame(false, 2))
	pub.Flush()
	write(t, pub, message.TypeVideo, 120, avcFrame(false, 3))
	pub.Flush()
	select {
	case <-sub.Ready():
		if d := time.Since(start); d < 200*time.Millisecond {
			t.Fatalf("woken after %v, inside the window", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("never woken")
	}
	if items, _ := sub.TryRead(nil); len(items) != 2 {
		t.Fatalf("%d items after the window, want both frames", len(items))
	}
	// A decoder configuration goes out at once.
	write(t, pub, message.TypeVideo, 160, avcSeq())
	start = time.Now()
	pub.Flush()
	select {
	case <-sub.Ready():
		if d := time.Since(start); d > 150*time.Millisecond {
			t.Fatalf("a sequence header waited %v", d)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("never woken")
	}
	sub.Close()
	pub.Close()
}
