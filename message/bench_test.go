package message

import (
	"testing"

	"github.com/ertmp/rtmp/amf0"
)

// A connect as OBS sends it.
var obsConnect = hx(str("connect"), num(1), obj(
	prop("app", str("live")),
	prop("type", str("nonprivate")),
	prop("flashVer", str("FMLE/3.0 (compatible; FMSc/1.0)")),
	prop("swfUrl", str("rtmp://localhost/live")),
	prop("tcUrl", str("rtmp://localhost/live")),
))

func BenchmarkDecodeConnect(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(obsConnect)))
	for i := 0; i < b.N; i++ {
		m, err := Decode(TypeCommandAMF0, obsConnect)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ParseConnect(m.(Command)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeOnStatus(b *testing.B) {
	b.ReportAllocs()
	c := NewOnStatus(LevelStatus, CodePlayStart, "Started playing stream.")
	buf := make([]byte, 0, 256)
	for i := 0; i < b.N; i++ {
		var err error
		if buf, err = c.AppendPayload(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

func BenchmarkNewOnStatus(b *testing.B) {
	b.ReportAllocs()
	buf := make([]byte, 0, 256)
	for i := 0; i < b.N; i++ {
		var err error
		c := NewOnStatus(LevelStatus, CodePlayStart, "Started playing stream.")
		if buf, err = c.AppendPayload(buf[:0]); err != nil {
			b.Fatal(err)
		}
	}
}

// tenSubs is an aggregate of 10 sub-messages, audio and video alternating.
var tenSubs = func() []byte {
	var subs []SubMessage
	for i := 0; i < 10; i++ {
		t := TypeAudio
		if i%2 == 1 {
			t = TypeVideo
		}
		subs = append(subs, SubMessage{Type: t, Timestamp: uint32(1000 + 20*i), StreamID: 1, Payload: make([]byte, 200)})
	}
	b, err := AppendAggregate(nil, subs)
	if err != nil {
		panic(err)
	}
	return b
}()

func BenchmarkAggregateSplit(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(tenSubs)))
	for i := 0; i < b.N; i++ {
		it := NewAggregateIterator(tenSubs, 1000)
		n := 0
		for it.Next() {
			n += len(it.Message().Payload)
		}
		if it.Err() != nil || n != 2000 {
			b.Fatal(n, it.Err())
		}
	}
}

func BenchmarkDecodeUserControl(b *testing.B) {
	b.ReportAllocs()
	p := hx("0006 075bcd15")
	for i := 0; i < b.N; i++ {
		if _, err := UnmarshalUserControl(p); err != nil {
			b.Fatal(err)
		}
	}
}

// The aggregate iterator and the encoding of a built command do not
// allocate (house style 11).
func TestAllocs(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	if n := testing.AllocsPerRun(100, func() {
		it := NewAggregateIterator(tenSubs, 1000)
		for it.Next() {
		}
	}); n != 0 {
		t.Errorf("aggregate iteration: %v allocs", n)
	}
	c := NewOnStatus(LevelStatus, CodePlayStart, "Started playing stream.")
	buf := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { buf, _ = c.AppendPayload(buf[:0]) }); n != 0 {
		t.Errorf("encode onStatus: %v allocs", n)
	}
	d := NewSetDataFrame(amf0.NewECMAArray(amf0.Property{Key: "width", Value: 1280.0}))
	if n := testing.AllocsPerRun(100, func() { buf, _ = d.AppendPayload(buf[:0]) }); n != 0 {
		t.Errorf("encode data: %v allocs", n)
	}
	p := hx("0006 075bcd15")
	if n := testing.AllocsPerRun(100, func() { _, _ = UnmarshalUserControl(p) }); n != 0 {
		t.Errorf("decode user control: %v allocs", n)
	}
}
