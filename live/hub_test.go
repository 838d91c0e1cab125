package live

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/live/internal/testpeer"
	"github.com/ertmp/rtmp/message"
)

// rec is a message as a player saw it, in a form easy to compare.
type rec struct {
	typ message.Type
	ts  uint32
	pay string
}

func (r rec) String() string { return fmt.Sprintf("%v@%d:%x", r.typ, r.ts, r.pay) }

// feed is what a scripted publisher sends: GOPs of a key frame and
// inter frames with an audio frame after each video frame, 40 ms apart.
type feed struct {
	t    *testing.T
	p    *testpeer.Peer
	ts   uint32
	n    uint32
	sent []rec
}

func (f *feed) send(typ message.Type, body []byte) {
	f.t.Helper()
	if err := f.p.Media(typ, f.ts, body); err != nil {
		f.t.Fatal(err)
	}
	f.sent = append(f.sent, rec{typ, f.ts, string(body)})
}

func (f *feed) headers() {
	f.t.Helper()
	meta := message.NewSetDataFrame(amf0.ECMAArray{Props: amf0.Object{{Key: "width", Value: 320.0}, {Key: "framerate", Value: 25.0}}})
	if err := f.p.Data(f.ts, meta); err != nil {
		f.t.Fatal(err)
	}
	f.send(message.TypeVideo, avcSeq())
	f.send(message.TypeAudio, aacSeq())
}

func (f *feed) gop(frames int) {
	f.t.Helper()
	for i := 0; i < frames; i++ {
		f.n++
		f.send(message.TypeVideo, avcFrame(i == 0, f.n))
		f.send(message.TypeAudio, aacFrame(f.n))
		f.ts += 40
	}
}

// more continues the current GOP with inter frames.
func (f *feed) more(frames int) {
	f.t.Helper()
	for range frames {
		f.n++
		f.send(message.TypeVideo, avcFrame(false, f.n))
		f.send(message.TypeAudio, aacFrame(f.n))
		f.ts += 40
	}
}

// collect reads until n audio/video messages arrived and returns every
// message except control and commands.
func collect(t *testing.T, p *testpeer.Peer, n int) (got []rec, data []message.Data) {
	t.Helper()
	media := 0
	for media < n {
		m, err := p.ReadMessage()
		if err != nil {
			t.Fatalf("after %d media messages: %v", media, err)
		}
		switch m.Type {
		case message.TypeAudio, message.TypeVideo:
			media++
			got = append(got, rec{m.Type, m.Timestamp, string(m.Payload)})
		case message.TypeDataAMF0:
			d, err := message.UnmarshalData(m.Type, m.Payload)
			if err != nil {
				t.Fatal(err)
			}
			if name, _ := d.Name(); name == "onMetaData" {
				data = append(data, d)
			}
		}
	}
	return got, data
}

func TestPlayFromStart(t *testing.T) {
	sh := startHub(t, Config{})
	pl := make(chan *testpeer.Peer, 1)
	go func() {
		// The player asks first and waits for the publisher (PlayWait).
		p, err := testpeer.Dial(sh.addr, 5*time.Second, nil)
		if err != nil {
			t.Error(err)
			pl <- nil
			return
		}
		p.NC.SetDeadline(time.Now().Add(20 * time.Second))
		if err := p.Connect("live", nil); err == nil {
			err = p.Play("s")
		}
		if err != nil {
			t.Error(err)
		}
		pl <- p
	}()
	sh.waitStream(t, "s", func(si StreamInfo) bool { return !si.Publishing })
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "s")}
	f.headers()
	f.gop(10)
	p := <-pl
	if p == nil {
		t.FailNow()
	}
	defer p.Close()
	got, meta := collect(t, p, len(f.sent))
	if len(meta) != 1 {
		t.Fatalf("onMetaData %d times", len(meta))
	}
	if !equalRecs(got, f.sent) {
		t.Fatalf("got\n%v\nwant\n%v", got, f.sent)
	}
}

