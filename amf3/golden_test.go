package amf3

import (
	"encoding/hex"
	"strings"
)

// txt is literal text inside a wire description.
type txt string

// w builds wire bytes from hex strings (spaces ignored), literal text (txt)
// and raw []byte.
func w(parts ...any) []byte {
	var out []byte
	for _, p := range parts {
		switch x := p.(type) {
		case string:
			b, err := hex.DecodeString(strings.ReplaceAll(x, " ", ""))
			if err != nil {
				panic(err)
			}
			out = append(out, b...)
		case txt:
			out = append(out, x...)
		case []byte:
			out = append(out, x...)
		default:
			panic("w: bad part")
		}
	}
	return out
}

type golden struct {
	name  string
	wire  []byte
	value Value
}

// remotingMessage is a Flex RemotingMessage as an AVM encoder writes it:
// sealed typed traits, anonymous objects sharing traits by reference, string
// references (including a member name used as a key, and a value repeated)
// and an object reference.
func remotingMessage() (Value, []byte) {
	live := &Object{Traits: &Traits{Dynamic: true}, Dynamic: []Property{{"name", "live"}, {"clients", int32(3)}}}
	vod := &Object{Traits: live.Traits, Dynamic: []Property{{"name", "vod"}, {"clients", int32(0)}}}
	headers := &Object{Traits: live.Traits, Dynamic: []Property{{"DSId", "nil"}, {"DSEndpoint", "my-rtmp"}}}
	msg := &Object{
		Traits: &Traits{
			ClassName: "flex.messaging.messages.RemotingMessage",
			Members:   []string{"operation", "source", "body", "headers", "messageId", "timestamp"},
		},
		Sealed: []Value{"getStreams", "live", &Array{Dense: []Value{live, vod, live}}, headers, "ABC", 1.7e12},
	}
	wire := w(
		"0A 63 4F", txt("flex.messaging.messages.RemotingMessage"), // obj 0, traits 0 (6 sealed), str 0
		"13", txt("operation"), "0D", txt("source"), "09", txt("body"), // str 1-3
		"0F", txt("headers"), "13", txt("messageId"), "13", txt("timestamp"), // str 4-6
		"06 15", txt("getStreams"), // str 7
		"06 09", txt("live"), // str 8
		"09 07 01",                 // body: obj 1, 3 dense, no associative part
		"0A 0B 01",                 // obj 2, traits 1: anonymous dynamic
		"09", txt("name"), "06 10", // str 9, value: ref str 8 "live"
		"0F", txt("clients"), "04 03", "01", // str 10
		"0A 05",                               // obj 3, traits ref 1
		"12 06 07", txt("vod"), "14 04 00 01", // ref str 9, str 11, ref str 10
		"0A 04",                                // ref obj 2
		"0A 05",                                // headers: obj 4, traits ref 1
		"09", txt("DSId"), "06 07", txt("nil"), // str 12, 13
		"15", txt("DSEndpoint"), "06 0F", txt("my-rtmp"), "01", // str 14, 15
		"06 07", txt("ABC"), // str 16
		"05 4278bcfe56800000",
	)
	return msg, wire
}

