package amf0

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/ertmp/rtmp/amf3"
)

// Default limits, used when a Decoder or Encoder field is zero.
const (
	// DefaultMaxDepth bounds the nesting of objects and arrays.
	DefaultMaxDepth = 64
	// DefaultMaxItems bounds the properties and elements of one message.
	DefaultMaxItems = 1 << 20
)

// maxRefs is the size of the reference table: "a 16-bit unsigned integer
// implies a theoretical maximum of 65,535 unique complex objects that can be
// sent by reference" (§2.9). Later complex values cannot be referred to and
// are not kept.
const maxRefs = 1 << 16

// A Decoder decodes AMF 0 values. It holds the reference table of one
// message (§2.9), and the AMF 3 tables of the values after avmplus markers
// (§3.1): both persist across the values of a message, so that the
// arguments of one RTMP command share them, and are cleared by Reset. The
// spec resets them "each time a new ... message is processed" (AMF 0
// §4.1.3, AMF 3 §4.1); DecodeAll does so before it starts.
//
// The zero Decoder is ready to use with the default limits. A Decoder is not
// safe for concurrent use.
type Decoder struct {
	// MaxDepth bounds container nesting: a top-level object is at depth 1.
	// AMF 3 values nested in AMF 0 share the bound. Zero means
	// DefaultMaxDepth.
	MaxDepth int
	// MaxItems bounds the properties and elements decoded since the last
	// Reset. The AMF 3 values of the message have a budget of their own of
	// the same size. Zero means DefaultMaxItems.
	MaxItems int

	refs  []ref // complex values of the message, in the order they started
	items int
	amf3  amf3.Decoder

	// State of the current Decode call.
	buf   []byte
	pos   int
	depth int
	props []Property // stack of the properties of open objects
	// lossy is set when the value holds a form that Append does not
	// reproduce byte for byte: a boolean byte other than 0 and 1, or AMF 3.
	lossy bool
}

// ref is an entry of the reference table.
type ref struct {
	v    Value
	done bool // false while the value is being decoded
}

// AMF3 returns the Decoder used for the values after avmplus markers, to
// register externalizable classes on it. Its limits are set from d's.
func (d *Decoder) AMF3() *amf3.Decoder { return &d.amf3 }

// Reset clears the reference tables and the item count: the next value
// starts a new message. Limits and handlers are kept.
func (d *Decoder) Reset() {
	clear(d.refs)
	d.refs = d.refs[:0]
	d.items = 0
	d.amf3.Reset()
}

// Decode decodes one value from the start of b and returns it with the
// number of bytes it took. Values after it are left alone. The reference
// tables keep what the value added, for the next Decode of the same message.
//
// The result never aliases b: strings are copied. An empty b returns io.EOF;
// input that ends inside a value returns an error wrapping ErrTruncated (and
// io.ErrUnexpectedEOF). On error, n is 0.
func (d *Decoder) Decode(b []byte) (v Value, n int, err error) {
	if len(b) == 0 {
		return nil, 0, io.EOF
	}
	d.buf, d.pos, d.depth, d.lossy = b, 0, 0, false
	v, err = d.value()
	n = d.pos
	d.buf = nil
	if err != nil {
		// An error leaves the properties of open containers on the stack.
		clear(d.props[:cap(d.props)])
		d.props = d.props[:0]
		return nil, 0, err
	}
	return v, n, nil
}

// DecodeAll decodes the values that fill b, as one message: this is how the
// payload of an RTMP command or data message is read. It resets the tables
// first. On error it returns the values decoded before it.
func (d *Decoder) DecodeAll(b []byte) ([]Value, error) {
	d.Reset()
	var vs []Value
	lossy := false
	for off := 0; off < len(b); {
		v, n, err := d.Decode(b[off:])
		if err != nil {
			return vs, fmt.Errorf("amf0: value %d at offset %d: %w", len(vs), off, err)
		}
		if vs == nil {
			vs = make([]Value, 0, 4)
		}
		vs = append(vs, v)
		lossy = lossy || d.lossy
		off += n
	}
	d.lossy = lossy
	return vs, nil
}