func equalRecs(a, b []rec) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// A player that joins mid-stream gets the metadata and sequence headers,
// then the current GOP from its key frame, then live packets: no gap, no
// duplicate, timestamps in order. Its first key frame comes within 100 ms
// of its play command.
func TestJoinMidStream(t *testing.T) {
	sh := startHub(t, Config{})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "s")}
	f.headers()
	f.gop(25)
	gop2 := len(f.sent)
	f.gop(12)
	sh.waitStream(t, "s", func(si StreamInfo) bool { return si.Packets == uint64(len(f.sent)+1) })

	p := dial(t, sh.addr)
	if err := p.Connect("live", nil); err != nil {
		t.Fatal(err)
	}
	if err := p.CreateStream(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.SendPlay("s"); err != nil {
		t.Fatal(err)
	}
	var firstKey time.Duration
	var got []rec
	var meta int
	for len(got) < 2+len(f.sent)-gop2 {
		m, err := p.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		switch m.Type {
		case message.TypeVideo, message.TypeAudio:
			if m.Type == message.TypeVideo && m.Payload[0] == 0x17 && m.Payload[1] == 1 && firstKey == 0 {
				firstKey = m.At.Sub(start)
			}
			got = append(got, rec{m.Type, m.Timestamp, string(m.Payload)})
		case message.TypeDataAMF0:
			if d, _ := message.UnmarshalData(m.Type, m.Payload); d.IsMetaData() {
				meta++
				if len(got) > 0 {
					t.Fatal("metadata after media")
				}
			}
		}
	}
	t.Logf("first key frame %v after play", firstKey)
	if firstKey > 100*time.Millisecond {
		t.Errorf("first key frame %v after play, want within 100 ms", firstKey)
	}
	gopTS := f.sent[gop2].ts
	want := append([]rec{{message.TypeVideo, gopTS, string(avcSeq())}, {message.TypeAudio, gopTS, string(aacSeq())}}, f.sent[gop2:]...)
	if !equalRecs(got, want) || meta != 1 {
		t.Fatalf("meta %d, got\n%v\nwant\n%v", meta, got, want)
	}
	// Live packets follow with no gap.
	f.gop(3)
	live, _ := collect(t, p, 6)
	if !equalRecs(live, f.sent[len(f.sent)-6:]) {
		t.Fatalf("live: got %v want %v", live, f.sent[len(f.sent)-6:])
	}
}

func TestSecondPublisher(t *testing.T) {
	t.Run("rejected", func(t *testing.T) {
		sh := startHub(t, Config{})
		publishPeer(t, sh.addr, "live", "k")
		p := dial(t, sh.addr)
		if err := p.Connect("live", nil); err != nil {
			t.Fatal(err)
		}
		code, err := p.Publish("k")
		if err != nil || code != message.CodePublishBadName {
			t.Fatalf("second publisher: %q %v", code, err)
		}
		si := sh.waitEnd(t, 5*time.Second, func(si endInfo) bool { return si.Kind == rtmp.KindPublish })
		if si.Reason != ReasonRejected || !strings.Contains(si.Err.Error(), "already publishing") {
			t.Fatalf("%v %v", si.Reason, si.Err)
		}
		// Another app is another key.
		publishPeer(t, sh.addr, "other", "k")
	})
	t.Run("replaces", func(t *testing.T) {
		sh := startHub(t, Config{ReplacePublisher: true})
		first := &feed{t: t, p: publishPeer(t, sh.addr, "live", "k")}
		first.headers()
		first.gop(2)
		pl := playPeer(t, sh.addr, "live", "k", nil)
		collect(t, pl, 2+4)
		second := &feed{t: t, p: publishPeer(t, sh.addr, "live", "k")}
		si := sh.waitEnd(t, 5*time.Second, func(si endInfo) bool { return si.Kind == rtmp.KindPublish })
		if si.Reason != ReasonReplaced {
			t.Fatalf("first publisher ended with %v", si.Reason)
		}
		// The player continues with the second publisher's stream, later in time.
		second.ts = 0
		second.headers()
		second.gop(2)
		got, _ := collect(t, pl, 6)
		if got[0].pay != string(avcSeq()) || got[2].pay != second.sent[2].pay || got[2].ts <= first.sent[len(first.sent)-1].ts {
			t.Fatalf("after replacement: %v", got)
		}
	})
}

