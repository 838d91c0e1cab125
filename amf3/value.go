package amf3

import (
	"math"
	"strconv"
	"time"
)

// Marker is an AMF 3 type marker (§3.1).
type Marker byte

// The AMF 3 type markers (§3.1).
const (
	MarkerUndefined    Marker = 0x00 // §3.2
	MarkerNull         Marker = 0x01 // §3.3
	MarkerFalse        Marker = 0x02 // §3.4
	MarkerTrue         Marker = 0x03 // §3.5
	MarkerInteger      Marker = 0x04 // §3.6
	MarkerDouble       Marker = 0x05 // §3.7
	MarkerString       Marker = 0x06 // §3.8
	MarkerXMLDocument  Marker = 0x07 // §3.9
	MarkerDate         Marker = 0x08 // §3.10
	MarkerArray        Marker = 0x09 // §3.11
	MarkerObject       Marker = 0x0A // §3.12
	MarkerXML          Marker = 0x0B // §3.13
	MarkerByteArray    Marker = 0x0C // §3.14
	MarkerVectorInt    Marker = 0x0D // §3.15
	MarkerVectorUint   Marker = 0x0E // §3.15
	MarkerVectorDouble Marker = 0x0F // §3.15
	MarkerVectorObject Marker = 0x10 // §3.15
	MarkerDictionary   Marker = 0x11 // §3.16
)

var markerNames = [...]string{
	"undefined", "null", "false", "true", "integer", "double", "string",
	"xml-doc", "date", "array", "object", "xml", "byte-array",
	"vector-int", "vector-uint", "vector-double", "vector-object", "dictionary",
}

func (m Marker) String() string {
	if int(m) < len(markerNames) {
		return markerNames[m]
	}
	return "marker(0x" + strconv.FormatUint(uint64(m), 16) + ")"
}

// Value is any AMF 3 value. See the package documentation for the Go type
// of each AMF 3 type.
type Value = any

// Undefined is the AMF 3 undefined value (§3.2).
type Undefined struct{}

// XMLDocument is a flash.xml.XMLDocument flattened to its string form (§3.9).
type XMLDocument string

// XML is an E4X XML value flattened to its string form (§3.13).
type XML string

// ByteArray is a flash.utils.ByteArray (§3.14). The encoder tracks byte
// arrays by identity (the first byte of the backing array, and the length):
// writing the same slice twice in one message writes a reference the second
// time, as the decoder shares one slice for a reference.
type ByteArray []byte

// Date is an ActionScript Date (§3.10): milliseconds since the Unix epoch,
// UTC.
type Date struct {
	Millis float64
}

// NewDate returns the Date for t, at millisecond precision.
func NewDate(t time.Time) Date { return Date{Millis: float64(t.UnixMilli())} }

// Time returns d as a UTC time.Time. NaN and infinities give the zero Time.
func (d Date) Time() time.Time { return millisTime(d.Millis) }

func millisTime(ms float64) time.Time {
	if math.IsNaN(ms) || math.IsInf(ms, 0) || math.Abs(ms) > 1e17 {
		return time.Time{}
	}
	sec := math.Floor(ms / 1000)
	nsec := math.Round((ms - sec*1000) * 1e6)
	return time.Unix(int64(sec), int64(nsec)).UTC()
}

// Property is one name/value pair of an Array's associative portion or of an
// Object's dynamic members.
type Property struct {
	Key   string
	Value Value
}

// Array is an ActionScript Array (§3.11): a dense portion and an associative
// portion. Arrays are tracked by pointer identity: the decoder returns the
// same *Array for every reference to it, and the encoder writes a reference
// when it meets a pointer it already wrote in the message.
type Array struct {
	Dense []Value
	Assoc []Property
}

// Get returns the value of the associative key, if present.
func (a *Array) Get(key string) (Value, bool) {
	for _, p := range a.Assoc {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// Traits are the class description of an Object (§3.12): its class name
// ("" for anonymous objects), whether it is dynamic or externalizable, and
// the names of its sealed members in wire order.
//
// The decoder returns one *Traits per traits-table entry, shared by every
// object that refers to it. The encoder writes a traits reference for a
// *Traits it already wrote, and also for traits equal in content to ones
// already written, as an AVM encoder does; traits that the input sent inline
// twice are marked by the decoder so that they are written inline again.
type Traits struct {
	ClassName      string
	Dynamic        bool
	Externalizable bool
	Members        []string

	// dup is set by the decoder on traits sent inline although equal traits
	// were already in the table, so the encoder reproduces that.
	dup bool
}

// Object is an ActionScript object (§3.12): anonymous, typed, dynamic or
// externalizable. Sealed holds the sealed member values in the order of
// Traits.Members; Dynamic the dynamic members in wire order; External the
// value an ExternalHandler decoded from an externalizable object's body.
// A nil Traits encodes as anonymous and dynamic.
//
// Objects are tracked by pointer identity, like Arrays.
type Object struct {
	Traits   *Traits
	Sealed   []Value
	Dynamic  []Property
	External any
}

// Get returns the value of a sealed or dynamic member, if present.
func (o *Object) Get(key string) (Value, bool) {
	if o.Traits != nil {
		for i, m := range o.Traits.Members {
			if m == key && i < len(o.Sealed) {
				return o.Sealed[i], true
			}
		}
	}
	for _, p := range o.Dynamic {
		if p.Key == key {
			return p.Value, true
		}
	}
	return nil, false
}

// ClassName returns the class name of o's traits, "" if anonymous.
func (o *Object) ClassName() string {
	if o.Traits == nil {
		return ""
	}
	return o.Traits.ClassName
}

// VectorInt is a Vector.<int> (§3.15).
type VectorInt struct {
	Fixed bool
	Items []int32
}

// VectorUint is a Vector.<uint> (§3.15).
type VectorUint struct {
	Fixed bool
	Items []uint32
}

// VectorDouble is a Vector.<Number> (§3.15).
type VectorDouble struct {
	Fixed bool
	Items []float64
}

// VectorObject is a Vector of any other base type (§3.15). TypeName is the
// object type name; "*" is the ANY type.
type VectorObject struct {
	Fixed    bool
	TypeName string
	Items    []Value
}

// Dictionary is a flash.utils.Dictionary (§3.16): key/value pairs in wire
// order, where keys may be any value.
type Dictionary struct {
	WeakKeys bool
	Entries  []DictEntry
}

// DictEntry is one key/value pair of a Dictionary.
type DictEntry struct {
	Key   Value
	Value Value
}
