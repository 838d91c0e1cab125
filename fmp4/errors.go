package fmp4

import "errors"

// Errors that callers can branch on with errors.Is. Truncated input gives an
// error wrapping io.ErrUnexpectedEOF instead; a codec configuration that
// codecinfo rejects gives one wrapping both ErrInvalid (or ErrUnsupported)
// and codecinfo's error.
var (
	// ErrInvalid marks input that breaks its specification: a malformed box,
	// decoder configuration or frame header, or a negative time.
	ErrInvalid = errors.New("invalid data")
	// ErrUnsupported marks a codec this package does not write.
	ErrUnsupported = errors.New("unsupported")
	// ErrNeedFrame is returned by NewTrack for a codec whose sample entry
	// needs the first coded frame (the picture size of vp09, the whole
	// configuration of ac-3, ec-3 and .mp3) when none was given.
	ErrNeedFrame = errors.New("needs the first frame")
	// ErrDecodeOrder is returned by Track.Add for a sample whose decode time
	// is before the previous sample's.
	ErrDecodeOrder = errors.New("decode time goes backwards")
	// ErrTooLarge is returned when a fragment would exceed MaxFragmentSamples
	// or MaxFragmentBytes, or a time does not fit its field.
	ErrTooLarge = errors.New("too large")
)
