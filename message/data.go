package message

import "github.com/ertmp/rtmp/amf0"

// Names of data messages with a meaning to RTMP servers.
const (
	// SetDataFrame wraps the metadata a publisher sends: "@setDataFrame",
	// "onMetaData", metadata. The server keeps "onMetaData", metadata and
	// sends it to every player (see Data.Unwrap).
	SetDataFrame = "@setDataFrame"
	// ClearDataFrame asks the server to forget the stored metadata.
	ClearDataFrame = "@clearDataFrame"
	// OnMetaData names the stream's metadata (FLV 10.1 §E.5).
	OnMetaData = "onMetaData"
	// RtmpSampleAccess is the data message servers send a player when play
	// starts, "|RtmpSampleAccess", audio, video: two booleans granting the
	// player raw access to the samples. It is not part of the stream.
	RtmpSampleAccess = "|RtmpSampleAccess"
	// OnPlayStatus is the data message of a server to a player about
	// the playlist: NetStream.Play.Complete, NetStream.Play.Switch and
	// NetStream.Play.TransitionComplete (play2) in an info object.
	OnPlayStatus = "onPlayStatus"
	// OnCuePoint names a cue point an encoder embeds in the stream.
	OnCuePoint = "onCuePoint"
	// OnTextData names timed text (F4V text tracks expose it to players
	// under this name, FLV 10.1 §3.4; FFmpeg reads and writes it in FLV).
	OnTextData = "onTextData"
	// OnXMPData carries XMP metadata (FLV 10.1 §E.6: "a SCRIPTDATA tag
	// named onXMPData").
	OnXMPData = "onXMPData"
)

// Data is a data message (§7.1.2): metadata or user data as a sequence of
// AMF values, usually a name string and arguments.
//
// Type 18 payloads are AMF 0 values. Type 15 payloads start with a format
// selector byte, of which only 0 (AMF 0) is defined; any of the values may
// be an AMF 3 value after the avmplus marker 0x11, held as amf0.AMF3, and
// "the switch isn't sticky" (Enhanced RTMP v2, "Important AMF3-encoded
// Historical Specification Clarification"). Encoding writes the selector
// byte when AMF3 is set and the values as given: wrap a value in amf0.AMF3
// to write it in AMF 3.
//
// Decoding keeps what the amf0 package keeps (ECMA array counts, long
// strings, property order), so what FFmpeg and OBS send re-encodes to the
// same bytes. The values never alias the payload.
type Data struct {
	AMF3   bool // type 15 rather than 18
	Values []amf0.Value
}

// UnmarshalData decodes the payload of a data message of type
// TypeDataAMF0 or TypeDataAMF3. An empty type 18 payload is a Data with no
// values.
func UnmarshalData(t Type, b []byte) (Data, error) {
	b, err := stripSelector(t, b)
	if err != nil {
		return Data{}, err
	}
	vs, err := amf0.DecodeAll(b)
	if err != nil {
		return Data{}, fieldErr(t, "values", err)
	}
	return Data{AMF3: t == TypeDataAMF3, Values: vs}, nil
}

// Type returns TypeDataAMF3 or TypeDataAMF0.
func (d Data) Type() Type {
	if d.AMF3 {
		return TypeDataAMF3
	}
	return TypeDataAMF0
}

// AppendPayload appends the format selector (type 15) and the values.
func (d Data) AppendPayload(dst []byte) ([]byte, error) {
	b := dst
	if d.AMF3 {
		b = append(b, 0)
	}
	e := getEncoder()
	b, err := appendValues(e, b, d.Values)
	putEncoder(e)
	if err != nil {
		return dst, fieldErr(d.Type(), "values", err)
	}
	return b, nil
}

// Name returns the first value when it is a string: the handler name.
func (d Data) Name() (string, bool) {
	if len(d.Values) == 0 {
		return "", false
	}
	return asString(d.Values[0])
}

// IsSetDataFrame reports whether d is "@setDataFrame" followed by a name.
func (d Data) IsSetDataFrame() bool {
	_, ok := d.unwrap()
	return ok
}

// IsClearDataFrame reports whether d is "@clearDataFrame".
func (d Data) IsClearDataFrame() bool {
	name, _ := d.Name()
	return name == ClearDataFrame
}

// IsMetaData reports whether d is onMetaData, directly or inside
// @setDataFrame.
func (d Data) IsMetaData() bool {
	name, _ := d.Unwrap().Name()
	return name == OnMetaData
}

// Unwrap returns what a server stores and sends to players for
// "@setDataFrame", name, args...: the message name, args... (usually
// "onMetaData", metadata). Other messages are returned unchanged. The
// result shares d.Values.
func (d Data) Unwrap() Data {
	if u, ok := d.unwrap(); ok {
		return u
	}
	return d
}

func (d Data) unwrap() (Data, bool) {
	if len(d.Values) < 2 {
		return d, false
	}
	if name, _ := asString(d.Values[0]); name != SetDataFrame {
		return d, false
	}
	if _, ok := asString(d.Values[1]); !ok {
		return d, false
	}
	return Data{AMF3: d.AMF3, Values: d.Values[1:]}, true
}

// MetaData returns the properties of the metadata object of an onMetaData
// message, directly or inside @setDataFrame. The object may be an ECMA
// array (FFmpeg, OBS) or an object. Package flv reads them into typed
// fields.
func (d Data) MetaData() (amf0.Object, bool) {
	u := d.Unwrap()
	if name, _ := u.Name(); name != OnMetaData || len(u.Values) < 2 {
		return nil, false
	}
	return asObject(u.Values[1])
}

// NewSetDataFrame returns the message a publisher sends its metadata with:
// "@setDataFrame", "onMetaData", metadata (usually an amf0.ECMAArray).
func NewSetDataFrame(metadata amf0.Value) Data {
	return Data{Values: []amf0.Value{SetDataFrame, OnMetaData, metadata}}
}

// NewClearDataFrame returns "@clearDataFrame", name: what a publisher
// sends to have the server forget the data frame it set with
// "@setDataFrame", name (usually "onMetaData").
func NewClearDataFrame(name string) Data {
	return Data{Values: []amf0.Value{ClearDataFrame, name}}
}

// NewOnMetaData returns "onMetaData", metadata: what a server sends to
// players.
func NewOnMetaData(metadata amf0.Value) Data {
	return Data{Values: []amf0.Value{OnMetaData, metadata}}
}
