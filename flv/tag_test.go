package flv

import (
	"bytes"
	"encoding/hex"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func hx(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

// videoGolden is the one table of wire bytes and values for video tags: it
// drives the decode test, the encode test and the fuzz seeds. Names cite the
// spec section whose layout they exercise.
var videoGolden = []struct {
	name string
	wire []byte
	tag  VideoTag
}{
	{"FLV10.1 E.4.3.1 legacy AVC sequence header", hx("17 00 000000 0164001f"),
		VideoTag{FrameType: FrameKey, CodecID: CodecAVC, AVCPacketType: AVCSequenceHeader, Data: hx("0164001f")}},
	{"FLV10.1 E.4.3.1 legacy AVC NALU with positive composition time", hx("27 01 000050 00000002 0910"),
		VideoTag{FrameType: FrameInter, CodecID: CodecAVC, AVCPacketType: AVCNALU, CompositionTime: 80, Data: hx("00000002 0910")}},
	{"FLV10.1 E.4.3.1 legacy AVC NALU with negative composition time (SI24)", hx("17 01 ffffd8 aa"),
		VideoTag{FrameType: FrameKey, CodecID: CodecAVC, AVCPacketType: AVCNALU, CompositionTime: -40, Data: hx("aa")}},
	{"FLV10.1 E.4.3.1 legacy AVC end of sequence", hx("17 02 000000"),
		VideoTag{FrameType: FrameKey, CodecID: CodecAVC, AVCPacketType: AVCEndOfSequence, Data: []byte{}}},
	{"FLV10.1 E.4.3.1 Sorenson H.263 disposable inter frame", hx("32 0000840081"),
		VideoTag{FrameType: FrameDisposableInter, CodecID: CodecSorensonH263, Data: hx("0000840081")}},
	{"FLV10.1 E.4.3.1 screen video", hx("13 beef"), VideoTag{FrameType: FrameKey, CodecID: CodecScreen, Data: hx("beef")}},
	{"FLV10.1 E.4.3.1 VP6", hx("24 00 11"), VideoTag{FrameType: FrameInter, CodecID: CodecVP6, Data: hx("0011")}},
	{"FLV10.1 E.4.3.1 VP6 alpha", hx("15 00 11"), VideoTag{FrameType: FrameKey, CodecID: CodecVP6Alpha, Data: hx("0011")}},
	{"FLV10.1 E.4.3.1 screen video v2", hx("26 01"), VideoTag{FrameType: FrameInter, CodecID: CodecScreenV2, Data: hx("01")}},
	{"FLV10.1 E.4.3.1 generated key frame", hx("47 01 000000"), VideoTag{FrameType: FrameGeneratedKey, CodecID: CodecAVC, AVCPacketType: AVCNALU, Data: []byte{}}},
	{"E-RTMPv2 VideoCommand legacy start seek", hx("57 00"), VideoTag{FrameType: FrameCommand, CodecID: CodecAVC, HasCommand: true, Command: CommandStartSeek, Data: []byte{}}},
	{"E-RTMPv2 VideoCommand legacy end seek", hx("52 01"), VideoTag{FrameType: FrameCommand, CodecID: CodecSorensonH263, HasCommand: true, Command: CommandEndSeek, Data: []byte{}}},
	{"FLV10.1 legacy reserved codec id 12 kept", hx("1c 00 000000 01"), VideoTag{FrameType: FrameKey, CodecID: 12, Data: hx("00 000000 01")}},
	// Enhanced RTMP v2, ExVideoTagHeader.
	{"E-RTMPv2 ExVideoTagHeader hvc1 SequenceStart", hx("90 68766331 0102"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoSequenceStart, FourCC: FourCCHEVC, Data: hx("0102")}},
	{"E-RTMPv2 ExVideoTagBody hvc1 CodedFrames has SI24 composition time", hx("91 68766331 000021 00000001 26"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, FourCC: FourCCHEVC, CompositionTime: 33, Data: hx("00000001 26")}},
	{"E-RTMPv2 ExVideoTagBody avc1 CodedFrames composition time", hx("a1 61766331 fffff6 09"),
		VideoTag{Enhanced: true, FrameType: FrameInter, PacketType: VideoCodedFrames, FourCC: FourCCAVC, CompositionTime: -10, Data: hx("09")}},
	{"E-RTMPv2 ExVideoTagBody vvc1 CodedFrames composition time", hx("a1 76766331 000000 09"),
		VideoTag{Enhanced: true, FrameType: FrameInter, PacketType: VideoCodedFrames, FourCC: FourCCVVC, Data: hx("09")}},
	{"E-RTMPv2 ExVideoTagBody hvc1 CodedFramesX has no composition time", hx("a3 68766331 0000000102"),
		VideoTag{Enhanced: true, FrameType: FrameInter, PacketType: VideoCodedFramesX, FourCC: FourCCHEVC, Data: hx("0000000102")}},
	{"E-RTMPv2 ExVideoTagBody av01 CodedFrames has no composition time", hx("91 61763031 12000a0b"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, FourCC: FourCCAV1, Data: hx("12000a0b")}},
	{"E-RTMPv2 ExVideoTagBody vp09 CodedFrames", hx("a1 76703039 8249"),
		VideoTag{Enhanced: true, FrameType: FrameInter, PacketType: VideoCodedFrames, FourCC: FourCCVP9, Data: hx("8249")}},
	{"E-RTMPv2 ExVideoTagBody vp08 SequenceStart", hx("90 76703038 01"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoSequenceStart, FourCC: FourCCVP8, Data: hx("01")}},
	{"E-RTMPv2 empty av01 SequenceStart (eflv sample)", hx("90 61763031"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoSequenceStart, FourCC: FourCCAV1, Data: []byte{}}},
	{"E-RTMPv2 SequenceEnd", hx("92 61763031"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoSequenceEnd, FourCC: FourCCAV1, Data: []byte{}}},
	{"E-RTMPv2 Metadata frame ignores command frame type (eflv sample)", hx("d4 61763031 020009636f6c6f72496e666f 0300000009"),
		VideoTag{Enhanced: true, FrameType: FrameCommand, PacketType: VideoMetadata, FourCC: FourCCAV1, Data: hx("020009636f6c6f72496e666f 0300000009")}},
	{"E-RTMPv2 MPEG2TSSequenceStart", hx("95 61763031 80"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoMPEG2TSSequenceStart, FourCC: FourCCAV1, Data: hx("80")}},
	{"E-RTMPv2 enhanced command frame has no FourCC", hx("d1 01"),
		VideoTag{Enhanced: true, FrameType: FrameCommand, PacketType: VideoCodedFrames, HasCommand: true, Command: CommandEndSeek, Data: []byte{}}},
	{"E-RTMPv2 reserved packet type 9 and unknown FourCC kept", hx("99 78797a31 0102"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: 9, FourCC: 0x78797a31, Data: hx("0102")}},
	{"E-RTMPv2 reserved frame type 0 kept", hx("81 61763031 00"),
		VideoTag{Enhanced: true, FrameType: 0, PacketType: VideoCodedFrames, FourCC: FourCCAV1, Data: hx("00")}},
	// Multitrack.
	{"E-RTMPv2 Multitrack OneTrack", hx("96 01 68766331 02 000010 aabb"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, Multitrack: true, MultitrackType: OneTrack, FourCC: FourCCHEVC, Data: hx("02 000010 aabb")}},
	{"E-RTMPv2 Multitrack ManyTracks", hx("96 11 61763031 00 000002 aabb 01 000001 cc"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, Multitrack: true, MultitrackType: ManyTracks, FourCC: FourCCAV1, Data: hx("00 000002 aabb 01 000001 cc")}},
	{"E-RTMPv2 Multitrack ManyTracksManyCodecs", hx("a6 21 61766331 00 000004 000000aa 61763031 01 000001 cc"),
		VideoTag{Enhanced: true, FrameType: FrameInter, PacketType: VideoCodedFrames, Multitrack: true, MultitrackType: ManyTracksManyCodecs, Data: hx("61766331 00 000004 000000aa 61763031 01 000001 cc")}},
	// ModEx.
	{"E-RTMPv2 ModEx TimestampOffsetNano", hx("97 02 0f4240 01 68766331 000000 ee"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, ModEx: ModEx(hx("02 0f4240 01")), FourCC: FourCCHEVC, Data: hx("ee")}},
	{"E-RTMPv2 ModEx chain of two then Multitrack", hx("97 02 000001 07 00 55 f6 01 61763031 03 11"),
		VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, ModEx: ModEx(hx("02 000001 07 00 55 f6")), Multitrack: true, MultitrackType: OneTrack, FourCC: FourCCAV1, Data: hx("03 11")}},
}

func TestVideoGolden(t *testing.T) {
	for _, tc := range videoGolden {
		t.Run(tc.name, func(t *testing.T) {
			var got VideoTag
			if err := got.Unmarshal(tc.wire); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, tc.tag) {
				t.Fatalf("Unmarshal:\n got %+v\nwant %+v", got, tc.tag)
			}
			if n := got.HeaderSize(); n != len(tc.wire)-len(tc.tag.Data) {
				t.Errorf("HeaderSize = %d, want %d", n, len(tc.wire)-len(tc.tag.Data))
			}
			enc, err := tc.tag.Append(nil)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(enc, tc.wire) {
				t.Fatalf("Append = % x, want % x", enc, tc.wire)
			}
		})
	}
}

