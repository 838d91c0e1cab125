package message

import (
	"encoding/binary"
	"strconv"
)

// Aggregate is an aggregate message (§7.1.6): a series of sub-messages,
// each an RTMP message header, its payload and a back-pointer, the layout
// of FLV tags:
//
//	+--------+-------+---------+--------+-------+---------+ - - - -
//	|Header 0|Message|Back     |Header 1|Message|Back     |
//	|        |Data 0 |Pointer 0|        |Data 1 |Pointer 1|
//	+--------+-------+---------+--------+-------+---------+ - - - -
//
//	header (11 bytes): type (1), payload size (3), timestamp (3, low
//	bits), timestamp extended (1, high bits), stream ID (3)
//	back-pointer (4): header + payload size = 11 + size
//
// Decode returns it aliasing the payload and checks nothing; read the
// sub-messages with Split or an AggregateIterator, and build a payload with
// AppendAggregate.
type Aggregate struct {
	Payload []byte
}

// Type returns TypeAggregate.
func (Aggregate) Type() Type { return TypeAggregate }

// AppendPayload appends a.Payload.
func (a Aggregate) AppendPayload(dst []byte) ([]byte, error) { return append(dst, a.Payload...), nil }

// SubMessageHeaderLen is the size of a sub-message header (the FLV tag
// header), and BackPointerLen that of a back-pointer.
const (
	SubMessageHeaderLen = 11
	BackPointerLen      = 4
)

// maxUint24 is the largest value of the 3-byte size and stream ID fields.
const maxUint24 = 1<<24 - 1

// SubMessage is one message of an aggregate.
type SubMessage struct {
	Type Type
	// Timestamp is the sub-message's timestamp renormalized to the stream
	// (see AggregateIterator).
	Timestamp uint32
	// StreamID is the stream ID of the sub-message header. "The message
	// stream ID of the aggregate message overrides the message stream IDs
	// of the sub-messages inside the aggregate" (§7.1.6): deliver the
	// sub-message on the aggregate's stream.
	StreamID uint32
	// Payload aliases the aggregate payload.
	Payload []byte
}

// AggregateIterator reads the sub-messages of an aggregate payload without
// allocating:
//
//	it := message.NewAggregateIterator(payload, timestamp)
//	for it.Next() {
//		sub := it.Message()
//		...
//	}
//	if err := it.Err(); err != nil { ... }
//
// Timestamps are renormalized as §7.1.6 says: "The difference between the
// timestamps of the aggregate message and the first sub-message is the
// offset used to renormalize the timestamps of the sub-messages to the
// stream timescale. The offset is added to each sub-message's timestamp".
// The arithmetic is modulo 2^32, so an offset that is negative, or a
// sub-message timestamp that wraps, comes out right.
//
// Every size is checked against the payload before use: a sub-message
// claiming more bytes than remain ends the iteration with ErrTruncated.
// A back-pointer other than 11 plus the payload size ends it with a
// *BackPointerError, unless IgnoreBackPointers is set.
//
// An AggregateIterator belongs to one goroutine.
type AggregateIterator struct {
	// IgnoreBackPointers accepts back-pointers of any value, and a last
	// sub-message with no back-pointer. Some servers have written the
	// payload size alone, or nothing, as back-pointer; the back-pointer is
	// only there "to match the format of FLV file and is used for backward
	// seek", so nothing is lost by ignoring it.
	IgnoreBackPointers bool

	payload   []byte
	timestamp uint32 // of the aggregate message
	off       int
	index     int
	delta     uint32
	cur       SubMessage
	err       error
}

// NewAggregateIterator returns an iterator over the sub-messages of an
// aggregate payload; timestamp is the aggregate message's own timestamp.
func NewAggregateIterator(payload []byte, timestamp uint32) AggregateIterator {
	return AggregateIterator{payload: payload, timestamp: timestamp}
}

