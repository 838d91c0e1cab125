package message

import "github.com/ertmp/rtmp/amf0"

// Command names of the RTMP specification (§7.2) and of the servers and
// clients that RTMP grew up with. IsReservedName reports them. The names of
// data messages (@setDataFrame, @clearDataFrame, onMetaData,
// |RtmpSampleAccess, onPlayStatus, ...) are the constants SetDataFrame,
// ClearDataFrame, OnMetaData and the others of data.go.
const (
	NameConnect         = "connect"         // §7.2.1.1
	NameCall            = "call"            // §7.2.1.2: a call names its procedure instead
	NameClose           = "close"           // §7.2.1
	NameCreateStream    = "createStream"    // §7.2.1.3
	NameResult          = "_result"         // §7.2: a response
	NameError           = "_error"          // §7.2: an error response
	NameOnStatus        = "onStatus"        // §7.2.2
	NamePlay            = "play"            // §7.2.2.1
	NamePlay2           = "play2"           // §7.2.2.2
	NameDeleteStream    = "deleteStream"    // §7.2.2.3
	NameCloseStream     = "closeStream"     // §7.2.2
	NameReceiveAudio    = "receiveAudio"    // §7.2.2.4
	NameReceiveVideo    = "receiveVideo"    // §7.2.2.5
	NamePublish         = "publish"         // §7.2.2.6
	NameSeek            = "seek"            // §7.2.2.7
	NamePause           = "pause"           // §7.2.2.8
	NameReleaseStream   = "releaseStream"   // FMLE, OBS, FFmpeg before publish
	NameFCPublish       = "FCPublish"       // FMLE, OBS, FFmpeg before publish
	NameFCUnpublish     = "FCUnpublish"     // FMLE, OBS, FFmpeg after publishing
	NameFCSubscribe     = "FCSubscribe"     // some CDNs (Akamai, Limelight) before play
	NameFCUnsubscribe   = "FCUnsubscribe"   // the same CDNs after play
	NameOnFCPublish     = "onFCPublish"     // server's answer to FCPublish
	NameOnFCUnpublish   = "onFCUnpublish"   // server's answer to FCUnpublish
	NameOnFCSubscribe   = "onFCSubscribe"   // server's answer to FCSubscribe
	NameOnBWCheck       = "onBWCheck"       // server to client: bandwidth probe (FMS)
	NameOnBWDone        = "onBWDone"        // server: bandwidth check done
	NameCheckBW         = "_checkbw"        // client: bandwidth check
	NameGetStreamLength = "getStreamLength" // client: length of a recorded stream, before play
)

// IsReservedName reports whether name is one of the command names above,
// which the protocol or the servers RTMP grew up with give a meaning to.
// Any other name is an application's remote procedure (§7.2.1.2, "call").
// It matches exactly: command names are case-sensitive on the wire.
func IsReservedName(name string) bool {
	switch name {
	case NameConnect, NameCall, NameClose, NameCreateStream, NameResult, NameError,
		NameOnStatus, NamePlay, NamePlay2, NameDeleteStream, NameCloseStream,
		NameReceiveAudio, NameReceiveVideo, NamePublish, NameSeek, NamePause,
		NameReleaseStream, NameFCPublish, NameFCUnpublish, NameFCSubscribe,
		NameFCUnsubscribe, NameOnFCPublish, NameOnFCUnpublish, NameOnFCSubscribe,
		NameOnBWCheck, NameOnBWDone, NameCheckBW, NameGetStreamLength:
		return true
	}
	return false
}

// Command is a command message (§7.1.1): a command name, a transaction ID,
// a command object, and optional arguments, all AMF values.
//
//	+--------------+----------------+----------------+-----------------+
//	| Command Name | Transaction ID | Command Object | Optional args   |
//	| (string)     | (number)       | (object, null) | (any values)    |
//	+--------------+----------------+----------------+-----------------+
//
// Type 20 payloads are AMF 0. Type 17 payloads (AMF3 set) start with a
// format selector byte, of which only 0 (AMF 0) is defined, followed by AMF
// 0 values any of which may be an AMF 3 value after the avmplus marker
// 0x11, held as amf0.AMF3 (Enhanced RTMP v2, "Important AMF3-encoded
// Historical Specification Clarification"). Encoding writes the selector
// byte when AMF3 is set and the values as given: wrap a value in amf0.AMF3
// to write it in AMF 3.
//
// Decoding keeps every value as the amf0 package decodes it, so a command
// re-encodes to the bytes it came from, except for the forms the amf0
// package does not keep (see its "Round trips") and two of this package: a
// command with no command object gets a null one, and a name or
// transaction ID written as a long string or as AMF 3 is written back as an
// AMF 0 string or number. The result is then a fixed point.
//
// The typed views (Connect, Publish, Play, Status and the others) read a
// Command and build one.
type Command struct {
	AMF3          bool // type 17 rather than 20
	Name          string
	TransactionID float64
	Object        amf0.Value   // the command object: usually nil (null) or an amf0.Object
	Args          []amf0.Value // the values after the command object
}