func TestPlayWaitTimesOut(t *testing.T) {
	sh := startHub(t, Config{PlayWait: 200 * time.Millisecond})
	p := dial(t, sh.addr)
	if err := p.Connect("live", nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Play("nobody"); err != nil {
		t.Fatal(err)
	}
	code, err := p.WaitStatus()
	if err != nil || code != message.CodePlayStreamNotFound {
		t.Fatalf("%q %v", code, err)
	}
	if d := time.Since(start); d < 200*time.Millisecond || d > 2*time.Second {
		t.Fatalf("answered after %v", d)
	}
	if si := sh.waitEnd(t, 5*time.Second, func(endInfo) bool { return true }); si.Reason != ReasonRejected {
		t.Fatalf("reason %v", si.Reason)
	}
}

// After the publisher leaves, players get UnpublishNotify and stay; a new
// publisher under the same key continues their stream: PublishNotify, new
// sequence headers and a key frame, timestamps still going forward.
func TestRepublish(t *testing.T) {
	sh := startHub(t, Config{RepublishGrace: 5 * time.Second})
	f1 := &feed{t: t, p: publishPeer(t, sh.addr, "live", "r")}
	f1.headers()
	f1.gop(3)
	var players []*testpeer.Peer
	for range 3 {
		p := playPeer(t, sh.addr, "live", "r", nil)
		collect(t, p, 2+6)
		players = append(players, p)
	}
	f1.gop(2)
	if err := f1.p.Unpublish("r"); err != nil {
		t.Fatal(err)
	}
	last := f1.sent[len(f1.sent)-1].ts
	for _, p := range players {
		got, code := readMedia(t, p, 1000, message.CodePlayUnpublishNotify)
		if code != message.CodePlayUnpublishNotify || len(got) != 4 {
			t.Fatalf("before UnpublishNotify: %d media, status %q", len(got), code)
		}
	}
	sh.waitEnd(t, 5*time.Second, func(si endInfo) bool { return si.Kind == rtmp.KindPublish && si.Reason == ReasonClientClosed })

	f2 := &feed{t: t, p: publishPeer(t, sh.addr, "live", "r")}
	f2.headers()
	f2.gop(3)
	for _, p := range players {
		_, code := readMedia(t, p, 1000, message.CodePlayPublishNotify)
		if code != message.CodePlayPublishNotify {
			t.Fatal("no PublishNotify")
		}
		got, meta := collect(t, p, 2+6)
		if len(meta) != 1 {
			t.Fatalf("metadata %d times", len(meta))
		}
		prev := last
		for i, r := range got {
			if r.ts < prev {
				t.Fatalf("timestamp %d after %d: %v", r.ts, prev, got)
			}
			prev = r.ts
			if r.pay != f2.sent[i].pay {
				t.Fatalf("message %d: %v, want %v", i, r, f2.sent[i])
			}
		}
		if got[0].ts <= last {
			t.Fatalf("new stream starts at %d, before the old one's end %d", got[0].ts, last)
		}
	}
}

// Without a publisher coming back, players are closed after the grace
// period with StreamEOF and Play.Stop, and the reason "publisher gone".
func TestGraceExpires(t *testing.T) {
	sh := startHub(t, Config{RepublishGrace: 300 * time.Millisecond})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "g")}
	f.headers()
	f.gop(1)
	p := playPeer(t, sh.addr, "live", "g", nil)
	collect(t, p, 4)
	// The grace runs from the server's unpublish, which comes after this
	// send: Play.Stop comes at least the grace after it.
	sent := time.Now()
	f.p.Unpublish("g")
	unpublished := time.Time{}
	sawEOF, sawStop := false, false
	for {
		m, err := p.ReadMessage()
		if err != nil {
			break
		}
		if ev, ok := m.UserControl(); ok && ev.Event == message.EventStreamEOF {
			sawEOF = true
		}
		switch m.Status() {
		case message.CodePlayUnpublishNotify:
			unpublished = m.At
		case message.CodePlayStop:
			sawStop = true
			if d := m.At.Sub(sent); d < 300*time.Millisecond || d > 3*time.Second {
				t.Errorf("closed %v after the unpublish", d)
			}
		}
	}
	if unpublished.IsZero() || !sawEOF || !sawStop {
		t.Fatalf("unpublish %v, StreamEOF %v, Play.Stop %v", unpublished, sawEOF, sawStop)
	}
	si := sh.waitEnd(t, 5*time.Second, func(si endInfo) bool { return si.Kind == rtmp.KindPlay })
	if si.Reason != ReasonPublisherGone {
		t.Fatalf("reason %v", si.Reason)
	}
}

