package amf0

import (
	"strconv"

	"github.com/ertmp/rtmp/amf3"
)

// maxBridgeDepth bounds the recursion of FromAMF3 on graphs built by hand;
// decoded graphs are never deeper than the decoder's MaxDepth.
const maxBridgeDepth = 1000

// FromAMF3 converts an AMF 3 value to the AMF 0 value that carries the same
// data, as an AMF 0 peer expects it:
//
//	AMF 3                        AMF 0
//	Undefined, nil, bool,        Undefined, nil, bool,
//	float64, string              float64, string
//	int32                        float64
//	XML, XMLDocument             XMLDocument
//	Date                         Date (TZ 0)
//	*Array, dense only           StrictArray
//	*Array with associative part ECMAArray: dense elements under the keys
//	                             "0", "1", ..., then the associative part
//	*Object, anonymous           Object: sealed members, then dynamic ones
//	*Object, typed               TypedObject
//	*Object, externalizable      the conversion of Object.External when it is
//	                             an AMF 3 value (ValueHandler), else Unsupported
//	ByteArray                    string holding the bytes
//	vectors                      StrictArray (numbers as float64)
//	*Dictionary                  ECMAArray, keys converted to strings as
//	                             ActionScript's String() does
//	anything else                Unsupported
//
// A pointer met twice converts once: the results share their backing
// arrays. A pointer met inside its own conversion (a cycle) converts to nil.
func FromAMF3(v amf3.Value) Value {
	var b bridge
	return b.conv(v, 0)
}

type bridge struct {
	memo map[any]Value // converted containers; cycle{} while converting
}

type cycle struct{}

func (b *bridge) conv(v amf3.Value, depth int) Value {
	switch x := v.(type) {
	case nil:
		return nil
	case amf3.Undefined:
		return Undefined{}
	case bool, float64, string:
		return x
	case int32:
		return float64(x)
	case amf3.XMLDocument:
		return XMLDocument(x)
	case amf3.XML:
		return XMLDocument(x)
	case amf3.Date:
		return Date{Millis: x.Millis}
	case amf3.ByteArray:
		return string(x)
	case *amf3.Array:
		if x == nil {
			return nil
		}
	case *amf3.Object:
		if x == nil {
			return nil
		}
	case *amf3.VectorInt:
		if x == nil {
			return nil
		}
	case *amf3.VectorUint:
		if x == nil {
			return nil
		}
	case *amf3.VectorDouble:
		if x == nil {
			return nil
		}
	case *amf3.VectorObject:
		if x == nil {
			return nil
		}
	case *amf3.Dictionary:
		if x == nil {
			return nil
		}
	default:
		return Unsupported{}
	}
	// A container, by pointer.
	if r, ok := b.memo[v]; ok {
		if _, c := r.(cycle); c {
			return nil
		}
		return r
	}
	if depth >= maxBridgeDepth {
		return nil
	}
	if b.memo == nil {
		b.memo = make(map[any]Value)
	}
	b.memo[v] = cycle{}
	r := b.container(v, depth+1)
	b.memo[v] = r
	return r
}

func (b *bridge) container(v amf3.Value, depth int) Value {
	switch x := v.(type) {
	case *amf3.Array:
		if len(x.Assoc) == 0 {
			out := make(StrictArray, len(x.Dense))
			for i, e := range x.Dense {
				out[i] = b.conv(e, depth)
			}
			return out
		}
		props := make([]Property, 0, len(x.Dense)+len(x.Assoc))
		for i, e := range x.Dense {
			props = append(props, Property{Key: strconv.Itoa(i), Value: b.conv(e, depth)})
		}
		for _, p := range x.Assoc {
			props = append(props, Property{Key: p.Key, Value: b.conv(p.Value, depth)})
		}
		return NewECMAArray(props...)
	case *amf3.Object:
		if x.Traits != nil && x.Traits.Externalizable {
			return b.conv(x.External, depth)
		}
		props := make([]Property, 0, len(x.Sealed)+len(x.Dynamic))
		if x.Traits != nil {
			for i, m := range x.Traits.Members {
				if i < len(x.Sealed) {
					props = append(props, Property{Key: m, Value: b.conv(x.Sealed[i], depth)})
				}
			}
		}
		for _, p := range x.Dynamic {
			props = append(props, Property{Key: p.Key, Value: b.conv(p.Value, depth)})
		}
		if cls := x.ClassName(); cls != "" {
			return TypedObject{ClassName: cls, Props: props}
		}
		return Object(props)
	case *amf3.VectorInt:
		out := make(StrictArray, len(x.Items))
		for i, e := range x.Items {
			out[i] = float64(e)
		}
		return out
	case *amf3.VectorUint:
		out := make(StrictArray, len(x.Items))
		for i, e := range x.Items {
			out[i] = float64(e)
		}
		return out
	case *amf3.VectorDouble:
		out := make(StrictArray, len(x.Items))
		for i, e := range x.Items {
			out[i] = e
		}
		return out
	case *amf3.VectorObject:
		out := make(StrictArray, len(x.Items))
		for i, e := range x.Items {
			out[i] = b.conv(e, depth)
		}
		return out
	case *amf3.Dictionary:
		props := make([]Property, len(x.Entries))
		for i, e := range x.Entries {
			props[i] = Property{Key: dictKey(e.Key), Value: b.conv(e.Value, depth)}
		}
		return NewECMAArray(props...)
	}
	return Unsupported{}
}

// dictKey converts a Dictionary key to a string as ActionScript's String()
// does for strings, numbers, booleans, null and undefined (AMF 3 §3.16 notes
// that integer keys are sent as strings anyway); dates give their
// milliseconds, XML its text, other objects "[object Class]".
func dictKey(k amf3.Value) string {
	switch x := k.(type) {
	case string:
		return x
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case float64:
		return jsNumber(x)
	case bool:
		return strconv.FormatBool(x)
	case nil:
		return "null"
	case amf3.Undefined:
		return "undefined"
	case amf3.XML:
		return string(x)
	case amf3.XMLDocument:
		return string(x)
	case amf3.Date:
		return jsNumber(x.Millis)
	case *amf3.Array:
		return "[object Array]"
	case amf3.ByteArray:
		return "[object ByteArray]"
	case *amf3.Dictionary:
		return "[object Dictionary]"
	case *amf3.VectorInt, *amf3.VectorUint, *amf3.VectorDouble, *amf3.VectorObject:
		return "[object Vector]"
	}
	return "[object Object]"
}