var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

func getDecoder() *Decoder { return decoderPool.Get().(*Decoder) }

func putDecoder(d *Decoder) {
	d.Reset()
	if cap(d.refs) <= 1024 && cap(d.props) <= 1024 {
		decoderPool.Put(d)
	}
}

// Decode decodes one value from the start of b with a fresh table set and
// the default limits. See Decoder.Decode.
func Decode(b []byte) (v Value, n int, err error) {
	d := getDecoder()
	v, n, err = d.Decode(b)
	putDecoder(d)
	return v, n, err
}

// DecodeAll decodes the values that fill b with a fresh table set and the
// default limits. See Decoder.DecodeAll.
func DecodeAll(b []byte) ([]Value, error) {
	d := getDecoder()
	vs, err := d.DecodeAll(b)
	putDecoder(d)
	return vs, err
}

func (d *Decoder) maxDepth() int {
	if d.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return d.MaxDepth
}

func (d *Decoder) maxItems() int {
	if d.MaxItems <= 0 {
		return DefaultMaxItems
	}
	return d.MaxItems
}

func (d *Decoder) errorf(err error, format string, args ...any) error {
	return fmt.Errorf("amf0: offset %d: %s: %w", d.pos, fmt.Sprintf(format, args...), err)
}

// reserve accounts for n items of at least one byte each: it refuses counts
// that the remaining input cannot hold before anything is allocated for
// them, and counts beyond the item budget of the message.
func (d *Decoder) reserve(n uint32, what string) error {
	if uint64(n) > uint64(len(d.buf)-d.pos) {
		return d.errorf(ErrTruncated, "%s: %d items, %d bytes left", what, n, len(d.buf)-d.pos)
	}
	if int64(n) > int64(d.maxItems()-d.items) {
		return d.errorf(ErrTooMany, "%s: %d items, %d of %d used", what, n, d.items, d.maxItems())
	}
	d.items += int(n)
	return nil
}

func (d *Decoder) enter(m Marker) error {
	d.depth++
	if d.depth > d.maxDepth() {
		return d.errorf(ErrDepth, "%v at depth %d, limit %d", m, d.depth, d.maxDepth())
	}
	return nil
}

// startRef gives the next reference index to a complex value that starts.
func (d *Decoder) startRef() int {
	if len(d.refs) >= maxRefs {
		return -1
	}
	d.refs = append(d.refs, ref{})
	return len(d.refs) - 1
}

func (d *Decoder) endRef(i int, v Value) {
	if i >= 0 {
		d.refs[i] = ref{v: v, done: true}
	}
}

func (d *Decoder) need(n int, what string) error {
	if len(d.buf)-d.pos < n {
		return d.errorf(ErrTruncated, "%s: %d bytes, %d left", what, n, len(d.buf)-d.pos)
	}
	return nil
}

func (d *Decoder) u16(what string) (uint16, error) {
	if err := d.need(2, what); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint16(d.buf[d.pos:])
	d.pos += 2
	return v, nil
}

func (d *Decoder) u32(what string) (uint32, error) {
	if err := d.need(4, what); err != nil {
		return 0, err
	}
	v := binary.BigEndian.Uint32(d.buf[d.pos:])
	d.pos += 4
	return v, nil
}

// utf8 reads a UTF-8 (U16 length) string, §1.3.1.
func (d *Decoder) utf8(what string) (string, error) {
	n, err := d.u16(what)
	if err != nil {
		return "", err
	}
	if err := d.need(int(n), what); err != nil {
		return "", err
	}
	s := intern(d.buf[d.pos : d.pos+int(n)])
	d.pos += int(n)
	return s, nil
}

