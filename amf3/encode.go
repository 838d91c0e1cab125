package amf3

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// An Encoder encodes AMF 3 values. Like a Decoder it holds the reference
// tables of one message (§2.2); Reset starts a new message. The zero Encoder
// is ready to use. An Encoder is not safe for concurrent use.
//
// References are written as an AVM encoder writes them:
//   - strings: every non-empty string written as UTF-8-vr (values, member
//     names, class names, vector type names) enters the string table, and a
//     string equal to one in the table is written as a reference;
//   - *Array, *Object, *VectorInt, *VectorUint, *VectorDouble, *VectorObject,
//     *Dictionary and ByteArray: by identity (pointer, or first byte of the
//     backing array), so a value met twice in a message is written once and
//     then referenced; cycles are therefore fine;
//   - Date, XML, XMLDocument (Go values without identity): by equality;
//   - traits: by pointer, or by content (class name, flags and members).
//
// Values the decoder produced therefore re-encode to the bytes they came
// from, with the exceptions listed in the package documentation.
type Encoder struct {
	// MaxDepth bounds container nesting, which stops values that contain
	// themselves without a pointer (a []Value holding itself). Zero means
	// DefaultMaxDepth.
	MaxDepth int

	handlers map[string]ExternalHandler

	// Reference tables of the current message. Map values are table indices.
	strs      map[string]uint32
	objs      map[any]uint32 // pointers of the container types
	bytes     map[bytesKey]uint32
	dates     map[uint64]uint32
	xmlDocs   map[string]uint32
	xmls      map[string]uint32
	nobjs     int
	traitPtrs map[*Traits]uint32
	traitKeys map[string]uint32
	ntraits   int

	depth int
	key   []byte
}

// bytesKey is the identity of a ByteArray: its backing array and length.
type bytesKey struct {
	p *byte
	n int
}

// anonymous are the traits written for an Object with nil Traits.
var anonymous = &Traits{Dynamic: true}

// RegisterExternalizable makes e encode objects of the externalizable class
// with h. Registering a nil handler removes the class.
func (e *Encoder) RegisterExternalizable(class string, h ExternalHandler) {
	if h == nil {
		delete(e.handlers, class)
		return
	}
	if e.handlers == nil {
		e.handlers = make(map[string]ExternalHandler)
	}
	e.handlers[class] = h
}

// Reset clears the reference tables: the next value starts a new message.
func (e *Encoder) Reset() {
	clear(e.strs)
	clear(e.objs)
	clear(e.bytes)
	clear(e.dates)
	clear(e.xmlDocs)
	clear(e.xmls)
	clear(e.traitPtrs)
	clear(e.traitKeys)
	e.nobjs, e.ntraits = 0, 0
}

// Append appends the encoding of v to dst. The reference tables keep what v
// added, for the next Append of the same message. On error it returns dst
// unchanged, and the tables are in an unspecified state: Reset before the
// next message.
//
// Besides the types of the package documentation, Append accepts int, int8,
// int16, int64, uint, uint8, uint16, uint32, uint64 (integer when in
// [-2^28, 2^28-1], else double, §3.6), float32 (double), time.Time (Date),
// []byte (ByteArray), []Value (dense Array, written inline) and
// map[string]Value (anonymous dynamic Object, keys sorted, written inline).
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

func (e *Encoder) maxDepth() int {
	if e.MaxDepth <= 0 {
		return DefaultMaxDepth
	}
	return e.MaxDepth
}

func (e *Encoder) enter() error {
	e.depth++
	if e.depth > e.maxDepth() {
		return fmt.Errorf("amf3: encode: depth %d, limit %d: %w", e.depth, e.maxDepth(), ErrDepth)
	}
	return nil
}

// addObj gives the next object-table index to a complex value; key is its
// identity, or nil for values without one.
func (e *Encoder) addObj(key any) {
	i := e.nobjs
	e.nobjs++
	if key != nil && i <= maxU28 {
		if e.objs == nil {
			e.objs = make(map[any]uint32)
		}
		e.objs[key] = uint32(i)
	}
}

