package message

import (
	"maps"
	"slices"

	"github.com/ertmp/rtmp/amf0"
)

// The typed views of objects (Connect, Status) keep the object as decoded
// and write their typed fields back into it with merge, so that a view of a
// decoded object gives back the same object: property order, unknown
// properties and the AMF form of each value are kept unless a field was
// changed.

type fieldKind uint8

const (
	kString fieldKind = iota
	kBool
	kNumber
	kStrings
	kInfoMap
)

// field is one typed field of a view, with the keys it is read from (the
// first is written when the property is new).
type field struct {
	keys []string
	kind fieldKind
	s    string
	b    bool
	n    uint32
	list []string
	m    map[string]FourCCInfoMask
}

func strField(v string, keys ...string) field    { return field{keys: keys, kind: kString, s: v} }
func boolField(v bool, keys ...string) field     { return field{keys: keys, kind: kBool, b: v} }
func numField(v uint32, keys ...string) field    { return field{keys: keys, kind: kNumber, n: v} }
func listField(v []string, keys ...string) field { return field{keys: keys, kind: kStrings, list: v} }
func mapField(v map[string]FourCCInfoMask, keys ...string) field {
	return field{keys: keys, kind: kInfoMap, m: v}
}

func (f *field) zero() bool {
	switch f.kind {
	case kString:
		return f.s == ""
	case kBool:
		return !f.b
	case kNumber:
		return f.n == 0
	case kStrings:
		return len(f.list) == 0
	default:
		return len(f.m) == 0
	}
}

// same reports whether v reads as the field's value; ok is false when v
// does not read as the field's kind at all.
func (f *field) same(v amf0.Value) (same, ok bool) {
	switch f.kind {
	case kString:
		s, ok := asString(v)
		return ok && s == f.s, ok
	case kBool:
		b, ok := asBool(v, false)
		return ok && b == f.b, ok
	case kNumber:
		n, ok := asUint32(v)
		return ok && n == f.n, ok
	case kStrings:
		l, ok := readStrings(v)
		return ok && slices.Equal(l, f.list), ok
	default:
		m, ok := readInfoMap(v)
		return ok && maps.Equal(m, f.m), ok
	}
}

// value returns the AMF form of the field.
func (f *field) value() amf0.Value {
	switch f.kind {
	case kString:
		return f.s
	case kBool:
		return f.b
	case kNumber:
		return float64(f.n)
	case kStrings:
		a := make(amf0.StrictArray, len(f.list))
		for i, s := range f.list {
			a[i] = s
		}
		return a
	default:
		keys := slices.Sorted(maps.Keys(f.m))
		o := make(amf0.Object, len(keys))
		for i, k := range keys {
			o[i] = amf0.Property{Key: k, Value: float64(f.m[k])}
		}
		return o
	}
}

// merge returns a new object: the fields that are not in props and not
// zero, in the order given, then the properties of props, where the first
// property of each field's keys is replaced by the field's value unless it
// already reads as that value, or it does not read as the field's kind and
// the field is zero (a property this view cannot read is left alone).
// props is not modified.
func merge(props amf0.Object, fields []field) amf0.Object {
	out := make(amf0.Object, 0, len(props)+len(fields))
	var atBuf [16]int
	at := atBuf[:] // index in props of each field, or -1
	if len(fields) > len(at) {
		at = make([]int, len(fields))
	}
	at = at[:len(fields)]
	for i := range fields {
		at[i] = -1
		for _, k := range fields[i].keys {
			if j := index(props, k); j >= 0 && (at[i] < 0 || j < at[i]) {
				at[i] = j
			}
		}
		if at[i] < 0 && !fields[i].zero() {
			out = append(out, amf0.Property{Key: fields[i].keys[0], Value: fields[i].value()})
		}
	}
	for j, p := range props {
		for i := range fields {
			if at[i] != j {
				continue
			}
			same, ok := fields[i].same(p.Value)
			if !same && (ok || !fields[i].zero()) {
				p.Value = fields[i].value()
			}
		}
		out = append(out, p)
	}
	return out
}

func index(props amf0.Object, key string) int {
	for i := range props {
		if props[i].Key == key {
			return i
		}
	}
	return -1
}

// get returns the value of the first property named by one of keys, in
// wire order.
func get(props amf0.Object, keys ...string) (amf0.Value, bool) {
	best := -1
	for _, k := range keys {
		if j := index(props, k); j >= 0 && (best < 0 || j < best) {
			best = j
		}
	}
	if best < 0 {
		return nil, false
	}
	return props[best].Value, true
}

func getString(props amf0.Object, keys ...string) string {
	v, _ := get(props, keys...)
	s, _ := asString(v)
	return s
}

func getBool(props amf0.Object, keys ...string) bool {
	v, _ := get(props, keys...)
	b, _ := asBool(v, false)
	return b
}

func getUint32(props amf0.Object, keys ...string) uint32 {
	v, _ := get(props, keys...)
	n, _ := asUint32(v)
	return n
}

// readStrings reads a strict array of strings.
func readStrings(v amf0.Value) ([]string, bool) {
	a, ok := amf0.Resolve(v).(amf0.StrictArray)
	if !ok {
		return nil, false
	}
	if len(a) == 0 {
		return nil, true
	}
	l := make([]string, len(a))
	for i, e := range a {
		if l[i], ok = asString(e); !ok {
			return nil, false
		}
	}
	return l, true
}

// readInfoMap reads an object of FourCC keys and flag numbers.
func readInfoMap(v amf0.Value) (map[string]FourCCInfoMask, bool) {
	o, ok := asObject(v)
	if !ok {
		return nil, false
	}
	if len(o) == 0 {
		return nil, true
	}
	m := make(map[string]FourCCInfoMask, len(o))
	for _, p := range o {
		n, ok := asUint32(p.Value)
		if !ok {
			return nil, false
		}
		if _, dup := m[p.Key]; !dup {
			m[p.Key] = FourCCInfoMask(n)
		}
	}
	return m, true
}