// goldens is the table that drives the decode, encode and fuzz tests. Each
// entry is written as a conforming encoder writes it, so it must decode to
// value and value must encode to it.
func goldens() []golden {
	selfObj := &Object{Traits: &Traits{Dynamic: true}}
	selfObj.Dynamic = []Property{{"self", selfObj}}
	selfArr := &Array{}
	selfArr.Dense = []Value{selfArr}
	shared := &Object{Traits: &Traits{Dynamic: true}, Dynamic: []Property{{"a", int32(1)}}}
	ba := ByteArray{0xAA, 0xBB}
	vi := &VectorInt{Items: []int32{7}}
	dict := &Dictionary{}
	point := &Traits{ClassName: "Point", Members: []string{"x", "y"}}
	rm, rmWire := remotingMessage()
	keyObj := &Object{Traits: &Traits{Dynamic: true}}

	return []golden{
		{"§3.2 undefined", w("00"), Undefined{}},
		{"§3.3 null", w("01"), nil},
		{"§3.4 false", w("02"), false},
		{"§3.5 true", w("03"), true},
		{"§3.6 integer 0 (U29-1)", w("04 00"), int32(0)},
		{"§3.6 integer 0x7F (largest U29-1)", w("04 7F"), int32(0x7F)},
		{"§3.6 integer 0x80 (smallest U29-2)", w("04 81 00"), int32(0x80)},
		{"§3.6 integer 0x3FFF (largest U29-2)", w("04 FF 7F"), int32(0x3FFF)},
		{"§3.6 integer 0x4000 (smallest U29-3)", w("04 81 80 00"), int32(0x4000)},
		{"§3.6 integer 0x1FFFFF (largest U29-3)", w("04 FF FF 7F"), int32(0x1FFFFF)},
		{"§3.6 integer 0x200000 (smallest U29-4)", w("04 80 C0 80 00"), int32(0x200000)},
		{"§3.6 integer 0x0FFFFFFF (2^28-1, largest)", w("04 BF FF FF FF"), int32(0x0FFFFFFF)},
		{"§3.6 integer -1 (sign extended)", w("04 FF FF FF FF"), int32(-1)},
		{"§3.6 integer -2^28 (smallest)", w("04 C0 80 80 00"), int32(-1 << 28)},
		{"§3.7 double 1.5", w("05 3FF8000000000000"), 1.5},
		{"§3.7 double 2^28", w("05 41B0000000000000"), float64(1 << 28)},
		{"§3.8 string empty", w("06 01"), ""},
		{"§3.8 string", w("06 07", txt("foo")), "foo"},
		{"§3.8 string 2-byte length", w("06 82 01", txt(strings.Repeat("s", 128))), strings.Repeat("s", 128)},
		{"§3.8 string reference", w("09 05 01 06 07", txt("foo"), "06 00"), &Array{Dense: []Value{"foo", "foo"}}},
		{"§3.8 empty string never referenced", w("09 09 01 06 03 61 06 01 06 01 06 00"), &Array{Dense: []Value{"a", "", "", "a"}}},
		{"§3.9 XMLDocument", w("07 09", txt("<a/>")), XMLDocument("<a/>")},
		{"§3.9 XMLDocument reference", w("09 05 01 07 09", txt("<a/>"), "07 02"), &Array{Dense: []Value{XMLDocument("<a/>"), XMLDocument("<a/>")}}},
		{"§3.10 date", w("08 01 42776bb3e7000000"), Date{Millis: 1609459200000}},
		{"§3.10 date reference", w("09 05 01 08 01 42776bb3e7000000 08 02"), &Array{Dense: []Value{Date{Millis: 1609459200000}, Date{Millis: 1609459200000}}}},
		{"§3.11 array empty", w("09 01 01"), &Array{}},
		{"§3.11 array dense", w("09 05 01 04 01 04 02"), &Array{Dense: []Value{int32(1), int32(2)}}},
		{"§3.11 array associative", w("09 01 03 61 04 01 01"), &Array{Assoc: []Property{{"a", int32(1)}}}},
		{"§3.11 array mixed, key reused as value", w("09 03 03 61 06 00 01 03"), &Array{Dense: []Value{true}, Assoc: []Property{{"a", "a"}}}},
		{"§3.11 array containing itself", w("09 03 01 09 00"), selfArr},
		{"§3.12 object anonymous dynamic", w("0A 0B 01 03 61 04 01 01"), &Object{Traits: &Traits{Dynamic: true}, Dynamic: []Property{{"a", int32(1)}}}},
		{"§3.12 object anonymous empty", w("0A 0B 01 01"), &Object{Traits: &Traits{Dynamic: true}}},
		{"§3.12 object typed sealed", w("0A 23 0B", txt("Point"), "03 78 03 79 04 01 04 02"),
			&Object{Traits: &Traits{ClassName: "Point", Members: []string{"x", "y"}}, Sealed: []Value{int32(1), int32(2)}}},
		{"§3.12 object typed sealed and dynamic", w("0A 1B 07", txt("Tag"), "03 6E 06 03 76 03 64 05 3FF0000000000000 01"),
			&Object{Traits: &Traits{ClassName: "Tag", Dynamic: true, Members: []string{"n"}}, Sealed: []Value{"v"}, Dynamic: []Property{{"d", 1.0}}}},
		{"§3.12 object traits reference", w("09 05 01 0A 23 0B", txt("Point"), "03 78 03 79 04 01 04 02 0A 01 04 03 04 04"),
			&Array{Dense: []Value{
				&Object{Traits: point, Sealed: []Value{int32(1), int32(2)}},
				&Object{Traits: point, Sealed: []Value{int32(3), int32(4)}},
			}}},
		{"§3.12 object reference", w("09 05 01 0A 0B 01 03 61 04 01 01 0A 02"), &Array{Dense: []Value{shared, shared}}},
		{"§3.12 object containing itself", w("0A 0B 01 09", txt("self"), "0A 00 01"), selfObj},
		{"§3.12 externalizable ArrayCollection", w("0A 07 43", txt(ClassArrayCollection), "09 03 01 04 01"),
			&Object{Traits: &Traits{ClassName: ClassArrayCollection, Externalizable: true}, External: &Array{Dense: []Value{int32(1)}}}},
		{"§3.12 Flex RemotingMessage", rmWire, rm},
		{"§3.13 XML", w("0B 09", txt("<a/>")), XML("<a/>")},
		{"§3.13 XML and XMLDocument are distinct", w("09 05 01 0B 09", txt("<a/>"), "07 09", txt("<a/>")), &Array{Dense: []Value{XML("<a/>"), XMLDocument("<a/>")}}},
		{"§3.14 ByteArray", w("0C 07 01 02 03"), ByteArray{1, 2, 3}},
		{"§3.14 ByteArray empty", w("0C 01"), ByteArray{}},
		{"§3.14 ByteArray reference", w("09 05 01 0C 05 AA BB 0C 02"), &Array{Dense: []Value{ba, ba}}},
		{"§3.15 vector int", w("0D 05 00 00000001 FFFFFFFF"), &VectorInt{Items: []int32{1, -1}}},
		{"§3.15 vector uint fixed", w("0E 03 01 FFFFFFFF"), &VectorUint{Fixed: true, Items: []uint32{0xFFFFFFFF}}},
		{"§3.15 vector double", w("0F 03 00 3FF0000000000000"), &VectorDouble{Items: []float64{1}}},
		{"§3.15 vector object", w("10 05 00 03 2A 04 01 06 03 61"), &VectorObject{TypeName: "*", Items: []Value{int32(1), "a"}}},
		{"§3.15 vector reference", w("09 05 01 0D 03 00 00000007 0D 02"), &Array{Dense: []Value{vi, vi}}},
		{"§3.16 dictionary", w("11 03 00 06 03 6B 04 01"), &Dictionary{Entries: []DictEntry{{"k", int32(1)}}}},
		{"§3.16 dictionary weak keys, object key", w("11 03 01 0A 0B 01 01 03"), &Dictionary{WeakKeys: true, Entries: []DictEntry{{keyObj, true}}}},
		{"§3.16 dictionary reference", w("09 05 01 11 01 00 11 02"), &Array{Dense: []Value{dict, dict}}},
	}
}

