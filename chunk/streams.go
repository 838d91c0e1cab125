package chunk

import (
	"errors"
	"fmt"
	"strconv"
)

// ControlCSID is the chunk stream of protocol control messages (§5.4: they
// "MUST have message stream ID 0 (known as the control stream) and be sent
// in chunk stream ID 2") and of user control messages (§6.2, which SHOULD
// follow the same rule).
const ControlCSID = 2

// MaxStreamID is the largest message stream ID the three bytes of §6.1.1's
// message header hold. The chunk header carries the ID in four bytes
// (§5.3.1.2.1), so a peer can send more.
const MaxStreamID = 0xFFFFFF

// StreamKind classifies a message stream ID.
type StreamKind uint8

// Message stream kinds.
const (
	// ControlStream is message stream 0, "the control stream" (§5.4): the
	// protocol and user control messages and the NetConnection commands
	// (connect, createStream, call, _result, _error).
	ControlStream StreamKind = iota
	// NetStream is an ID from 1 to MaxStreamID, a stream createStream made
	// (§7.2.1.3): audio, video, data and the NetStream commands.
	NetStream
	// ReservedStream is an ID above MaxStreamID, outside §6.1.1's three
	// bytes. A peer that writes the chunk header's little-endian ID
	// big-endian sends stream 1 as 0x01000000.
	ReservedStream
)

// KindOf classifies a message stream ID.
func KindOf(streamID uint32) StreamKind {
	switch {
	case streamID == 0:
		return ControlStream
	case streamID <= MaxStreamID:
		return NetStream
	}
	return ReservedStream
}

func (k StreamKind) String() string {
	switch k {
	case ControlStream:
		return "control"
	case NetStream:
		return "netstream"
	case ReservedStream:
		return "reserved"
	}
	return "streamkind(" + strconv.Itoa(int(k)) + ")"
}

// Errors of CheckIDs; the concrete error is a *StreamError.
var (
	// ErrControlStream: a control message (types 1 to 6) off message
	// stream 0 or chunk stream 2.
	ErrControlStream = errors.New("control message off the control streams")
	// ErrReservedStreamID: a message stream ID above MaxStreamID.
	ErrReservedStreamID = errors.New("message stream id above 0xFFFFFF")
)

// StreamError reports a message whose chunk stream ID or message stream ID
// breaks the rule of its type. It matches its Err with errors.Is.
type StreamError struct {
	CSID     uint32
	TypeID   uint8
	StreamID uint32
	Err      error // ErrControlStream or ErrReservedStreamID
}

func (e *StreamError) Error() string {
	return fmt.Sprintf("chunk: csid %d: type %d on message stream %d: %v", e.CSID, e.TypeID, e.StreamID, e.Err)
}

// Unwrap returns e.Err.
func (e *StreamError) Unwrap() error { return e.Err }

// CheckIDs checks the chunk stream ID and the message stream ID a message
// travels with against its type (h.TypeID):
//
//   - types 1 to 6, the protocol control messages of §5.4 and the user
//     control message of §6.2, belong on message stream 0 and chunk stream
//     2 (ControlCSID); else ErrControlStream;
//   - every message stream ID fits §6.1.1's three bytes; else
//     ErrReservedStreamID.
//
// Reader and Writer do not enforce these rules (real peers break them, and
// Writer users choose their chunk streams); a connection that wants to be
// strict calls CheckIDs on what it reads or before it writes.
func CheckIDs(csid uint32, h Header) error {
	switch {
	case h.StreamID > MaxStreamID:
		return &StreamError{CSID: csid, TypeID: h.TypeID, StreamID: h.StreamID, Err: ErrReservedStreamID}
	case h.TypeID >= 1 && h.TypeID <= 6 && (h.StreamID != 0 || csid != ControlCSID):
		return &StreamError{CSID: csid, TypeID: h.TypeID, StreamID: h.StreamID, Err: ErrControlStream}
	}
	return nil
}
