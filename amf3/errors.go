package amf3

import (
	"errors"
	"fmt"
	"io"
)

// Sentinel errors. Decode and Append wrap them with the layer, the offset and
// the values involved; test for them with errors.Is. Package amf0 re-exports
// the same values, so one errors.Is check covers AMF 0 and the AMF 3 values
// nested in it.
var (
	// ErrTruncated reports input that ends inside a value. It wraps
	// io.ErrUnexpectedEOF.
	ErrTruncated = fmt.Errorf("amf: truncated input: %w", io.ErrUnexpectedEOF)
	// ErrDepth reports containers nested deeper than MaxDepth.
	ErrDepth = errors.New("amf: nesting too deep")
	// ErrTooMany reports more items (elements, properties, members, entries)
	// in one message than MaxItems allows.
	ErrTooMany = errors.New("amf: too many items")
	// ErrBadReference reports a reference to a table index that does not
	// exist yet, or to an entry of another kind than the marker announces.
	ErrBadReference = errors.New("amf: bad reference")
	// ErrUnknownMarker reports a type marker that the format does not define.
	ErrUnknownMarker = errors.New("amf: unknown type marker")
	// ErrSyntax reports bytes that break the grammar in another way, such
	// as an AMF 0 object-end marker where a value must be.
	ErrSyntax = errors.New("amf: malformed value")
	// ErrNoExternalHandler reports an externalizable class with no
	// registered ExternalHandler. The error is an *ExternalizableError.
	ErrNoExternalHandler = errors.New("amf: no handler for externalizable class")
	// ErrUnsupportedType reports a Go value that the encoder cannot map to a
	// type of the format.
	ErrUnsupportedType = errors.New("amf: unsupported Go type")
	// ErrInvalid reports a value that the encoder cannot write as given, such
	// as an Object whose sealed values do not match its traits.
	ErrInvalid = errors.New("amf: invalid value")
	// ErrTooLarge reports a length that does not fit the wire field that
	// carries it.
	ErrTooLarge = errors.New("amf: value too large to encode")
)

// ExternalizableError reports an externalizable object (§3.12, U29O-traits-ext)
// whose class has no ExternalHandler registered. Its body has a length only
// the class knows, so the rest of the message cannot be read.
type ExternalizableError struct {
	ClassName string
}

func (e *ExternalizableError) Error() string {
	return fmt.Sprintf("externalizable class %q has no handler", e.ClassName)
}

// Unwrap returns ErrNoExternalHandler.
func (e *ExternalizableError) Unwrap() error { return ErrNoExternalHandler }
