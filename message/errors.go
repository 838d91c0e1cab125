package message

import (
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Sentinel errors. Decoding and encoding wrap them in an *Error that names
// the message type and the field; test with errors.Is and errors.As.
var (
	// ErrTruncated: the payload ends inside a field, or a length read from
	// the wire claims more bytes than the payload holds. It wraps
	// io.ErrUnexpectedEOF, and every *Error caused by an unexpected end of
	// input, AMF values included, matches it.
	ErrTruncated = fmt.Errorf("message: truncated payload: %w", io.ErrUnexpectedEOF)
	// ErrReservedBit: a Set Chunk Size payload has its top bit set, which
	// §5.4.1 says "MUST be zero". See UnmarshalSetChunkSize.
	ErrReservedBit = errors.New("message: reserved bit set")
	// ErrInvalid: a field holds a value its definition rules out, such as a
	// chunk size of 0 (§5.4.1: "MUST be at least 1 byte").
	ErrInvalid = errors.New("message: invalid value")
	// ErrTooLarge: on encode, a value does not fit the wire field that
	// carries it, such as a sub-message of 16 MiB in an aggregate.
	ErrTooLarge = errors.New("message: value too large for its field")
	// ErrFormatSelector: a type 15, 16 or 17 payload starts with a format
	// selector other than 0. The error is a *FormatSelectorError.
	ErrFormatSelector = errors.New("message: unknown AMF format selector")
	// ErrBackPointer: an aggregate sub-message is followed by a back-pointer
	// other than its size plus 11. The error is a *BackPointerError.
	ErrBackPointer = errors.New("message: aggregate back-pointer mismatch")
	// ErrMalformed: the values of a command do not start with a name
	// string and a transaction ID number (§7.1.1).
	ErrMalformed = errors.New("message: malformed command")
	// ErrWrongCommand: a Parse function was given a command of another name.
	ErrWrongCommand = errors.New("message: wrong command name")
	// ErrArgument: a command lacks an argument its definition requires, or
	// has one of the wrong AMF type.
	ErrArgument = errors.New("message: missing or mistyped command argument")
)

// Error reports a failure to decode or encode one field of a message.
type Error struct {
	Type  Type   // the message type
	Field string // the field, as the spec names it
	Err   error  // the cause: a sentinel above, an AMF error, or a typed error
}

func (e *Error) Error() string {
	return "message: " + e.Type.String() + ": " + e.Field + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Is makes every *Error caused by an unexpected end of input match
// ErrTruncated, whichever layer (this package, amf0, amf3) noticed it.
func (e *Error) Is(target error) bool {
	return target == ErrTruncated && errors.Is(e.Err, io.ErrUnexpectedEOF)
}

// FormatSelectorError reports the format selector byte that starts a type
// 15, 16 or 17 payload when it is not 0. Enhanced RTMP v2 ("Important
// AMF3-encoded Historical Specification Clarification"): "Currently, only
// format 0 is defined to indicate AMF0-encoded values."
type FormatSelectorError struct {
	Type     Type
	Selector byte
}

func (e *FormatSelectorError) Error() string {
	return "message: " + e.Type.String() + ": format selector " + strconv.Itoa(int(e.Selector)) + ", only 0 (AMF0) is defined"
}

// Unwrap returns ErrFormatSelector.
func (e *FormatSelectorError) Unwrap() error { return ErrFormatSelector }

// BackPointerError reports an aggregate sub-message whose back-pointer
// (§7.1.6, "the size of the previous message including its header") is not
// 11 plus its payload size.
type BackPointerError struct {
	Index  int    // sub-message index, from 0
	Offset int    // offset of the back-pointer in the aggregate payload
	Got    uint32 // back-pointer on the wire
	Want   uint32 // 11 + payload size
}

func (e *BackPointerError) Error() string {
	return fmt.Sprintf("message: Aggregate: sub-message %d: back-pointer %d at offset %d, want %d", e.Index, e.Got, e.Offset, e.Want)
}

// Unwrap returns ErrBackPointer.
func (e *BackPointerError) Unwrap() error { return ErrBackPointer }

func fieldErr(t Type, field string, err error) error {
	return &Error{Type: t, Field: field, Err: err}
}

func truncated(t Type, field string) error {
	return &Error{Type: t, Field: field, Err: ErrTruncated}
}
