package amf0

import (
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"

	"github.com/ertmp/rtmp/amf3"
)

// txt is literal text inside a wire description.
type txt string

// key is a UTF-8 string (§1.3.1): U16 length, then the text.
type key string

// w builds wire bytes from hex strings (spaces ignored), literal text (txt),
// U16-prefixed text (key) and raw []byte.
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
		case key:
			out = binary.BigEndian.AppendUint16(out, uint16(len(x)))
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

var (
	s65535 = strings.Repeat("a", 65535)
	s65536 = strings.Repeat("b", 65536)
)

// goldens is the table that drives the decode, encode and fuzz tests: each
// wire must decode to value, and value must encode to wire.
func goldens() []golden {
	objA := Object{{"a", 1.0}}
	return []golden{
		{"§2.2 number 0", w("00 0000000000000000"), 0.0},
		{"§2.2 number 1.5", w("00 3FF8000000000000"), 1.5},
		{"§2.2 number -Inf", w("00 FFF0000000000000"), -1 / zero},
		{"§2.2 number -0", w("00 8000000000000000"), math.Copysign(0, -1)},
		{"§2.2 number 255", w("00 406FE00000000000"), 255.0},
		{"§2.2 number 256", w("00 4070000000000000"), 256.0},
		{"§2.3 boolean false", w("01 00"), false},
		{"§2.3 boolean true", w("01 01"), true},
		{"§2.4 string empty", w("02 0000"), ""},
		{"§2.4 string", w("02", key("foo")), "foo"},
		{"§2.4 string of 65535 bytes", w("02 FFFF", txt(s65535)), s65535},
		{"§2.14 long string of 65536 bytes", w("0C 00010000", txt(s65536)), LongString(s65536)},
		{"§2.14 short long string stays long", w("0C 00000003", txt("foo")), LongString("foo")},
		{"§2.5 object", w("03", key("app"), "02", key("live"), "0000 09"), Object{{"app", "live"}}},
		{"§2.5 object empty", w("03 0000 09"), Object(nil)},
		{"§2.5 object keeps order and duplicates", w("03", key("b"), "01 01", key("a"), "05", key("b"), "01 00", "0000 09"),
			Object{{"b", true}, {"a", nil}, {"b", false}}},
		{"§2.5 object property with empty name", w("03 0000 05 0000 09"), Object{{"", nil}}},
		{"§2.5 object nested", w("03", key("o"), "03", key("p"), "06 0000 09 0000 09"), Object{{"o", Object{{"p", Undefined{}}}}}},
		{"§2.7 null", w("05"), nil},
		{"§2.8 undefined", w("06"), Undefined{}},
		{"§2.9 reference", w("0A 00000002 03", key("a"), "00 3FF0000000000000 0000 09 07 0001"),
			StrictArray{objA, Reference{Index: 1, Target: objA}}},
		{"§2.9 reference to an enclosing value (cycle)", w("03", key("self"), "07 0000 0000 09"),
			Object{{"self", Reference{Index: 0}}}},
		{"§2.9 reference to a typed object", w("0A 00000002 10", key("P"), "0000 09 07 0001"),
			StrictArray{TypedObject{ClassName: "P"}, Reference{Index: 1, Target: TypedObject{ClassName: "P"}}}},
		{"§2.10 ECMA array", w("08 00000001", key("a"), "00 3FF0000000000000 0000 09"), ECMAArray{Count: 1, Props: []Property{{"a", 1.0}}}},
		{"§2.10 ECMA array, count 0 for 1 property", w("08 00000000", key("a"), "05 0000 09"), ECMAArray{Count: 0, Props: []Property{{"a", nil}}}},
		{"§2.10 ECMA array, count 2^32-1 for 1 property", w("08 FFFFFFFF", key("a"), "05 0000 09"), ECMAArray{Count: 0xFFFFFFFF, Props: []Property{{"a", nil}}}},
		{"§2.10 ECMA array empty", w("08 00000000 0000 09"), ECMAArray{}},
		{"§2.12 strict array", w("0A 00000002 00 3FF0000000000000 02", key("b")), StrictArray{1.0, "b"}},
		{"§2.12 strict array empty", w("0A 00000000"), StrictArray{}},
		{"§2.12 strict array nested", w("0A 00000001 0A 00000001 05"), StrictArray{StrictArray{nil}}},
		{"§2.13 date", w("0B 42776bb3e7000000 0000"), Date{Millis: 1609459200000}},
		{"§2.13 date with time zone -60 kept", w("0B 42776bb3e7000000 FFC4"), Date{Millis: 1609459200000, TZ: -60}},
		{"§2.15 unsupported", w("0D"), Unsupported{}},
		{"§2.17 XML document", w("0F 00000004", txt("<a/>")), XMLDocument("<a/>")},
		{"§2.18 typed object", w("10", key("Point"), key("x"), "00 3FF0000000000000", key("y"), "00 0000000000000000 0000 09"),
			TypedObject{ClassName: "Point", Props: []Property{{"x", 1.0}, {"y", 0.0}}}},
		{"§3.1 avmplus string", w("11 06 07", txt("foo")), AMF3{Value: "foo"}},
		{"§3.1 avmplus integer", w("11 04 FF FF FF FF"), AMF3{Value: int32(-1)}},
		{"§3.1 avmplus object", w("11 0A 0B 01 03 61 04 01 01"),
			AMF3{Value: &amf3.Object{Traits: &amf3.Traits{Dynamic: true}, Dynamic: []amf3.Property{{Key: "a", Value: int32(1)}}}}},
		{"§3.1 avmplus values share the AMF 3 string table", w("0A 00000002 11 06 07", txt("foo"), "11 06 00"),
			StrictArray{AMF3{Value: "foo"}, AMF3{Value: "foo"}}},
		{"§3.1 avmplus in an object property", w("03", key("v"), "11 03 0000 09"), Object{{"v", AMF3{Value: true}}}},
		{"§3.1 avmplus externalizable ArrayCollection", w("11 0A 07 43", txt(amf3.ClassArrayCollection), "09 03 01 04 01"),
			AMF3{Value: &amf3.Object{Traits: &amf3.Traits{ClassName: amf3.ClassArrayCollection, Externalizable: true}, External: &amf3.Array{Dense: []amf3.Value{int32(1)}}}}},
	}
}

