package live

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/message"
)

// The hub gives a publisher back (PublishOptions.Recycle) each payload it
// dropped that no subscriber had, once: the GOP a key frame ends, and
// what it kept nowhere. It keeps the decoder configurations, and what a
// subscriber had, live or from the GOP cache at its join.
func TestHubRecyclesUnwatchedPayloads(t *testing.T) {
	h := quietHub(t, Config{PlayWait: -1, RepublishGrace: -1})
	k := Key{"live", "recycle"}
	var back []string
	pub := mustPublish(t, h, k, PublishOptions{Recycle: func(b []byte) { back = append(back, fmt.Sprintf("%x", b)) }})
	name := func(b []byte) string { return fmt.Sprintf("%x", b) }
	expect := func(step string, want ...[]byte) {
		t.Helper()
		var w []string
		for _, b := range want {
			w = append(w, name(b))
		}
		if !slices.Equal(back, w) {
			t.Fatalf("%s: given back %v, want %v", step, back, w)
		}
		back = nil
	}

	write(t, pub, message.TypeAudio, 0, aacSeq())
	write(t, pub, message.TypeVideo, 0, avcSeq())
	early := aacFrame(100)
	write(t, pub, message.TypeAudio, 0, early) // before any key frame: kept nowhere
	expect("audio before the first key frame", early)

	gop1 := [][]byte{avcFrame(true, 1), aacFrame(101), avcFrame(false, 2), avcFrame(false, 3)}
	for i, b := range gop1 {
		typ := message.TypeVideo
		if b[0] == 0xaf {
			typ = message.TypeAudio
		}
		write(t, pub, typ, uint32(10+i), b)
	}
	expect("a GOP being cached")
	write(t, pub, message.TypeVideo, 20, avcFrame(true, 4))
	expect("the GOP the next key frame ends", gop1...)

	sub, err := h.Subscribe(context.Background(), k, SubscribeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	write(t, pub, message.TypeVideo, 21, avcFrame(false, 5))
	sub.Close()
	unwatched := avcFrame(false, 6)
	write(t, pub, message.TypeVideo, 22, unwatched)
	write(t, pub, message.TypeVideo, 23, avcSeq()) // a new configuration, mid-GOP
	write(t, pub, message.TypeVideo, 30, avcFrame(true, 7))
	expect("a GOP a subscriber joined and left", unwatched)
	pub.Close()
}

// ingest publishes a stream nobody watches, as a source that recycles
// its payloads does: one op is a video frame (a key frame every 25th)
// and an audio frame, with payloads the source owns.
type ingest struct {
	pub   *Publication
	video [25][]byte
	audio []byte
	n     int
	back  int
}

func newIngest(tb testing.TB, h *Hub) *ingest {
	in := &ingest{audio: aacFrame(1)}
	for i := range in.video {
		in.video[i] = append(avcFrame(i == 0, uint32(i)), make([]byte, 12<<10)...)
	}
	pub, err := h.Publish(context.Background(), Key{"live", "ingest"}, PublishOptions{Recycle: func([]byte) { in.back++ }})
	if err != nil {
		tb.Fatal(err)
	}
	in.pub = pub
	tb.Cleanup(func() { pub.Close() })
	in.op(tb) // the configurations
	return in
}

func (in *ingest) op(tb testing.TB) {
	if in.n == 0 {
		in.write(tb, message.TypeAudio, aacSeq())
		in.write(tb, message.TypeVideo, avcSeq())
	}
	in.write(tb, message.TypeVideo, in.video[in.n%len(in.video)])
	in.write(tb, message.TypeAudio, in.audio)
	in.n++
}

// write is the package's write without its t.Helper, whose cost would
// be most of BenchmarkIngest's.
func (in *ingest) write(tb testing.TB, typ message.Type, b []byte) {
	if err := in.pub.Write(rtmp.Packet{Type: typ, Timestamp: uint32(in.n * 40), Payload: b}); err != nil {
		tb.Fatal(err)
	}
}

// A stream nobody watches costs no allocation per message: the hub reuses
// what its GOP cache let go of.
func TestIngestAllocs(t *testing.T) {
	h := quietHub(t, Config{PlayWait: -1, RepublishGrace: -1})
	in := newIngest(t, h)
	for range 3 * len(in.video) {
		in.op(t)
	}
	a := testing.AllocsPerRun(4*len(in.video), func() { in.op(t) })
	t.Logf("%.3f allocations per message", a/2)
	if a > 0.1 {
		t.Errorf("%.3f allocations per video and audio frame, want 0", a)
	}
	if in.back == 0 {
		t.Error("no payload was given back")
	}
}

// BenchmarkIngest: a stream nobody watches, one op a video and an audio
// message into the hub (GOP cache on, payloads recycled).
func BenchmarkIngest(b *testing.B) {
	h := NewHub(Config{PlayWait: -1, RepublishGrace: -1, Logger: slog.New(slog.DiscardHandler)})
	b.Cleanup(func() { // after the publication's close
		ctx, cancel := contextWithTimeout(5 * time.Second)
		defer cancel()
		h.Shutdown(ctx)
	})
	in := newIngest(b, h)
	for range 3 * len(in.video) {
		in.op(b)
	}
	b.ReportAllocs()
	for b.Loop() {
		in.op(b)
	}
}
