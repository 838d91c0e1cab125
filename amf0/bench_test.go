package amf0

import "testing"

func benchDecodeAll(b *testing.B, wire []byte) {
	b.ReportAllocs()
	b.SetBytes(int64(len(wire)))
	var d Decoder // one per connection, as the message layer holds it
	for b.Loop() {
		if _, err := d.DecodeAll(wire); err != nil {
			b.Fatal(err)
		}
	}
}

func benchAppendAll(b *testing.B, vs []Value) {
	b.ReportAllocs()
	buf, err := AppendAll(nil, vs...)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	var e Encoder
	for b.Loop() {
		e.Reset()
		buf = buf[:0]
		for _, v := range vs {
			if buf, err = e.Append(buf, v); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkDecodeConnect(b *testing.B)    { benchDecodeAll(b, connectWire) }
func BenchmarkDecodeOnMetaData(b *testing.B) { benchDecodeAll(b, setDataFrameWire) }
func BenchmarkEncodeConnect(b *testing.B)    { benchAppendAll(b, connectValues) }
func BenchmarkEncodeOnMetaData(b *testing.B) { benchAppendAll(b, setDataFrameValues) }

// BenchmarkDecodeConnectPackage uses the package function, with a pooled
// Decoder.
func BenchmarkDecodeConnectPackage(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeAll(connectWire); err != nil {
			b.Fatal(err)
		}
	}
}

func TestEncodeConnectDoesNotAllocate(t *testing.T) {
	buf := make([]byte, 0, 1024)
	var e Encoder
	allocs := testing.AllocsPerRun(100, func() {
		e.Reset()
		b := buf
		for _, v := range connectValues {
			b, _ = e.Append(b, v)
		}
	})
	if allocs != 0 {
		t.Errorf("encoding connect: %v allocations, want 0", allocs)
	}
}
