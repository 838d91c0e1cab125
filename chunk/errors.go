package chunk

import (
	"errors"
	"fmt"
)

// Sentinel errors. The Reader and Writer wrap them with the chunk stream ID,
// as in "chunk: csid 4: too many chunk streams"; test with errors.Is.
// Every Reader error except one at a chunk boundary is connection-fatal.
var (
	// ErrMessageTooLarge: a message header declared a length above the
	// configured limit. The concrete error is a *MessageTooLargeError.
	ErrMessageTooLarge = errors.New("message too large")
	// ErrTooManyStreams: the peer used more distinct chunk stream IDs than
	// ReaderConfig.MaxStreams allows.
	ErrTooManyStreams = errors.New("too many chunk streams")
	// ErrBufferLimit: the partial messages of all chunk streams together
	// would need more memory than ReaderConfig.MaxBuffered allows.
	ErrBufferLimit = errors.New("partial messages exceed buffer limit")
	// ErrBudget: the memory budget shared by many Readers
	// (ReaderConfig.Budget, a server's) refused the buffer of a large
	// message.
	ErrBudget = errors.New("memory budget exhausted")
	// ErrNoPreviousHeader: a type 2 or 3 chunk arrived on a chunk stream that
	// has had no type 0 chunk; §5.3.1.2.1 says type 0 "MUST be used at the
	// start of a chunk stream".
	ErrNoPreviousHeader = errors.New("chunk stream starts without a type 0 header")
	// ErrHeaderMidMessage: a type 0, 1 or 2 chunk arrived on a chunk stream
	// whose previous message is incomplete. §5.3.1.2.4 says continuation
	// chunks use type 3; a new header there means a corrupt or hostile peer.
	ErrHeaderMidMessage = errors.New("new message header before the previous message is complete")
	// ErrInvalidChunkSize: a chunk size of 0, or above the configured ceiling.
	ErrInvalidChunkSize = errors.New("invalid chunk size")
	// ErrInvalidCSID: a chunk stream ID outside MinCSID..MaxCSID was given to
	// a Writer or to Encode.
	ErrInvalidCSID = errors.New("invalid chunk stream id")
	// ErrChunkSizeMismatch: a Prepared message was chunked at a size other
	// than the Writer's and does not fit in one chunk of either.
	ErrChunkSizeMismatch = errors.New("prepared message chunk size differs from writer chunk size")
)

// MessageTooLargeError reports a message length above a limit. It matches
// ErrMessageTooLarge with errors.Is.
type MessageTooLargeError struct {
	Length uint32 // the declared (or given) message length
	Max    uint32 // the limit it exceeds
}

func (e *MessageTooLargeError) Error() string {
	return fmt.Sprintf("message length %d exceeds limit %d", e.Length, e.Max)
}

// Unwrap returns ErrMessageTooLarge.
func (e *MessageTooLargeError) Unwrap() error { return ErrMessageTooLarge }

func csidError(csid uint32, err error) error {
	return fmt.Errorf("chunk: csid %d: %w", csid, err)
}