var audioGolden = []struct {
	name string
	wire []byte
	tag  AudioTag
}{
	{"FLV10.1 E.4.2.1 AAC sequence header", hx("af 00 1210"),
		AudioTag{SoundFormat: SoundAAC, SoundRate: SoundRate44k, SoundSize: 1, SoundType: 1, AACPacketType: AACSequenceHeader, Data: hx("1210")}},
	{"FLV10.1 E.4.2.1 AAC raw", hx("af 01 2100"),
		AudioTag{SoundFormat: SoundAAC, SoundRate: SoundRate44k, SoundSize: 1, SoundType: 1, AACPacketType: AACRaw, Data: hx("2100")}},
	{"FLV10.1 E.4.2.1 MP3 22 kHz mono 16-bit", hx("2a fffb"),
		AudioTag{SoundFormat: SoundMP3, SoundRate: SoundRate22k, SoundSize: 1, SoundType: 0, Data: hx("fffb")}},
	{"FLV10.1 E.4.2.1 linear PCM platform endian 5.5 kHz 8-bit mono", hx("00 80"), AudioTag{SoundFormat: SoundLPCMPlatformEndian, Data: hx("80")}},
	{"FLV10.1 E.4.2.1 ADPCM", hx("16 00"), AudioTag{SoundFormat: SoundADPCM, SoundRate: SoundRate11k, SoundSize: 1, Data: hx("00")}},
	{"FLV10.1 E.4.2.1 linear PCM little endian", hx("3f 0000"), AudioTag{SoundFormat: SoundLPCMLittleEndian, SoundRate: SoundRate44k, SoundSize: 1, SoundType: 1, Data: hx("0000")}},
	{"FLV10.1 E.4.2.1 Nellymoser 16 kHz mono", hx("42 00"), AudioTag{SoundFormat: SoundNellymoser16kMono, SoundSize: 1, Data: hx("00")}},
	{"FLV10.1 E.4.2.1 Nellymoser 8 kHz mono", hx("52 00"), AudioTag{SoundFormat: SoundNellymoser8kMono, SoundSize: 1, Data: hx("00")}},
	{"FLV10.1 E.4.2.1 Nellymoser", hx("6e 00"), AudioTag{SoundFormat: SoundNellymoser, SoundRate: SoundRate44k, SoundSize: 1, Data: hx("00")}},
	{"FLV10.1 E.4.2.1 G.711 A-law", hx("72 d5"), AudioTag{SoundFormat: SoundG711ALaw, SoundSize: 1, Data: hx("d5")}},
	{"FLV10.1 E.4.2.1 G.711 mu-law", hx("82 ff"), AudioTag{SoundFormat: SoundG711MuLaw, SoundSize: 1, Data: hx("ff")}},
	{"FLV10.1 E.4.2.1 Speex", hx("b6 00"), AudioTag{SoundFormat: SoundSpeex, SoundRate: SoundRate11k, SoundSize: 1, Data: hx("00")}},
	{"FLV10.1 E.4.2.1 reserved format 12 kept", hx("c6 00"), AudioTag{SoundFormat: 12, SoundRate: SoundRate11k, SoundSize: 1, Data: hx("00")}},
	{"FLV10.1 E.4.2.1 MP3 8 kHz", hx("e2 fff3"), AudioTag{SoundFormat: SoundMP38k, SoundSize: 1, Data: hx("fff3")}},
	{"FLV10.1 E.4.2.1 device-specific", hx("f2 01"), AudioTag{SoundFormat: SoundDeviceSpecific, SoundSize: 1, Data: hx("01")}},
	{"E-RTMPv2 audio silence message is zero-length", []byte{}, AudioTag{Silence: true}},
	// Enhanced RTMP v2, ExAudioTagHeader.
	{"E-RTMPv2 ExAudioTagHeader Opus SequenceStart (eflv sample)", hx("90 4f707573 4f707573486561640101380180bb00000000"),
		AudioTag{SoundFormat: SoundExHeader, PacketType: AudioSequenceStart, FourCC: FourCCOpus, Data: hx("4f707573486561640101380180bb00000000")}},
	{"E-RTMPv2 Opus CodedFrames", hx("91 4f707573 f89e"), AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, FourCC: FourCCOpus, Data: hx("f89e")}},
	{"E-RTMPv2 MultichannelConfig native (eflv sample)", hx("94 4f707573 01 01 00000004"),
		AudioTag{SoundFormat: SoundExHeader, PacketType: AudioMultichannelConfig, FourCC: FourCCOpus, Data: hx("01 01 00000004")}},
	{"E-RTMPv2 fLaC SequenceStart", hx("90 664c6143 664c6143"), AudioTag{SoundFormat: SoundExHeader, PacketType: AudioSequenceStart, FourCC: FourCCFLAC, Data: hx("664c6143")}},
	{"E-RTMPv2 ac-3 CodedFrames", hx("91 61632d33 0b77"), AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, FourCC: FourCCAC3, Data: hx("0b77")}},
	{"E-RTMPv2 ec-3 CodedFrames", hx("91 65632d33 0b77"), AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, FourCC: FourCCEAC3, Data: hx("0b77")}},
	{"E-RTMPv2 .mp3 CodedFrames", hx("91 2e6d7033 fffb"), AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, FourCC: FourCCMP3, Data: hx("fffb")}},
	{"E-RTMPv2 mp4a SequenceStart", hx("90 6d703461 1190"), AudioTag{SoundFormat: SoundExHeader, PacketType: AudioSequenceStart, FourCC: FourCCAAC, Data: hx("1190")}},
	{"E-RTMPv2 SequenceEnd", hx("92 4f707573"), AudioTag{SoundFormat: SoundExHeader, PacketType: AudioSequenceEnd, FourCC: FourCCOpus, Data: []byte{}}},
	{"E-RTMPv2 reserved packet type 3 kept", hx("93 4f707573 01"), AudioTag{SoundFormat: SoundExHeader, PacketType: 3, FourCC: FourCCOpus, Data: hx("01")}},
	{"E-RTMPv2 audio Multitrack OneTrack", hx("95 01 4f707573 01 f8"),
		AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, Multitrack: true, MultitrackType: OneTrack, FourCC: FourCCOpus, Data: hx("01 f8")}},
	{"E-RTMPv2 audio Multitrack ManyTracks", hx("95 11 6d703461 00 000001 21 01 000002 2122"),
		AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, Multitrack: true, MultitrackType: ManyTracks, FourCC: FourCCAAC, Data: hx("00 000001 21 01 000002 2122")}},
	{"E-RTMPv2 audio Multitrack ManyTracksManyCodecs", hx("95 21 6d703461 00 000001 21 4f707573 01 000001 f8"),
		AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, Multitrack: true, MultitrackType: ManyTracksManyCodecs, Data: hx("6d703461 00 000001 21 4f707573 01 000001 f8")}},
	{"E-RTMPv2 audio ModEx TimestampOffsetNano", hx("97 02 0001f4 01 4f707573 f8"),
		AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, ModEx: ModEx(hx("02 0001f4 01")), FourCC: FourCCOpus, Data: hx("f8")}},
	{"E-RTMPv2 audio ModEx with 16-bit size escape", append(append(hx("97 ff 0000"), make([]byte, 1)...), hx("01 4f707573")...),
		AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, ModEx: ModEx(append(append(hx("ff 0000"), 0), 0x01)), FourCC: FourCCOpus, Data: []byte{}}},
}

