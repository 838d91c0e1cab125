// Package amf0 encodes and decodes AMF 0, the Action Message Format of
// ActionScript 1.0 and 2.0 (Adobe, "AMF 0 Specification"; section numbers in
// this package refer to it), in which RTMP writes its commands (message
// type 20) and data messages such as onMetaData (type 18). Values after the
// avmplus marker (§3.1) are AMF 3 and are decoded with package amf3.
//
// The package does no I/O: Decode and DecodeAll read from a []byte, Append
// and AppendAll append to one. The payload of an RTMP command or data
// message is a sequence of values: read it with DecodeAll, write it with
// AppendAll.
//
// # Values
//
// A Value is an any holding one of these Go types:
//
//	AMF 0 type (marker)          Go type
//	number (0x00)        §2.2    float64
//	boolean (0x01)       §2.3    bool
//	string (0x02)        §2.4    string
//	object (0x03)        §2.5    Object ([]Property: order and duplicates kept)
//	movieclip (0x04)     §2.6    reserved: decoding fails with ErrReservedMarker
//	null (0x05)          §2.7    nil
//	undefined (0x06)     §2.8    Undefined
//	reference (0x07)     §2.9    Reference (index and resolved target)
//	ECMA array (0x08)    §2.10   ECMAArray (declared count kept apart)
//	object end (0x09)    §2.11   ends objects; elsewhere ErrSyntax
//	strict array (0x0A)  §2.12   StrictArray ([]Value)
//	date (0x0B)          §2.13   Date (milliseconds and time zone)
//	long string (0x0C)   §2.14   LongString
//	unsupported (0x0D)   §2.15   Unsupported
//	recordset (0x0E)     §2.16   reserved: decoding fails with ErrReservedMarker
//	XML document (0x0F)  §2.17   XMLDocument
//	typed object (0x10)  §2.18   TypedObject
//	avmplus (0x11)       §3.1    AMF3 (an amf3.Value)
//
// All are value types: Object, ECMAArray, StrictArray and TypedObject are
// slices or structs holding slices, so copying one shares its elements.
// Append also takes Go integers, float32, []Value, []string, []Property,
// map[string]Value, time.Time and pointers to the object types; see
// Encoder.Append. A string is written as a string up to 65535 bytes and as a
// long string from 65536 bytes on.
//
// Object, ECMAArray and TypedObject have Get and Set, and typed getters
// (GetString, GetNumber, GetBool, GetObject, GetArray) that see through
// References and AMF3 values and accept LongString as a string and
// ECMAArray or TypedObject as an object.
//
// Decoded values never alias the input: strings are copied (the common
// command and metadata names are shared constants).
//
// # Round trips
//
// Decoding keeps every choice an encoder makes, so that a relayed message
// re-encodes to the same bytes: long strings stay long (LongString), the
// associative-count of an ECMA array stays as written even when it does not
// match the properties (FFmpeg writes an estimate when it cannot seek back),
// the reserved time zone of a date is kept, references stay references, and
// property order and duplicates are kept. Two forms are not kept: a boolean
// byte other than 0 and 1 re-encodes as 1, and AMF 3 values follow the rules
// of package amf3 (inputs from a conforming AMF 3 encoder do round-trip).
//
// # References
//
// A reference (§2.9) points to a complex value (object, typed object, ECMA
// array, strict array) of the same message by the order in which it
// started, counting from 0. The Decoder resolves it into Reference.Target;
// a reference to a value that is still open, that is to a value enclosing
// the reference (a cycle), gets a nil Target, so no Go value is cyclic and
// nothing walks forever. A reference to a value that has not started yet is
// an error (ErrBadReference). Append writes a Reference's Index, checked
// against the complex values written so far, and never creates references.
//
// # AMF 3
//
// The AMF 3 reference tables (strings, objects, traits) of the values after
// avmplus markers persist for the whole message, across the values of a
// DecodeAll or AppendAll, as for the AMF 0 reference table; Reset (and
// DecodeAll) start a new message, as AMF 3 §4.1 requires for each message.
// Register AMF 3 externalizable classes with Decoder.AMF3 and Encoder.AMF3.
// FromAMF3 converts an AMF 3 value to the AMF 0 types above; its
// documentation lists the rules.
//
// # Limits
//
// Every length and count read from the wire is checked against the bytes
// left before anything is allocated for it (an element takes at least one
// byte), so a strict array claiming 2^32-1 elements in ten bytes fails at
// once. Decoder.MaxDepth (DefaultMaxDepth, 64) bounds nesting, AMF 3 values
// included; Decoder.MaxItems (DefaultMaxItems, 1<<20) bounds the properties
// and elements of a message, and the AMF 3 values of the message have a
// budget of the same size. The reference table holds the first 65536
// complex values, all that a U16 index can reach.
//
// # Errors
//
// Errors wrap the sentinels ErrTruncated (which wraps io.ErrUnexpectedEOF),
// ErrDepth, ErrTooMany, ErrBadReference, ErrUnknownMarker,
// ErrReservedMarker, ErrSyntax and ErrNoExternalHandler on decode, and
// ErrUnsupportedType, ErrTooLarge, ErrBadReference and ErrDepth on encode.
// They are the sentinels of package amf3, so errors.Is works for both.
// No input makes the decoder panic.
package amf0
