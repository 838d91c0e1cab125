package message

import (
	"encoding/binary"
	"math"
	"sync"

	"github.com/ertmp/rtmp/amf0"
)

// Helpers shared by the AMF-carrying messages (commands, data, shared
// objects).

// stripSelector checks and removes the format selector byte that starts the
// payload of types 15, 16 and 17 (Enhanced RTMP v2, "Important
// AMF3-encoded Historical Specification Clarification"). Other types are
// returned unchanged.
func stripSelector(t Type, b []byte) ([]byte, error) {
	switch t {
	case TypeDataAMF3, TypeSharedObjectAMF3, TypeCommandAMF3:
	default:
		return b, nil
	}
	if len(b) == 0 {
		return nil, truncated(t, "format selector")
	}
	if b[0] != 0 {
		return nil, &FormatSelectorError{Type: t, Selector: b[0]}
	}
	return b[1:], nil
}

var encoderPool = sync.Pool{New: func() any { return new(amf0.Encoder) }}

// getEncoder returns a pooled Encoder, reset for a new message.
func getEncoder() *amf0.Encoder { return encoderPool.Get().(*amf0.Encoder) }

func putEncoder(e *amf0.Encoder) {
	e.Reset()
	encoderPool.Put(e)
}

// appendValues appends vs, as values of one message, with e.
func appendValues(e *amf0.Encoder, dst []byte, vs []amf0.Value) ([]byte, error) {
	var err error
	for _, v := range vs {
		if dst, err = e.Append(dst, v); err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// appendString writes an AMF 0 string (§2.4), or a long string (§2.14)
// when s does not fit a U16 length, as amf0.Append does. Writing it here
// avoids boxing s into an interface.
func appendString(b []byte, s string) []byte {
	if len(s) > math.MaxUint16 {
		b = append(b, byte(amf0.MarkerLongString))
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		return append(b, s...)
	}
	return appendUTF8(append(b, byte(amf0.MarkerString)), s)
}

// appendNumber writes an AMF 0 number (§2.2).
func appendNumber(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, byte(amf0.MarkerNumber)), math.Float64bits(f))
}

// appendUTF8 writes a U16 length and the bytes of s: AMF 0 UTF-8 (§1.3),
// the form of shared object names. The caller checks the length.
func appendUTF8(b []byte, s string) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(len(s))), s...)
}

// readUTF8 reads a U16 length and that many bytes, copied into a string.
func readUTF8(b []byte) (s string, n int, ok bool) {
	if len(b) < 2 {
		return "", 0, false
	}
	l := int(binary.BigEndian.Uint16(b))
	if len(b)-2 < l {
		return "", 0, false
	}
	return string(b[2 : 2+l]), 2 + l, true
}

// The as* helpers read a value through amf0.Resolve: a reference as its
// target, an AMF 3 value (after the avmplus marker) as its AMF 0 form.

// asString returns v as a string or long string.
func asString(v amf0.Value) (string, bool) {
	switch x := amf0.Resolve(v).(type) {
	case string:
		return x, true
	case amf0.LongString:
		return string(x), true
	}
	return "", false
}

// asNumber returns v as a number.
func asNumber(v amf0.Value) (float64, bool) {
	f, ok := amf0.Resolve(v).(float64)
	return f, ok
}

// asBool returns v as a boolean. With numbers, a number is accepted too and
// is true when it is not 0, as ActionScript converts it (play's reset flag
// is "An optional Boolean value or number", §7.2.2.1).
func asBool(v amf0.Value, numbers bool) (bool, bool) {
	switch x := amf0.Resolve(v).(type) {
	case bool:
		return x, true
	case float64:
		if numbers {
			return x != 0 && !math.IsNaN(x), true
		}
	}
	return false, false
}

// asObject returns the properties of an object-like value: an object, an
// ECMA array or a typed object.
func asObject(v amf0.Value) (amf0.Object, bool) {
	switch x := amf0.Resolve(v).(type) {
	case amf0.Object:
		return x, true
	case amf0.ECMAArray:
		return amf0.Object(x.Props), true
	case amf0.TypedObject:
		return amf0.Object(x.Props), true
	}
	return nil, false
}

// asUint32 returns v as a number that is an integer in the uint32 range.
func asUint32(v amf0.Value) (uint32, bool) {
	f, ok := asNumber(v)
	if !ok || f < 0 || f > math.MaxUint32 || f != math.Trunc(f) {
		return 0, false
	}
	return uint32(f), true
}