var zero = 0.0

// encodeOnly are Go values that encode to a canonical form but do not
// decode to the same Go value.
var encodeOnly = []struct {
	name  string
	value Value
	wire  []byte
}{
	{"§2.14 string of 65536 bytes becomes long string", s65536, w("0C 00010000", txt(s65536))},
	{"§2.2 int", 239, w("00 406de00000000000")},
	{"§2.2 uint32", uint32(3575), w("00 40abee0000000000")},
	{"§2.2 float32", float32(1.5), w("00 3FF8000000000000")},
	{"§2.12 []string", []string{"av01", "hvc1"}, w("0A 00000002 02", key("av01"), "02", key("hvc1"))},
	{"§2.12 []Value", []Value{nil}, w("0A 00000001 05")},
	{"§2.5 map, keys sorted", map[string]Value{"b": nil, "a": true}, w("03", key("a"), "01 01", key("b"), "05 0000 09")},
	{"§2.5 []Property", []Property{{"a", nil}}, w("03", key("a"), "05 0000 09")},
	{"§2.5 *Object", &Object{{"a", nil}}, w("03", key("a"), "05 0000 09")},
	{"§2.10 NewECMAArray counts", NewECMAArray(Property{"a", nil}, Property{"b", nil}), w("08 00000002", key("a"), "05", key("b"), "05 0000 09")},
	{"§2.7 nil *ECMAArray is null", (*ECMAArray)(nil), w("05")},
}

// connectWire is a connect command (RTMP §7.2.1.1) as an Enhanced RTMP
// publisher sends it: "connect", transaction 1, the command object.
var connectWire = w(
	"02", key("connect"),
	"00 3FF0000000000000",
	"03",
	key("app"), "02", key("live"),
	key("type"), "02", key("nonprivate"),
	key("flashVer"), "02", key("FMLE/3.0 (compatible; FMSc/1.0)"),
	key("swfUrl"), "02", key("rtmp://example.com/live"),
	key("tcUrl"), "02", key("rtmp://example.com/live"),
	key("fpad"), "01 00",
	key("capabilities"), "00 406de00000000000",
	key("audioCodecs"), "00 40abee0000000000",
	key("videoCodecs"), "00 406f800000000000",
	key("videoFunction"), "00 3FF0000000000000",
	key("objectEncoding"), "00 0000000000000000",
	key("fourCcList"), "0A 00000004", "02", key("av01"), "02", key("vp09"), "02", key("hvc1"), "02", key("avc1"),
	key("capsEx"), "00 4008000000000000",
	"0000 09",
)

var connectValues = []Value{
	"connect",
	1.0,
	Object{
		{"app", "live"},
		{"type", "nonprivate"},
		{"flashVer", "FMLE/3.0 (compatible; FMSc/1.0)"},
		{"swfUrl", "rtmp://example.com/live"},
		{"tcUrl", "rtmp://example.com/live"},
		{"fpad", false},
		{"capabilities", 239.0},
		{"audioCodecs", 3575.0},
		{"videoCodecs", 252.0},
		{"videoFunction", 1.0},
		{"objectEncoding", 0.0},
		{"fourCcList", StrictArray{"av01", "vp09", "hvc1", "avc1"}},
		{"capsEx", 3.0},
	},
}

// ffmpegMetaData is the onMetaData script data of an FLV file written by
// FFmpeg (Lavf62.3.100) with AV1 video and Opus audio, whose codec ids are
// Enhanced RTMP FourCCs ('av01', 'Opus') as numbers.
var ffmpegMetaData = w("02000a6f6e4d65746144617461080000000d00086475726174696f6e00402404189374bc6a0005776964746800408ea000000000000006686569676874004080e00000000000000d766964656f646174617261746500408e84800000000000096672616d657261746500403e000000000000000c766964656f636f64656369640041d85d8c0c400000000d617564696f646174617261746500405f400000000000000f617564696f73616d706c65726174650040e7700000000000000f617564696f73616d706c6573697a65004030000000000000000673746572656f0100000c617564696f636f64656369640041d3dc1d5cc000000007656e636f64657202000c4c61766636322e332e313030000866696c6573697a65004112fb8000000000000009")

// setDataFrameWire is the same metadata as FFmpeg sends it over RTMP, with
// the @setDataFrame prefix, and an associative-count of 15 for 13
// properties, as FFmpeg writes when it cannot seek back to fix the count.
var setDataFrameWire = w("02", key("@setDataFrame"), ffmpegMetaData[:14], "0000000F", ffmpegMetaData[18:])

var setDataFrameValues = []Value{
	"@setDataFrame",
	"onMetaData",
	ECMAArray{Count: 15, Props: []Property{
		{"duration", 10.008},
		{"width", 980.0},
		{"height", 540.0},
		{"videodatarate", 976.5625},
		{"framerate", 30.0},
		{"videocodecid", 1635135537.0}, // 'av01'
		{"audiodatarate", 125.0},
		{"audiosamplerate", 48000.0},
		{"audiosamplesize", 16.0},
		{"stereo", false},
		{"audiocodecid", 1332770163.0}, // 'Opus'
		{"encoder", "Lavf62.3.100"},
		{"filesize", 311008.0},
	}},
}
