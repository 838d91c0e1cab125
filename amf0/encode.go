package amf0

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/ertmp/rtmp/amf3"
)

// An Encoder encodes AMF 0 values. It counts the complex values of one
// message, to check References against them, and holds the AMF 3 tables of
// the values written after avmplus markers; Reset starts a new message.
// The zero Encoder is ready to use. An Encoder is not safe for concurrent
// use.
type Encoder struct {
	// MaxDepth bounds container nesting, which stops values that contain
	// themselves (an Object holding itself). AMF 3 values nested in AMF 0
	// share the bound. Zero means DefaultMaxDepth.
	MaxDepth int

	complex int // complex values started in the message (§2.9)
	amf3    amf3.Encoder
	depth   int
}

// AMF3 returns the Encoder used for AMF3 values, to register
// externalizable classes on it.
func (e *Encoder) AMF3() *amf3.Encoder { return &e.amf3 }

// Reset clears the tables: the next value starts a new message.
func (e *Encoder) Reset() {
	e.complex = 0
	e.amf3.Reset()
}

// Append appends the encoding of v to dst. On error it returns dst
// unchanged; Reset before the next message.
//
// Besides the types of the package documentation, Append accepts int,
// int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64 and float32
// (number), []Value and []string (strict array), []Property and
// map[string]Value (object; map keys sorted), time.Time (date, TZ 0) and
// pointers to Object, ECMAArray and TypedObject (nil is null).
//
// A string is written with the string marker when shorter than 65536 bytes,
// else with the long string marker (§2.4, §2.14). A Reference is written as
// its Index, which must be below the number of complex values (objects,
// typed objects, ECMA arrays, strict arrays) started so far in the message;
// its Target is ignored.
func (e *Encoder) Append(dst []byte, v Value) ([]byte, error) {
	e.depth = 0
	b, err := e.value(dst, v)
	if err != nil {
		return dst, err
	}
	return b, nil
}

var encoderPool = sync.Pool{New: func() any { return new(Encoder) }}

// Append appends the encoding of v to dst with a fresh table set. See
// Encoder.Append.
func Append(dst []byte, v Value) ([]byte, error) {
	e := encoderPool.Get().(*Encoder)
	b, err := e.Append(dst, v)
	e.Reset()
	encoderPool.Put(e)
	return b, err
}

// AppendAll appends the encodings of vs to dst, as one message: the body of
// an RTMP command or data message. On error it returns dst unchanged.
func AppendAll(dst []byte, vs ...Value) ([]byte, error) {
	e := encoderPool.Get().(*Encoder)
	defer func() {
		e.Reset()
		encoderPool.Put(e)
	}()
	b := dst
	for i, v := range vs {
		var err error
		if b, err = e.Append(b, v); err != nil {
			return dst, fmt.Errorf("amf0: value %d: %w", i, err)
		}
	}
	return b, nil
}

func (e *Encoder) maxDepth() int {
	if e.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return e.MaxDepth
}

func (e *Encoder) enter() error {
	e.depth++
	if e.depth > e.maxDepth() {
		return fmt.Errorf("amf0: encode: depth %d, limit %d: %w", e.depth, e.maxDepth(), ErrDepth)
	}
	e.complex++
	return nil
}

func appendNumber(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, byte(MarkerNumber)), math.Float64bits(f))
}

// appendUTF8 appends a UTF-8 (U16 length) string, §1.3.1.
func appendUTF8(b []byte, s, what string) ([]byte, error) {
	if len(s) > math.MaxUint16 {
		return b, fmt.Errorf("amf0: encode %s of %d bytes: %w", what, len(s), ErrTooLarge)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...), nil
}

// appendUTF8Long appends a UTF-8-long (U32 length) string, §1.3.1.
func appendUTF8Long(b []byte, m Marker, s string) ([]byte, error) {
	if uint64(len(s)) > math.MaxUint32 {
		return b, fmt.Errorf("amf0: encode %v of %d bytes: %w", m, len(s), ErrTooLarge)
	}
	b = binary.BigEndian.AppendUint32(append(b, byte(m)), uint32(len(s)))
	return append(b, s...), nil
}