func TestAudioGolden(t *testing.T) {
	for _, tc := range audioGolden {
		t.Run(tc.name, func(t *testing.T) {
			var got AudioTag
			if err := got.Unmarshal(tc.wire); err != nil {
				t.Fatalf("Unmarshal: %v", err)
			}
			if !reflect.DeepEqual(got, tc.tag) {
				t.Fatalf("Unmarshal:\n got %+v\nwant %+v", got, tc.tag)
			}
			if n := got.HeaderSize(); n != len(tc.wire)-len(tc.tag.Data) {
				t.Errorf("HeaderSize = %d, want %d", n, len(tc.wire)-len(tc.tag.Data))
			}
			enc, err := tc.tag.Append(nil)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(enc, tc.wire) {
				t.Fatalf("Append = % x, want % x", enc, tc.wire)
			}
		})
	}
}

// Every proper prefix of a golden tag that cuts its header must fail with
// an error that matches io.ErrUnexpectedEOF, never panic.
func TestTruncatedHeaders(t *testing.T) {
	for _, tc := range videoGolden {
		hs := len(tc.wire) - len(tc.tag.Data)
		for n := 0; n < hs; n++ {
			var v VideoTag
			err := v.Unmarshal(tc.wire[:n])
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s: Unmarshal of %d/%d header bytes: err = %v, want ErrUnexpectedEOF", tc.name, n, hs, err)
			}
		}
	}
	for _, tc := range audioGolden {
		hs := len(tc.wire) - len(tc.tag.Data)
		for n := 1; n < hs; n++ { // zero bytes is the silence message
			var a AudioTag
			err := a.Unmarshal(tc.wire[:n])
			if !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("%s: Unmarshal of %d/%d header bytes: err = %v, want ErrUnexpectedEOF", tc.name, n, hs, err)
			}
		}
	}
}

