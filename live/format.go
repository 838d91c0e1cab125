package live

import (
	"encoding/binary"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/ertmp/rtmp/flv"
	"github.com/ertmp/rtmp/message"
)

// maxFormats is how many formats have a lock-free slot on every packet.
const maxFormats = 6

// Format is an output encoding of packets (an FLV tag, later fMP4
// samples): Packet.Bytes makes it once per packet and shares it with every
// subscriber that asks, as chunked RTMP bytes are shared. Make formats once,
// at init, with NewFormat; a Format is safe for concurrent use.
type Format struct {
	name   string
	id     int // slot in Packet.enc; -1: kept in the overflow map
	encode func(*Packet) ([]byte, error)
	made   atomic.Uint64
}

var (
	formatMu sync.Mutex
	nformats int
	// overflow holds the encodings of formats past the slots, by format
	// and packet; a rare case (more than maxFormats formats in one
	// program) that pays a lock.
	overflow = map[overflowKey][]byte{}
)

type overflowKey struct {
	f *Format
	p *Packet
}

// NewFormat registers an output encoding. encode must not modify the
// packet and must return bytes that it never changes afterwards.
func NewFormat(name string, encode func(*Packet) ([]byte, error)) *Format {
	formatMu.Lock()
	defer formatMu.Unlock()
	f := &Format{name: name, id: -1, encode: encode}
	if nformats < maxFormats {
		f.id = nformats
		nformats++
	}
	return f
}

func (f *Format) String() string { return f.name }

// Encodings counts the encodings the format has made: one per packet that
// any subscriber asked for, however many asked.
func (f *Format) Encodings() uint64 { return f.made.Load() }

// Bytes returns the packet in format f, made on first use and then shared:
// every caller gets the same bytes, which it must not modify.
func (p *Packet) Bytes(f *Format) ([]byte, error) {
	if f.id >= 0 {
		if b := p.enc[f.id].Load(); b != nil {
			return *b, nil
		}
	}
	p.pmu.Lock()
	defer p.pmu.Unlock()
	if f.id >= 0 {
		if b := p.enc[f.id].Load(); b != nil {
			return *b, nil
		}
	} else {
		formatMu.Lock()
		b, ok := overflow[overflowKey{f, p}]
		formatMu.Unlock()
		if ok {
			return b, nil
		}
	}
	b, err := f.encode(p)
	if err != nil {
		return nil, err
	}
	f.made.Add(1)
	if f.id >= 0 {
		p.enc[f.id].Store(&b)
	} else {
		// Kept for the life of the program: formats past the slots are
		// for tests and tools, not for a server's steady state.
		formatMu.Lock()
		overflow[overflowKey{f, p}] = b
		formatMu.Unlock()
	}
	return b, nil
}

// FLVTag is the packet as one FLV file tag (FLV 10.1 §E.4.1): tag header,
// body, and the PreviousTagSize that follows it, ready to append to an FLV
// stream after flv.FileHeader (HTTP-FLV, recording). The tag's timestamp
// is the packet's, except that a kept data frame sent to a new subscriber
// (IsJoin) is stamped 0: demuxers take a script tag at a later time for a
// data stream of its own (FFmpeg does).
var FLVTag = NewFormat("flv", encodeFLVTag)

// maxFLVData is the largest tag body: DataSize is 24 bits.
const maxFLVData = 1<<24 - 1

var errFLVTooBig = errors.New("live: packet too large for an FLV tag")

func encodeFLVTag(p *Packet) ([]byte, error) {
	body := p.payload
	if p.typ == message.TypeDataAMF3 && len(body) > 0 && body[0] == 0 {
		// An AMF3 data message is AMF0 after its format byte (§7.1.2);
		// FLV script tags are AMF0.
		body = body[1:]
	}
	n := len(body)
	if n > maxFLVData {
		return nil, errFLVTooBig
	}
	ts := p.ts
	if p.IsJoin() && p.IsData() {
		ts = 0
	}
	b := make([]byte, flv.TagHeaderSize+n+4)
	b[0] = byte(flvTagType(p))
	b[1], b[2], b[3] = byte(n>>16), byte(n>>8), byte(n)
	b[4], b[5], b[6], b[7] = byte(ts>>16), byte(ts>>8), byte(ts), byte(ts>>24)
	// StreamID: always 0.
	copy(b[flv.TagHeaderSize:], body)
	binary.BigEndian.PutUint32(b[flv.TagHeaderSize+n:], uint32(flv.TagHeaderSize+n))
	return b, nil
}

func flvTagType(p *Packet) flv.TagType {
	switch {
	case p.IsVideo():
		return flv.TagVideo
	case p.IsAudio():
		return flv.TagAudio
	}
	return flv.TagScript
}
