package flv

import (
	"errors"
	"io"
)

// Errors callers may branch on. Truncation is reported as an error that
// matches io.ErrUnexpectedEOF with errors.Is.
var (
	// ErrNestedMultitrack: a Multitrack packet announced Multitrack again for
	// its tracks, which the spec forbids ("This fetch MUST not result in a
	// ...PacketType.Multitrack").
	ErrNestedMultitrack = errors.New("flv: multitrack packet type inside a multitrack tag")
	// ErrTagTooLarge: a tag's DataSize exceeds the reader's MaxTagSize.
	ErrTagTooLarge = errors.New("flv: tag too large")
	// ErrPrevTagSize: a PreviousTagSize field disagrees with the tag before it.
	ErrPrevTagSize = errors.New("flv: previous tag size mismatch")
	// ErrSignature: the file does not start with "FLV".
	ErrSignature = errors.New("flv: not an FLV file")
	// ErrVersion: a file header's version is not 1, the only one FLV 10.1
	// defines.
	ErrVersion = errors.New("flv: unknown file version")
	// ErrStreamID: a tag's StreamID is not 0 (FLV 10.1 §E.4.1: "Always 0").
	ErrStreamID = errors.New("flv: tag StreamID not 0")
	// ErrTrackTooLarge: a track does not fit the UI24 sizeOfTrack field.
	ErrTrackTooLarge = errors.New("flv: track larger than 16 MiB")
	// ErrTracks: tracks that cannot be joined into one tag, or a tag whose
	// tracks cannot be walked.
	ErrTracks = errors.New("flv: tracks")
)

// TruncatedError says which field ran past the end of the input.
type TruncatedError struct{ Field string }

func (e *TruncatedError) Error() string { return "flv: truncated " + e.Field }

// Unwrap lets errors.Is(err, io.ErrUnexpectedEOF) match.
func (e *TruncatedError) Unwrap() error { return io.ErrUnexpectedEOF }

func errTruncated(field string) error { return &TruncatedError{Field: field} }