func TestNestedMultitrackRejected(t *testing.T) {
	var v VideoTag
	if err := v.Unmarshal(hx("96 06 61763031 00")); !errors.Is(err, ErrNestedMultitrack) {
		t.Errorf("video: err = %v, want ErrNestedMultitrack", err)
	}
	var a AudioTag
	if err := a.Unmarshal(hx("95 05 4f707573 00")); !errors.Is(err, ErrNestedMultitrack) {
		t.Errorf("audio: err = %v, want ErrNestedMultitrack", err)
	}
	bad := VideoTag{Enhanced: true, Multitrack: true, PacketType: VideoMultitrack}
	if _, err := bad.Append(nil); !errors.Is(err, ErrNestedMultitrack) {
		t.Errorf("encode: err = %v, want ErrNestedMultitrack", err)
	}
}

func TestEncodeRangeErrors(t *testing.T) {
	for name, tag := range map[string]VideoTag{
		"legacy CT over SI24":    {FrameType: FrameKey, CodecID: CodecAVC, CompositionTime: 1 << 23},
		"enhanced CT under SI24": {Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFrames, FourCC: FourCCAVC, CompositionTime: -1<<23 - 1},
		"enhanced frame type 8":  {Enhanced: true, FrameType: 8, FourCC: FourCCAV1},
		"legacy codec id 16":     {FrameType: 1, CodecID: 16},
		"multitrack command":     {Enhanced: true, FrameType: FrameCommand, Multitrack: true},
	} {
		if _, err := tag.Append(nil); err == nil {
			t.Errorf("%s: Append succeeded, want an error", name)
		}
	}
}