// Next reads the next sub-message and reports whether there is one. It
// returns false at the end of the payload and on error; see Err.
func (it *AggregateIterator) Next() bool {
	if it.err != nil || it.off >= len(it.payload) {
		return false
	}
	b := it.payload[it.off:]
	if len(b) < SubMessageHeaderLen {
		it.err = truncated(TypeAggregate, "sub-message "+strconv.Itoa(it.index)+" header")
		return false
	}
	size := int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	ts := uint32(b[7])<<24 | uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])
	stream := uint32(b[8])<<16 | uint32(b[9])<<8 | uint32(b[10])
	if size > len(b)-SubMessageHeaderLen {
		it.err = truncated(TypeAggregate, "sub-message "+strconv.Itoa(it.index)+" size "+strconv.Itoa(size))
		return false
	}
	end := SubMessageHeaderLen + size
	switch {
	case len(b)-end >= BackPointerLen:
		bp := binary.BigEndian.Uint32(b[end:])
		if want := uint32(end); bp != want && !it.IgnoreBackPointers {
			it.err = &BackPointerError{Index: it.index, Offset: it.off + end, Got: bp, Want: want}
			return false
		}
		end += BackPointerLen
	case it.IgnoreBackPointers && len(b) == end:
	default:
		it.err = truncated(TypeAggregate, "sub-message "+strconv.Itoa(it.index)+" back-pointer")
		return false
	}
	if it.index == 0 {
		it.delta = it.timestamp - ts
	}
	it.cur = SubMessage{
		Type:      Type(b[0]),
		Timestamp: ts + it.delta,
		StreamID:  stream,
		Payload:   b[SubMessageHeaderLen : SubMessageHeaderLen+size : SubMessageHeaderLen+size],
	}
	it.off += end
	it.index++
	return true
}

// Message returns the sub-message Next read.
func (it *AggregateIterator) Message() SubMessage { return it.cur }

// Err returns the error that ended the iteration, or nil at the end of the
// payload.
func (it *AggregateIterator) Err() error { return it.err }

// Split appends the sub-messages of a to dst, with timestamps renormalized
// to the aggregate message's timestamp, and checks back-pointers.
func (a Aggregate) Split(dst []SubMessage, timestamp uint32) ([]SubMessage, error) {
	it := NewAggregateIterator(a.Payload, timestamp)
	for it.Next() {
		dst = append(dst, it.Message())
	}
	return dst, it.Err()
}

// AppendAggregate appends an aggregate payload holding msgs to dst, each
// followed by its back-pointer. Timestamps are written as given: send the
// aggregate with msgs[0].Timestamp, as §7.1.6 recommends ("The timestamp of
// the first sub-message SHOULD be the same as the timestamp of the
// aggregate message"). A payload or stream ID that does not fit 24 bits,
// or a total beyond the 24-bit message length, fails with ErrTooLarge.
func AppendAggregate(dst []byte, msgs []SubMessage) ([]byte, error) {
	start := len(dst)
	b := dst
	for i, m := range msgs {
		if len(m.Payload) > maxUint24 {
			return dst, fieldErr(TypeAggregate, "sub-message "+strconv.Itoa(i)+" size", ErrTooLarge)
		}
		if m.StreamID > maxUint24 {
			return dst, fieldErr(TypeAggregate, "sub-message "+strconv.Itoa(i)+" stream id", ErrTooLarge)
		}
		size := len(m.Payload)
		b = append(b, byte(m.Type), byte(size>>16), byte(size>>8), byte(size),
			byte(m.Timestamp>>16), byte(m.Timestamp>>8), byte(m.Timestamp), byte(m.Timestamp>>24),
			byte(m.StreamID>>16), byte(m.StreamID>>8), byte(m.StreamID))
		b = append(b, m.Payload...)
		b = binary.BigEndian.AppendUint32(b, uint32(SubMessageHeaderLen+size))
		if len(b)-start > maxUint24 {
			return dst, fieldErr(TypeAggregate, "payload size", ErrTooLarge)
		}
	}
	return b, nil
}
