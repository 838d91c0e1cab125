package chunk

import "fmt"

// Encode appends m to dst as chunks of at most chunkSize bytes of data,
// with a full type 0 header (absolute timestamp, §5.3.1.2.1) on the first
// chunk and type 3 headers on the rest. Such bytes decode the same way
// whatever the peer saw before on the chunk stream, so one encoding serves
// every connection that uses chunkSize: the "encode once" of the live
// server. A timestamp of 0xFFFFFF or more goes in an extended timestamp,
// repeated on every type 3 chunk (§5.3.1.3).
func Encode(dst []byte, m Message, chunkSize uint32) ([]byte, error) {
	if err := checkEncode(m, chunkSize); err != nil {
		return dst, err
	}
	length := uint32(len(m.Payload))
	dst = appendChunkHeader(dst, 0, m.CSID, m.Timestamp, length, m.TypeID, m.StreamID)
	var scratch [3 + 4]byte
	cont := appendChunkHeader(scratch[:0], 3, m.CSID, m.Timestamp, 0, 0, 0)
	cs := int(min(chunkSize, MaxMessageLength))
	return appendChunks(dst, cont, m.Payload, cs, false), nil
}

// EncodedLen returns the number of bytes Encode appends for a message on
// chunk stream csid with the given timestamp and payload length.
func EncodedLen(csid, timestamp uint32, payloadLen int, chunkSize uint32) int {
	if chunkSize == 0 {
		return 0
	}
	ext := 0
	if timestamp >= extendedTimestamp {
		ext = 4
	}
	bh := basicHeaderLen(csid)
	n := bh + 11 + ext + payloadLen
	if payloadLen > 0 {
		n += (payloadLen - 1) / int(chunkSize) * (bh + ext)
	}
	return n
}

func checkEncode(m Message, chunkSize uint32) error {
	if !validCSID(m.CSID) {
		return fmt.Errorf("chunk: csid %d: %w", m.CSID, ErrInvalidCSID)
	}
	if len(m.Payload) > MaxMessageLength {
		return csidError(m.CSID, &MessageTooLargeError{Length: uint32(min(len(m.Payload), 1<<32-1)), Max: MaxMessageLength})
	}
	if chunkSize == 0 || chunkSize > MaxChunkSize {
		return fmt.Errorf("chunk: chunk size %d: %w", chunkSize, ErrInvalidChunkSize)
	}
	return nil
}

// Prepared is a message chunked once by Encode, to be written to many
// connections with Writer.WritePrepared. It is immutable, so any number of
// Writers in any number of goroutines may use it at once; its bytes stay
// referenced by a Writer until that Writer's next Flush.
type Prepared struct {
	csid      uint32
	h         Header
	length    uint32
	chunkSize uint32
	wire      []byte
}

// NewPrepared chunks m at chunkSize into a new Prepared. The payload is
// copied into the encoding, so the caller may reuse it.
func NewPrepared(m Message, chunkSize uint32) (*Prepared, error) {
	if err := checkEncode(m, chunkSize); err != nil {
		return nil, err
	}
	wire := make([]byte, 0, EncodedLen(m.CSID, m.Timestamp, len(m.Payload), chunkSize))
	wire, _ = Encode(wire, m, chunkSize)
	return &Prepared{
		csid:      m.CSID,
		h:         m.Header,
		length:    uint32(len(m.Payload)),
		chunkSize: chunkSize,
		wire:      wire,
	}, nil
}

// Bytes returns the chunked message. It may go straight into a net.Buffers
// but must not be modified. A caller that writes it without
// Writer.WritePrepared must not use a Writer on the same connection, whose
// header state would no longer match the peer's.
func (p *Prepared) Bytes() []byte { return p.wire }

// CSID returns the chunk stream ID the message was encoded for.
func (p *Prepared) CSID() uint32 { return p.csid }

// Header returns the message header.
func (p *Prepared) Header() Header { return p.h }

// Len returns the payload length.
func (p *Prepared) Len() int { return int(p.length) }

// ChunkSize returns the chunk size the message was split at.
func (p *Prepared) ChunkSize() uint32 { return p.chunkSize }
