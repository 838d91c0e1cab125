package live

import (
	"strings"
	"sync/atomic"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/message"
)

func TestMaxStreams(t *testing.T) {
	sh := startHub(t, Config{MaxStreams: 2})
	publishPeer(t, sh.addr, "live", "a")
	publishPeer(t, sh.addr, "live", "b")
	p := dial(t, sh.addr)
	p.Connect("live", nil)
	if code, _ := p.Publish("c"); code != message.CodePublishBadName {
		t.Fatalf("third stream: %q", code)
	}
	si := sh.waitEnd(t, 5*time.Second, func(si endInfo) bool { return si.Stream == "c" })
	if si.Reason != ReasonRejected || !strings.Contains(si.Err.Error(), "too many streams") {
		t.Fatalf("%v %v", si.Reason, si.Err)
	}
}

func TestMaxPlayers(t *testing.T) {
	sh := startHub(t, Config{MaxPlayers: 2})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "m")}
	f.headers()
	f.gop(1)
	playPeer(t, sh.addr, "live", "m", nil)
	playPeer(t, sh.addr, "live", "m", nil)
	p := dial(t, sh.addr)
	p.Connect("live", nil)
	p.Play("m")
	if code, _ := p.WaitStatus(); code != message.CodePlayStreamNotFound {
		t.Fatalf("third player: %q", code)
	}
	si := sh.waitEnd(t, 5*time.Second, func(si endInfo) bool { return si.Kind == rtmp.KindPlay })
	if si.Reason != ReasonRejected || !strings.Contains(si.Err.Error(), "too many players") {
		t.Fatalf("%v %v", si.Reason, si.Err)
	}
}

func TestBadNames(t *testing.T) {
	sh := startHub(t, Config{PlayWait: -1})
	for _, tc := range []struct {
		app, name string
	}{{"live", ""}, {"live", strings.Repeat("n", MaxNameLength+1)}, {strings.Repeat("a", MaxNameLength+1), "s"}} {
		p := dial(t, sh.addr)
		if err := p.Connect(tc.app, nil); err != nil {
			t.Fatal(err)
		}
		if code, _ := p.Publish(tc.name); code != message.CodePublishBadName {
			t.Errorf("publish %d/%d bytes: %q", len(tc.app), len(tc.name), code)
		}
		p.Close()
	}
	// A name of exactly MaxNameLength is fine.
	publishPeer(t, sh.addr, "live", strings.Repeat("n", MaxNameLength))
}

// A GOP longer than GOPMaxPackets is not cached: a new player starts with
// live audio and the next key frame.
func TestGOPMaxPackets(t *testing.T) {
	sh := startHub(t, Config{GOPMaxPackets: 10})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "g")}
	f.headers()
	f.gop(8) // 16 packets: over the bound
	sh.waitStream(t, "g", func(si StreamInfo) bool { return si.Packets == uint64(len(f.sent)+1) })
	p := playPeer(t, sh.addr, "live", "g", nil)
	// Headers only, stamped at the stream's current time.
	got, _ := collect(t, p, 2)
	if got[0].pay != string(avcSeq()) || got[1].pay != string(aacSeq()) || got[0].ts != f.sent[len(f.sent)-1].ts {
		t.Fatalf("start: %v", got)
	}
	// The rest of the GOP: its inter frames are skipped, its audio is not.
	f.more(2)
	f.gop(1)
	got, _ = collect(t, p, 4)
	if got[0].typ != message.TypeAudio || got[1].typ != message.TypeAudio || got[2].typ != message.TypeVideo || got[2].pay[0] != 0x17 {
		t.Fatalf("live: %v", got)
	}
}

func TestGOPMaxBytes(t *testing.T) {
	h := NewHub(Config{GOPMaxBytes: 200})
	st := newStream(h, Key{"a", "b"})
	for i := uint32(0); i < 4; i++ {
		st.cache(pk(t, message.TypeVideo, i*40, avcFrame(i == 0, i))) // 41 bytes each
	}
	if !st.gopValid || len(st.gop) != 4 {
		t.Fatalf("gop %d valid %v", len(st.gop), st.gopValid)
	}
	st.cache(pk(t, message.TypeVideo, 160, avcFrame(false, 4)))
	if st.gopValid || len(st.gop) != 0 {
		t.Fatal("a GOP over GOPMaxBytes stayed cached")
	}
	st.cache(pk(t, message.TypeVideo, 200, avcFrame(false, 5)))
	if st.gopValid {
		t.Fatal("a GOP started without a key frame")
	}
	st.cache(pk(t, message.TypeVideo, 240, avcFrame(true, 6)))
	if !st.gopValid || len(st.gop) != 1 {
		t.Fatal("the next key frame did not start a GOP")
	}
}

