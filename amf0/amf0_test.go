package amf0

import (
	"bytes"
	"errors"
	"io"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ertmp/rtmp/amf3"
)

func newDecoder() *Decoder {
	d := new(Decoder)
	d.AMF3().RegisterExternalizable(amf3.ClassArrayCollection, amf3.ValueHandler{})
	return d
}

func newEncoder() *Encoder {
	e := new(Encoder)
	e.AMF3().RegisterExternalizable(amf3.ClassArrayCollection, amf3.ValueHandler{})
	return e
}

func TestDecodeGolden(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			in := append(append([]byte(nil), g.wire...), 0xEE)
			v, n, err := newDecoder().Decode(in)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if n != len(g.wire) {
				t.Errorf("n = %d, want %d", n, len(g.wire))
			}
			if !reflect.DeepEqual(v, g.value) {
				t.Errorf("Decode(% .40x)\n got %#v\nwant %#v", g.wire, v, g.value)
			}
		})
	}
}

func TestEncodeGolden(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			got, err := newEncoder().Append([]byte{0xEE}, g.value)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if got[0] != 0xEE || !bytes.Equal(got[1:], g.wire) {
				t.Errorf("Append(%#v)\n got % .40x\nwant % .40x", g.value, got[1:], g.wire)
			}
		})
	}
	for _, g := range encodeOnly {
		t.Run(g.name, func(t *testing.T) {
			got, err := Append(nil, g.value)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(got, g.wire) {
				t.Errorf("Append(%#v)\n got % .40x\nwant % .40x", g.value, got, g.wire)
			}
		})
	}
}

func TestTimeEncodes(t *testing.T) {
	got, err := Append(nil, time.UnixMilli(1609459200000))
	if want := w("0B 42776bb3e7000000 0000"); err != nil || !bytes.Equal(got, want) {
		t.Fatalf("got % x, %v; want % x", got, err, want)
	}
}

// TestNaNBits checks that a NaN's payload survives decoding and encoding.
func TestNaNBits(t *testing.T) {
	in := w("00 7FF4000000000001")
	v, _, err := Decode(in)
	if err != nil || !math.IsNaN(v.(float64)) {
		t.Fatalf("Decode: %v %v", v, err)
	}
	if got, _ := Append(nil, v); !bytes.Equal(got, in) {
		t.Fatalf("re-encoded % x", got)
	}
}

// TestMessages decodes and re-encodes whole messages as RTMP carries them.
func TestMessages(t *testing.T) {
	tests := []struct {
		name   string
		wire   []byte
		values []Value
	}{
		{"connect with Enhanced RTMP fields", connectWire, connectValues},
		{"FFmpeg @setDataFrame onMetaData, count 15 for 13", setDataFrameWire, setDataFrameValues},
		{"FFmpeg FLV onMetaData", ffmpegMetaData, []Value{"onMetaData", ECMAArray{Count: 13, Props: setDataFrameValues[2].(ECMAArray).Props}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			vs, err := DecodeAll(tc.wire)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(vs, tc.values) {
				t.Errorf("DecodeAll\n got %#v\nwant %#v", vs, tc.values)
			}
			b, err := AppendAll(nil, tc.values...)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, tc.wire) {
				t.Errorf("AppendAll\n got % x\nwant % x", b, tc.wire)
			}
			// Every cut fails, except at the boundaries between values.
			bounds := map[int]bool{}
			for i, off := 0, 0; i < len(tc.values); i++ {
				one, _ := Append(nil, tc.values[i])
				off += len(one)
				bounds[off] = true
			}
			for i := 1; i < len(tc.wire); i++ {
				_, err := DecodeAll(tc.wire[:i])
				if bounds[i] != (err == nil) {
					t.Fatalf("cut at %d: err = %v", i, err)
				}
				if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("cut at %d: err = %v, want io.ErrUnexpectedEOF", i, err)
				}
			}
		})
	}
}