// UnmarshalCommand decodes the payload of a command message of type
// TypeCommandAMF0 or TypeCommandAMF3. The values must start with a string,
// then a number (ErrMalformed); a missing command object reads as nil. A
// command that is only a name reads with transaction id 0: FFmpeg's server
// mode sends such messages, and a peer must not fail on them.
func UnmarshalCommand(t Type, b []byte) (Command, error) {
	b, err := stripSelector(t, b)
	if err != nil {
		return Command{}, err
	}
	vs, err := amf0.DecodeAll(b)
	if err != nil {
		return Command{}, fieldErr(t, "values", err)
	}
	if len(vs) == 0 {
		return Command{}, fieldErr(t, "command name", ErrTruncated)
	}
	c := Command{AMF3: t == TypeCommandAMF3}
	var ok bool
	if c.Name, ok = asString(vs[0]); !ok {
		return Command{}, fieldErr(t, "command name", ErrMalformed)
	}
	if len(vs) < 2 {
		return c, nil
	}
	if c.TransactionID, ok = asNumber(vs[1]); !ok {
		return Command{}, fieldErr(t, "transaction id", ErrMalformed)
	}
	if len(vs) > 2 {
		c.Object = vs[2]
	}
	if len(vs) > 3 {
		c.Args = vs[3:]
	}
	return c, nil
}

// Type returns TypeCommandAMF3 or TypeCommandAMF0.
func (c Command) Type() Type {
	if c.AMF3 {
		return TypeCommandAMF3
	}
	return TypeCommandAMF0
}

// AppendPayload appends the format selector (type 17), the name, the
// transaction ID, the command object (null when nil) and the arguments.
func (c Command) AppendPayload(dst []byte) ([]byte, error) {
	b := dst
	if c.AMF3 {
		b = append(b, 0)
	}
	b = appendString(b, c.Name)
	b = appendNumber(b, c.TransactionID)
	e := getEncoder()
	defer putEncoder(e)
	var err error
	if b, err = e.Append(b, c.Object); err != nil {
		return dst, fieldErr(c.Type(), "command object", err)
	}
	if b, err = appendValues(e, b, c.Args); err != nil {
		return dst, fieldErr(c.Type(), "arguments", err)
	}
	return b, nil
}

// Arg returns argument i (the values after the command object, from 0), or
// nil when there are fewer.
func (c Command) Arg(i int) amf0.Value {
	if i < 0 || i >= len(c.Args) {
		return nil
	}
	return c.Args[i]
}

// StringArg returns argument i as a string. Like the other typed getters it
// reads references as their targets and AMF 3 values as their AMF 0 form.
func (c Command) StringArg(i int) (string, bool) { return asString(c.Arg(i)) }

// NumberArg returns argument i as a number.
func (c Command) NumberArg(i int) (float64, bool) { return asNumber(c.Arg(i)) }

// BoolArg returns argument i as a boolean.
func (c Command) BoolArg(i int) (bool, bool) { return asBool(c.Arg(i), false) }

// ObjectArg returns the properties of argument i when it is an object, an
// ECMA array or a typed object.
func (c Command) ObjectArg(i int) (amf0.Object, bool) { return asObject(c.Arg(i)) }

// CommandObject returns the properties of the command object when it is an
// object, an ECMA array or a typed object.
func (c Command) CommandObject() (amf0.Object, bool) { return asObject(c.Object) }

// IsResult reports whether c is a _result response.
func (c Command) IsResult() bool { return c.Name == NameResult }

// IsError reports whether c is an _error response.
func (c Command) IsError() bool { return c.Name == NameError }

// NewResult returns the _result response to transaction tx: "_result", tx,
// props (the command object: for connect, the server's properties such as
// fmsVer; else nil), info (for connect an information object, see
// Status.Object; for createStream the stream ID). A nil info is written as
// null.
func NewResult(tx float64, props, info amf0.Value) Command {
	return Command{Name: NameResult, TransactionID: tx, Object: props, Args: []amf0.Value{info}}
}

// NewErrorResult returns the _error response to transaction tx, laid out as
// NewResult's.
func NewErrorResult(tx float64, props, info amf0.Value) Command {
	return Command{Name: NameError, TransactionID: tx, Object: props, Args: []amf0.Value{info}}
}

// NewCreateStreamResult returns the _result response to createStream
// (§7.2.1.3): "_result", tx, null, stream ID.
func NewCreateStreamResult(tx float64, streamID uint32) Command {
	return NewResult(tx, nil, float64(streamID))
}

// ResultStreamID returns the stream ID of a createStream _result: its first
// argument, when it is an integer in the uint32 range.
func (c Command) ResultStreamID() (uint32, bool) {
	if !c.IsResult() {
		return 0, false
	}
	return asUint32(c.Arg(0))
}
