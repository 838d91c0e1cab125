package amf3

import (
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"sync"
)

// Default limits, used when a Decoder or Encoder field is zero.
const (
	// DefaultMaxDepth bounds the nesting of containers (arrays, objects,
	// vectors, dictionaries).
	DefaultMaxDepth = 64
	// DefaultMaxItems bounds the items of one message: array elements,
	// properties, dynamic and sealed members, trait member names, vector
	// items and dictionary entries.
	DefaultMaxItems = 1 << 20
)

// A Decoder decodes AMF 3 values. One Decoder holds the three reference
// tables of §2.2 (strings, objects, traits); they grow with every value
// decoded and are cleared by Reset. One message is one table set: call Reset
// between messages (§4.1: the tables "must be reset each time a new context
// header or message is processed"), or use the package function Decode.
//
// The zero Decoder is ready to use, with the default limits and no
// externalizable classes. A Decoder is not safe for concurrent use.
type Decoder struct {
	// MaxDepth bounds container nesting: a top-level array is at depth 1.
	// Zero means DefaultMaxDepth.
	MaxDepth int
	// MaxItems bounds the items decoded since the last Reset (see
	// DefaultMaxItems). Zero means DefaultMaxItems.
	MaxItems int

	handlers map[string]ExternalHandler // set up by RegisterExternalizable

	// Reference tables of the current message (§2.2).
	strs      []string
	objs      []Value
	traits    []*Traits
	traitKeys map[string]struct{} // content of the traits in the table
	items     int

	// State of the current Decode call.
	buf   []byte
	pos   int
	depth int
	props []Property // stack of properties whose count is not on the wire
	key   []byte     // scratch for traits keys
}

// RegisterExternalizable makes d decode objects of the externalizable class
// with h. Without a handler such an object fails with an
// *ExternalizableError, since only the class knows the length of its body.
// Registering a nil handler removes the class.
func (d *Decoder) RegisterExternalizable(class string, h ExternalHandler) {
	if h == nil {
		delete(d.handlers, class)
		return
	}
	if d.handlers == nil {
		d.handlers = make(map[string]ExternalHandler)
	}
	d.handlers[class] = h
}

// Reset clears the reference tables and the item count: the next value
// starts a new message. Limits and handlers are kept.
func (d *Decoder) Reset() {
	clear(d.strs)
	clear(d.objs)
	clear(d.traits)
	d.strs, d.objs, d.traits = d.strs[:0], d.objs[:0], d.traits[:0]
	clear(d.traitKeys)
	d.items = 0
}

