package rtmp

import (
	"reflect"
	"testing"

	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

func TestCapabilitiesFromConnect(t *testing.T) {
	// The connect fields of Enhanced RTMP v2's examples.
	obj := amf0.Object{
		{Key: "app", Value: "live"},
		{Key: "objectEncoding", Value: 3.0},
		{Key: "fourCcList", Value: amf0.StrictArray{"av01", "vp09", "hvc1"}},
		{Key: "videoFourCcInfoMap", Value: amf0.Object{{Key: "*", Value: float64(message.FourCCCanForward)}, {Key: "vp09", Value: float64(message.FourCCCanDecode | message.FourCCCanEncode)}}},
		{Key: "audioFourCcInfoMap", Value: amf0.Object{{Key: "Opus", Value: float64(message.FourCCCanDecode)}}},
		{Key: "capsEx", Value: float64(message.CapsExReconnect | message.CapsExMultitrack)},
	}
	c := ParseCapabilities(obj)
	if !c.Enhanced || !c.AMF3() || !c.Reconnect() || !c.Multitrack() || c.ModEx() || c.NanoOffset() {
		t.Fatalf("caps = %+v", c)
	}
	if !c.CanReceiveVideo(flv.FourCCVVC) { // "*" forwards anything
		t.Error("wildcard forward does not admit vvc1")
	}
	if !c.CanReceiveAudio(flv.FourCCOpus) || c.CanReceiveAudio(flv.FourCCAC3) {
		t.Error("audio info map misread")
	}
	back := ParseCapabilities(c.AppendTo(amf0.Object{{Key: "objectEncoding", Value: 3.0}}))
	if !reflect.DeepEqual(back, c) {
		t.Fatalf("round trip = %+v, want %+v", back, c)
	}
}

func TestCapabilitiesLegacyAndList(t *testing.T) {
	legacy := ParseCapabilities(amf0.Object{{Key: "app", Value: "live"}, {Key: "videoCodecs", Value: 252.0}})
	if legacy.Enhanced || legacy.CanReceiveVideo(flv.FourCCHEVC) || legacy.Multitrack() {
		t.Fatalf("legacy peer reads as %+v", legacy)
	}
	// FFmpeg's -rtmp_enhanced_codecs sends only fourCcList.
	ff := ParseCapabilities(amf0.Object{{Key: "fourCcList", Value: amf0.StrictArray{"hvc1", "av01"}}})
	if !ff.CanReceiveVideo(flv.FourCCHEVC) || !ff.CanReceiveVideo(flv.FourCCAV1) || ff.CanReceiveVideo(flv.FourCCVP9) {
		t.Fatalf("fourCcList peer = %+v", ff)
	}
	// A wildcard with no usable flag overrides a specific entry.
	none := ParseCapabilities(amf0.Object{{Key: "videoFourCcInfoMap", Value: amf0.Object{{Key: "hvc1", Value: float64(message.FourCCCanDecode)}, {Key: "*", Value: float64(message.FourCCCanEncode)}}}})
	if none.CanReceiveVideo(flv.FourCCHEVC) {
		t.Fatal("the wildcard does not override the specific flags")
	}
	// Wrong types are ignored.
	bad := ParseCapabilities(amf0.Object{{Key: "capsEx", Value: "all"}, {Key: "fourCcList", Value: "hvc1"}})
	if bad.Enhanced || bad.CapsEx != 0 {
		t.Fatalf("bad types = %+v", bad)
	}
}
