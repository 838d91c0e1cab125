package fmp4_test

import (
	"bytes"
	"testing"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/fmp4"
)

// The {name, tag bytes, sample} table of VideoSample: FLV 10.1 §E.4.3.1
// legacy AVC tags and Enhanced RTMP v2 ExVideoTagHeader tags.
var videoSampleTable = []struct {
	name string
	tag  []byte
	ok   bool
	want fmp4.Sample // Time 500 ms
}{
	{"legacy AVC key NALU", h("17 01 000050 00000002 6588"), true,
		fmp4.Sample{Time: 500, CompositionTime: 80, Key: true, Data: h("00000002 6588")}},
	{"legacy AVC inter, negative composition", h("27 01 ffffd8 00000002 419a"), true,
		fmp4.Sample{Time: 500, CompositionTime: -40, Data: h("00000002 419a")}},
	{"legacy AVC sequence header", append(h("17 00 000000"), avcRecord...), false, fmp4.Sample{}},
	{"legacy AVC end of sequence", h("17 02 000000"), false, fmp4.Sample{}},
	{"legacy AVC empty NALU", h("27 01 000000"), false, fmp4.Sample{}},
	{"legacy VP6", h("24 00 1122"), false, fmp4.Sample{}},
	{"command frame", h("57 00"), false, fmp4.Sample{}},
	{"hvc1 CodedFrames", h("91 68766331 000028 00000002 2601"), true,
		fmp4.Sample{Time: 500, CompositionTime: 40, Key: true, Data: h("00000002 2601")}},
	{"hvc1 CodedFramesX", h("a3 68766331 00000002 0201"), true,
		fmp4.Sample{Time: 500, Data: h("00000002 0201")}},
	{"hvc1 SequenceStart", h("90 68766331 0101"), false, fmp4.Sample{}},
	{"vp09 key", h("91 76703039 824983"), true, fmp4.Sample{Time: 500, Key: true, Data: h("824983")}},
	{"av01 temporal delimiter dropped", h("91 61763031 1200 0a0b00 320a"), true,
		fmp4.Sample{Time: 500, Key: true, Data: h("0a0b00 320a")}},
	{"av01 generated key frame", h("c1 61763031 3200"), true, fmp4.Sample{Time: 500, Key: true, Data: h("3200")}},
	{"av01 only a temporal delimiter", h("a1 61763031 1200"), false, fmp4.Sample{}},
	{"av01 metadata", h("94 61763031 0200"), false, fmp4.Sample{}},
	{"vp08", h("91 76703038 9d012a"), false, fmp4.Sample{}},
}

func TestVideoSample(t *testing.T) {
	for _, c := range videoSampleTable {
		t.Run(c.name, func(t *testing.T) {
			var tag flv.VideoTag
			if err := tag.Unmarshal(c.tag); err != nil {
				t.Fatal(err)
			}
			it := tag.Tracks()
			var s fmp4.Sample
			ok := false
			if it.Next() {
				s, ok = fmp4.VideoSample(&tag, it.Track(), 500)
			}
			if ok != c.ok || !sameSample(s, c.want) {
				t.Fatalf("%+v %v, want %+v %v", s, ok, c.want, c.ok)
			}
			if ok && (len(s.Data) == 0 || &s.Data[len(s.Data)-1] != &c.tag[len(c.tag)-1]) {
				t.Fatal("the data does not alias the tag")
			}
		})
	}
}

var audioSampleTable = []struct {
	name string
	tag  []byte
	ok   bool
	want fmp4.Sample
}{
	{"legacy AAC raw", h("af 01 2110"), true, fmp4.Sample{Time: 500, Key: true, Data: h("2110")}},
	{"legacy AAC sequence header", h("af 00 1210"), false, fmp4.Sample{}},
	{"legacy MP3", h("2f fffb9064"), true, fmp4.Sample{Time: 500, Key: true, Data: h("fffb9064")}},
	{"legacy MP3 8 kHz", h("ee fff3"), true, fmp4.Sample{Time: 500, Key: true, Data: h("fff3")}},
	{"legacy Nellymoser", h("6e 0102"), false, fmp4.Sample{}},
	{"silence", nil, false, fmp4.Sample{}},
	{"Opus CodedFrames", h("91 4f707573 fcff"), true, fmp4.Sample{Time: 500, Key: true, Data: h("fcff")}},
	{"Opus SequenceStart", append(h("90 4f707573"), opusHead2...), false, fmp4.Sample{}},
	{"Opus MultichannelConfig", h("94 4f707573 01 02 00000003"), false, fmp4.Sample{}},
	{"ac-3 CodedFrames", h("91 61632d33 0b77"), true, fmp4.Sample{Time: 500, Key: true, Data: h("0b77")}},
	{"fLaC empty frame", h("91 664c6143"), false, fmp4.Sample{}},
}