func appendDouble(b []byte, f float64) []byte {
	return binary.BigEndian.AppendUint64(append(b, byte(MarkerDouble)), math.Float64bits(f))
}

// appendInt writes an integer (§3.6), or a double for values outside the 29
// signed bits: "if the value ... is greater than or equal to 2^28, or if a
// signed integer (int) is less than -2^28, it will be serialized using the
// AMF 3 double type".
func appendInt(b []byte, i int64) []byte {
	if i < minInt || i > maxInt {
		return appendDouble(b, float64(i))
	}
	return appendU29(append(b, byte(MarkerInteger)), uint32(i)&maxU29)
}

func (e *Encoder) value(b []byte, v Value) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, byte(MarkerNull)), nil
	case Undefined:
		return append(b, byte(MarkerUndefined)), nil
	case bool:
		if x {
			return append(b, byte(MarkerTrue)), nil
		}
		return append(b, byte(MarkerFalse)), nil
	case int32:
		return appendInt(b, int64(x)), nil
	case float64:
		return appendDouble(b, x), nil
	case string:
		return e.str(append(b, byte(MarkerString)), x)
	case *Object:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.object(b, x)
	case *Array:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.array(b, x, x.Dense, x.Assoc)
	case XMLDocument:
		return e.xml(b, MarkerXMLDocument, string(x), &e.xmlDocs)
	case XML:
		return e.xml(b, MarkerXML, string(x), &e.xmls)
	case Date:
		return e.date(b, x.Millis), nil
	case ByteArray:
		return e.byteArray(b, x)
	case *VectorInt:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.vectorInt(b, x)
	case *VectorUint:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.vectorUint(b, x)
	case *VectorDouble:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.vectorDouble(b, x)
	case *VectorObject:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.vectorObject(b, x)
	case *Dictionary:
		if x == nil {
			return append(b, byte(MarkerNull)), nil
		}
		return e.dictionary(b, x)

	// Convenience Go types.
	case int:
		return appendInt(b, int64(x)), nil
	case int8:
		return appendInt(b, int64(x)), nil
	case int16:
		return appendInt(b, int64(x)), nil
	case int64:
		return appendInt(b, x), nil
	case uint:
		return e.value(b, uint64(x))
	case uint8:
		return appendInt(b, int64(x)), nil
	case uint16:
		return appendInt(b, int64(x)), nil
	case uint32:
		return appendInt(b, int64(x)), nil
	case uint64:
		if x > maxInt {
			return appendDouble(b, float64(x)), nil
		}
		return appendInt(b, int64(x)), nil
	case float32:
		return appendDouble(b, float64(x)), nil
	case time.Time:
		return e.date(b, float64(x.UnixMilli())), nil
	case []byte:
		return e.byteArray(b, x)
	case []Value:
		return e.array(b, nil, x, nil)
	case map[string]Value:
		return e.mapObject(b, x)
	}
	return b, fmt.Errorf("amf3: encode %T: %w", v, ErrUnsupportedType)
}

// str writes a UTF-8-vr (§1.3.2). "The empty String is never sent by
// reference" (§3.8) and never enters the table.
func (e *Encoder) str(b []byte, s string) ([]byte, error) {
	if s == "" {
		return append(b, 0x01), nil
	}
	if i, ok := e.strs[s]; ok {
		return appendU29(b, i<<1), nil
	}
	if len(s) > maxU28 {
		return b, fmt.Errorf("amf3: encode string of %d bytes: %w", len(s), ErrTooLarge)
	}
	if e.strs == nil {
		e.strs = make(map[string]uint32)
	}
	if n := len(e.strs); n <= maxU28 {
		e.strs[s] = uint32(n)
	}
	b = appendU29(b, uint32(len(s))<<1|1)
	return append(b, s...), nil
}

