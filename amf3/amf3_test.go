package amf3

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
)

func newDecoder() *Decoder {
	d := new(Decoder)
	d.RegisterExternalizable(ClassArrayCollection, ValueHandler{})
	d.RegisterExternalizable(ClassObjectProxy, ValueHandler{})
	return d
}

func newEncoder() *Encoder {
	e := new(Encoder)
	e.RegisterExternalizable(ClassArrayCollection, ValueHandler{})
	e.RegisterExternalizable(ClassObjectProxy, ValueHandler{})
	return e
}

func TestDecodeGolden(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			// Trailing bytes belong to the next value and must be left alone.
			in := append(append([]byte(nil), g.wire...), 0xEE)
			v, n, err := newDecoder().Decode(in)
			if err != nil {
				t.Fatalf("Decode(% x): %v", g.wire, err)
			}
			if n != len(g.wire) {
				t.Errorf("n = %d, want %d", n, len(g.wire))
			}
			if !reflect.DeepEqual(v, g.value) {
				t.Errorf("Decode(% x)\n got %#v\nwant %#v", g.wire, v, g.value)
			}
		})
	}
}

func TestEncodeGolden(t *testing.T) {
	for _, g := range goldens() {
		t.Run(g.name, func(t *testing.T) {
			prefix := []byte{0xEE}
			got, err := newEncoder().Append(prefix, g.value)
			if err != nil {
				t.Fatalf("Append: %v", err)
			}
			if !bytes.Equal(got[1:], g.wire) || got[0] != 0xEE {
				t.Errorf("Append(%#v)\n got % x\nwant % x", g.value, got[1:], g.wire)
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
				t.Errorf("Append(%#v)\n got % x\nwant % x", g.value, got, g.wire)
			}
		})
	}
}

// TestRoundTripGolden decodes each golden and encodes the result: the bytes
// must come back, which is what relaying a message unchanged relies on.
func TestRoundTripGolden(t *testing.T) {
	for _, g := range goldens() {
		v, _, err := newDecoder().Decode(g.wire)
		if err != nil {
			t.Fatalf("%s: %v", g.name, err)
		}
		got, err := newEncoder().Append(nil, v)
		if err != nil {
			t.Fatalf("%s: Append: %v", g.name, err)
		}
		if !bytes.Equal(got, g.wire) {
			t.Errorf("%s: re-encoded\n got % x\nwant % x", g.name, got, g.wire)
		}
	}
}

func TestDecodeSharesPointers(t *testing.T) {
	_, wire := remotingMessage()
	v, _, err := Decode(wire)
	if err != nil {
		t.Fatal(err)
	}
	msg := v.(*Object)
	body, _ := msg.Get("body")
	dense := body.(*Array).Dense
	if dense[0] != dense[2] {
		t.Error("object reference did not return the same *Object")
	}
	if dense[0].(*Object).Traits != dense[1].(*Object).Traits {
		t.Error("traits reference did not return the same *Traits")
	}
	if got, _ := dense[1].(*Object).Get("name"); got != "vod" {
		t.Errorf("Get(name) = %v", got)
	}
}

