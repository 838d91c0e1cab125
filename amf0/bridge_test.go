package amf0

import (
	"reflect"
	"testing"

	"github.com/ertmp/rtmp/amf3"
)

func TestFromAMF3(t *testing.T) {
	anon := &amf3.Traits{Dynamic: true}
	tests := []struct {
		name string
		in   amf3.Value
		want Value
	}{
		{"undefined", amf3.Undefined{}, Undefined{}},
		{"null", nil, nil},
		{"bool", true, true},
		{"integer", int32(-5), -5.0},
		{"double", 2.5, 2.5},
		{"string", "s", "s"},
		{"XML", amf3.XML("<a/>"), XMLDocument("<a/>")},
		{"XMLDocument", amf3.XMLDocument("<b/>"), XMLDocument("<b/>")},
		{"date", amf3.Date{Millis: 5}, Date{Millis: 5}},
		{"byte array", amf3.ByteArray("hi"), "hi"},
		{"dense array", &amf3.Array{Dense: []amf3.Value{int32(1), "a"}}, StrictArray{1.0, "a"}},
		{"mixed array", &amf3.Array{Dense: []amf3.Value{true}, Assoc: []amf3.Property{{Key: "k", Value: nil}}},
			NewECMAArray(Property{"0", true}, Property{"k", nil})},
		{"anonymous object", &amf3.Object{Traits: anon, Dynamic: []amf3.Property{{Key: "a", Value: int32(1)}}}, Object{{"a", 1.0}}},
		{"object with nil traits", &amf3.Object{Dynamic: []amf3.Property{{Key: "a", Value: nil}}}, Object{{"a", nil}}},
		{"typed object, sealed then dynamic", &amf3.Object{
			Traits: &amf3.Traits{ClassName: "C", Dynamic: true, Members: []string{"s"}},
			Sealed: []amf3.Value{"x"}, Dynamic: []amf3.Property{{Key: "d", Value: 1.0}},
		}, TypedObject{ClassName: "C", Props: []Property{{"s", "x"}, {"d", 1.0}}}},
		{"ArrayCollection", &amf3.Object{
			Traits:   &amf3.Traits{ClassName: amf3.ClassArrayCollection, Externalizable: true},
			External: &amf3.Array{Dense: []amf3.Value{int32(1)}},
		}, StrictArray{1.0}},
		{"externalizable of unknown form", &amf3.Object{
			Traits:   &amf3.Traits{ClassName: "x.Y", Externalizable: true},
			External: struct{}{},
		}, Unsupported{}},
		{"vector int", &amf3.VectorInt{Items: []int32{-1}}, StrictArray{-1.0}},
		{"vector uint", &amf3.VectorUint{Items: []uint32{1 << 31}}, StrictArray{float64(1 << 31)}},
		{"vector double", &amf3.VectorDouble{Items: []float64{0.5}}, StrictArray{0.5}},
		{"vector object", &amf3.VectorObject{TypeName: "*", Items: []amf3.Value{int32(2)}}, StrictArray{2.0}},
		{"dictionary", &amf3.Dictionary{Entries: []amf3.DictEntry{
			{Key: "s", Value: int32(1)}, {Key: int32(2), Value: nil}, {Key: 1.5, Value: nil},
			{Key: true, Value: nil}, {Key: nil, Value: nil}, {Key: &amf3.Object{}, Value: nil},
		}}, NewECMAArray(Property{"s", 1.0}, Property{"2", nil}, Property{"1.5", nil},
			Property{"true", nil}, Property{"null", nil}, Property{"[object Object]", nil})},
		{"nil pointer", (*amf3.Array)(nil), nil},
		{"Go type outside the model", 7, Unsupported{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := FromAMF3(tc.in); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("FromAMF3(%#v)\n got %#v\nwant %#v", tc.in, got, tc.want)
			}
			if got := (AMF3{Value: tc.in}).AMF0(); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("AMF0() = %#v", got)
			}
		})
	}
}

// TestFromAMF3Graphs converts shared values once and cuts cycles.
func TestFromAMF3Graphs(t *testing.T) {
	self := &amf3.Object{}
	self.Dynamic = []amf3.Property{{Key: "me", Value: self}, {Key: "n", Value: int32(1)}}
	if got, want := FromAMF3(self), (Object{{"me", nil}, {"n", 1.0}}); !reflect.DeepEqual(got, want) {
		t.Errorf("cycle: %#v", got)
	}

	// A chain where each level refers to the next twice: 2^40 paths, 40
	// conversions.
	var v amf3.Value = "leaf"
	for range 40 {
		v = &amf3.Array{Dense: []amf3.Value{v, v}}
	}
	got := FromAMF3(v).(StrictArray)
	if reflect.ValueOf(got[0]).Pointer() != reflect.ValueOf(got[1]).Pointer() {
		t.Error("a shared array converted twice")
	}

	// Hand-built nesting deeper than the bridge goes becomes nil.
	deep := &amf3.Array{}
	cur := deep
	for range maxBridgeDepth + 10 {
		next := &amf3.Array{}
		cur.Dense = []amf3.Value{next}
		cur = next
	}
	n := 0
	for x := FromAMF3(deep); x != nil; x = x.(StrictArray)[0] {
		n++
	}
	if n != maxBridgeDepth {
		t.Errorf("depth %d, want %d", n, maxBridgeDepth)
	}
}

func TestJSNumber(t *testing.T) {
	for f, want := range map[float64]string{0: "0", -3: "-3", 1e20: "100000000000000000000", 1e21: "1e+21", 0.25: "0.25"} {
		if got := jsNumber(f); got != want {
			t.Errorf("jsNumber(%v) = %q, want %q", f, got, want)
		}
	}
}