// xml writes an XMLDocument (§3.9) or XML (§3.13) value.
func (e *Encoder) xml(b []byte, m Marker, s string, table *map[string]uint32) ([]byte, error) {
	b = append(b, byte(m))
	if i, ok := (*table)[s]; ok {
		return appendU29(b, i<<1), nil
	}
	if len(s) > maxU28 {
		return b, fmt.Errorf("amf3: encode %v of %d bytes: %w", m, len(s), ErrTooLarge)
	}
	if i := e.nobjs; i <= maxU28 {
		if *table == nil {
			*table = make(map[string]uint32)
		}
		(*table)[s] = uint32(i)
	}
	e.nobjs++
	b = appendU29(b, uint32(len(s))<<1|1)
	return append(b, s...), nil
}

// date writes a Date (§3.10) with U29D-value 1.
func (e *Encoder) date(b []byte, ms float64) []byte {
	b = append(b, byte(MarkerDate))
	bits := math.Float64bits(ms)
	if i, ok := e.dates[bits]; ok {
		return appendU29(b, i<<1)
	}
	if i := e.nobjs; i <= maxU28 {
		if e.dates == nil {
			e.dates = make(map[uint64]uint32)
		}
		e.dates[bits] = uint32(i)
	}
	e.nobjs++
	b = append(b, 0x01)
	return binary.BigEndian.AppendUint64(b, bits)
}

// byteArray writes a ByteArray (§3.14).
func (e *Encoder) byteArray(b []byte, x []byte) ([]byte, error) {
	b = append(b, byte(MarkerByteArray))
	var key bytesKey
	if cap(x) > 0 {
		key = bytesKey{p: &x[:1][0], n: len(x)}
		if i, ok := e.bytes[key]; ok {
			return appendU29(b, i<<1), nil
		}
	}
	if len(x) > maxU28 {
		return b, fmt.Errorf("amf3: encode byte-array of %d bytes: %w", len(x), ErrTooLarge)
	}
	if i := e.nobjs; i <= maxU28 && key.p != nil {
		if e.bytes == nil {
			e.bytes = make(map[bytesKey]uint32)
		}
		e.bytes[key] = uint32(i)
	}
	e.nobjs++
	b = appendU29(b, uint32(len(x))<<1|1)
	return append(b, x...), nil
}

// array writes an Array (§3.11): the dense count, the associative portion
// ended by the empty string, then the dense values. a is nil for a []Value.
func (e *Encoder) array(b []byte, a *Array, dense []Value, assoc []Property) ([]byte, error) {
	b = append(b, byte(MarkerArray))
	if a != nil {
		if i, ok := e.objs[a]; ok {
			return appendU29(b, i<<1), nil
		}
	}
	if len(dense) > maxU28 {
		return b, fmt.Errorf("amf3: encode array of %d elements: %w", len(dense), ErrTooLarge)
	}
	if err := e.enter(); err != nil {
		return b, err
	}
	if a != nil {
		e.addObj(a)
	} else {
		e.addObj(nil)
	}
	b = appendU29(b, uint32(len(dense))<<1|1)
	var err error
	if b, err = e.members(b, assoc); err != nil {
		return b, err
	}
	for _, v := range dense {
		if b, err = e.value(b, v); err != nil {
			return b, err
		}
	}
	e.depth--
	return b, nil
}

// members writes name/value pairs and the empty name that ends them.
func (e *Encoder) members(b []byte, props []Property) ([]byte, error) {
	var err error
	for _, p := range props {
		if p.Key == "" {
			return b, fmt.Errorf("amf3: encode: member with an empty name: %w", ErrInvalid)
		}
		if b, err = e.str(b, p.Key); err != nil {
			return b, err
		}
		if b, err = e.value(b, p.Value); err != nil {
			return b, err
		}
	}
	return append(b, 0x01), nil
}

