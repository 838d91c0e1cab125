package amf3

import "testing"

// connectObject is the command object of an RTMP connect as a client using
// objectEncoding 3 sends it: one anonymous dynamic object.
func connectObject() *Object {
	return &Object{Traits: &Traits{Dynamic: true}, Dynamic: []Property{
		{"app", "live"},
		{"type", "nonprivate"},
		{"flashVer", "FMLE/3.0 (compatible; FMSc/1.0)"},
		{"swfUrl", "rtmp://example.com/live"},
		{"tcUrl", "rtmp://example.com/live"},
		{"fpad", false},
		{"capabilities", int32(239)},
		{"audioCodecs", int32(3575)},
		{"videoCodecs", int32(252)},
		{"videoFunction", int32(1)},
		{"objectEncoding", int32(3)},
		{"fourCcList", &Array{Dense: []Value{"av01", "vp09", "hvc1"}}},
		{"capsEx", int32(1)},
	}}
}

func benchDecode(b *testing.B, wire []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	var d Decoder
	for b.Loop() {
		d.Reset()
		if _, _, err := d.Decode(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func benchEncode(b *testing.B, v Value) {
	b.ReportAllocs()
	var e Encoder
	buf, err := e.Append(nil, v)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	for b.Loop() {
		e.Reset()
		if buf, err = e.Append(buf[:0], v); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeConnectObject(b *testing.B) {
	wire, err := Append(nil, connectObject())
	if err != nil {
		b.Fatal(err)
	}
	benchDecode(b, wire)
}

func BenchmarkEncodeConnectObject(b *testing.B) { benchEncode(b, connectObject()) }

func BenchmarkDecodeRemotingMessage(b *testing.B) {
	_, wire := remotingMessage()
	benchDecode(b, wire)
}

func BenchmarkEncodeRemotingMessage(b *testing.B) {
	v, _ := remotingMessage()
	benchEncode(b, v)
}
