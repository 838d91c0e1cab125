package amf0

import (
	"math"
	"strconv"
	"time"

	"github.com/ertmp/rtmp/amf3"
)

// Marker is an AMF 0 type marker (§2.1).
type Marker byte

// The AMF 0 type markers (§2.1, §3.1).
const (
	MarkerNumber      Marker = 0x00 // §2.2
	MarkerBoolean     Marker = 0x01 // §2.3
	MarkerString      Marker = 0x02 // §2.4
	MarkerObject      Marker = 0x03 // §2.5
	MarkerMovieClip   Marker = 0x04 // §2.6, reserved
	MarkerNull        Marker = 0x05 // §2.7
	MarkerUndefined   Marker = 0x06 // §2.8
	MarkerReference   Marker = 0x07 // §2.9
	MarkerECMAArray   Marker = 0x08 // §2.10
	MarkerObjectEnd   Marker = 0x09 // §2.11
	MarkerStrictArray Marker = 0x0A // §2.12
	MarkerDate        Marker = 0x0B // §2.13
	MarkerLongString  Marker = 0x0C // §2.14
	MarkerUnsupported Marker = 0x0D // §2.15
	MarkerRecordSet   Marker = 0x0E // §2.16, reserved
	MarkerXMLDocument Marker = 0x0F // §2.17
	MarkerTypedObject Marker = 0x10 // §2.18
	MarkerAVMPlus     Marker = 0x11 // §3.1, switch to AMF 3
)

var markerNames = [...]string{
	"number", "boolean", "string", "object", "movieclip", "null", "undefined",
	"reference", "ecma-array", "object-end", "strict-array", "date",
	"long-string", "unsupported", "recordset", "xml-document", "typed-object",
	"avmplus-object",
}

func (m Marker) String() string {
	if int(m) < len(markerNames) {
		return markerNames[m]
	}
	return "marker(0x" + strconv.FormatUint(uint64(m), 16) + ")"
}

// Value is any AMF 0 value. See the package documentation for the Go type
// of each AMF 0 type.
type Value = any

// Undefined is the AMF 0 undefined value (§2.8).
type Undefined struct{}

// Unsupported is the AMF 0 unsupported value (§2.15).
type Unsupported struct{}

// LongString is a string decoded from the long string marker (§2.14). It
// re-encodes as a long string whatever its length; a plain string encodes
// as a long string only from 65536 bytes on.
type LongString string

// XMLDocument is an XML document in its string form (§2.17).
type XMLDocument string

// Property is one name/value pair of an object or ECMA array.
type Property struct {
	Key   string
	Value Value
}

// Object is an anonymous object (§2.5): its properties in wire order,
// duplicates kept.
type Object []Property

// ECMAArray is an ECMA array (§2.10). Count is the associative-count as
// written on the wire: encoders do not always write the number of
// properties that follow (FFmpeg writes an estimate when it cannot seek
// back), and decoders read properties up to the object end, so Count is kept
// apart to re-encode the bytes exactly. Append writes Count as it is: build
// values with NewECMAArray or Set, which keep it equal to len(Props).
type ECMAArray struct {
	Count uint32
	Props []Property
}

// NewECMAArray returns an ECMAArray of props with Count = len(props).
func NewECMAArray(props ...Property) ECMAArray {
	return ECMAArray{Count: uint32(len(props)), Props: props}
}

// StrictArray is a strict array (§2.12).
type StrictArray []Value

// Date is a date (§2.13): milliseconds since the Unix epoch, UTC, and the
// time-zone field, which the spec reserves ("should be set to 0x0000") and
// which is kept only to re-encode the bytes exactly.
type Date struct {
	Millis float64
	TZ     int16
}

// NewDate returns the Date for t, at millisecond precision, TZ 0.
func NewDate(t time.Time) Date { return Date{Millis: float64(t.UnixMilli())} }

// Time returns d as a UTC time.Time; TZ is ignored. NaN and infinities give
// the zero Time.
func (d Date) Time() time.Time { return amf3.Date{Millis: d.Millis}.Time() }

// TypedObject is an object of a registered class (§2.18).
type TypedObject struct {
	ClassName string
	Props     []Property
}

// Reference is a reference (§2.9) to the complex value (object, typed
// object, ECMA array or strict array) that started Index-th in the message.
// Target is that value as decoded, or nil when the reference is inside the
// value it refers to (a cycle), which Go values without pointers cannot
// hold. Append writes Index and ignores Target.
type Reference struct {
	Index  uint16
	Target Value
}

// AMF3 is a value after the avmplus-object marker (§3.1): one AMF 3 value.
// Append writes the marker and then v.Value in AMF 3. AMF0 converts it.
type AMF3 struct {
	Value amf3.Value
}

// AMF0 returns a.Value converted with FromAMF3.
func (a AMF3) AMF0() Value { return FromAMF3(a.Value) }

// Resolve returns the target of a Reference and the AMF 0 form (FromAMF3)
// of an AMF3 value; other values are returned as they are.
func Resolve(v Value) Value {
	switch x := v.(type) {
	case Reference:
		return x.Target
	case AMF3:
		return FromAMF3(x.Value)
	}
	return v
}