// object writes an Object (§3.12).
func (e *Encoder) object(b []byte, o *Object) ([]byte, error) {
	b = append(b, byte(MarkerObject))
	if i, ok := e.objs[o]; ok {
		return appendU29(b, i<<1), nil
	}
	t := o.Traits
	if t == nil {
		t = anonymous
	}
	if t.Externalizable {
		if len(o.Sealed) != 0 || len(o.Dynamic) != 0 {
			return b, fmt.Errorf("amf3: encode externalizable %q with members: %w", t.ClassName, ErrInvalid)
		}
	} else {
		if len(o.Sealed) != len(t.Members) {
			return b, fmt.Errorf("amf3: encode %q: %d sealed values for %d members: %w", t.ClassName, len(o.Sealed), len(t.Members), ErrInvalid)
		}
		if !t.Dynamic && len(o.Dynamic) != 0 {
			return b, fmt.Errorf("amf3: encode %q: dynamic members on sealed traits: %w", t.ClassName, ErrInvalid)
		}
		if len(t.Members) > 1<<25-1 {
			return b, fmt.Errorf("amf3: encode %q: %d sealed members: %w", t.ClassName, len(t.Members), ErrTooLarge)
		}
	}
	if err := e.enter(); err != nil {
		return b, err
	}
	e.addObj(o)
	var err error
	if i, ok := e.traitsRef(t); ok {
		b = appendU29(b, i<<2|1) // U29O-traits-ref
	} else {
		e.addTraits(t)
		if t.Externalizable {
			b = append(b, 0x07) // U29O-traits-ext
		} else {
			h := uint32(len(t.Members))<<4 | 0x03 // U29O-traits
			if t.Dynamic {
				h |= 0x08
			}
			b = appendU29(b, h)
		}
		if b, err = e.str(b, t.ClassName); err != nil {
			return b, err
		}
		for _, m := range t.Members {
			if b, err = e.str(b, m); err != nil {
				return b, err
			}
		}
	}
	if t.Externalizable {
		h := e.handlers[t.ClassName]
		if h == nil {
			return b, fmt.Errorf("amf3: encode: %w", &ExternalizableError{ClassName: t.ClassName})
		}
		w := ExternalWriter{e: e, b: b}
		if err := h.WriteExternal(&w, o.External); err != nil {
			return b, fmt.Errorf("amf3: encode externalizable %q: %w", t.ClassName, err)
		}
		e.depth--
		return w.b, nil
	}
	for _, v := range o.Sealed {
		if b, err = e.value(b, v); err != nil {
			return b, err
		}
	}
	if t.Dynamic {
		if b, err = e.members(b, o.Dynamic); err != nil {
			return b, err
		}
	}
	e.depth--
	return b, nil
}

func (e *Encoder) traitsRef(t *Traits) (uint32, bool) {
	if i, ok := e.traitPtrs[t]; ok {
		return i, true
	}
	if t.dup || len(e.traitKeys) == 0 {
		return 0, false
	}
	e.key = appendTraitsKey(e.key[:0], t)
	i, ok := e.traitKeys[string(e.key)]
	return i, ok
}

func (e *Encoder) addTraits(t *Traits) {
	i := e.ntraits
	e.ntraits++
	if i > 1<<27-1 { // beyond what a U29O-traits-ref can carry
		return
	}
	if e.traitPtrs == nil {
		e.traitPtrs = make(map[*Traits]uint32)
		e.traitKeys = make(map[string]uint32)
	}
	e.traitPtrs[t] = uint32(i)
	e.key = appendTraitsKey(e.key[:0], t)
	if _, ok := e.traitKeys[string(e.key)]; !ok {
		e.traitKeys[string(e.key)] = uint32(i)
	}
}

