package probe

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"

	"github.com/ertmp/rtmp/amf0"
)

// Object is an AMF object rendered for JSON with its keys in wire order.
type Object []Property

// MarshalJSON writes a JSON object whose keys keep their order.
func (o Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, p := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(p.Key)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(p.Value)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func jsonProps(ps []amf0.Property) Object {
	out := make(Object, len(ps))
	for i, p := range ps {
		out[i] = Property{Key: p.Key, Value: jsonValue(p.Value, 0)}
	}
	return out
}

// jsonValue turns an AMF0 value into something encoding/json can write.
// depth bounds recursion through nested objects.
func jsonValue(v amf0.Value, depth int) any {
	if depth > 32 {
		return "…"
	}
	switch x := amf0.Resolve(v).(type) {
	case nil:
		return nil
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return nil
		}
		return x
	case bool, string:
		return x
	case amf0.LongString:
		return string(x)
	case amf0.XMLDocument:
		return string(x)
	case amf0.Date:
		return x.Time().UTC().Format("2006-01-02T15:04:05.000Z07:00")
	case amf0.Object:
		return objectJSON(x, depth)
	case amf0.ECMAArray:
		return objectJSON(x.Props, depth)
	case amf0.TypedObject:
		return objectJSON(x.Props, depth)
	case amf0.StrictArray:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = jsonValue(e, depth+1)
		}
		return out
	}
	return nil
}

func objectJSON(ps []amf0.Property, depth int) Object {
	o := make(Object, len(ps))
	for i, p := range ps {
		o[i] = Property{Key: p.Key, Value: jsonValue(p.Value, depth+1)}
	}
	return o
}

// UnmarshalJSON reads a JSON object keeping its keys in order; nested values
// decode as encoding/json does for an any.
func (o *Object) UnmarshalJSON(b []byte) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return &json.UnmarshalTypeError{Value: "non-object", Type: reflect.TypeOf(o)}
	}
	*o = (*o)[:0]
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		*o = append(*o, Property{Key: key, Value: v})
	}
	_, err = dec.Token()
	return err
}
