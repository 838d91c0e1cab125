package rtmp_test

import (
	"encoding/hex"
	"strings"
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

func appended(t interface{ Append([]byte) ([]byte, error) }) []byte {
	b, err := t.Append(nil)
	if err != nil {
		panic(err)
	}
	return b
}

func mustMultitrackVideo(ft flv.VideoFrameType, pt flv.VideoPacketType, tracks ...flv.Track) []byte {
	v, err := flv.MultitrackVideo(ft, pt, nil, tracks...)
	if err != nil {
		panic(err)
	}
	return appended(&v)
}

// Each packet's wire bytes and what the helpers read from them. Legacy
// headers: FLV 10.1 §E.4.2.1 (audio) and §E.4.3.1 (video); enhanced ones:
// Enhanced RTMP v2, ExAudioTagHeader and ExVideoTagHeader.
var packetTable = []struct {
	name     string
	typ      message.Type
	payload  []byte
	key, seq bool
	codec    flv.FourCC
}{
	{"legacy AVC sequence header", message.TypeVideo, hx("17 00 000000 01640028 ffe1"), false, true, flv.FourCCAVC},
	{"legacy AVC key frame", message.TypeVideo, hx("17 01 000000 00000002 6588"), true, false, flv.FourCCAVC},
	{"legacy AVC inter frame", message.TypeVideo, hx("27 01 000050 00000002 4188"), false, false, flv.FourCCAVC},
	{"legacy AVC end of sequence", message.TypeVideo, hx("17 02 000000"), false, false, flv.FourCCAVC},
	{"legacy AVC command frame", message.TypeVideo, hx("57 01"), false, false, flv.FourCCAVC},
	{"legacy AVC truncated", message.TypeVideo, hx("17 01"), false, false, 0},
	{"legacy VP6 key frame", message.TypeVideo, hx("14 00 11"), true, false, 0},
	{"legacy Sorenson H.263 inter frame", message.TypeVideo, hx("22 0011"), false, false, 0},
	{"enhanced hvc1 SequenceStart", message.TypeVideo, hx("90 68766331 01"), false, true, flv.FourCCHEVC},
	{"enhanced av01 CodedFrames key", message.TypeVideo, hx("91 61763031 12 00"), true, false, flv.FourCCAV1},
	{"enhanced avc1 CodedFramesX inter", message.TypeVideo, hx("a3 61766331 00000002 4188"), false, false, flv.FourCCAVC},
	{"enhanced vp09 MPEG2TSSequenceStart", message.TypeVideo, hx("95 76703039 01"), false, true, flv.FourCCVP9},
	{"enhanced hvc1 Metadata", message.TypeVideo, hx("94 68766331 02 0009 636f6c6f72496e666f"), false, false, flv.FourCCHEVC},
	{"enhanced ModEx nano offset key", message.TypeVideo, appended(&flv.VideoTag{Enhanced: true, FrameType: flv.FrameKey, PacketType: flv.VideoCodedFrames, FourCC: flv.FourCCHEVC, ModEx: flv.NanoOffset(500), Data: hx("00000002 2601")}), true, false, flv.FourCCHEVC},
	{"enhanced multitrack OneTrack key", message.TypeVideo, mustMultitrackVideo(flv.FrameKey, flv.VideoCodedFrames, flv.Track{ID: 1, FourCC: flv.FourCCAV1, Data: hx("1200")}), true, false, flv.FourCCAV1},
	{"enhanced multitrack ManyTracksManyCodecs SequenceStart", message.TypeVideo, mustMultitrackVideo(flv.FrameKey, flv.VideoSequenceStart, flv.Track{ID: 0, FourCC: flv.FourCCAVC, Data: hx("01")}, flv.Track{ID: 1, FourCC: flv.FourCCHEVC, Data: hx("01")}), false, true, 0},
	{"legacy AAC sequence header", message.TypeAudio, hx("af 00 1210"), false, true, flv.FourCCAAC},
	{"legacy AAC raw", message.TypeAudio, hx("af 01 21"), false, false, flv.FourCCAAC},
	{"legacy MP3", message.TypeAudio, hx("2f fffb9064"), false, false, flv.FourCCMP3},
	{"legacy MP3 8 kHz", message.TypeAudio, hx("e2 fff3"), false, false, flv.FourCCMP3},
	{"legacy Nellymoser", message.TypeAudio, hx("6e 0102"), false, false, 0},
	{"legacy G.711 A-law", message.TypeAudio, hx("72 d5d5"), false, false, 0},
	{"enhanced Opus SequenceStart", message.TypeAudio, hx("90 4f707573 4f707573486561640102"), false, true, flv.FourCCOpus},
	{"enhanced Opus CodedFrames", message.TypeAudio, hx("91 4f707573 f8ff"), false, false, flv.FourCCOpus},
	{"enhanced fLaC CodedFrames", message.TypeAudio, hx("91 664c6143 fff8"), false, false, flv.FourCCFLAC},
	{"audio silence", message.TypeAudio, nil, false, false, 0},
	{"data", message.TypeDataAMF0, hx("02000a 6f6e4d65746144617461 05"), false, false, 0},
	{"command", message.TypeCommandAMF0, hx("020008 6f6e537461747573 00 0000000000000000 05"), false, false, 0},
}

func TestPacketHelpers(t *testing.T) {
	for _, tc := range packetTable {
		pk := rtmp.Packet{Type: tc.typ, Timestamp: 1234, Payload: tc.payload}
		if got := pk.IsKeyFrame(); got != tc.key {
			t.Errorf("%s: IsKeyFrame = %v", tc.name, got)
		}
		if got := pk.IsSequenceHeader(); got != tc.seq {
			t.Errorf("%s: IsSequenceHeader = %v", tc.name, got)
		}
		if got := pk.Codec(); got != tc.codec {
			t.Errorf("%s: Codec = %v, want %v", tc.name, got, tc.codec)
		}
	}
}

func TestPacketTag(t *testing.T) {
	for _, tc := range packetTable {
		pk := rtmp.Packet{Type: tc.typ, Timestamp: 0x01020304, Payload: tc.payload}
		tag, ok := pk.Tag()
		wantOK := tc.typ == message.TypeAudio || tc.typ == message.TypeVideo || tc.typ == message.TypeDataAMF0
		if ok != wantOK {
			t.Errorf("%s: Tag ok = %v", tc.name, ok)
			continue
		}
		if !ok {
			continue
		}
		if uint8(tag.Type) != uint8(tc.typ) || tag.Timestamp != pk.Timestamp || len(tag.Data) != len(pk.Payload) {
			t.Errorf("%s: Tag = %+v", tc.name, tag)
		}
		if len(pk.Payload) > 0 && &tag.Data[0] != &pk.Payload[0] {
			t.Errorf("%s: the tag's data is a copy", tc.name)
		}
	}
	tag, ok := rtmp.Packet{Type: message.TypeDataAMF3, Payload: hx("00 02000a 6f6e4d65746144617461")}.Tag()
	if !ok || tag.Type != flv.TagScriptAMF3 {
		t.Errorf("AMF3 data: %+v, %v", tag, ok)
	}
	if _, ok := (rtmp.Packet{Type: message.TypeAggregate}).Tag(); ok {
		t.Error("an aggregate has a tag")
	}
}

// The helpers do not allocate for well-formed packets. (A malformed header
// costs the flv package's error value.)
func TestPacketHelpersDoNotAllocate(t *testing.T) {
	var sink int
	allocs := testing.AllocsPerRun(100, func() {
		for _, tc := range packetTable {
			if strings.Contains(tc.name, "truncated") {
				continue
			}
			pk := rtmp.Packet{Type: tc.typ, Payload: tc.payload}
			if pk.IsKeyFrame() {
				sink++
			}
			if pk.IsSequenceHeader() {
				sink++
			}
			sink += int(pk.Codec())
			if tag, ok := pk.Tag(); ok {
				sink += len(tag.Data)
			}
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per run of %d packets", allocs, len(packetTable))
	}
	_ = sink
}

func BenchmarkPacketHelpers(b *testing.B) {
	b.ReportAllocs()
	pks := []rtmp.Packet{
		{Type: message.TypeVideo, Payload: hx("17 01 000000 00000002 6588")},
		{Type: message.TypeVideo, Payload: hx("91 61763031 12 00")},
		{Type: message.TypeAudio, Payload: hx("af 01 21")},
	}
	n := 0
	for i := 0; i < b.N; i++ {
		pk := pks[i%len(pks)]
		if pk.IsKeyFrame() || pk.IsSequenceHeader() {
			n++
		}
		n += int(pk.Codec())
	}
	_ = n
}

func TestPacketCodecInfo(t *testing.T) {
	// A libx264 1280x720 High profile AVCDecoderConfigurationRecord (see
	// codecinfo's example).
	avcC := hx("0164001fffe1001a6764001facd94050 05bb0110000003001000000303 20f183 1960 01 0006 68ebe3cb22c0 fdf8f800")
	for _, tc := range []struct {
		name string
		pk   rtmp.Packet
		want string // VideoInfo or AudioInfo as a string, or the error
	}{
		{"legacy AVC sequence header", rtmp.Packet{Type: message.TypeVideo, Payload: append(hx("17 00 000000"), avcC...)}, "h264 High@31 1280x720 4:2:0 8-bit"},
		{"enhanced avc1 SequenceStart", rtmp.Packet{Type: message.TypeVideo, Payload: append(hx("90 61766331"), avcC...)}, "h264 High@31 1280x720 4:2:0 8-bit"},
		{"multitrack avc1 SequenceStart", rtmp.Packet{Type: message.TypeVideo, Payload: mustMultitrackVideo(flv.FrameKey, flv.VideoSequenceStart, flv.Track{ID: 2, FourCC: flv.FourCCAVC, Data: avcC})}, "h264 High@31 1280x720 4:2:0 8-bit"},
		{"AVC key frame", rtmp.Packet{Type: message.TypeVideo, Payload: hx("17 01 000000 00000002 6588")}, rtmp.ErrNoCodecInfo.Error()},
		{"VP8 key frame", rtmp.Packet{Type: message.TypeVideo, Payload: hx("91 76703038 9077009d012a4101f300")}, "vp8 0 321x243 4:2:0 8-bit"},
		{"legacy AAC sequence header", rtmp.Packet{Type: message.TypeAudio, Payload: hx("af 00 1210")}, "aac LC 44100 Hz 2 ch"},
		{"legacy AAC raw", rtmp.Packet{Type: message.TypeAudio, Payload: hx("af 01 21")}, rtmp.ErrNoCodecInfo.Error()},
		{"legacy MP3 frame", rtmp.Packet{Type: message.TypeAudio, Payload: hx("2f fffb9064 00000000")}, "mp3 44100 Hz 2 ch 128000 b/s"},
		{"data", rtmp.Packet{Type: message.TypeDataAMF0, Payload: hx("02000a 6f6e4d65746144617461")}, rtmp.ErrNoCodecInfo.Error()},
	} {
		var got string
		var s interface{ String() string }
		var err error
		if tc.pk.Type == message.TypeAudio {
			s, err = tc.pk.AudioInfo()
		} else {
			s, err = tc.pk.VideoInfo()
		}
		if err != nil {
			got = err.Error()
		} else {
			got = s.String()
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