// mapObject writes m as an anonymous dynamic object with sorted keys.
func (e *Encoder) mapObject(b []byte, m map[string]Value) ([]byte, error) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	props := make([]Property, len(keys))
	for i, k := range keys {
		props[i] = Property{Key: k, Value: m[k]}
	}
	b = append(b, byte(MarkerObject))
	if err := e.enter(); err != nil {
		return b, err
	}
	e.addObj(nil)
	if i, ok := e.traitsRef(anonymous); ok {
		b = appendU29(b, i<<2|1)
	} else {
		e.addTraits(anonymous)
		b = append(b, 0x0B, 0x01) // dynamic, no sealed members, class ""
	}
	b, err := e.members(b, props)
	if err != nil {
		return b, err
	}
	e.depth--
	return b, nil
}

// vectorHead writes the marker and, unless p was already written, the
// U29V-value and fixed-vector of a Vector (§3.15).
func (e *Encoder) vectorHead(b []byte, m Marker, p any, n int, fixed bool) ([]byte, bool, error) {
	b = append(b, byte(m))
	if i, ok := e.objs[p]; ok {
		return appendU29(b, i<<1), true, nil
	}
	if n > maxU28 {
		return b, false, fmt.Errorf("amf3: encode %v of %d items: %w", m, n, ErrTooLarge)
	}
	e.addObj(p)
	b = appendU29(b, uint32(n)<<1|1)
	if fixed {
		return append(b, 1), false, nil
	}
	return append(b, 0), false, nil
}

func (e *Encoder) vectorInt(b []byte, x *VectorInt) ([]byte, error) {
	b, done, err := e.vectorHead(b, MarkerVectorInt, x, len(x.Items), x.Fixed)
	if done || err != nil {
		return b, err
	}
	for _, v := range x.Items {
		b = binary.BigEndian.AppendUint32(b, uint32(v))
	}
	return b, nil
}

func (e *Encoder) vectorUint(b []byte, x *VectorUint) ([]byte, error) {
	b, done, err := e.vectorHead(b, MarkerVectorUint, x, len(x.Items), x.Fixed)
	if done || err != nil {
		return b, err
	}
	for _, v := range x.Items {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return b, nil
}

func (e *Encoder) vectorDouble(b []byte, x *VectorDouble) ([]byte, error) {
	b, done, err := e.vectorHead(b, MarkerVectorDouble, x, len(x.Items), x.Fixed)
	if done || err != nil {
		return b, err
	}
	for _, v := range x.Items {
		b = binary.BigEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b, nil
}

func (e *Encoder) vectorObject(b []byte, x *VectorObject) ([]byte, error) {
	if i, ok := e.objs[x]; ok {
		return appendU29(append(b, byte(MarkerVectorObject)), i<<1), nil
	}
	if err := e.enter(); err != nil {
		return b, err
	}
	b, _, err := e.vectorHead(b, MarkerVectorObject, x, len(x.Items), x.Fixed)
	if err != nil {
		return b, err
	}
	if b, err = e.str(b, x.TypeName); err != nil {
		return b, err
	}
	for _, v := range x.Items {
		if b, err = e.value(b, v); err != nil {
			return b, err
		}
	}
	e.depth--
	return b, nil
}

// dictionary writes a Dictionary (§3.16).
func (e *Encoder) dictionary(b []byte, x *Dictionary) ([]byte, error) {
	b = append(b, byte(MarkerDictionary))
	if i, ok := e.objs[x]; ok {
		return appendU29(b, i<<1), nil
	}
	if len(x.Entries) > maxU28 {
		return b, fmt.Errorf("amf3: encode dictionary of %d entries: %w", len(x.Entries), ErrTooLarge)
	}
	if err := e.enter(); err != nil {
		return b, err
	}
	e.addObj(x)
	b = appendU29(b, uint32(len(x.Entries))<<1|1)
	if x.WeakKeys {
		b = append(b, 1)
	} else {
		b = append(b, 0)
	}
	var err error
	for _, en := range x.Entries {
		if b, err = e.value(b, en.Key); err != nil {
			return b, err
		}
		if b, err = e.value(b, en.Value); err != nil {
			return b, err
		}
	}
	e.depth--
	return b, nil
}