func TestTracks(t *testing.T) {
	var v VideoTag
	if err := v.Unmarshal(hx("a6 21 61766331 00 000004 000000aa 61763031 01 000001 cc")); err != nil {
		t.Fatal(err)
	}
	var got []Track
	it := v.Tracks()
	for it.Next() {
		got = append(got, it.Track())
	}
	if err := it.Err(); err != nil {
		t.Fatal(err)
	}
	want := []Track{
		{FourCC: FourCCAVC, ID: 0, CompositionTime: 0, Data: hx("aa")},
		{FourCC: FourCCAV1, ID: 1, Data: hx("cc")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("tracks = %+v, want %+v", got, want)
	}

	// Split into OneTrack tags and join back: the same bytes.
	parts, err := SplitVideo(&v)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) != 2 || parts[0].MultitrackType != OneTrack || parts[1].FourCC != FourCCAV1 {
		t.Fatalf("split = %+v", parts)
	}
	p1, _ := parts[1].Append(nil)
	if want := hx("a6 01 61763031 01 cc"); !bytes.Equal(p1, want) {
		t.Errorf("split track 1 = % x, want % x", p1, want)
	}
	joined, err := JoinVideo(parts)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := joined.Append(nil)
	b, _ := v.Append(nil)
	if !bytes.Equal(a, b) {
		t.Errorf("join(split) = % x, want % x", a, b)
	}
}