// Get returns the value of the first property named key.
func (o Object) Get(key string) (Value, bool) { return get(o, key) }

// Set replaces the value of the first property named key, or appends one.
func (o *Object) Set(key string, v Value) {
	if i := index(*o, key); i >= 0 {
		(*o)[i].Value = v
		return
	}
	*o = append(*o, Property{Key: key, Value: v})
}

// GetString returns the property as a string (string or LongString).
func (o Object) GetString(key string) (string, bool) { return getString(o, key) }

// GetNumber returns the property as a number.
func (o Object) GetNumber(key string) (float64, bool) { return getNumber(o, key) }

// GetBool returns the property as a boolean.
func (o Object) GetBool(key string) (bool, bool) { return getBool(o, key) }

// GetObject returns the properties of an object-like property: Object,
// ECMAArray or TypedObject.
func (o Object) GetObject(key string) (Object, bool) { return getObject(o, key) }

// GetArray returns the property as a StrictArray.
func (o Object) GetArray(key string) (StrictArray, bool) { return getArray(o, key) }

// Get returns the value of the first property named key.
func (a ECMAArray) Get(key string) (Value, bool) { return get(a.Props, key) }

// Set replaces the value of the first property named key, or appends one
// and increments Count.
func (a *ECMAArray) Set(key string, v Value) {
	if i := index(a.Props, key); i >= 0 {
		a.Props[i].Value = v
		return
	}
	a.Props = append(a.Props, Property{Key: key, Value: v})
	a.Count++
}

// GetString returns the property as a string (string or LongString).
func (a ECMAArray) GetString(key string) (string, bool) { return getString(a.Props, key) }

// GetNumber returns the property as a number.
func (a ECMAArray) GetNumber(key string) (float64, bool) { return getNumber(a.Props, key) }

// GetBool returns the property as a boolean.
func (a ECMAArray) GetBool(key string) (bool, bool) { return getBool(a.Props, key) }

// GetObject returns the properties of an object-like property.
func (a ECMAArray) GetObject(key string) (Object, bool) { return getObject(a.Props, key) }

// GetArray returns the property as a StrictArray.
func (a ECMAArray) GetArray(key string) (StrictArray, bool) { return getArray(a.Props, key) }

// Get returns the value of the first property named key.
func (o TypedObject) Get(key string) (Value, bool) { return get(o.Props, key) }

// Set replaces the value of the first property named key, or appends one.
func (o *TypedObject) Set(key string, v Value) {
	if i := index(o.Props, key); i >= 0 {
		o.Props[i].Value = v
		return
	}
	o.Props = append(o.Props, Property{Key: key, Value: v})
}

// GetString returns the property as a string (string or LongString).
func (o TypedObject) GetString(key string) (string, bool) { return getString(o.Props, key) }

// GetNumber returns the property as a number.
func (o TypedObject) GetNumber(key string) (float64, bool) { return getNumber(o.Props, key) }

// GetBool returns the property as a boolean.
func (o TypedObject) GetBool(key string) (bool, bool) { return getBool(o.Props, key) }

// GetObject returns the properties of an object-like property.
func (o TypedObject) GetObject(key string) (Object, bool) { return getObject(o.Props, key) }

// GetArray returns the property as a StrictArray.
func (o TypedObject) GetArray(key string) (StrictArray, bool) { return getArray(o.Props, key) }

func index(props []Property, key string) int {
	for i := range props {
		if props[i].Key == key {
			return i
		}
	}
	return -1
}

// get returns the property, resolved (see Resolve).
func get(props []Property, key string) (Value, bool) {
	if i := index(props, key); i >= 0 {
		return Resolve(props[i].Value), true
	}
	return nil, false
}

func getString(props []Property, key string) (string, bool) {
	v, _ := get(props, key)
	switch x := v.(type) {
	case string:
		return x, true
	case LongString:
		return string(x), true
	}
	return "", false
}

func getNumber(props []Property, key string) (float64, bool) {
	v, _ := get(props, key)
	f, ok := v.(float64)
	return f, ok
}

func getBool(props []Property, key string) (bool, bool) {
	v, _ := get(props, key)
	b, ok := v.(bool)
	return b, ok
}

func getObject(props []Property, key string) (Object, bool) {
	v, _ := get(props, key)
	switch x := v.(type) {
	case Object:
		return x, true
	case ECMAArray:
		return Object(x.Props), true
	case TypedObject:
		return Object(x.Props), true
	}
	return nil, false
}

func getArray(props []Property, key string) (StrictArray, bool) {
	v, _ := get(props, key)
	a, ok := v.(StrictArray)
	return a, ok
}

// jsNumber formats f as ActionScript's String(Number) does for the common
// cases: integers without exponent or fraction.
func jsNumber(f float64) string {
	switch {
	case math.IsNaN(f):
		return "NaN"
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case f == math.Trunc(f) && math.Abs(f) < 1e21:
		return strconv.FormatFloat(f, 'f', -1, 64)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}