// TestTruncated cuts every golden at every offset: each cut must fail with
// io.ErrUnexpectedEOF (io.EOF when nothing is left), never panic.
func TestTruncated(t *testing.T) {
	for _, g := range goldens() {
		for i := 0; i < len(g.wire); i++ {
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

func nested(n int, open, close string) []byte {
	return w(strings.Repeat(open, n), "01", strings.Repeat(close, n))
}

func TestBadInput(t *testing.T) {
	tests := []struct {
		name string
		dec  *Decoder
		in   []byte
		want error
	}{
		{"§3.1 unknown marker 0x12", nil, w("12"), ErrUnknownMarker},
		{"§3.1 unknown marker 0xFF in array", nil, w("09 03 01 FF"), ErrUnknownMarker},
		{"§3.8 string reference to empty table", nil, w("06 00"), ErrBadReference},
		{"§3.8 string reference forward", nil, w("09 05 01 06 02 06 03 61"), ErrBadReference},
		{"§3.12 object reference to empty table", nil, w("0A 00"), ErrBadReference},
		{"§3.12 object reference forward", nil, w("09 03 01 0A 02"), ErrBadReference},
		{"§3.12 traits reference to empty table", nil, w("0A 01"), ErrBadReference},
		{"§3.12 object marker referring to an array", nil, w("09 03 01 0A 00"), ErrBadReference},
		{"§3.11 array marker referring to a date", nil, w("09 05 01 08 01 0000000000000000 09 02"), ErrBadReference},
		{"§3.13 XML marker referring to an XMLDocument", nil, w("09 05 01 07 03 61 0B 02"), ErrBadReference},
		{"§3.15 vector int marker referring to vector uint", nil, w("09 05 01 0E 01 00 0D 02"), ErrBadReference},
		{"§3.14 byte-array marker referring to an object", nil, w("0A 0B 01 03 62 0C 00 01"), ErrBadReference},
		{"§3.12 externalizable without handler", nil, w("0A 07 0F", txt("foo.Bar"), "00 00"), ErrNoExternalHandler},
		{"§3.11 dense count 2^28-1 in 6 bytes", nil, w("09 BF FF FF FF 01"), ErrTruncated},
		{"§3.15 vector double count 2^28-1", nil, w("0F BF FF FF FF 00 00"), ErrTruncated},
		{"§3.15 vector object count 2^28-1", nil, w("10 BF FF FF FF 00 01 01"), ErrTruncated},
		{"§3.16 dictionary count 2^28-1", nil, w("11 BF FF FF FF 00 01 01"), ErrTruncated},
		{"§3.12 traits with 2^25-1 sealed members", nil, w("0A FF FF FF F3 01"), ErrTruncated},
		{"§3.8 string length 2^28-1", nil, w("06 FF FF FF FF 61"), ErrTruncated},
		{"§3.14 byte-array length 2^28-1", nil, w("0C FF FF FF FF 61"), ErrTruncated},
		{"depth 65 arrays", nil, nested(65, "09 03 01", ""), ErrDepth},
		{"depth 3 with MaxDepth 2", &Decoder{MaxDepth: 2}, nested(3, "09 03 01", ""), ErrDepth},
		{"depth 65 objects", nil, w(strings.Repeat("0A 0B 01 03 61", 65), "01"), ErrDepth},
		{"items past MaxItems", &Decoder{MaxItems: 3}, w("09 09 01 01 01 01 01"), ErrTooMany},
		{"items past MaxItems across values", &Decoder{MaxItems: 3}, w("09 01 03 61 01 03 62 01 03 63 01 03 64 01 01"), ErrTooMany},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.dec
			if d == nil {
				d = new(Decoder)
			}
			_, _, err := d.Decode(tc.in)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Decode(% x) err = %v, want %v", tc.in, err, tc.want)
			}
		})
	}
}

func TestExternalizableError(t *testing.T) {
	_, _, err := Decode(w("0A 07 0F", txt("foo.Bar")))
	var xe *ExternalizableError
	if !errors.As(err, &xe) || xe.ClassName != "foo.Bar" {
		t.Fatalf("err = %v, want *ExternalizableError for foo.Bar", err)
	}
	o := &Object{Traits: &Traits{ClassName: "foo.Bar", Externalizable: true}}
	if _, err := Append(nil, o); !errors.As(err, &xe) {
		t.Fatalf("Append err = %v, want *ExternalizableError", err)
	}
}

// TestLyingLengthsAllocate checks that huge counts in tiny inputs fail
// before anything is allocated for them.
func TestLyingLengthsAllocate(t *testing.T) {
	inputs := [][]byte{
		w("09 BF FF FF FF 01"),
		w("0F BF FF FF FF 00 00"),
		w("11 BF FF FF FF 00 01 01"),
		w("0A FF FF FF F3 01"),
		w("0C FF FF FF FF 61"),
	}
	for _, in := range inputs {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range 10 {
			if _, _, err := Decode(in); err == nil {
				t.Fatalf("Decode(% x) succeeded", in)
			}
		}
		runtime.ReadMemStats(&after)
		if got := after.TotalAlloc - before.TotalAlloc; got > 64<<10 {
			t.Errorf("Decode(% x) x10 allocated %d bytes", in, got)
		}
	}
}

func TestEncodeErrors(t *testing.T) {
	loop := make([]Value, 1)
	loop[0] = loop
	tests := []struct {
		name string
		v    Value
		want error
	}{
		{"[]Value containing itself", loop, ErrDepth},
		{"unsupported type", struct{}{}, ErrUnsupportedType},
		{"unsupported in array", &Array{Dense: []Value{make(chan int)}}, ErrUnsupportedType},
		{"sealed count mismatch", &Object{Traits: &Traits{Members: []string{"a"}}}, ErrInvalid},
		{"dynamic members on sealed traits", &Object{Traits: &Traits{}, Dynamic: []Property{{"a", 1}}}, ErrInvalid},
		{"empty associative key", &Array{Assoc: []Property{{"", 1}}}, ErrInvalid},
		{"empty map key", map[string]Value{"": 1}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dst := []byte{1, 2}
			got, err := Append(dst, tc.v)
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if len(got) != 2 {
				t.Errorf("dst grew to %d bytes on error", len(got))
			}
		})
	}
}

