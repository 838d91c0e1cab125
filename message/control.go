package message

import (
	"encoding/binary"
	"strconv"
)

// Protocol control messages (§5.4). Their payloads are fixed-size; bytes
// after the defined fields are ignored on decode and not written on encode.

// MaxChunkSize is the largest chunk size Set Chunk Size can carry: "Valid
// sizes are 1 to 2147483647 (0x7FFFFFFF) inclusive" (§5.4.1).
const MaxChunkSize = 0x7FFFFFFF

// SetChunkSize is protocol control message 1 (§5.4.1): the maximum chunk
// size the sender uses from now on.
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|0|                     chunk size (31 bits)                    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type SetChunkSize struct {
	Size uint32 // 1 to MaxChunkSize
}

// UnmarshalSetChunkSize decodes a Set Chunk Size payload.
//
// §5.4.1 says the top bit "MUST be zero". When it is set the result holds
// the size with the bit cleared and the error wraps ErrReservedBit: a strict
// peer closes the connection, a lenient one uses the masked size. A size of
// 0 (§5.4.1: "MUST be at least 1 byte") fails with ErrInvalid and a zero
// result.
func UnmarshalSetChunkSize(b []byte) (SetChunkSize, error) {
	if len(b) < 4 {
		return SetChunkSize{}, truncated(TypeSetChunkSize, "chunk size")
	}
	v := binary.BigEndian.Uint32(b)
	size := v & MaxChunkSize
	if size == 0 {
		return SetChunkSize{}, fieldErr(TypeSetChunkSize, "chunk size", ErrInvalid)
	}
	if v != size {
		return SetChunkSize{Size: size}, fieldErr(TypeSetChunkSize, "reserved bit", ErrReservedBit)
	}
	return SetChunkSize{Size: size}, nil
}

// Type returns TypeSetChunkSize.
func (SetChunkSize) Type() Type { return TypeSetChunkSize }

// AppendPayload appends the 4-byte payload. Sizes of 0 and above
// MaxChunkSize fail with ErrInvalid.
func (m SetChunkSize) AppendPayload(dst []byte) ([]byte, error) {
	if m.Size == 0 || m.Size > MaxChunkSize {
		return dst, fieldErr(TypeSetChunkSize, "chunk size", ErrInvalid)
	}
	return binary.BigEndian.AppendUint32(dst, m.Size), nil
}

// Abort is protocol control message 2 (§5.4.2): discard the partly received
// message of chunk stream CSID.
type Abort struct {
	CSID uint32
}

// UnmarshalAbort decodes an Abort Message payload.
func UnmarshalAbort(b []byte) (Abort, error) {
	if len(b) < 4 {
		return Abort{}, truncated(TypeAbort, "chunk stream id")
	}
	return Abort{CSID: binary.BigEndian.Uint32(b)}, nil
}

// Type returns TypeAbort.
func (Abort) Type() Type { return TypeAbort }

// AppendPayload appends the 4-byte payload.
func (m Abort) AppendPayload(dst []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, m.CSID), nil
}

// Acknowledgement is protocol control message 3 (§5.4.3): the number of
// bytes received so far.
type Acknowledgement struct {
	SequenceNumber uint32
}

// UnmarshalAcknowledgement decodes an Acknowledgement payload.
func UnmarshalAcknowledgement(b []byte) (Acknowledgement, error) {
	if len(b) < 4 {
		return Acknowledgement{}, truncated(TypeAcknowledgement, "sequence number")
	}
	return Acknowledgement{SequenceNumber: binary.BigEndian.Uint32(b)}, nil
}

// Type returns TypeAcknowledgement.
func (Acknowledgement) Type() Type { return TypeAcknowledgement }

// AppendPayload appends the 4-byte payload.
func (m Acknowledgement) AppendPayload(dst []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, m.SequenceNumber), nil
}

// WindowAckSize is protocol control message 5 (§5.4.4): the receiver "MUST
// send an Acknowledgement ... after receiving the indicated number of bytes
// since the last Acknowledgement".
type WindowAckSize struct {
	Size uint32
}

// UnmarshalWindowAckSize decodes a Window Acknowledgement Size payload.
func UnmarshalWindowAckSize(b []byte) (WindowAckSize, error) {
	if len(b) < 4 {
		return WindowAckSize{}, truncated(TypeWindowAckSize, "acknowledgement window size")
	}
	return WindowAckSize{Size: binary.BigEndian.Uint32(b)}, nil
}