func TestMaxHeadersAndFrames(t *testing.T) {
	h := NewHub(Config{})
	st := newStream(h, Key{"a", "b"})
	for i := range MaxHeaders + 5 {
		p := pk(t, message.TypeVideo, 0, avcSeq())
		p.hkey = uint32(i)
		st.setHeader(p)
	}
	if len(st.headers) != MaxHeaders {
		t.Fatalf("%d headers kept", len(st.headers))
	}
	// A known slot is still replaced.
	p := pk(t, message.TypeVideo, 9, avcSeq())
	p.hkey = 3
	st.setHeader(p)
	if st.headers[3].ts != 9 {
		t.Fatal("slot not replaced at the bound")
	}
	for i := range MaxDataFrames + 5 {
		st.setFrame(string(rune('a'+i)), &Packet{})
	}
	if len(st.frames) != MaxDataFrames {
		t.Fatalf("%d frames kept", len(st.frames))
	}
}

// Data frames past MaxDataFrames are relayed live but not kept (scripted
// end to end).
func TestMaxDataFramesLive(t *testing.T) {
	sh := startHub(t, Config{})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "f")}
	p := playPeer(t, sh.addr, "live", "f", nil)
	sh.waitStream(t, "f", func(si StreamInfo) bool { return si.Subscribers == 1 })
	for i := range MaxDataFrames + 2 {
		f.p.Data(0, message.Data{Values: []amf0.Value{message.SetDataFrame, "on" + string(rune('A'+i)), 1.0}})
	}
	f.headers()
	f.gop(1)
	n := 0
	for media := 0; media < 4; {
		m, err := p.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if m.Type == message.TypeDataAMF0 {
			d, _ := message.UnmarshalData(m.Type, m.Payload)
			if name, _ := d.Name(); strings.HasPrefix(name, "on") && name != "onStatus" {
				n++
			}
		}
		if m.Type == message.TypeAudio || m.Type == message.TypeVideo {
			media++
		}
	}
	if n != MaxDataFrames+3 { // every frame, and onMetaData
		t.Fatalf("live player got %d frames", n)
	}
	sh.waitStream(t, "f", func(si StreamInfo) bool { return si.Packets >= uint64(MaxDataFrames+3+4) })
	sh.hub.mu.Lock()
	st := sh.hub.streams[Key{"live", "f"}]
	sh.hub.mu.Unlock()
	st.mu.Lock()
	kept := len(st.frames)
	st.mu.Unlock()
	if kept != MaxDataFrames {
		t.Fatalf("%d frames kept", kept)
	}
}

// Players are pinged (PingInterval); one that answers survives a read
// timeout it would otherwise hit, one that does not is closed with the
// reason "timeout".
func TestPingKeepsQuietPlayers(t *testing.T) {
	sh := startHubServer(t, Config{PingInterval: 100 * time.Millisecond}, &rtmp.Server{Conn: rtmp.ConnConfig{ReadTimeout: 400 * time.Millisecond}})
	f := &feed{t: t, p: publishPeer(t, sh.addr, "live", "p")}
	f.headers()
	f.gop(1)
	good := playPeer(t, sh.addr, "live", "p", nil)
	mute := playPeer(t, sh.addr, "live", "p", nil)
	mute.AnswerPings = false
	muteAddr := mute.NC.LocalAddr().String()
	var pings atomic.Int32
	for _, p := range []*testpeerPeer{good, mute} {
		go func() { // both read, so writes never block; only good answers
			for {
				m, err := p.ReadMessage()
				if err != nil {
					return
				}
				if ev, ok := m.UserControl(); ok && ev.Event == message.EventPingRequest && p == good {
					pings.Add(1)
				}
			}
		}()
	}
	// (The publisher, silent too, times out as well: the read timeout is
	// the server's, for every peer.)
	si := sh.waitEnd(t, 5*time.Second, func(si endInfo) bool { return si.Kind == rtmp.KindPlay })
	if si.RemoteAddr != muteAddr || si.Reason != ReasonTimeout {
		t.Fatalf("%s ended with %v, want the mute player with timeout", si.RemoteAddr, si.Reason)
	}
	// Three read timeouts later the good one still plays.
	time.Sleep(1200 * time.Millisecond)
	if n := pings.Load(); n < 10 {
		t.Fatalf("%d pings", n)
	}
	sh.waitStream(t, "p", func(si StreamInfo) bool { return si.Subscribers == 1 })
}

// The hub pings its players on one clock: each tick marks every writer
// due and wakes it; the clock stops with the last player and starts again
// with the next.
func TestPingerOneClock(t *testing.T) {
	var p pinger
	ws := []*playerWriter{{sub: newSubscriber(nil, subLimits{})}, {sub: newSubscriber(nil, subLimits{})}}
	for _, w := range ws {
		p.add(w, 10*time.Millisecond)
	}
	clock := p.stop
	for _, w := range ws {
		select {
		case <-w.sub.Ready():
		case <-time.After(5 * time.Second):
			t.Fatal("a player was not woken to ping")
		}
		if !w.pingDue.Load() {
			t.Fatal("woken, but no ping due")
		}
		if p.stop != clock {
			t.Fatal("a second clock for a second player")
		}
	}
	for _, w := range ws {
		p.remove(w)
	}
	if p.stop != nil || len(p.ws) != 0 {
		t.Fatal("the clock runs on without players")
	}
	w := ws[0]
	w.pingDue.Store(false)
	p.add(w, 10*time.Millisecond)
	defer p.remove(w)
	select {
	case <-w.sub.Ready():
	case <-time.After(5 * time.Second):
		t.Fatal("no clock after a new player came")
	}
}
