package live

import (
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// End to end through the server's connect parsing: each player gets what
// its declared capabilities say it can take, bytes untouched.
func TestTrackSelection(t *testing.T) {
	sh := startHub(t, Config{})
	pub := publishPeer(t, sh.addr, "live", "t")
	hevcSeq := exVideo(t, flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoSequenceStart, FourCC: flv.FourCCHEVC, Data: []byte{1, 2, 3}})
	opus1 := mtAudio(t, flv.AudioCodedFrames, flv.Track{FourCC: flv.FourCCOpus, ID: 1, Data: []byte{5, 5}})
	avc2 := mtVideo(t, flv.FrameKey, flv.VideoCodedFrames, flv.Track{FourCC: flv.FourCCAVC, ID: 0, Data: []byte{7}}, flv.Track{FourCC: flv.FourCCAVC, ID: 1, Data: []byte{8}})
	var avc2Track0, avc2Legacy []byte
	{
		var v flv.VideoTag
		v.Unmarshal(avc2)
		it := v.Tracks()
		it.Next()
		one := v.TrackTag(it.Track())
		avc2Track0, _ = one.Append(nil)
		l, _ := one.Legacy()
		avc2Legacy, _ = l.Append(nil)
	}
	type m struct {
		typ  message.Type
		body []byte
	}
	stream := []m{
		{message.TypeAudio, aacSeq()},
		{message.TypeVideo, hevcSeq},
		{message.TypeVideo, hevcFrame(t, true, 1)},
		{message.TypeAudio, aacFrame(1)},
		{message.TypeAudio, opus1},
		{message.TypeVideo, hevcFrame(t, false, 2)},
		{message.TypeVideo, avc2},
		{message.TypeAudio, aacFrame(2)},
	}
	players := map[string]*rtmp.Capabilities{
		"legacy":     nil,
		"hvc1":       {FourCCList: []string{"hvc1"}},
		"avc1":       {VideoFourCCInfoMap: map[string]message.FourCCInfoMask{"avc1": message.FourCCCanDecode}},
		"multitrack": {FourCCList: []string{"*"}, CapsEx: message.CapsExMultitrack},
	}
	want := map[string][]string{
		// Players that cannot take avc2's track 0 as an enhanced tag get it
		// as legacy AVC.
		"legacy":     {string(aacSeq()), string(aacFrame(1)), string(avc2Legacy), string(aacFrame(2))},
		"hvc1":       {string(aacSeq()), string(hevcSeq), string(hevcFrame(t, true, 1)), string(aacFrame(1)), string(hevcFrame(t, false, 2)), string(avc2Legacy), string(aacFrame(2))},
		"avc1":       {string(aacSeq()), string(aacFrame(1)), string(avc2Track0), string(aacFrame(2))},
		"multitrack": nil,
	}
	for _, s := range stream {
		want["multitrack"] = append(want["multitrack"], string(s.body))
	}
	peers := map[string]*testpeerPeer{}
	for name, caps := range players {
		peers[name] = playPeer(t, sh.addr, "live", "t", caps)
	}
	sh.waitStream(t, "t", func(si StreamInfo) bool { return si.Subscribers == len(players) })
	for i, s := range stream {
		if err := pub.Media(s.typ, uint32(i*10), s.body); err != nil {
			t.Fatal(err)
		}
	}
	pub.Media(message.TypeAudio, 1000, aacFrame(99)) // end marker, for everyone
	for name, p := range peers {
		var got []string
		for {
			msg, err := p.ReadMessage()
			if err != nil {
				t.Fatal(err)
			}
			if msg.Type != message.TypeAudio && msg.Type != message.TypeVideo {
				continue
			}
			if string(msg.Payload) == string(aacFrame(99)) {
				break
			}
			got = append(got, string(msg.Payload))
		}
		if len(got) != len(want[name]) {
			t.Errorf("%s: got %d messages, want %d", name, len(got), len(want[name]))
			continue
		}
		for i := range got {
			if got[i] != want[name][i] {
				t.Errorf("%s: message %d is %x, want %x", name, i, got[i], want[name][i])
			}
		}
	}
}