// Type returns TypeWindowAckSize.
func (WindowAckSize) Type() Type { return TypeWindowAckSize }

// AppendPayload appends the 4-byte payload.
func (m WindowAckSize) AppendPayload(dst []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint32(dst, m.Size), nil
}

// LimitType is the limit type of Set Peer Bandwidth (§5.4.5).
type LimitType uint8

// The limit types of §5.4.5.
const (
	// LimitHard: "The peer SHOULD limit its output bandwidth to the
	// indicated window size."
	LimitHard LimitType = 0
	// LimitSoft: limit to "the window indicated in this message or the
	// limit already in effect, whichever is smaller".
	LimitSoft LimitType = 1
	// LimitDynamic: "If the previous Limit Type was Hard, treat this
	// message as though it was marked Hard, otherwise ignore this message."
	LimitDynamic LimitType = 2
)

func (l LimitType) String() string {
	switch l {
	case LimitHard:
		return "Hard"
	case LimitSoft:
		return "Soft"
	case LimitDynamic:
		return "Dynamic"
	}
	return "LimitType(" + strconv.Itoa(int(l)) + ")"
}

// SetPeerBandwidth is protocol control message 6 (§5.4.5): limit the
// receiver's unacknowledged output to Size bytes, under the Limit rule.
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|                  Acknowledgement Window size                  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  Limit Type   |
//	+-+-+-+-+-+-+-+-+
type SetPeerBandwidth struct {
	Size  uint32
	Limit LimitType // any byte is kept; ApplyPeerBandwidth ignores unknown types
}

// UnmarshalSetPeerBandwidth decodes a Set Peer Bandwidth payload. Both fields
// are required: a 4-byte payload fails with ErrTruncated.
func UnmarshalSetPeerBandwidth(b []byte) (SetPeerBandwidth, error) {
	if len(b) < 4 {
		return SetPeerBandwidth{}, truncated(TypeSetPeerBandwidth, "acknowledgement window size")
	}
	if len(b) < 5 {
		return SetPeerBandwidth{}, truncated(TypeSetPeerBandwidth, "limit type")
	}
	return SetPeerBandwidth{Size: binary.BigEndian.Uint32(b), Limit: LimitType(b[4])}, nil
}

// Type returns TypeSetPeerBandwidth.
func (SetPeerBandwidth) Type() Type { return TypeSetPeerBandwidth }

// AppendPayload appends the 5-byte payload.
func (m SetPeerBandwidth) AppendPayload(dst []byte) ([]byte, error) {
	return append(binary.BigEndian.AppendUint32(dst, m.Size), byte(m.Limit)), nil
}

// ApplyPeerBandwidth applies the rule of §5.4.5 to a received Set Peer
// Bandwidth. cur and curLimit are the limit in effect and the limit type of
// the message that set it; haveCur is false before the first one. It
// returns the new limit, the new limit type, and changed = true when the
// size in effect changed (always for the first message not ignored).
//
//   - Hard: the message's size, limit type Hard.
//   - Soft: the smaller of the message's size and cur (the message's size
//     when there is none yet), limit type Soft.
//   - Dynamic: as Hard when curLimit is Hard, else ignored. With no limit
//     yet in effect there is no previous Hard limit, so it is ignored.
//   - Other limit types are ignored.
//
// An ignored message returns cur, curLimit, false. Otherwise newLimit is
// the message's limit type (Dynamic resolved to Hard) even when the size
// stays, because Dynamic looks at "the previous Limit Type".
//
// §5.4.5 also says the receiver "SHOULD respond with a Window
// Acknowledgement Size message if the window size is different from the
// last one sent to the sender of this message". That compares newSize with
// the Window Acknowledgement Size the connection last sent to this peer,
// which only the connection knows: when they differ, it sends
// WindowAckSize{newSize}. changed alone is not the test, since the window
// the connection sent need not equal the limit it received.
func ApplyPeerBandwidth(cur uint32, curLimit LimitType, haveCur bool, msg SetPeerBandwidth) (newSize uint32, newLimit LimitType, changed bool) {
	switch msg.Limit {
	case LimitHard:
		return msg.Size, LimitHard, !haveCur || msg.Size != cur
	case LimitSoft:
		if haveCur && cur <= msg.Size {
			return cur, LimitSoft, false
		}
		return msg.Size, LimitSoft, true
	case LimitDynamic:
		if haveCur && curLimit == LimitHard {
			return msg.Size, LimitHard, msg.Size != cur
		}
	}
	return cur, curLimit, false
}