// Decode decodes one value from the start of b and returns it with the
// number of bytes it took. Values after it are left alone. The reference
// tables keep what the value added, for the next Decode of the same message.
//
// The result never aliases b: strings, byte arrays and XML are copied. An
// empty b returns io.EOF; input that ends inside a value returns an error
// wrapping ErrTruncated (and io.ErrUnexpectedEOF). On error, n is 0 and the
// tables are in an unspecified state: Reset before the next message.
func (d *Decoder) Decode(b []byte) (v Value, n int, err error) {
	if len(b) == 0 {
		return nil, 0, io.EOF
	}
	d.buf, d.pos, d.depth = b, 0, 0
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

var decoderPool = sync.Pool{New: func() any { return new(Decoder) }}

// Decode decodes one value from the start of b with a fresh table set and the
// default limits. See Decoder.Decode.
func Decode(b []byte) (v Value, n int, err error) {
	d := decoderPool.Get().(*Decoder)
	v, n, err = d.Decode(b)
	d.Reset()
	if cap(d.objs) <= 1024 && cap(d.strs) <= 1024 && cap(d.props) <= 1024 {
		decoderPool.Put(d)
	}
	return v, n, err
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
	return fmt.Errorf("amf3: offset %d: %s: %w", d.pos, fmt.Sprintf(format, args...), err)
}

// reserve accounts for n items of at least size bytes each. It refuses counts
// that the remaining input cannot hold before anything is allocated for
// them, and counts beyond the item budget of the message.
func (d *Decoder) reserve(n, size int, what string) error {
	if n > (len(d.buf)-d.pos)/size {
		return d.errorf(ErrTruncated, "%s: %d items of %d+ bytes, %d bytes left", what, n, size, len(d.buf)-d.pos)
	}
	if n > d.maxItems()-d.items {
		return d.errorf(ErrTooMany, "%s: %d items, %d of %d used", what, n, d.items, d.maxItems())
	}
	d.items += n
	return nil
}

func (d *Decoder) enter(m Marker) error {
	d.depth++
	if d.depth > d.maxDepth() {
		return d.errorf(ErrDepth, "%v at depth %d, limit %d", m, d.depth, d.maxDepth())
	}
	return nil
}

func (d *Decoder) u29(what string) (uint32, error) {
	v, n := readU29(d.buf[d.pos:])
	if n == 0 {
		return 0, d.errorf(ErrTruncated, "%s", what)
	}
	d.pos += n
	return v, nil
}

func (d *Decoder) u8(what string) (byte, error) {
	if d.pos >= len(d.buf) {
		return 0, d.errorf(ErrTruncated, "%s", what)
	}
	c := d.buf[d.pos]
	d.pos++
	return c, nil
}

func (d *Decoder) u32(what string) (uint32, error) {
	if len(d.buf)-d.pos < 4 {
		return 0, d.errorf(ErrTruncated, "%s", what)
	}
	v := binary.BigEndian.Uint32(d.buf[d.pos:])
	d.pos += 4
	return v, nil
}

func (d *Decoder) double(what string) (float64, error) {
	if len(d.buf)-d.pos < 8 {
		return 0, d.errorf(ErrTruncated, "%s", what)
	}
	v := math.Float64frombits(binary.BigEndian.Uint64(d.buf[d.pos:]))
	d.pos += 8
	return v, nil
}

// bytes returns the next n bytes, aliasing the input.
func (d *Decoder) bytes(n int, what string) ([]byte, error) {
	if n > len(d.buf)-d.pos {
		return nil, d.errorf(ErrTruncated, "%s: %d bytes, %d left", what, n, len(d.buf)-d.pos)
	}
	b := d.buf[d.pos : d.pos+n]
	d.pos += n
	return b, nil
}

// objRef resolves the U29O-ref u (§3.12) in the object table.
func (d *Decoder) objRef(u uint32, m Marker) (Value, error) {
	i := u >> 1
	if uint64(i) >= uint64(len(d.objs)) {
		return nil, d.errorf(ErrBadReference, "%v reference to object %d, table has %d", m, i, len(d.objs))
	}
	return d.objs[i], nil
}

// typedRef resolves an object reference that must point at a T.
func typedRef[T any](d *Decoder, u uint32, m Marker) (Value, error) {
	v, err := d.objRef(u, m)
	if err != nil {
		return nil, err
	}
	if _, ok := v.(T); !ok {
		return nil, d.badKind(m, v)
	}
	return v, nil
}

func (d *Decoder) badKind(m Marker, v Value) error {
	return d.errorf(ErrBadReference, "%v reference to a %T", m, v)
}

func (d *Decoder) value() (Value, error) {
	if d.pos >= len(d.buf) {
		return nil, d.errorf(ErrTruncated, "type marker")
	}
	m := Marker(d.buf[d.pos])
	d.pos++
	switch m {
	case MarkerUndefined:
		return Undefined{}, nil
	case MarkerNull:
		return nil, nil
	case MarkerFalse:
		return false, nil
	case MarkerTrue:
		return true, nil
	case MarkerInteger:
		u, err := d.u29("integer")
		if err != nil {
			return nil, err
		}
		return u29Int(u), nil
	case MarkerDouble:
		f, err := d.double("double")
		if err != nil {
			return nil, err
		}
		return f, nil
	case MarkerString:
		s, err := d.str("string")
		if err != nil {
			return nil, err
		}
		return s, nil
	case MarkerXMLDocument, MarkerXML:
		return d.xml(m)
	case MarkerDate:
		return d.date()
	case MarkerArray:
		return d.array()
	case MarkerObject:
		return d.object()
	case MarkerByteArray:
		return d.byteArray()
	case MarkerVectorInt, MarkerVectorUint, MarkerVectorDouble:
		return d.vectorNumber(m)
	case MarkerVectorObject:
		return d.vectorObject()
	case MarkerDictionary:
		return d.dictionary()
	}
	d.pos--
	return nil, d.errorf(ErrUnknownMarker, "marker 0x%02x", byte(m))
}

// str reads a UTF-8-vr (§1.3.2): a string reference or a literal. Every
// non-empty literal enters the string table; "the empty String is never sent
// by reference" (§3.8), so it never does.
func (d *Decoder) str(what string) (string, error) {
	u, err := d.u29(what)
	if err != nil {
		return "", err
	}
	if u&1 == 0 {
		i := u >> 1
		if uint64(i) >= uint64(len(d.strs)) {
			return "", d.errorf(ErrBadReference, "%s: reference to string %d, table has %d", what, i, len(d.strs))
		}
		return d.strs[i], nil
	}
	n := int(u >> 1)
	if n == 0 {
		return "", nil
	}
	b, err := d.bytes(n, what)
	if err != nil {
		return "", err
	}
	s := string(b)
	d.strs = append(d.strs, s)
	return s, nil
}

// xml reads an XMLDocument (§3.9) or XML (§3.13) value: U29O-ref or
// U29X-value with the UTF-8 bytes. Both enter the object table.
func (d *Decoder) xml(m Marker) (Value, error) {
	u, err := d.u29(m.String())
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		v, err := d.objRef(u, m)
		if err != nil {
			return nil, err
		}
		switch v.(type) {
		case XMLDocument:
			if m == MarkerXMLDocument {
				return v, nil
			}
		case XML:
			if m == MarkerXML {
				return v, nil
			}
		}
		return nil, d.badKind(m, v)
	}
	b, err := d.bytes(int(u>>1), m.String())
	if err != nil {
		return nil, err
	}
	var v Value = XML(b)
	if m == MarkerXMLDocument {
		v = XMLDocument(b)
	}
	d.objs = append(d.objs, v)
	return v, nil
}