func TestAudioSample(t *testing.T) {
	for _, c := range audioSampleTable {
		t.Run(c.name, func(t *testing.T) {
			var tag flv.AudioTag
			if err := tag.Unmarshal(c.tag); err != nil {
				t.Fatal(err)
			}
			it := tag.Tracks()
			var s fmp4.Sample
			ok := false
			if it.Next() {
				s, ok = fmp4.AudioSample(&tag, it.Track(), 500)
			}
			if ok != c.ok || !sameSample(s, c.want) {
				t.Fatalf("%+v %v, want %+v %v", s, ok, c.want, c.ok)
			}
		})
	}
}

func sameSample(a, b fmp4.Sample) bool {
	return a.Time == b.Time && a.CompositionTime == b.CompositionTime && a.Key == b.Key && bytes.Equal(a.Data, b.Data)
}

// Each track of a multitrack tag gives its own sample (Enhanced RTMP v2,
// "Multitrack Streaming"): ManyTracks of hvc1 with composition times, and
// ManyTracksManyCodecs audio.
func TestMultitrackSamples(t *testing.T) {
	var v flv.VideoTag
	// key, Multitrack; ManyTracks, CodedFrames; hvc1; track 0 (size 7:
	// composition 40 and 4 bytes); track 2 (size 5: composition 0 and 2 bytes).
	if err := v.Unmarshal(h("96 11 68766331 00 000007 000028 aabbccdd 02 000005 000000 eeff")); err != nil {
		t.Fatal(err)
	}
	var got []fmp4.Sample
	var ids []uint8
	for it := v.Tracks(); it.Next(); {
		if s, ok := fmp4.VideoSample(&v, it.Track(), 7); ok {
			got = append(got, s)
			ids = append(ids, it.Track().ID)
		}
	}
	if len(got) != 2 || ids[1] != 2 || got[0].CompositionTime != 40 || !got[0].Key || !bytes.Equal(got[1].Data, h("eeff")) {
		t.Fatalf("video tracks %v: %+v", ids, got)
	}

	var a flv.AudioTag
	// Multitrack; ManyTracksManyCodecs, CodedFrames; Opus track 1; AAC track 2.
	if err := a.Unmarshal(h("95 21 4f707573 01 000002 fcff 6d703461 02 000001 21")); err != nil {
		t.Fatal(err)
	}
	var codecs []flv.FourCC
	for it := a.Tracks(); it.Next(); {
		if _, ok := fmp4.AudioSample(&a, it.Track(), 7); ok {
			codecs = append(codecs, it.Track().FourCC)
		}
	}
	if len(codecs) != 2 || codecs[0] != flv.FourCCOpus || codecs[1] != flv.FourCCAAC {
		t.Fatalf("audio tracks %v", codecs)
	}
}

// AV1 temporal units lose only the temporal delimiters that open them
// (AV1 §5.3.1 OBU header; §5.6 temporal delimiter).
func TestAV1TemporalDelimiters(t *testing.T) {
	for _, c := range []struct{ name, in, out string }{
		{"one", "1200 0a0100", "0a0100"},
		{"two", "1200 1200 3201aa", "3201aa"},
		{"with extension header", "1600 00 3200", "3200"},
		{"with a payload size", "1201 ff 3200", "3200"}, // a malformed TD with a byte of payload is still skipped whole
		{"without a size field", "10 3200", "10 3200"},
		{"size past the end", "1205 00", "1205 00"},
		{"leb128 cut", "12 80", "12 80"},
		{"not first", "3200 1200", "3200 1200"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var tag flv.VideoTag
			if err := tag.Unmarshal(append(h("91 61763031"), h(c.in)...)); err != nil {
				t.Fatal(err)
			}
			it := tag.Tracks()
			it.Next()
			s, _ := fmp4.VideoSample(&tag, it.Track(), 0)
			if !bytes.Equal(s.Data, h(c.out)) {
				t.Fatalf("% x, want %s", s.Data, c.out)
			}
		})
	}
}
