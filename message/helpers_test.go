package message

import (
	"encoding/hex"
	"fmt"
	"math"
	"reflect"
	"strings"
)

// Wire builders for the golden tables. They write the AMF 0 forms by hand
// (AMF 0 §2), independently of package amf0, so that the goldens do not
// come from the encoder under test.

// hx joins hex strings, ignoring spaces, into bytes.
func hx(parts ...string) []byte {
	s := strings.Join(parts, "")
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func u8(v uint8) string   { return fmt.Sprintf("%02x", v) }
func u16(v uint16) string { return fmt.Sprintf("%04x", v) }
func u24(v uint32) string { return fmt.Sprintf("%06x", v&0xFFFFFF) }
func u32(v uint32) string { return fmt.Sprintf("%08x", v) }

// utf is AMF 0 UTF-8 (§1.3): U16 length, bytes.
func utf(s string) string { return u16(uint16(len(s))) + hex.EncodeToString([]byte(s)) }

// str is an AMF 0 string value (§2.4).
func str(s string) string { return "02" + utf(s) }

// num is an AMF 0 number value (§2.2).
func num(f float64) string { return fmt.Sprintf("00%016x", math.Float64bits(f)) }

// boo is an AMF 0 boolean value (§2.3).
func boo(v bool) string {
	if v {
		return "0101"
	}
	return "0100"
}

const null = "05" // §2.7

// prop is an object property: key, value.
func prop(k, v string) string { return utf(k) + v }

// obj is an AMF 0 object (§2.5).
func obj(props ...string) string { return "03" + strings.Join(props, "") + "000009" }

// ecma is an AMF 0 ECMA array (§2.10) with the given associative-count.
func ecma(count uint32, props ...string) string {
	return "08" + u32(count) + strings.Join(props, "") + "000009"
}

// strict is an AMF 0 strict array (§2.12).
func strict(vals ...string) string { return "0a" + u32(uint32(len(vals))) + strings.Join(vals, "") }

// equal is reflect.DeepEqual with three changes for codec tests: nil and
// empty slices and maps are equal, floats compare by bits (so NaN equals
// the same NaN, and -0 differs from 0), and pointer cycles are followed
// once.
func equal(a, b any) bool {
	return eq(reflect.ValueOf(a), reflect.ValueOf(b), map[visit]bool{})
}

type visit struct {
	a, b uintptr
	t    reflect.Type
}

func eq(a, b reflect.Value, seen map[visit]bool) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	switch a.Kind() {
	case reflect.Bool:
		return a.Bool() == b.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return a.Int() == b.Int()
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return a.Uint() == b.Uint()
	case reflect.Float32, reflect.Float64:
		return math.Float64bits(a.Float()) == math.Float64bits(b.Float())
	case reflect.String:
		return a.String() == b.String()
	case reflect.Slice, reflect.Array:
		if a.Len() != b.Len() {
			return false
		}
		for i := 0; i < a.Len(); i++ {
			if !eq(a.Index(i), b.Index(i), seen) {
				return false
			}
		}
		return true
	case reflect.Map:
		if a.Len() != b.Len() {
			return false
		}
		for _, k := range a.MapKeys() {
			bv := b.MapIndex(k)
			if !bv.IsValid() || !eq(a.MapIndex(k), bv, seen) {
				return false
			}
		}
		return true
	case reflect.Pointer:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		v := visit{a.Pointer(), b.Pointer(), a.Type()}
		if a.Pointer() == b.Pointer() || seen[v] {
			return true
		}
		seen[v] = true
		return eq(a.Elem(), b.Elem(), seen)
	case reflect.Interface:
		if a.IsNil() || b.IsNil() {
			return a.IsNil() == b.IsNil()
		}
		return eq(a.Elem(), b.Elem(), seen)
	case reflect.Struct:
		for i := 0; i < a.NumField(); i++ {
			if !eq(a.Field(i), b.Field(i), seen) {
				return false
			}
		}
		return true
	case reflect.Func, reflect.Chan, reflect.UnsafePointer:
		return a.IsNil() && b.IsNil()
	}
	panic("equal: unhandled kind " + a.Kind().String())
}
