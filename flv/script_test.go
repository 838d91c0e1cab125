package flv

import (
	"bytes"
	"errors"
	"math"
	"os"
	"reflect"
	"testing"

	"github.com/ertmp/rtmp/amf0"
)

// FLV 10.1 §E.4.4.1 SCRIPTDATA: "onMetaData" and an ECMA array, the way
// FFmpeg writes it (the count field is FFmpeg's estimate).
var metaGolden = hx("02 000a 6f6e4d65746144617461" + // "onMetaData"
	"08 00000003" +
	"0008 6475726174696f6e 00 4000000000000000" + // duration 2
	"000c 766964656f636f6465636964 00 41da1d98cc400000" + // videocodecid hvc1
	"0003 666f6f 02 0003 626172" + // foo "bar"
	"000009")

func TestScriptGolden(t *testing.T) {
	s, err := ParseScript(metaGolden)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != OnMetaData || len(s.Args) != 1 {
		t.Fatalf("script = %+v", s)
	}
	enc, err := s.Append(nil)
	if err != nil || !bytes.Equal(enc, metaGolden) {
		t.Fatalf("Append = % x, %v", enc, err)
	}
	m, ok := s.Metadata()
	if !ok {
		t.Fatal("no metadata view")
	}
	if m.Duration != 2 || m.VideoCodec.FourCC != FourCCHEVC {
		t.Fatalf("metadata = %+v", m)
	}
	if len(m.Unknown) != 1 || m.Unknown[0].Key != "foo" || m.Unknown[0].Value != "bar" {
		t.Fatalf("unknown = %+v", m.Unknown)
	}
	// The view re-encodes with the same keys in the same order.
	props := m.Properties()
	keys := []string{}
	for _, p := range props {
		keys = append(keys, p.Key)
	}
	if !reflect.DeepEqual(keys, []string{"duration", "videocodecid", "foo"}) {
		t.Fatalf("keys = %v", keys)
	}
	if props[1].Value != float64(FourCCHEVC) {
		t.Fatalf("videocodecid = %v", props[1].Value)
	}
}

func TestSetDataFrameUnwrap(t *testing.T) {
	body, err := amf0.AppendAll(nil, SetDataFrame, OnMetaData, amf0.NewECMAArray(amf0.Property{Key: "width", Value: 640.0}))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ParseScript(body)
	if err != nil {
		t.Fatal(err)
	}
	u := s.Unwrap()
	if u.Name != OnMetaData || len(u.Args) != 1 {
		t.Fatalf("unwrap = %+v", u)
	}
	m, ok := s.Metadata()
	if !ok || m.Width != 640 {
		t.Fatalf("metadata through @setDataFrame = %+v, %v", m, ok)
	}
}

func TestScriptAMF3(t *testing.T) {
	body := append([]byte{0}, metaGolden...)
	s, err := ParseScriptAMF3(body)
	if err != nil || s.Name != OnMetaData {
		t.Fatalf("%+v, %v", s, err)
	}
	if _, err := ParseScriptAMF3(append([]byte{1}, metaGolden...)); !errors.Is(err, ErrScript) {
		t.Errorf("format selector 1: err = %v", err)
	}
}