// utf8Long reads a UTF-8-long (U32 length) string, §1.3.1.
func (d *Decoder) utf8Long(what string) (string, error) {
	n, err := d.u32(what)
	if err != nil {
		return "", err
	}
	if uint64(n) > uint64(len(d.buf)-d.pos) {
		return "", d.errorf(ErrTruncated, "%s: %d bytes, %d left", what, n, len(d.buf)-d.pos)
	}
	s := string(d.buf[d.pos : d.pos+int(n)])
	d.pos += int(n)
	return s, nil
}

func (d *Decoder) value() (Value, error) {
	if d.pos >= len(d.buf) {
		return nil, d.errorf(ErrTruncated, "type marker")
	}
	m := Marker(d.buf[d.pos])
	d.pos++
	switch m {
	case MarkerNumber: // §2.2 number-type = number-marker DOUBLE
		if err := d.need(8, "number"); err != nil {
			return nil, err
		}
		f := math.Float64frombits(binary.BigEndian.Uint64(d.buf[d.pos:]))
		d.pos += 8
		return number(f), nil
	case MarkerBoolean: // §2.3 boolean-type = boolean-marker U8 ; 0 is false, <> 0 is true
		if err := d.need(1, "boolean"); err != nil {
			return nil, err
		}
		c := d.buf[d.pos]
		d.pos++
		if c > 1 {
			d.lossy = true
		}
		return c != 0, nil
	case MarkerString: // §2.4 string-type = string-marker UTF-8
		n, err := d.u16("string")
		if err != nil {
			return nil, err
		}
		if err := d.need(int(n), "string"); err != nil {
			return nil, err
		}
		v := internValue(d.buf[d.pos : d.pos+int(n)])
		d.pos += int(n)
		return v, nil
	case MarkerObject, MarkerECMAArray, MarkerTypedObject:
		return d.object(m)
	case MarkerNull:
		return nil, nil
	case MarkerUndefined:
		return Undefined{}, nil
	case MarkerReference:
		return d.reference()
	case MarkerStrictArray:
		return d.strictArray()
	case MarkerDate: // §2.13 date-type = date-marker DOUBLE time-zone
		if err := d.need(10, "date"); err != nil {
			return nil, err
		}
		v := Date{
			Millis: math.Float64frombits(binary.BigEndian.Uint64(d.buf[d.pos:])),
			TZ:     int16(binary.BigEndian.Uint16(d.buf[d.pos+8:])),
		}
		d.pos += 10
		return v, nil
	case MarkerLongString: // §2.14 long-string-type = long-string-marker UTF-8-long
		s, err := d.utf8Long("long string")
		if err != nil {
			return nil, err
		}
		return LongString(s), nil
	case MarkerUnsupported:
		return Unsupported{}, nil
	case MarkerXMLDocument: // §2.17 xml-document-type = xml-document-marker UTF-8-long
		s, err := d.utf8Long("xml document")
		if err != nil {
			return nil, err
		}
		return XMLDocument(s), nil
	case MarkerAVMPlus:
		return d.avmplus()
	case MarkerMovieClip, MarkerRecordSet:
		d.pos--
		return nil, d.errorf(ErrReservedMarker, "%v", m)
	case MarkerObjectEnd:
		// §2.11: "It is not expected outside of these types."
		d.pos--
		return nil, d.errorf(ErrSyntax, "object-end marker where a value must be")
	}
	d.pos--
	return nil, d.errorf(ErrUnknownMarker, "marker 0x%02x", byte(m))
}