func TestJoinPicksMultitrackType(t *testing.T) {
	mk := func(id uint8, fourcc FourCC, data string) AudioTag {
		tr := AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, Multitrack: true, MultitrackType: OneTrack, FourCC: fourcc}
		tr.Data = append([]byte{id}, hx(data)...)
		return tr
	}
	same, err := JoinAudio([]AudioTag{mk(0, FourCCAAC, "21"), mk(1, FourCCAAC, "2122")})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := same.Append(nil)
	if want := hx("95 11 6d703461 00 000001 21 01 000002 2122"); !bytes.Equal(enc, want) {
		t.Errorf("ManyTracks join = % x, want % x", enc, want)
	}
	mixed, err := JoinAudio([]AudioTag{mk(0, FourCCAAC, "21"), mk(1, FourCCOpus, "f8")})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ = mixed.Append(nil)
	if want := hx("95 21 6d703461 00 000001 21 4f707573 01 000001 f8"); !bytes.Equal(enc, want) {
		t.Errorf("ManyTracksManyCodecs join = % x, want % x", enc, want)
	}
	one, err := JoinAudio([]AudioTag{mk(3, FourCCOpus, "f8")})
	if err != nil {
		t.Fatal(err)
	}
	enc, _ = one.Append(nil)
	if want := hx("95 01 4f707573 03 f8"); !bytes.Equal(enc, want) {
		t.Errorf("OneTrack join = % x, want % x", enc, want)
	}
	diff := mk(1, FourCCOpus, "f8")
	diff.PacketType = AudioSequenceStart
	if _, err := JoinAudio([]AudioTag{mk(0, FourCCOpus, "f8"), diff}); !errors.Is(err, ErrTracks) {
		t.Errorf("join of different packet types: err = %v, want ErrTracks", err)
	}
}

func TestTrackErrors(t *testing.T) {
	for name, wire := range map[string]string{
		"size past end":          "96 11 61763031 00 000009 aabb",
		"missing size":           "96 11 61763031 00 0000",
		"missing fourcc in MTMC": "96 21 6176",
		"reserved type 3":        "96 31 61763031 00 000001 aa",
		"CT missing in track":    "96 11 61766331 00 000002 0000",
	} {
		var v VideoTag
		if err := v.Unmarshal(hx(wire)); err != nil {
			t.Fatalf("%s: Unmarshal: %v", name, err)
		}
		it := v.Tracks()
		for it.Next() {
		}
		if it.Err() == nil {
			t.Errorf("%s: walk succeeded, want an error", name)
		}
	}
}