func (e *Encoder) value(b []byte, v Value) ([]byte, error) {
	switch x := v.(type) {
	case float64:
		return appendNumber(b, x), nil
	case bool:
		if x {
			return append(b, byte(MarkerBoolean), 1), nil
		}
		return append(b, byte(MarkerBoolean), 0), nil
	case string:
		return appendString(b, x)
	case nil:
		return append(b, byte(MarkerNull)), nil
	case Object:
		return e.object(b, MarkerObject, "", 0, x)
	case ECMAArray:
		return e.object(b, MarkerECMAArray, "", x.Count, x.Props)
	case StrictArray:
		return e.strictArray(b, x)
	case TypedObject:
		return e.object(b, MarkerTypedObject, x.ClassName, 0, x.Props)
	case Undefined:
		return append(b, byte(MarkerUndefined)), nil
	case Unsupported:
		return append(b, byte(MarkerUnsupported)), nil
	case LongString:
		return appendUTF8Long(b, MarkerLongString, string(x))
	case XMLDocument:
		return appendUTF8Long(b, MarkerXMLDocument, string(x))
	case Date:
		return e.date(b, x), nil
	case Reference:
		if int(x.Index) >= e.complex {
			return b, fmt.Errorf("amf0: encode reference %d, %d complex values so far: %w", x.Index, e.complex, ErrBadReference)
		}
		return binary.BigEndian.AppendUint16(append(b, byte(MarkerReference)), x.Index), nil
	case AMF3:
		return e.avmplus(b, x.Value)

	// Convenience Go types.
	case int:
		return appendNumber(b, float64(x)), nil
	case int8:
		return appendNumber(b, float64(x)), nil
	case int16:
		return appendNumber(b, float64(x)), nil
	case int32:
		return appendNumber(b, float64(x)), nil
	case int64:
		return appendNumber(b, float64(x)), nil
	case uint:
		return appendNumber(b, float64(x)), nil
	case uint8:
		return appendNumber(b, float64(x)), nil
	case uint16:
		return appendNumber(b, float64(x)), nil
	case uint32:
		return appendNumber(b, float64(x)), nil
	case uint64:
		return appendNumber(b, float64(x)), nil
	case float32:
		return appendNumber(b, float64(x)), nil
	case []Value:
		return e.strictArray(b, x)
	case []string:
		return e.strings(b, x)
	case []Property:
		return e.object(b, MarkerObject, "", 0, x)
	case map[string]Value:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		props := make([]Property, len(keys))
		for i, k := range keys {
			props[i] = Property{Key: k, Value: x[k]}
		}
		return e.object(b, MarkerObject, "", 0, props)
	case time.Time:
		return e.date(b, NewDate(x)), nil
	case *Object:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.value(b, *x)
	case *ECMAArray:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.value(b, *x)
	case *TypedObject:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.value(b, *x)
	}
	return b, fmt.Errorf("amf0: encode %T: %w", v, ErrUnsupportedType)
}

func (e *Encoder) date(b []byte, d Date) []byte {
	b = binary.BigEndian.AppendUint64(append(b, byte(MarkerDate)), math.Float64bits(d.Millis))
	return binary.BigEndian.AppendUint16(b, uint16(d.TZ))
}

// object writes an anonymous object, ECMA array or typed object: the
// marker, the class name or count, the properties and the object-end-type
// (§2.5, §2.10, §2.11, §2.18).
func (e *Encoder) object(b []byte, m Marker, cls string, count uint32, props []Property) ([]byte, error) {
	b = append(b, byte(m))
	var err error
	switch m {
	case MarkerTypedObject:
		if b, err = appendUTF8(b, cls, "class name"); err != nil {
			return b, err
		}
	case MarkerECMAArray:
		b = binary.BigEndian.AppendUint32(b, count)
	}
	if err := e.enter(); err != nil {
		return b, err
	}
	for _, p := range props {
		if b, err = appendUTF8(b, p.Key, "property name"); err != nil {
			return b, err
		}
		if b, err = e.value(b, p.Value); err != nil {
			return b, err
		}
	}
	e.depth--
	return append(b, 0x00, 0x00, byte(MarkerObjectEnd)), nil
}

// strictArray writes a strict array (§2.12).
func (e *Encoder) strictArray(b []byte, a []Value) ([]byte, error) {
	if uint64(len(a)) > math.MaxUint32 {
		return b, fmt.Errorf("amf0: encode strict array of %d elements: %w", len(a), ErrTooLarge)
	}
	b = binary.BigEndian.AppendUint32(append(b, byte(MarkerStrictArray)), uint32(len(a)))
	if err := e.enter(); err != nil {
		return b, err
	}
	var err error
	for _, v := range a {
		if b, err = e.value(b, v); err != nil {
			return b, err
		}
	}
	e.depth--
	return b, nil
}

// strings writes a strict array of strings.
func (e *Encoder) strings(b []byte, a []string) ([]byte, error) {
	if uint64(len(a)) > math.MaxUint32 {
		return b, fmt.Errorf("amf0: encode strict array of %d elements: %w", len(a), ErrTooLarge)
	}
	b = binary.BigEndian.AppendUint32(append(b, byte(MarkerStrictArray)), uint32(len(a)))
	if err := e.enter(); err != nil {
		return b, err
	}
	var err error
	for _, s := range a {
		if b, err = appendString(b, s); err != nil {
			return b, err
		}
	}
	e.depth--
	return b, nil
}

// appendString writes s as a string (§2.4) when shorter than 65536 bytes,
// else as a long string (§2.14).
func appendString(b []byte, s string) ([]byte, error) {
	if len(s) > math.MaxUint16 {
		return appendUTF8Long(b, MarkerLongString, s)
	}
	return appendUTF8(append(b, byte(MarkerString)), s, "string")
}

// avmplus writes the avmplus-object-marker and v in AMF 3 (§3.1).
func (e *Encoder) avmplus(b []byte, v amf3.Value) ([]byte, error) {
	room := e.maxDepth() - e.depth
	if room <= 0 {
		return b, fmt.Errorf("amf0: encode avmplus value at depth %d, limit %d: %w", e.depth, e.maxDepth(), ErrDepth)
	}
	e.amf3.MaxDepth = room
	b, err := e.amf3.Append(append(b, byte(MarkerAVMPlus)), v)
	if err != nil {
		return b, fmt.Errorf("amf0: encode avmplus value: %w", err)
	}
	return b, nil
}