// object reads an anonymous object (§2.5), an ECMA array (§2.10) or a
// typed object (§2.18):
//
//	object-property       = (UTF-8 value-type) | (UTF-8-empty object-end-marker)
//	anonymous-object-type = object-marker *(object-property)
//	ecma-array-type       = associative-count *(object-property)
//	object-type           = object-marker class-name *(object-property)
//
// ("object-type" above is how §2.18 writes the typed object.)
func (d *Decoder) object(m Marker) (Value, error) {
	var cls string
	var count uint32
	var err error
	switch m {
	case MarkerTypedObject:
		if cls, err = d.utf8("class name"); err != nil {
			return nil, err
		}
	case MarkerECMAArray:
		// The count is kept as written, not trusted: nothing is allocated
		// from it.
		if count, err = d.u32("associative-count"); err != nil {
			return nil, err
		}
	}
	if err := d.enter(m); err != nil {
		return nil, err
	}
	ri := d.startRef()
	props, err := d.properties()
	if err != nil {
		return nil, err
	}
	var v Value
	switch m {
	case MarkerObject:
		v = Object(props)
	case MarkerECMAArray:
		v = ECMAArray{Count: count, Props: props}
	default:
		v = TypedObject{ClassName: cls, Props: props}
	}
	d.endRef(ri, v)
	d.depth--
	return v, nil
}

// properties reads object-property entries up to the object-end-type
// (§2.11: UTF-8-empty object-end-marker, 0x00 0x00 0x09).
func (d *Decoder) properties() ([]Property, error) {
	start := len(d.props)
	for {
		key, err := d.utf8("property name")
		if err != nil {
			return nil, err
		}
		if key == "" {
			if err := d.need(1, "property value"); err != nil {
				return nil, err
			}
			if Marker(d.buf[d.pos]) == MarkerObjectEnd {
				d.pos++
				break
			}
		}
		if err := d.reserve(1, "property"); err != nil {
			return nil, err
		}
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		d.props = append(d.props, Property{Key: key, Value: v})
	}
	if len(d.props) == start {
		return nil, nil
	}
	out := make([]Property, len(d.props)-start)
	copy(out, d.props[start:])
	clear(d.props[start:])
	d.props = d.props[:start]
	return out, nil
}

// strictArray reads a strict array (§2.12):
//
//	strict-array-type = array-count *(value-type)
func (d *Decoder) strictArray() (Value, error) {
	n, err := d.u32("array-count")
	if err != nil {
		return nil, err
	}
	if err := d.reserve(n, "strict array"); err != nil {
		return nil, err
	}
	if err := d.enter(MarkerStrictArray); err != nil {
		return nil, err
	}
	ri := d.startRef()
	a := make(StrictArray, n)
	for i := range a {
		if a[i], err = d.value(); err != nil {
			return nil, err
		}
	}
	d.endRef(ri, a)
	d.depth--
	return a, nil
}

// reference reads a reference (§2.9): reference-marker U16, an index in the
// table of complex values (objects, typed objects, ECMA arrays and strict
// arrays) that started earlier in the message, counted from 0.
func (d *Decoder) reference() (Value, error) {
	i, err := d.u16("reference")
	if err != nil {
		return nil, err
	}
	if int(i) >= len(d.refs) {
		return nil, d.errorf(ErrBadReference, "reference %d, %d complex values so far", i, len(d.refs))
	}
	// A value still being decoded encloses this reference: a cycle. Its
	// Target stays nil, which cannot loop.
	return Reference{Index: i, Target: d.refs[i].v}, nil
}

// avmplus reads one AMF 3 value after the avmplus-object-marker (§3.1).
func (d *Decoder) avmplus() (Value, error) {
	room := d.maxDepth() - d.depth
	if room <= 0 {
		return nil, d.errorf(ErrDepth, "avmplus value at depth %d, limit %d", d.depth, d.maxDepth())
	}
	d.amf3.MaxDepth = room
	d.amf3.MaxItems = d.maxItems()
	v, n, err := d.amf3.Decode(d.buf[d.pos:])
	if errors.Is(err, io.EOF) {
		err = ErrTruncated
	}
	if err != nil {
		return nil, fmt.Errorf("amf0: offset %d: avmplus value: %w", d.pos, err)
	}
	d.pos += n
	d.lossy = true
	return AMF3{Value: v}, nil
}