func TestModEx(t *testing.T) {
	m := NanoOffset(999999)
	if ns, ok := m.TimestampOffsetNano(); !ok || ns != 999999 {
		t.Fatalf("TimestampOffsetNano = %d, %v", ns, ok)
	}
	big := bytes.Repeat([]byte{7}, 300)
	m2, err := AppendModEx(m, ModExEntry{Type: 5, Data: big})
	if err != nil {
		t.Fatal(err)
	}
	tag := VideoTag{Enhanced: true, FrameType: FrameKey, PacketType: VideoCodedFramesX, FourCC: FourCCHEVC, ModEx: m2, Data: hx("01")}
	wire, err := tag.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	var back VideoTag
	if err := back.Unmarshal(wire); err != nil {
		t.Fatal(err)
	}
	es, err := back.ModEx.Entries()
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Type != ModExTimestampOffsetNano || es[1].Type != 5 || !bytes.Equal(es[1].Data, big) {
		t.Fatalf("entries = %+v", es)
	}
	if back.PacketType != VideoCodedFramesX || back.FourCC != FourCCHEVC || !bytes.Equal(back.Data, hx("01")) {
		t.Fatalf("back = %+v", back)
	}
	if _, err := AppendModEx(nil, ModExEntry{Data: nil}); err == nil {
		t.Error("empty ModEx data accepted")
	}
	if _, err := AppendModEx(nil, ModExEntry{Data: make([]byte, 65537)}); err == nil {
		t.Error("65537-byte ModEx data accepted")
	}
	// A chain built on a decoded one must not write into the decoded bytes.
	src := hx("97 02 0001f4 01 4f707573")
	var a AudioTag
	if err := a.Unmarshal(src); err != nil {
		t.Fatal(err)
	}
	before := bytes.Clone(src)
	if _, err := AppendModEx(a.ModEx, ModExEntry{Type: 1, Data: []byte{1}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, before) {
		t.Error("AppendModEx modified the decoded input")
	}
}

func TestMultichannelConfig(t *testing.T) {
	for name, wire := range map[string]string{
		"unspecified": "00 02",
		"native 5.1":  "01 06 0000003f",
		"custom":      "02 03 0001fe",
		"extra kept":  "01 02 00000003 99",
	} {
		var c MultichannelConfig
		if err := c.Unmarshal(hx(wire)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		enc, err := c.Append(nil)
		if err != nil || !bytes.Equal(enc, hx(wire)) {
			t.Errorf("%s: Append = % x, %v", name, enc, err)
		}
	}
	var c MultichannelConfig
	if err := c.Unmarshal(hx("01 06 0000003f")); err != nil || c.Flags != MaskFrontLeft|MaskFrontRight|MaskFrontCenter|MaskLFE1|MaskBackLeft|MaskBackRight {
		t.Errorf("native 5.1 flags = %#x, %v", c.Flags, err)
	}
	if err := c.Unmarshal(hx("02 03 00")); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short mapping: err = %v", err)
	}
}

func TestVideoHeaderZeroAlloc(t *testing.T) {
	wire := hx("17 01 000000 00000002 0910")
	enh := hx("a1 68766331 000021 00000001 26")
	var v VideoTag
	allocs := testing.AllocsPerRun(100, func() {
		if err := v.Unmarshal(wire); err != nil {
			t.Fatal(err)
		}
		if err := v.Unmarshal(enh); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("VideoTag.Unmarshal allocates %v times", allocs)
	}
	buf := make([]byte, 0, 64)
	allocs = testing.AllocsPerRun(100, func() {
		buf, _ = v.AppendHeader(buf[:0])
	})
	if allocs != 0 {
		t.Errorf("VideoTag.AppendHeader allocates %v times", allocs)
	}
}

func TestFourCCString(t *testing.T) {
	if s := FourCCAV1.String(); s != "av01" {
		t.Errorf("av01 = %q", s)
	}
	if s := FourCC(0x01020304).String(); s != "0x1020304" {
		t.Errorf("binary fourcc = %q", s)
	}
	if f, ok := MakeFourCC("Opus"); !ok || f != FourCCOpus || uint32(FourCCOpus) != 0x4F707573 {
		t.Errorf("MakeFourCC(Opus) = %#x, %v", uint32(f), ok)
	}
}

func BenchmarkVideoTagUnmarshal(b *testing.B) {
	wire := hx("17 01 000000 00000002 0910")
	b.ReportAllocs()
	var v VideoTag
	for i := 0; i < b.N; i++ {
		if err := v.Unmarshal(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func TestJoinRejectsDuplicateTrackIDs(t *testing.T) {
	a := AudioTag{SoundFormat: SoundExHeader, PacketType: AudioCodedFrames, FourCC: FourCCOpus, Data: hx("f8")}
	if _, err := JoinAudio([]AudioTag{a, a}); !errors.Is(err, ErrTracks) {
		t.Errorf("two track 0s: err = %v, want ErrTracks", err)
	}
}