// date reads a Date (§3.10): U29O-ref or U29D-value (its other bits unused)
// and a DOUBLE.
func (d *Decoder) date() (Value, error) {
	u, err := d.u29("date")
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		return typedRef[Date](d, u, MarkerDate)
	}
	f, err := d.double("date")
	if err != nil {
		return nil, err
	}
	v := Date{Millis: f}
	d.objs = append(d.objs, v)
	return v, nil
}

// byteArray reads a ByteArray (§3.14): U29O-ref or U29B-value and the
// bytes, copied. A reference returns the same slice.
func (d *Decoder) byteArray() (Value, error) {
	u, err := d.u29("byte-array")
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		return typedRef[ByteArray](d, u, MarkerByteArray)
	}
	b, err := d.bytes(int(u>>1), "byte-array")
	if err != nil {
		return nil, err
	}
	// A capacity of at least one gives every decoded ByteArray, even an
	// empty one, an identity the encoder can recognise.
	v := make(ByteArray, len(b), max(len(b), 1))
	copy(v, b)
	d.objs = append(d.objs, v)
	return v, nil
}

// array reads an Array (§3.11):
//
//	array-type = array-marker (U29O-ref | (U29A-value
//	             (UTF-8-empty | *(assoc-value) UTF-8-empty) *(value-type)))
func (d *Decoder) array() (Value, error) {
	u, err := d.u29("array")
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		return typedRef[*Array](d, u, MarkerArray)
	}
	dense := int(u >> 1)
	if err := d.reserve(dense, 1, "array dense portion"); err != nil {
		return nil, err
	}
	if err := d.enter(MarkerArray); err != nil {
		return nil, err
	}
	a := &Array{}
	// The array enters the table before its elements, so that they can
	// refer to it.
	d.objs = append(d.objs, a)
	if a.Assoc, err = d.members("array associative portion"); err != nil {
		return nil, err
	}
	if dense > 0 {
		a.Dense = make([]Value, dense)
		for i := range a.Dense {
			if a.Dense[i], err = d.value(); err != nil {
				return nil, err
			}
		}
	}
	d.depth--
	return a, nil
}

