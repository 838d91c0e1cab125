package amf0

import (
	"errors"

	"github.com/ertmp/rtmp/amf3"
)

// Sentinel errors. They are the same values as package amf3's, so one
// errors.Is check covers AMF 0 and the AMF 3 values nested in it. Decode and
// Append wrap them with the layer, the offset and the values involved.
var (
	// ErrTruncated reports input that ends inside a value. It wraps
	// io.ErrUnexpectedEOF.
	ErrTruncated = amf3.ErrTruncated
	// ErrDepth reports containers nested deeper than MaxDepth.
	ErrDepth = amf3.ErrDepth
	// ErrTooMany reports more properties or elements in one message than
	// MaxItems allows.
	ErrTooMany = amf3.ErrTooMany
	// ErrBadReference reports a reference (§2.9) to a complex value that
	// has not started yet, or, on encode, beyond the complex values written.
	ErrBadReference = amf3.ErrBadReference
	// ErrUnknownMarker reports a type marker that the format does not define.
	ErrUnknownMarker = amf3.ErrUnknownMarker
	// ErrSyntax reports an object-end marker (§2.11) where a value must be.
	ErrSyntax = amf3.ErrSyntax
	// ErrNoExternalHandler reports an AMF 3 externalizable object with no
	// handler (see Decoder.AMF3).
	ErrNoExternalHandler = amf3.ErrNoExternalHandler
	// ErrUnsupportedType reports a Go value with no AMF 0 form.
	ErrUnsupportedType = amf3.ErrUnsupportedType
	// ErrTooLarge reports a length that does not fit the wire field that
	// carries it, such as a property name of 65536 bytes or more.
	ErrTooLarge = amf3.ErrTooLarge
)

// ErrReservedMarker reports the movieclip (§2.6) and recordset (§2.16)
// markers, which are "reserved, not supported".
var ErrReservedMarker = errors.New("amf: reserved type marker")
