package flv

import (
	"errors"
	"fmt"

	"github.com/ertmp/rtmp/amf0"
)

// Script names with a meaning to FLV and RTMP.
const (
	OnMetaData     = "onMetaData"
	SetDataFrame   = "@setDataFrame"
	ClearDataFrame = "@clearDataFrame"
	ColorInfoKey   = "colorInfo"
)

// ErrScript: a script body that is not a name followed by values.
var ErrScript = errors.New("flv: script data")

// ScriptData is a script tag body or data message (FLV 10.1 §E.4.4.1,
// SCRIPTDATA): a name, usually "onMetaData", then its arguments. A publisher's
// "@setDataFrame" message has the name "@setDataFrame" and the real name as
// its first argument; see Unwrap.
type ScriptData struct {
	Name string
	Args []amf0.Value
}

// ParseScript decodes an AMF0 script body (tag type 18, RTMP message 18).
func ParseScript(b []byte) (ScriptData, error) {
	vs, err := amf0.DecodeAll(b)
	if err != nil {
		return ScriptData{}, fmt.Errorf("flv: script data: %w", err)
	}
	return scriptFromValues(vs)
}

// ParseScriptAMF3 decodes a tag type 15 / RTMP message 15 body: a format
// selector byte (only 0, AMF0, is defined) and then AMF0 values, any of which
// may switch to AMF3 with the avmplus marker (Enhanced RTMP v2, "Important
// AMF3-encoded Historical Specification Clarification").
func ParseScriptAMF3(b []byte) (ScriptData, error) {
	if len(b) == 0 {
		return ScriptData{}, errTruncated("format selector")
	}
	if b[0] != 0 {
		return ScriptData{}, fmt.Errorf("%w: unknown format selector %d", ErrScript, b[0])
	}
	return ParseScript(b[1:])
}

func scriptFromValues(vs []amf0.Value) (ScriptData, error) {
	if len(vs) == 0 {
		return ScriptData{}, fmt.Errorf("%w: empty", ErrScript)
	}
	name, ok := asString(vs[0])
	if !ok {
		return ScriptData{}, fmt.Errorf("%w: the name is a %T, not a string", ErrScript, vs[0])
	}
	return ScriptData{Name: name, Args: vs[1:]}, nil
}

// Append encodes the body in AMF0.
func (s ScriptData) Append(dst []byte) ([]byte, error) {
	dst, err := amf0.Append(dst, s.Name)
	if err != nil {
		return dst, err
	}
	return amf0.AppendAll(dst, s.Args...)
}

// Unwrap turns "@setDataFrame", name, args... into name, args... (what a
// server stores and sends to players); other data is returned unchanged.
func (s ScriptData) Unwrap() ScriptData {
	if s.Name != SetDataFrame || len(s.Args) == 0 {
		return s
	}
	name, ok := asString(s.Args[0])
	if !ok {
		return s
	}
	return ScriptData{Name: name, Args: s.Args[1:]}
}

// Metadata returns the typed view of an onMetaData body (also through
// @setDataFrame), and false if s is not onMetaData with an object argument.
func (s ScriptData) Metadata() (*Metadata, bool) {
	u := s.Unwrap()
	if u.Name != OnMetaData || len(u.Args) == 0 {
		return nil, false
	}
	props, ok := properties(u.Args[0])
	if !ok {
		return nil, false
	}
	return ParseMetadata(props), true
}

// asString accepts an AMF0 string or long string.
func asString(v amf0.Value) (string, bool) {
	switch s := amf0.Resolve(v).(type) {
	case string:
		return s, true
	case amf0.LongString:
		return string(s), true
	}
	return "", false
}

func asNumber(v amf0.Value) (float64, bool) {
	f, ok := amf0.Resolve(v).(float64)
	return f, ok
}

func asBool(v amf0.Value) (bool, bool) {
	b, ok := amf0.Resolve(v).(bool)
	return b, ok
}

// properties returns the properties of an object-like value: an object, an
// ECMA array or a typed object.
func properties(v amf0.Value) ([]amf0.Property, bool) {
	switch o := amf0.Resolve(v).(type) {
	case amf0.Object:
		return o, true
	case amf0.ECMAArray:
		return o.Props, true
	case amf0.TypedObject:
		return o.Props, true
	}
	return nil, false
}