func TestScriptErrors(t *testing.T) {
	for name, b := range map[string][]byte{
		"empty":          nil,
		"name is number": hx("00 0000000000000000"),
		"truncated":      metaGolden[:20],
	} {
		if _, err := ParseScript(b); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// The Enhanced RTMP v2 track info maps and FourCC codec ids, as in the
// spec's example.
func TestMetadataTrackMaps(t *testing.T) {
	fourcc := func(s string) float64 { f, _ := MakeFourCC(s); return float64(f) }
	props := []amf0.Property{
		{Key: "videocodecid", Value: fourcc("avc1")},
		{Key: "audiocodecid", Value: 10.0},
		{Key: "videoTrackIdInfoMap", Value: amf0.Object{
			{Key: "1", Value: amf0.Object{{Key: "width", Value: 1024.0}, {Key: "height", Value: 768.0}, {Key: "videocodecid", Value: fourcc("av01")}}},
			{Key: "2", Value: amf0.Object{{Key: "width", Value: 3840.0}, {Key: "videocodecid", Value: "avc1"}}},
		}},
		{Key: "audioTrackIdInfoMap", Value: amf0.Object{
			{Key: "1", Value: amf0.Object{{Key: "channels", Value: 2.0}, {Key: "samplerate", Value: 48000.0}, {Key: "audiocodecid", Value: fourcc("Opus")}}},
		}},
	}
	m := ParseMetadata(props)
	if m.VideoCodec.FourCC != FourCCAVC || m.AudioCodec.Legacy != 10 || m.AudioCodec.FourCC != 0 {
		t.Fatalf("codecs = %+v %+v", m.VideoCodec, m.AudioCodec)
	}
	if len(m.VideoTracks) != 2 || m.VideoTracks[0].ID != 1 || m.VideoTracks[0].Meta.Width != 1024 || m.VideoTracks[0].Meta.VideoCodec.FourCC != FourCCAV1 {
		t.Fatalf("video tracks = %+v", m.VideoTracks)
	}
	if c := m.VideoTracks[1].Meta.VideoCodec; c.FourCC != FourCCAVC || !c.AsString {
		t.Fatalf("string FourCC = %+v", c)
	}
	if len(m.AudioTracks) != 1 || m.AudioTracks[0].Meta.Channels != 2 || m.AudioTracks[0].Meta.AudioCodec.FourCC != FourCCOpus {
		t.Fatalf("audio tracks = %+v", m.AudioTracks[0].Meta)
	}
	// The view encodes back to the same AMF bytes.
	a, _ := amf0.Append(nil, amf0.Object(props))
	b, _ := amf0.Append(nil, amf0.Object(m.Properties()))
	if !bytes.Equal(a, b) {
		t.Fatalf("re-encoded view differs:\n% x\n% x", b, a)
	}
	// A wrong type for a known key is kept, untouched, in Unknown.
	m2 := ParseMetadata([]amf0.Property{{Key: "width", Value: "wide"}, {Key: "videocodecid", Value: math.NaN()}})
	if len(m2.Unknown) != 2 || m2.Width != 0 {
		t.Fatalf("bad types: %+v", m2)
	}
}

func TestColorInfoFromSample(t *testing.T) {
	src, err := os.ReadFile("../testdata/eflv/testsrc.flv")
	if err != nil {
		t.Fatal(err)
	}
	r := NewReader(bytes.NewReader(src))
	for {
		tag, err := r.ReadTag()
		if err != nil {
			t.Fatalf("no Metadata packet found: %v", err)
		}
		var v VideoTag
		if tag.Type != TagVideo || v.Unmarshal(tag.Data) != nil || v.PacketType != VideoMetadata {
			continue
		}
		c, err := ParseColorInfo(v.Data)
		if err != nil {
			t.Fatal(err)
		}
		if c.ColorConfig == nil || c.HdrCll != nil {
			t.Fatalf("colorInfo = %+v", c)
		}
		enc, err := c.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		back, err := ParseColorInfo(enc)
		if err != nil || !reflect.DeepEqual(back, c) {
			t.Fatalf("round trip = %+v, %v", back, err)
		}
		return
	}
}

func BenchmarkParseOnMetaData(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := ParseScript(metaGolden)
		if err != nil {
			b.Fatal(err)
		}
		if _, ok := s.Metadata(); !ok {
			b.Fatal("no metadata")
		}
	}
}

// A colorInfo reset (Enhanced RTMP v2, Metadata Frame: "send colorInfo with
// a value of Undefined (the RECOMMENDED approach) or an empty object")
// parses, in each form, to a ColorInfo that IsReset, and is written as
// Undefined.
func TestColorInfoReset(t *testing.T) {
	name := "02 0009 636f6c6f72496e666f" // "colorInfo"
	for _, tc := range []struct{ name, body string }{
		{"undefined", name + " 06"},
		{"empty object", name + " 03 000009"},
		{"empty ECMA array", name + " 08 00000000 000009"},
		{"null", name + " 05"},
		{"no value", name},
	} {
		c, err := ParseColorInfo(hx(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !c.IsReset() {
			t.Fatalf("%s: %+v is not a reset", tc.name, c)
		}
	}
	got, err := (&ColorInfo{}).Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := hx(name + " 06"); !bytes.Equal(got, want) {
		t.Fatalf("reset written as % x, want % x", got, want)
	}
	c, err := ParseColorInfo(hx(name + " 03 0006 686472436c6c 03 000009 000009")) // {hdrCll: {}}
	if err != nil || c.IsReset() || c.HdrCll == nil {
		t.Fatalf("colorInfo with hdrCll: %+v %v", c, err)
	}
	if _, err := ParseColorInfo(hx(name + " 02 0001 78")); err == nil {
		t.Fatal("colorInfo as a string parsed")
	}
}