func TestDataFrames(t *testing.T) {
	sh := startHub(t, Config{})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "d")}
	f.headers()
	// A second frame, replaced; a third, cleared.
	f.p.Data(0, message.Data{Values: []amf0.Value{message.SetDataFrame, "onTextData", amf0.Object{{Key: "text", Value: "one"}}}})
	f.p.Data(0, message.Data{Values: []amf0.Value{message.SetDataFrame, "onTextData", amf0.Object{{Key: "text", Value: "two"}}}})
	f.p.Data(0, message.Data{Values: []amf0.Value{message.SetDataFrame, "onCuePoint", "x"}})
	f.p.Data(0, message.Data{Values: []amf0.Value{message.ClearDataFrame, "onCuePoint"}})
	f.gop(2)
	sh.waitStream(t, "d", func(si StreamInfo) bool { return si.Packets >= uint64(len(f.sent)+4) })
	p := playPeer(t, sh.addr, "live", "d", nil)
	var names []string
	media := 0
	for media < 4 {
		m, err := p.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == message.TypeDataAMF0 {
			d, _ := message.UnmarshalData(m.Type, m.Payload)
			name, _ := d.Name()
			if name == "|RtmpSampleAccess" || name == "onStatus" {
				continue // sent by AcceptPlay
			}
			if name == "onTextData" {
				o, _ := amf0.Resolve(d.Values[1]).(amf0.Object)
				s, _ := o.GetString("text")
				name += "=" + s
			}
			names = append(names, name)
		}
		if m.Type == message.TypeVideo || m.Type == message.TypeAudio {
			media++
		}
	}
	if got := strings.Join(names, ","); got != "onMetaData,onTextData=two" {
		t.Fatalf("late player got data frames %s", got)
	}
}

func TestAuthorize(t *testing.T) {
	sh := startHub(t, Config{Hooks: Hooks{Authorize: func(_ context.Context, s *Session) (string, error) {
		if s.Query.Get("key") != "secret" {
			return "", errors.New("bad key")
		}
		return "", nil
	}}})
	p := dial(t, sh.addr)
	p.Connect("live", nil)
	if code, _ := p.Publish("s?key=wrong"); code != message.CodePublishDenied {
		t.Fatalf("wrong key: %q", code)
	}
	publishPeer(t, sh.addr, "live", "s?key=secret")
	q := dial(t, sh.addr)
	q.Connect("live", nil)
	q.Play("s")
	if code, _ := q.WaitStatus(); code != message.CodePlayStreamNotFound {
		t.Fatalf("player without key: %q", code)
	}
}

// Shutdown: players get StreamEOF and Play.Stop, the publisher a polite
// close, every session ends with "shutdown", and no goroutine is left
// (startHub's cleanup checks).
func TestShutdown(t *testing.T) {
	sh := startHub(t, Config{})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "x")}
	f.headers()
	f.gop(2)
	var players []*testpeer.Peer
	for range 3 {
		p := playPeer(t, sh.addr, "live", "x", nil)
		collect(t, p, 4)
		players = append(players, p)
	}
	waiter := dial(t, sh.addr)
	waiter.Connect("live", nil)
	waiter.Play("later")
	sh.waitStream(t, "later", func(StreamInfo) bool { return true })
	done := make(chan error, 1)
	go func() {
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		done <- sh.hub.Shutdown(ctx)
	}()
	var wg sync.WaitGroup
	for _, p := range players {
		wg.Add(1)
		go func() {
			defer wg.Done()
			eof := false
			for {
				m, err := p.ReadMessage()
				if err != nil {
					break
				}
				if ev, ok := m.UserControl(); ok && ev.Event == message.EventStreamEOF {
					eof = true
				}
				if m.Status() == message.CodePlayStop {
					p.Close()
				}
			}
			if !eof {
				t.Error("a player saw no StreamEOF")
			}
		}()
	}
	wg.Wait()
	if code, _ := waiter.WaitStatus(); code != message.CodePlayStreamNotFound {
		t.Errorf("waiting player: %q", code)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for range 5 {
		si := sh.waitEnd(t, 5*time.Second, func(endInfo) bool { return true })
		if si.Reason != ReasonShutdown {
			t.Errorf("%v %s ended with %v", si.Kind, si.Stream, si.Reason)
		}
	}
	// New requests are refused.
	p := dial(t, sh.addr)
	p.Connect("live", nil)
	if code, _ := p.Publish("y"); code != message.CodePublishBadName {
		t.Fatalf("publish after shutdown: %q", code)
	}
	_ = bytes.Equal
}
