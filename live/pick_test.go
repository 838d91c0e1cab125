package live

import (
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

func classified(t *testing.T, typ message.Type, payload []byte) (*Packet, bool) {
	p := &Packet{typ: typ, ts: 1000, payload: payload}
	var keep bool
	if typ == message.TypeVideo {
		keep = classifyVideo(p)
	} else {
		keep = classifyAudio(p)
	}
	return p, keep
}

func mtVideo(t *testing.T, ft flv.VideoFrameType, pt flv.VideoPacketType, tracks ...flv.Track) []byte {
	t.Helper()
	v, err := flv.MultitrackVideo(ft, pt, nil, tracks...)
	if err != nil {
		t.Fatal(err)
	}
	return exVideo(t, v)
}

func mtAudio(t *testing.T, pt flv.AudioPacketType, tracks ...flv.Track) []byte {
	t.Helper()
	a, err := flv.MultitrackAudio(pt, nil, tracks...)
	if err != nil {
		t.Fatal(err)
	}
	b, err := a.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestClassify(t *testing.T) {
	opusSeq, _ := (&flv.AudioTag{SoundFormat: flv.SoundExHeader, PacketType: flv.AudioSequenceStart, FourCC: flv.FourCCOpus, Data: []byte{1, 2}}).Append(nil)
	for _, tc := range []struct {
		name  string
		typ   message.Type
		body  []byte
		flags pflags
		keep  bool
		alt   bool
	}{
		{"avc key", message.TypeVideo, avcFrame(true, 1), fVideo | fKey, false, false},
		{"avc inter", message.TypeVideo, avcFrame(false, 1), fVideo, false, false},
		{"avc sequence header", message.TypeVideo, avcSeq(), fVideo | fConfig, true, false},
		{"aac sequence header", message.TypeAudio, aacSeq(), fConfig, true, false},
		{"aac raw", message.TypeAudio, aacFrame(1), 0, false, false},
		{"hevc key", message.TypeVideo, hevcFrame(t, true, 1), fVideo | fKey | fEnhanced, false, false},
		{"hevc sequence start", message.TypeVideo, exVideo(t, flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoSequenceStart, FourCC: flv.FourCCHEVC, Data: []byte{1}}), fVideo | fConfig | fEnhanced, true, false},
		{"opus sequence start", message.TypeAudio, opusSeq, fConfig | fEnhanced, true, false},
		{"one-track multitrack, track 1", message.TypeVideo, mtVideo(t, flv.FrameKey, flv.VideoCodedFrames, flv.Track{FourCC: flv.FourCCHEVC, ID: 1, Data: []byte{9}}), fVideo | fEnhanced | fMultitrack, false, false},
		{"many tracks with track 0", message.TypeVideo, mtVideo(t, flv.FrameKey, flv.VideoCodedFrames, flv.Track{FourCC: flv.FourCCAVC, ID: 0, Data: []byte{8}}, flv.Track{FourCC: flv.FourCCAVC, ID: 1, Data: []byte{9}}), fVideo | fKey | fEnhanced | fMultitrack, false, true},
		{"multitrack audio track 0", message.TypeAudio, mtAudio(t, flv.AudioCodedFrames, flv.Track{FourCC: flv.FourCCOpus, ID: 0, Data: []byte{7}}, flv.Track{FourCC: flv.FourCCAAC, ID: 1, Data: []byte{6}}), fEnhanced | fMultitrack, false, true},
		{"truncated video", message.TypeVideo, []byte{0x80}, fVideo, false, false},
		{"empty audio (silence)", message.TypeAudio, nil, 0, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, keep := classified(t, tc.typ, tc.body)
			alt := p.altPacket()
			flags := p.flags &^ (fTrack0 | fLegacy) // where derived forms may be
			if flags != tc.flags || keep != tc.keep || (alt != nil) != tc.alt {
				t.Fatalf("flags %b keep %v alt %v, want %b %v %v", flags, keep, alt != nil, tc.flags, tc.keep, tc.alt)
			}
			if alt != nil {
				// track 0 as a plain enhanced tag
				if p.typ == message.TypeVideo {
					var v flv.VideoTag
					if err := v.Unmarshal(alt.payload); err != nil || v.Multitrack || v.FourCC != flv.FourCCAVC || string(v.Data) != "\x00\x00\x00\x08" && string(v.Data) != "\x08" {
						t.Fatalf("alt %+v %v", v, err)
					}
				} else {
					var a flv.AudioTag
					if err := a.Unmarshal(alt.payload); err != nil || a.Multitrack || a.FourCC != flv.FourCCOpus || string(a.Data) != "\x07" {
						t.Fatalf("alt %+v %v", a, err)
					}
				}
			}
		})
	}
}