// encodeOnly are Go values that encode to a canonical form but do not
// decode to the same Go value.
var encodeOnly = []struct {
	name  string
	value Value
	wire  []byte
}{
	{"§3.6 int32 2^28 becomes double", int32(1 << 28), w("05 41B0000000000000")},
	{"§3.6 int32 -2^28-1 becomes double", int32(-1<<28 - 1), w("05 C1B0000001000000")},
	{"§3.6 int 5", 5, w("04 05")},
	{"§3.6 uint32 max becomes double", uint32(0xFFFFFFFF), w("05 41EFFFFFFFE00000")},
	{"§3.7 float32", float32(1.5), w("05 3FF8000000000000")},
	{"§3.12 nil traits are anonymous dynamic", &Object{Dynamic: []Property{{"a", int32(1)}}}, w("0A 0B 01 03 61 04 01 01")},
	{"§3.12 equal traits are referenced", []Value{
		&Object{Traits: &Traits{ClassName: "P", Members: []string{"x"}}, Sealed: []Value{int32(1)}},
		&Object{Traits: &Traits{ClassName: "P", Members: []string{"x"}}, Sealed: []Value{int32(2)}},
	}, w("09 05 01 0A 13 03 50 03 78 04 01 0A 01 04 02")},
	{"§3.12 map is a sorted anonymous object", map[string]Value{"b": 2, "a": 1}, w("0A 0B 01 03 61 04 01 03 62 04 02 01")},
	{"§3.14 []byte", []byte{9}, w("0C 03 09")},
	{"§3.11 nil *Array is null", (*Array)(nil), w("01")},
}
