package live_test

import (
	"context"
	"slices"
	"testing"

	rtmp "github.com/ertmp/rtmp"
	"github.com/ertmp/rtmp/amf0"
	"github.com/ertmp/rtmp/live"
	"github.com/ertmp/rtmp/message"
)

// The frames a publisher keeps are looked up by handler name: what
// @setDataFrame set (unwrapped), a bare onMetaData, each replaced by a later
// one of its name and forgotten by @clearDataFrame; none once unpublished.
func TestHubDataFrameLookup(t *testing.T) {
	hub := live.NewHub(live.Config{})
	key := live.Key{App: "live", Name: "frames"}
	pub, err := hub.Publish(context.Background(), key, live.PublishOptions{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(d message.Data) {
		t.Helper()
		b, err := d.AppendPayload(nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := pub.Write(rtmp.Packet{Type: message.TypeDataAMF0, Payload: b}); err != nil {
			t.Fatal(err)
		}
		pub.Flush()
	}
	values := func(p *live.Packet) []amf0.Value {
		t.Helper()
		d, err := message.UnmarshalData(p.Type(), p.Payload())
		if err != nil {
			t.Fatal(err)
		}
		return d.Values
	}
	width := func(v amf0.Value) float64 {
		a, _ := v.(amf0.ECMAArray)
		w, _ := a.GetNumber("width")
		return w
	}
	write(message.NewSetDataFrame(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 640.0})))
	write(message.Data{Values: []amf0.Value{message.SetDataFrame, "onTextData", amf0.Object{{Key: "text", Value: "hi"}}}})
	if got := hub.DataFrameNames(key); !slices.Equal(got, []string{"onMetaData", "onTextData"}) {
		t.Fatalf("names %q", got)
	}
	p, ok := hub.DataFrame(key, "onTextData")
	if !ok {
		t.Fatal("onTextData not kept")
	}
	if v := values(p); len(v) != 2 || v[0] != "onTextData" {
		t.Fatalf("onTextData frame %v, want it unwrapped", v)
	}
	// A bare onMetaData replaces the one @setDataFrame set.
	write(message.NewOnMetaData(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 1280.0})))
	p, ok = hub.DataFrame(key, "onMetaData")
	if !ok {
		t.Fatal("onMetaData not kept")
	}
	if v := values(p); len(v) != 2 || width(v[1]) != 1280 {
		t.Fatalf("onMetaData frame %v, want the bare one", v)
	}
	write(message.NewClearDataFrame("onTextData"))
	if _, ok := hub.DataFrame(key, "onTextData"); ok {
		t.Fatal("onTextData kept after @clearDataFrame")
	}
	if _, ok := hub.DataFrame(key, "onCuePoint"); ok {
		t.Fatal("a frame never set is found")
	}
	if _, ok := hub.DataFrame(live.Key{App: "live", Name: "other"}, "onMetaData"); ok {
		t.Fatal("a stream never published has a frame")
	}
	pub.Close()
	if _, ok := hub.DataFrame(key, "onMetaData"); ok {
		t.Fatal("frame found after the publisher left")
	}
	if got := hub.DataFrameNames(key); got != nil {
		t.Fatalf("names after the publisher left: %q", got)
	}
}
