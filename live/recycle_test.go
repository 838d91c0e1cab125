package live

import (
	"context"
	"fmt"
	"slices"
	"testing"

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