// TestEncodeCycles encodes pointer cycles: they become references.
func TestEncodeCycles(t *testing.T) {
	a := &Array{}
	o := &Object{Dynamic: []Property{{"arr", a}}}
	a.Dense = []Value{o, a}
	b, err := Append(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	want := w("0A 0B 01 07", txt("arr"), "09 05 01 0A 00 09 02 01")
	if !bytes.Equal(b, want) {
		t.Fatalf("got % x\nwant % x", b, want)
	}
	v, _, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	vo := v.(*Object)
	arr, _ := vo.Get("arr")
	if arr.(*Array).Dense[0] != vo || arr.(*Array).Dense[1] != arr {
		t.Error("cycle not restored")
	}
}

// TestNonCanonical covers inputs that another encoder may write: they
// decode, and re-encode to a canonical fixed point; duplicate inline traits
// even come back byte for byte.
func TestNonCanonical(t *testing.T) {
	tests := []struct {
		name  string
		in    []byte
		canon []byte // nil: re-encodes to in
	}{
		{"§3.12 traits inline twice", w("09 05 01 0A 13 03 50 03 78 04 01 0A 13 00 02 04 02"), nil},
		{"§3.8 string inline twice", w("09 05 01 06 03 61 06 03 61"), w("09 05 01 06 03 61 06 00")},
		{"§1.3.1 overlong U29", w("04 80 80 80 01"), w("04 01")},
		{"§3.15 fixed byte 2", w("0D 01 02"), w("0D 01 01")},
		{"§3.10 date inline twice", w("09 05 01 08 01 0000000000000000 08 01 0000000000000000"), w("09 05 01 08 01 0000000000000000 08 02")},
		{"§3.12 U29O-traits-ext with extra bits", w("0A 0F 43", txt(ClassArrayCollection), "01"), w("0A 07 43", txt(ClassArrayCollection), "01")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, n, err := newDecoder().Decode(tc.in)
			if err != nil || n != len(tc.in) {
				t.Fatalf("Decode: n=%d err=%v", n, err)
			}
			got, err := newEncoder().Append(nil, v)
			if err != nil {
				t.Fatal(err)
			}
			want := tc.canon
			if want == nil {
				want = tc.in
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("re-encoded % x\nwant % x", got, want)
			}
			checkFixedPoint(t, got)
		})
	}
}

func checkFixedPoint(t *testing.T, e1 []byte) {
	t.Helper()
	v2, n2, err := newDecoder().Decode(e1)
	if err != nil || n2 != len(e1) {
		t.Fatalf("decode of re-encoding % x: n=%d err=%v", e1, n2, err)
	}
	e2, err := newEncoder().Append(nil, v2)
	if err != nil {
		t.Fatalf("encode of re-decoded value: %v", err)
	}
	if !bytes.Equal(e1, e2) {
		t.Fatalf("not a fixed point:\n% x\n% x", e1, e2)
	}
}

// TestTablesPersistUntilReset decodes two values of one message, the second
// referring to a string of the first, then resets.
func TestTablesPersistUntilReset(t *testing.T) {
	var d Decoder
	if _, _, err := d.Decode(w("06 07", txt("foo"))); err != nil {
		t.Fatal(err)
	}
	v, _, err := d.Decode(w("06 00"))
	if err != nil || v != "foo" {
		t.Fatalf("second value = %v, %v; want foo", v, err)
	}
	d.Reset()
	if _, _, err := d.Decode(w("06 00")); !errors.Is(err, ErrBadReference) {
		t.Fatalf("after Reset err = %v, want ErrBadReference", err)
	}

	var e Encoder
	b, _ := e.Append(nil, "foo")
	b, _ = e.Append(b, "foo")
	if want := w("06 07", txt("foo"), "06 00"); !bytes.Equal(b, want) {
		t.Fatalf("Encoder tables: got % x want % x", b, want)
	}
	e.Reset()
	if b, _ = e.Append(nil, "foo"); !bytes.Equal(b, w("06 07", txt("foo"))) {
		t.Fatalf("after Reset got % x", b)
	}
}

func TestDateTime(t *testing.T) {
	d := Date{Millis: 1609459200123}
	if got := d.Time().Format("2006-01-02T15:04:05.000Z07:00"); got != "2021-01-01T00:00:00.123Z" {
		t.Errorf("Time() = %s", got)
	}
	if got := NewDate(d.Time()); got != d {
		t.Errorf("NewDate(Time()) = %v", got)
	}
	if got := (Date{Millis: -1500}).Time(); !got.Equal(time.Unix(-2, 500e6)) {
		t.Errorf("Date{-1500}.Time() = %v", got)
	}
	if got := (Date{Millis: math.NaN()}).Time(); !got.IsZero() {
		t.Errorf("NaN date = %v", got)
	}
}

func TestMarkerString(t *testing.T) {
	if MarkerDictionary.String() != "dictionary" || Marker(0x42).String() != "marker(0x42)" {
		t.Errorf("%v %v", MarkerDictionary, Marker(0x42))
	}
}
