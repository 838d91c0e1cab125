package flv

import (
	"encoding/binary"
	"fmt"
)

// ModExType is the UB[4] that names a ModEx entry (Enhanced RTMP v2 enums
// AudioPacketModExType and VideoPacketModExType, which share their values).
type ModExType uint8

// ModEx types.
const (
	ModExTimestampOffsetNano ModExType = 0
)

func (t ModExType) String() string {
	if t == ModExTimestampOffsetNano {
		return "timestamp-offset-nano"
	}
	return fmt.Sprintf("modextype(%d)", uint8(t))
}

// modExPacketType is the packet type value that introduces a ModEx entry; it
// is 7 for both audio and video.
const modExPacketType = 7

// ModEx is a raw ModEx chain exactly as it sits on the wire between the first
// header byte (whose packet type is ModEx) and the header's next field.
// Each entry is:
//
//	modExDataSize  UI8 + 1, or if that gives 256: UI16 + 1
//	modExData      UI8[modExDataSize]
//	modExType      UB[4]
//	packetType     UB[4]   ModEx again for another entry, else the real type
//
// (Enhanced RTMP v2, ExAudioTagHeader / ExVideoTagHeader). Keeping the bytes
// keeps the tag byte-exact even where the size could have been written in
// two ways. A nil ModEx means the tag has no ModEx entries.
//
// When a tag is encoded, the low nibble of the chain's last byte is replaced
// by the tag's packet type, so the chain and the packet type never disagree.
type ModEx []byte

// ModExEntry is one decoded entry of a ModEx chain.
type ModExEntry struct {
	Type ModExType
	Data []byte // aliases the chain
}

// maxModExData is the largest entry a size field can express (UI16 + 1).
const maxModExData = 0xFFFF + 1

// parseModEx reads a chain at the start of b (just after a header byte whose
// packet type nibble was ModEx). It returns the chain, the packet type that
// follows it, and the number of bytes used.
func parseModEx(b []byte) (ModEx, uint8, int, error) {
	n := 0
	for {
		if n >= len(b) {
			return nil, 0, 0, errTruncated("modex size")
		}
		size := int(b[n]) + 1
		n++
		if size == 256 {
			if n+2 > len(b) {
				return nil, 0, 0, errTruncated("modex size")
			}
			size = int(binary.BigEndian.Uint16(b[n:])) + 1
			n += 2
		}
		if size > len(b)-n-1 {
			return nil, 0, 0, errTruncated("modex data")
		}
		n += size
		next := b[n] & 0x0F
		n++
		if next != modExPacketType {
			return ModEx(b[:n:n]), next, n, nil
		}
	}
}

// Entries decodes the chain. It allocates the result; use Next for an
// allocation-free walk.
func (m ModEx) Entries() ([]ModExEntry, error) {
	var out []ModExEntry
	for rest := m; len(rest) > 0; {
		e, r, err := rest.Next()
		if err != nil {
			return nil, err
		}
		out = append(out, e)
		rest = r
	}
	return out, nil
}

// Next decodes the first entry of the chain and returns the rest.
func (m ModEx) Next() (ModExEntry, ModEx, error) {
	b := []byte(m)
	if len(b) == 0 {
		return ModExEntry{}, nil, errTruncated("modex size")
	}
	n := 1
	size := int(b[0]) + 1
	if size == 256 {
		if len(b) < 3 {
			return ModExEntry{}, nil, errTruncated("modex size")
		}
		size = int(binary.BigEndian.Uint16(b[1:])) + 1
		n = 3
	}
	if size > len(b)-n-1 {
		return ModExEntry{}, nil, errTruncated("modex data")
	}
	e := ModExEntry{Data: b[n : n+size : n+size], Type: ModExType(b[n+size] >> 4)}
	return e, ModEx(b[n+size+1:]), nil
}

// TimestampOffsetNano returns the value of the chain's TimestampOffsetNano
// entry: a UI24 count of nanoseconds added to the message's millisecond
// timestamp (Enhanced RTMP v2: "modExData MUST be at least 3 bytes"). ok is
// false when the chain has no such entry or the entry is shorter than 3 bytes.
func (m ModEx) TimestampOffsetNano() (ns uint32, ok bool) {
	for rest := m; len(rest) > 0; {
		e, r, err := rest.Next()
		if err != nil {
			return 0, false
		}
		if e.Type == ModExTimestampOffsetNano && len(e.Data) >= 3 {
			return uint32(e.Data[0])<<16 | uint32(e.Data[1])<<8 | uint32(e.Data[2]), true
		}
		rest = r
	}
	return 0, false
}

// AppendModEx appends one entry to a chain and returns the longer chain. The
// size is written in its shortest form. The entry's trailing packet type nibble
// is left as ModEx; encoding a tag sets the last one to the tag's packet type.
// Data must be 1 to 65536 bytes long.
func AppendModEx(m ModEx, e ModExEntry) (ModEx, error) {
	if len(e.Data) < 1 || len(e.Data) > maxModExData {
		return m, fmt.Errorf("flv: modex data of %d bytes: must be 1 to %d", len(e.Data), maxModExData)
	}
	if e.Type > 0x0F {
		return m, fmt.Errorf("flv: modex type %d does not fit in 4 bits", e.Type)
	}
	// Copy, so that a chain aliasing a decoded tag is never written to.
	out := make(ModEx, len(m), len(m)+len(e.Data)+4)
	copy(out, m)
	m = out
	// Chain entries link to the next with packet type ModEx.
	if len(m) > 0 {
		m[len(m)-1] = m[len(m)-1]&0xF0 | modExPacketType
	}
	if len(e.Data) < 256 {
		m = append(m, byte(len(e.Data)-1))
	} else {
		m = append(m, 0xFF, byte((len(e.Data)-1)>>8), byte(len(e.Data)-1))
	}
	m = append(m, e.Data...)
	m = append(m, byte(e.Type)<<4|modExPacketType)
	return m, nil
}

// NanoOffset returns a ModEx chain holding one TimestampOffsetNano entry of
// ns nanoseconds (3 bytes, UI24). ns should be below 1,000,000.
func NanoOffset(ns uint32) ModEx {
	m, _ := AppendModEx(nil, ModExEntry{Type: ModExTimestampOffsetNano, Data: []byte{byte(ns >> 16), byte(ns >> 8), byte(ns)}})
	return m
}

// appendModEx writes the chain with its last packet type nibble set to pt.
func appendModEx(dst []byte, m ModEx, pt uint8) []byte {
	if len(m) == 0 {
		return dst
	}
	dst = append(dst, m...)
	dst[len(dst)-1] = dst[len(dst)-1]&0xF0 | pt&0x0F
	return dst
}