func TestPick(t *testing.T) {
	legacyKey, _ := classified(t, message.TypeVideo, avcFrame(true, 1))
	hevc, _ := classified(t, message.TypeVideo, hevcFrame(t, true, 1))
	track1, _ := classified(t, message.TypeVideo, mtVideo(t, flv.FrameKey, flv.VideoCodedFrames, flv.Track{FourCC: flv.FourCCHEVC, ID: 1, Data: []byte{9}}))
	many, _ := classified(t, message.TypeVideo, mtVideo(t, flv.FrameKey, flv.VideoCodedFrames, flv.Track{FourCC: flv.FourCCAVC, ID: 0, Data: []byte{8}}, flv.Track{FourCC: flv.FourCCHEVC, ID: 1, Data: []byte{9}}))
	opusSeq, _ := (&flv.AudioTag{SoundFormat: flv.SoundExHeader, PacketType: flv.AudioSequenceStart, FourCC: flv.FourCCOpus}).Append(nil)
	opus, _ := classified(t, message.TypeAudio, opusSeq)

	players := map[string]func(*Subscription){
		"legacy": func(s *Subscription) {},
		"undeclared, ForwardUndeclared": func(s *Subscription) {
			s.anyCodec = true
		},
		"hvc1 in fourCcList": func(s *Subscription) {
			s.caps = rtmp.Capabilities{Enhanced: true, FourCCList: []string{"hvc1"}}
		},
		"avc1+hvc1, multitrack": func(s *Subscription) {
			s.caps = rtmp.Capabilities{Enhanced: true, FourCCList: []string{"hvc1", "avc1"}, CapsEx: message.CapsExMultitrack}
			s.multitrack = true
		},
		"avc1 only, info map": func(s *Subscription) {
			s.caps = rtmp.Capabilities{Enhanced: true, VideoFourCCInfoMap: map[string]message.FourCCInfoMask{"avc1": message.FourCCCanDecode}}
		},
		"Opus audio map": func(s *Subscription) {
			s.caps = rtmp.Capabilities{Enhanced: true, AudioFourCCInfoMap: map[string]message.FourCCInfoMask{"Opus": message.FourCCCanForward}}
		},
	}
	type want struct{ legacy, hevc, track1, many, opus string }
	for name, w := range map[string]want{
		// many's track 0 is avc1: players that take neither the tag nor
		// track 0 as an enhanced tag get it as legacy AVC.
		"legacy":                        {"orig", "none", "none", "legacy", "none"},
		"undeclared, ForwardUndeclared": {"orig", "orig", "none", "alt", "orig"},
		"hvc1 in fourCcList":            {"orig", "orig", "none", "legacy", "none"},
		"avc1+hvc1, multitrack":         {"orig", "orig", "orig", "orig", "none"},
		"avc1 only, info map":           {"orig", "none", "none", "alt", "none"},
		"Opus audio map":                {"orig", "none", "none", "legacy", "orig"},
	} {
		t.Run(name, func(t *testing.T) {
			s := newSubscriber(nil, subLimits{})
			players[name](s)
			s.enhanced = s.caps.Enhanced
			for _, c := range []struct {
				what string
				p    *Packet
				want string
			}{{"legacy", legacyKey, w.legacy}, {"hevc", hevc, w.hevc}, {"track1", track1, w.track1}, {"many", many, w.many}, {"opus", opus, w.opus}} {
				for range 2 { // the second time from the memo
					got := "none"
					switch q := s.pick(c.p); {
					case q == c.p:
						got = "orig"
					case q != nil && q == c.p.altPacket():
						got = "alt"
					case q != nil && q == c.p.legacyPacket():
						got = "legacy"
					case q != nil:
						got = "other"
					}
					if got != c.want {
						t.Errorf("%s: got %s, want %s", c.what, got, c.want)
					}
				}
			}
		})
	}
}

func TestPickAllocs(t *testing.T) {
	hevc, _ := classified(t, message.TypeVideo, hevcFrame(t, true, 1))
	s := newSubscriber(nil, subLimits{})
	s.caps = rtmp.Capabilities{Enhanced: true, FourCCList: []string{"av01", "vp09", "hvc1"}}
	s.enhanced = true
	s.pick(hevc)
	if n := testing.AllocsPerRun(100, func() { s.pick(hevc) }); n != 0 {
		t.Fatalf("pick allocates %v times", n)
	}
}