func TestGetters(t *testing.T) {
	vs, err := DecodeAll(connectWire)
	if err != nil {
		t.Fatal(err)
	}
	o := vs[2].(Object)
	if s, ok := o.GetString("tcUrl"); !ok || s != "rtmp://example.com/live" {
		t.Errorf("GetString(tcUrl) = %q, %v", s, ok)
	}
	if f, ok := o.GetNumber("capabilities"); !ok || f != 239 {
		t.Errorf("GetNumber(capabilities) = %v, %v", f, ok)
	}
	if b, ok := o.GetBool("fpad"); !ok || b {
		t.Errorf("GetBool(fpad) = %v, %v", b, ok)
	}
	if a, ok := o.GetArray("fourCcList"); !ok || len(a) != 4 || a[0] != "av01" {
		t.Errorf("GetArray(fourCcList) = %v, %v", a, ok)
	}
	if _, ok := o.GetString("capabilities"); ok {
		t.Error("GetString on a number succeeded")
	}
	if _, ok := o.GetNumber("missing"); ok {
		t.Error("GetNumber on a missing key succeeded")
	}

	o.Set("app", "vod")
	o.Set("new", 1.0)
	if s, _ := o.GetString("app"); s != "vod" || len(o) != 14 {
		t.Errorf("Set: app = %q, len %d", s, len(o))
	}

	// Tolerated forms: LongString, ECMAArray and TypedObject as objects,
	// references and AMF 3 values.
	inner := ECMAArray{Count: 1, Props: []Property{{"w", 2.0}}}
	x := Object{
		{"long", LongString("ls")},
		{"ecma", inner},
		{"typed", TypedObject{ClassName: "C", Props: []Property{{"t", true}}}},
		{"ref", Reference{Index: 1, Target: inner}},
		{"amf3num", AMF3{Value: int32(7)}},
		{"amf3obj", AMF3{Value: &amf3.Object{Dynamic: []amf3.Property{{Key: "k", Value: "v"}}}}},
	}
	if s, ok := x.GetString("long"); !ok || s != "ls" {
		t.Errorf("GetString(LongString) = %q, %v", s, ok)
	}
	if e, ok := x.GetObject("ecma"); !ok {
		t.Error("GetObject(ECMAArray) failed")
	} else if f, _ := e.GetNumber("w"); f != 2 {
		t.Errorf("w = %v", f)
	}
	if e, ok := x.GetObject("typed"); !ok {
		t.Error("GetObject(TypedObject) failed")
	} else if b, _ := e.GetBool("t"); !b {
		t.Error("t = false")
	}
	if e, ok := x.GetObject("ref"); !ok || len(e) != 1 {
		t.Errorf("GetObject(Reference) = %v, %v", e, ok)
	}
	if f, ok := x.GetNumber("amf3num"); !ok || f != 7 {
		t.Errorf("GetNumber(AMF3 int) = %v, %v", f, ok)
	}
	if e, ok := x.GetObject("amf3obj"); !ok {
		t.Error("GetObject(AMF3 object) failed")
	} else if s, _ := e.GetString("k"); s != "v" {
		t.Errorf("k = %q", s)
	}

	a := NewECMAArray()
	a.Set("duration", 1.0)
	a.Set("duration", 2.0)
	a.Set("width", 640.0)
	if f, _ := a.GetNumber("duration"); f != 2 || a.Count != 2 || len(a.Props) != 2 {
		t.Errorf("ECMAArray.Set: %+v", a)
	}
	to := TypedObject{ClassName: "C"}
	to.Set("a", "b")
	if s, _ := to.GetString("a"); s != "b" {
		t.Errorf("TypedObject.Set: %+v", to)
	}
}