// members reads name/value pairs up to the empty name (§3.11 assoc-value,
// §3.12 dynamic-member).
func (d *Decoder) members(what string) ([]Property, error) {
	start := len(d.props)
	for {
		key, err := d.str(what)
		if err != nil {
			return nil, err
		}
		if key == "" {
			break
		}
		if err := d.reserve(1, 1, what); err != nil {
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

// object reads an Object (§3.12):
//
//	object-type = object-marker (U29O-ref | (U29O-traits-ext class-name *(U8))
//	              | U29O-traits-ref | (U29O-traits class-name *(UTF-8-vr)))
//	              *(value-type) *(dynamic-member)
//
// The low bits of the first U29 are: 0 reference; 01 traits reference;
// 111 externalizable; 011 inline traits, then a dynamic bit and the count of
// sealed members.
func (d *Decoder) object() (Value, error) {
	u, err := d.u29("object")
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		return typedRef[*Object](d, u, MarkerObject)
	}
	var t *Traits
	switch {
	case u&2 == 0:
		i := u >> 2
		if uint64(i) >= uint64(len(d.traits)) {
			return nil, d.errorf(ErrBadReference, "reference to traits %d, table has %d", i, len(d.traits))
		}
		t = d.traits[i]
	case u&4 != 0:
		// U29O-traits-ext: "the remaining 1 to 26 significant bits are not
		// significant (the traits member count would always be 0)".
		cls, err := d.str("externalizable class name")
		if err != nil {
			return nil, err
		}
		t = &Traits{ClassName: cls, Externalizable: true}
		d.addTraits(t)
	default:
		n := int(u >> 4)
		if err := d.reserve(n, 1, "traits member names"); err != nil {
			return nil, err
		}
		cls, err := d.str("class name")
		if err != nil {
			return nil, err
		}
		t = &Traits{ClassName: cls, Dynamic: u&8 != 0}
		if n > 0 {
			t.Members = make([]string, n)
			for i := range t.Members {
				if t.Members[i], err = d.str("sealed member name"); err != nil {
					return nil, err
				}
			}
		}
		d.addTraits(t)
	}
	if err := d.enter(MarkerObject); err != nil {
		return nil, err
	}
	o := &Object{Traits: t}
	d.objs = append(d.objs, o)
	if t.Externalizable {
		h := d.handlers[t.ClassName]
		if h == nil {
			return nil, fmt.Errorf("amf3: offset %d: %w", d.pos, &ExternalizableError{ClassName: t.ClassName})
		}
		if o.External, err = h.ReadExternal(&ExternalReader{d: d}); err != nil {
			return nil, fmt.Errorf("amf3: externalizable class %q: %w", t.ClassName, err)
		}
		d.depth--
		return o, nil
	}
	if n := len(t.Members); n > 0 {
		if err := d.reserve(n, 1, "sealed members"); err != nil {
			return nil, err
		}
		o.Sealed = make([]Value, n)
		for i := range o.Sealed {
			if o.Sealed[i], err = d.value(); err != nil {
				return nil, err
			}
		}
	}
	if t.Dynamic {
		if o.Dynamic, err = d.members("dynamic members"); err != nil {
			return nil, err
		}
	}
	d.depth--
	return o, nil
}

// addTraits appends t to the traits table. Traits equal to an entry already
// there are marked, since a conforming encoder would have sent a reference:
// the encoder then writes them inline again.
func (d *Decoder) addTraits(t *Traits) {
	d.key = appendTraitsKey(d.key[:0], t)
	if _, ok := d.traitKeys[string(d.key)]; ok {
		t.dup = true
	} else {
		if d.traitKeys == nil {
			d.traitKeys = make(map[string]struct{})
		}
		d.traitKeys[string(d.key)] = struct{}{}
	}
	d.traits = append(d.traits, t)
}

// appendTraitsKey appends a string that is equal for traits of equal content.
func appendTraitsKey(b []byte, t *Traits) []byte {
	flags := byte('0')
	if t.Dynamic {
		flags |= 1
	}
	if t.Externalizable {
		flags |= 2
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(len(t.ClassName)))
	b = append(b, t.ClassName...)
	for _, m := range t.Members {
		b = binary.AppendUvarint(b, uint64(len(m)))
		b = append(b, m...)
	}
	return b
}

// vectorNumber reads a Vector of int, uint or Number (§3.15):
//
//	vector-int-type = vector-int-marker (U29O-ref | U29V-value fixed-vector *(U32))
func (d *Decoder) vectorNumber(m Marker) (Value, error) {
	u, err := d.u29(m.String())
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		v, err := d.objRef(u, m)
		if err != nil {
			return nil, err
		}
		ok := false
		switch v.(type) {
		case *VectorInt:
			ok = m == MarkerVectorInt
		case *VectorUint:
			ok = m == MarkerVectorUint
		case *VectorDouble:
			ok = m == MarkerVectorDouble
		}
		if !ok {
			return nil, d.badKind(m, v)
		}
		return v, nil
	}
	fixed, err := d.u8("fixed-vector")
	if err != nil {
		return nil, err
	}
	n, size := int(u>>1), 4
	if m == MarkerVectorDouble {
		size = 8
	}
	if err := d.reserve(n, size, m.String()); err != nil {
		return nil, err
	}
	b := d.buf[d.pos : d.pos+n*size]
	d.pos += n * size
	var v Value
	switch m {
	case MarkerVectorInt:
		x := &VectorInt{Fixed: fixed != 0, Items: make([]int32, n)}
		for i := range x.Items {
			x.Items[i] = int32(binary.BigEndian.Uint32(b[i*4:]))
		}
		v = x
	case MarkerVectorUint:
		x := &VectorUint{Fixed: fixed != 0, Items: make([]uint32, n)}
		for i := range x.Items {
			x.Items[i] = binary.BigEndian.Uint32(b[i*4:])
		}
		v = x
	default:
		x := &VectorDouble{Fixed: fixed != 0, Items: make([]float64, n)}
		for i := range x.Items {
			x.Items[i] = math.Float64frombits(binary.BigEndian.Uint64(b[i*8:]))
		}
		v = x
	}
	d.objs = append(d.objs, v)
	return v, nil
}

// vectorObject reads a Vector of objects (§3.15):
//
//	vector-object-type = vector-object-marker (U29O-ref |
//	                     U29V-value fixed-vector object-type-name *(value-type))
func (d *Decoder) vectorObject() (Value, error) {
	u, err := d.u29("vector-object")
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		return typedRef[*VectorObject](d, u, MarkerVectorObject)
	}
	fixed, err := d.u8("fixed-vector")
	if err != nil {
		return nil, err
	}
	name, err := d.str("object-type-name")
	if err != nil {
		return nil, err
	}
	n := int(u >> 1)
	if err := d.reserve(n, 1, "vector-object"); err != nil {
		return nil, err
	}
	if err := d.enter(MarkerVectorObject); err != nil {
		return nil, err
	}
	x := &VectorObject{Fixed: fixed != 0, TypeName: name}
	d.objs = append(d.objs, x)
	if n > 0 {
		x.Items = make([]Value, n)
		for i := range x.Items {
			if x.Items[i], err = d.value(); err != nil {
				return nil, err
			}
		}
	}
	d.depth--
	return x, nil
}

// dictionary reads a Dictionary (§3.16):
//
//	dictionary-type = dictionary-marker (U29O-ref |
//	                  U29Dict-value weak-keys *(entry-key entry-value))
func (d *Decoder) dictionary() (Value, error) {
	u, err := d.u29("dictionary")
	if err != nil {
		return nil, err
	}
	if u&1 == 0 {
		return typedRef[*Dictionary](d, u, MarkerDictionary)
	}
	weak, err := d.u8("weak-keys")
	if err != nil {
		return nil, err
	}
	n := int(u >> 1)
	if err := d.reserve(n, 2, "dictionary"); err != nil {
		return nil, err
	}
	if err := d.enter(MarkerDictionary); err != nil {
		return nil, err
	}
	x := &Dictionary{WeakKeys: weak != 0}
	d.objs = append(d.objs, x)
	if n > 0 {
		x.Entries = make([]DictEntry, n)
		for i := range x.Entries {
			e := &x.Entries[i]
			if e.Key, err = d.value(); err != nil {
				return nil, err
			}
			if e.Value, err = d.value(); err != nil {
				return nil, err
			}
		}
	}
	d.depth--
	return x, nil
}
