package chunk

import "encoding/binary"

// Limits and defaults taken from the spec.
const (
	// MinCSID is the smallest chunk stream ID on the wire. IDs 0 and 1 are
	// the markers of the 2- and 3-byte basic headers (§5.3.1.1); 2 is the
	// protocol control chunk stream (§5.4).
	MinCSID = 2
	// MaxCSID is the largest chunk stream ID the 3-byte basic header can hold
	// (§5.3.1.1).
	MaxCSID = 65599

	// DefaultChunkSize is the maximum chunk size each direction starts with
	// (§5.4.1).
	DefaultChunkSize = 128
	// MaxChunkSize is the largest value Set Chunk Size may carry (§5.4.1).
	MaxChunkSize = 0x7FFFFFFF

	// MaxMessageLength is the largest message the 24-bit length field of a
	// chunk message header can describe (§5.3.1.2.1).
	MaxMessageLength = 0xFFFFFF
)

// extendedTimestamp in a 24-bit timestamp or delta field means that a 4-byte
// Extended Timestamp follows the message header (§5.3.1.3).
const extendedTimestamp = 0xFFFFFF

// maxHeaderLen is the longest chunk header: 3-byte basic header, 11-byte
// type-0 message header, 4-byte extended timestamp.
const maxHeaderLen = 3 + 11 + 4

// Header is the message header of §6.1.1 minus the length, which is the
// length of the payload it travels with.
type Header struct {
	// Timestamp is the absolute message timestamp in milliseconds. It wraps
	// past 2^32; callers that need a monotonic clock unwrap it with an
	// Unwrapper.
	Timestamp uint32
	// TypeID is the message type ID (§6.1.1); 1-6 are protocol control.
	TypeID uint8
	// StreamID is the message stream ID; 0 is the control stream (see
	// KindOf and CheckIDs).
	StreamID uint32
}

// Message is one RTMP message (§6.1) and the chunk stream it travels on.
type Message struct {
	// CSID is the chunk stream ID, MinCSID to MaxCSID.
	CSID uint32
	Header
	// Payload is the message body. See Reader.ReadMessage for how long a
	// payload returned by a Reader stays valid.
	Payload []byte
}

// Chunk basic header (§5.3.1.1); the smallest form that holds the ID is used,
// as the spec says an implementation SHOULD:
//
//	 0 1 2 3 4 5 6 7
//	+-+-+-+-+-+-+-+-+
//	|fmt|   cs id   |                                  cs id 2-63
//	+-+-+-+-+-+-+-+-+
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|fmt|     0     |  cs id - 64   |                  cs id 64-319
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|fmt|     1     |   (cs id - 64), low byte first   |   cs id 64-65599
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
func appendBasicHeader(b []byte, format uint8, csid uint32) []byte {
	switch {
	case csid < 64:
		return append(b, format<<6|uint8(csid))
	case csid < 320:
		return append(b, format<<6, uint8(csid-64))
	default:
		id := csid - 64
		return append(b, format<<6|1, uint8(id), uint8(id>>8))
	}
}

func basicHeaderLen(csid uint32) int {
	switch {
	case csid < 64:
		return 1
	case csid < 320:
		return 2
	default:
		return 3
	}
}

// Chunk message header, type 0 (§5.3.1.2.1); types 1 and 2 are prefixes of
// it (7 and 3 bytes), type 3 is empty:
//
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      timestamp (or delta), 24 bits BE       | message length  |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	| message length (cont), 24 bits BE | type id | msg stream id   |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|      message stream id (cont), 32 bits LITTLE endian          |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|  extended timestamp, 32 bits BE, iff the 24-bit field is      |
//	|  0xFFFFFF (and on type-3 chunks that follow such a header)    |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//
// appendChunkHeader appends a chunk header of the given format. t is the
// timestamp (format 0) or timestamp delta (formats 1 to 3); for format 3 it
// is the value the extended timestamp repeats, written iff t >= 0xFFFFFF.
func appendChunkHeader(b []byte, format uint8, csid, t, length uint32, typeID uint8, streamID uint32) []byte {
	b = appendBasicHeader(b, format, csid)
	ext := t >= extendedTimestamp
	if format < 3 {
		field := t
		if ext {
			field = extendedTimestamp
		}
		b = append(b, uint8(field>>16), uint8(field>>8), uint8(field))
		if format < 2 {
			b = append(b, uint8(length>>16), uint8(length>>8), uint8(length), typeID)
			if format == 0 {
				b = binary.LittleEndian.AppendUint32(b, streamID)
			}
		}
	}
	if ext {
		b = binary.BigEndian.AppendUint32(b, t)
	}
	return b
}

func validCSID(csid uint32) bool {
	return csid >= MinCSID && csid <= MaxCSID
}