// TestTruncated cuts every golden at every offset: each cut must fail with
// io.ErrUnexpectedEOF (io.EOF when nothing is left), never panic. Inside
// the text of the 64 KiB strings, where every cut takes the same path, it
// cuts at every 997th offset only.
func TestTruncated(t *testing.T) {
	for _, g := range goldens() {
		for i := 0; i < len(g.wire); i++ {
			if i > 256 && i < len(g.wire)-256 && i%997 != 0 {
				continue
			}
			_, _, err := newDecoder().Decode(g.wire[:i])
			want := io.ErrUnexpectedEOF
			if i == 0 {
				want = io.EOF
			}
			if !errors.Is(err, want) {
				t.Fatalf("%s cut at %d of %d: err = %v, want %v", g.name, i, len(g.wire), err, want)
			}
		}
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		dec  *Decoder
		in   []byte
		want error
	}{
		{"§2.6 movieclip is reserved", nil, w("04"), ErrReservedMarker},
		{"§2.16 recordset is reserved", nil, w("0A 00000001 0E"), ErrReservedMarker},
		{"§2.1 unknown marker 0x12", nil, w("12"), ErrUnknownMarker},
		{"§2.1 unknown marker 0xFF in object", nil, w("03", key("a"), "FF"), ErrUnknownMarker},
		{"§2.11 object end as a value", nil, w("09"), ErrSyntax},
		{"§2.11 object end after a non-empty name", nil, w("03", key("a"), "09"), ErrSyntax},
		{"§2.11 object end in a strict array", nil, w("0A 00000001 09"), ErrSyntax},
		{"§2.9 reference with no complex value", nil, w("07 0000"), ErrBadReference},
		{"§2.9 forward reference", nil, w("0A 00000002 07 0001 03 0000 09"), ErrBadReference},
		{"§2.12 strict array claiming 2^32-1 elements in 10 bytes", nil, w("0A FFFFFFFF 05 05 05 05 05"), ErrTruncated},
		{"§2.14 long string claiming 2^32-1 bytes", nil, w("0C FFFFFFFF 61"), ErrTruncated},
		{"§2.17 XML document claiming 2^32-1 bytes", nil, w("0F FFFFFFFF 61"), ErrTruncated},
		{"§2.4 string claiming 65535 bytes", nil, w("02 FFFF 61"), ErrTruncated},
		{"§2.5 depth 65 objects", nil, w(strings.Repeat("03 0001 61", 65), "05"), ErrDepth},
		{"§2.12 depth 65 strict arrays", nil, w(strings.Repeat("0A 00000001", 65), "05"), ErrDepth},
		{"§2.10 depth 3 with MaxDepth 2", &Decoder{MaxDepth: 2}, w(strings.Repeat("08 00000000 0001 61", 3), "05"), ErrDepth},
		{"§3.1 avmplus at depth 64", nil, w(strings.Repeat("03 0001 61", 64), "11 01"), ErrDepth},
		{"§3.1 avmplus nesting past the shared limit", nil, w(strings.Repeat("03 0001 61", 63), "11 09 03 01 09 01 01"), ErrDepth},
		{"§2.5 properties past MaxItems", &Decoder{MaxItems: 2}, w("03", key("a"), "05", key("b"), "05", key("c"), "05 0000 09"), ErrTooMany},
		{"§2.12 elements past MaxItems", &Decoder{MaxItems: 2}, w("0A 00000003 05 05 05"), ErrTooMany},
		{"§3.1 avmplus with nothing after", nil, w("11"), ErrTruncated},
		{"§3.1 avmplus unknown AMF 3 marker", nil, w("11 20"), ErrUnknownMarker},
		{"§3.1 avmplus externalizable without handler", nil, w("11 0A 07 07", txt("a.B")), ErrNoExternalHandler},
		{"§3.1 avmplus bad AMF 3 reference", nil, w("11 06 00"), ErrBadReference},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dec
			if d == nil {
				d = new(Decoder)
			}
			if _, _, err := d.Decode(tc.in); !errors.Is(err, tc.want) {
				t.Fatalf("Decode(% x) err = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

// TestLyingLengthsAllocate checks that huge counts in tiny inputs fail fast
// and before anything is allocated for them.
func TestLyingLengthsAllocate(t *testing.T) {
	for _, in := range [][]byte{
		w("0A FFFFFFFF 05 05 05 05 05"),
		w("0C FFFFFFFF 61"),
		w("08 FFFFFFFF 0000 09"),
		w("11 09 BF FF FF FF 01"),
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		for range 10 {
			Decode(in)
		}
		elapsed := time.Since(start)
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
			t.Errorf("Decode(% x) x10 allocated %d bytes", in, got)
		}
		if elapsed > time.Second {
			t.Errorf("Decode(% x) x10 took %v", in, elapsed)
		}
	}
}

// TestReferenceCycle decodes an object that refers to itself: the
// reference's Target is nil, nothing loops, and the bytes come back.
func TestReferenceCycle(t *testing.T) {
	in := w("03", key("a"), "03", key("up"), "07 0000", key("me"), "07 0001 0000 09 0000 09")
	v, _, err := Decode(in)
	if err != nil {
		t.Fatal(err)
	}
	inner, _ := v.(Object).GetObject("a")
	up, _ := inner.Get("up")
	if up != nil {
		t.Errorf("cycle resolved to %v, want nil", up)
	}
	if b, err := Append(nil, v); err != nil || !bytes.Equal(b, in) {
		t.Fatalf("re-encoded % x, %v", b, err)
	}
	if Resolve(Reference{Index: 3}) != nil {
		t.Error("Resolve of a cycle")
	}
}

func TestEncodeErrors(t *testing.T) {
	loop := Object{{"self", nil}}
	loop[0].Value = loop
	tests := []struct {
		name string
		v    Value
		want error
	}{
		{"object containing itself", loop, ErrDepth},
		{"reference with no complex value", Reference{Index: 0}, ErrBadReference},
		{"reference past the complex values", StrictArray{Reference{Index: 1}}, ErrBadReference},
		{"unsupported type", struct{}{}, ErrUnsupportedType},
		{"amf3 value without the AMF3 wrapper", &amf3.Object{}, ErrUnsupportedType},
		{"property name of 65536 bytes", Object{{s65536, nil}}, ErrTooLarge},
		{"class name of 65536 bytes", TypedObject{ClassName: s65536}, ErrTooLarge},
		{"AMF3 value that does not encode", AMF3{Value: make(chan int)}, ErrUnsupportedType},
		{"AMF3 nested past the depth", Object{{"a", AMF3{Value: []amf3.Value{[]amf3.Value{}}}}}, ErrDepth},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := &Encoder{}
			if tc.name == "AMF3 nested past the depth" {
				e.MaxDepth = 2
			}
			got, err := e.Append([]byte{1}, tc.v)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(got) != 1 {
				t.Errorf("dst grew to %d bytes on error", len(got))
			}
		})
	}
	if b, err := AppendAll([]byte{1}, "ok", struct{}{}); !errors.Is(err, ErrUnsupportedType) || len(b) != 1 {
		t.Errorf("AppendAll: %d bytes, %v", len(b), err)
	}
}

// TestTablesPersistUntilReset checks the reference tables of a Decoder and
// an Encoder across the values of one message.
func TestTablesPersistUntilReset(t *testing.T) {
	var d Decoder
	if _, _, err := d.Decode(w("03 0000 09")); err != nil {
		t.Fatal(err)
	}
	v, _, err := d.Decode(w("07 0000"))
	if err != nil || !reflect.DeepEqual(v, Reference{Index: 0, Target: Object(nil)}) {
		t.Fatalf("reference to the previous value = %#v, %v", v, err)
	}
	d.Reset()
	if _, _, err := d.Decode(w("07 0000")); !errors.Is(err, ErrBadReference) {
		t.Fatalf("after Reset err = %v", err)
	}
	// DecodeAll starts a new message.
	if _, err := d.DecodeAll(w("07 0000")); !errors.Is(err, ErrBadReference) {
		t.Fatalf("DecodeAll err = %v", err)
	}

	var e Encoder
	b, err := e.Append(nil, Object{})
	if err != nil {
		t.Fatal(err)
	}
	if b, err = e.Append(b, Reference{Index: 0}); err != nil {
		t.Fatal(err)
	}
	e.Reset()
	if _, err = e.Append(nil, Reference{Index: 0}); !errors.Is(err, ErrBadReference) {
		t.Fatalf("after Reset err = %v", err)
	}
}

// TestNonCanonical covers the forms that do not re-encode byte for byte.
func TestNonCanonical(t *testing.T) {
	tests := []struct {
		name      string
		in, canon []byte
	}{
		{"§2.3 boolean byte 2", w("01 02"), w("01 01")},
		{"§3.1 avmplus string inline twice", w("0A 00000002 11 06 03 61 11 06 03 61"), w("0A 00000002 11 06 03 61 11 06 00")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := newDecoder()
			v, _, err := d.Decode(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !d.lossy {
				t.Error("lossy not set")
			}
			if got, err := Append(nil, v); err != nil || !bytes.Equal(got, tc.canon) {
				t.Fatalf("re-encoded % x, %v; want % x", got, err, tc.canon)
			}
			checkFixedPoint(t, [][]byte{tc.canon})
		})
	}
}

func TestDate(t *testing.T) {
	d := Date{Millis: 1609459200123, TZ: 60}
	if got := d.Time(); !got.Equal(time.UnixMilli(1609459200123)) || got.Location() != time.UTC {
		t.Errorf("Time() = %v", got)
	}
	if got := NewDate(time.UnixMilli(5)); got != (Date{Millis: 5}) {
		t.Errorf("NewDate = %v", got)
	}
}

func TestMarkerString(t *testing.T) {
	if MarkerAVMPlus.String() != "avmplus-object" || Marker(0x42).String() != "marker(0x42)" {
		t.Errorf("%v %v", MarkerAVMPlus, Marker(0x42))
	}
}
