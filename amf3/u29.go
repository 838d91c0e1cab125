package amf3

import (
	"fmt"
	"io"
)

// U29 is the variable length unsigned 29-bit integer of §1.3.1:
//
//	0x00000000 - 0x0000007F : 0xxxxxxx
//	0x00000080 - 0x00003FFF : 1xxxxxxx 0xxxxxxx
//	0x00004000 - 0x001FFFFF : 1xxxxxxx 1xxxxxxx 0xxxxxxx
//	0x00200000 - 0x1FFFFFFF : 1xxxxxxx 1xxxxxxx 1xxxxxxx xxxxxxxx
//
// The high bit of each of the first three bytes says whether another byte
// follows; the fourth byte, if present, carries eight bits.

// MaxU29 is the largest value a U29 holds.
const MaxU29 = 1<<29 - 1

const (
	maxU29 = MaxU29
	// minInt and maxInt bound the integer type (§3.6): outside them an int
	// is sent as a double.
	minInt = -1 << 28
	maxInt = 1<<28 - 1
	// maxU28 bounds the lengths, counts and indices carried in the 28 bits
	// above a U29's flag bit (§1.3.2, §3.8-§3.16).
	maxU28 = 1<<28 - 1
)

// appendU29 appends v, which must be at most maxU29, in the shortest form.
func appendU29(dst []byte, v uint32) []byte {
	switch {
	case v < 1<<7:
		return append(dst, byte(v))
	case v < 1<<14:
		return append(dst, byte(v>>7)|0x80, byte(v)&0x7F)
	case v < 1<<21:
		return append(dst, byte(v>>14)|0x80, byte(v>>7)|0x80, byte(v)&0x7F)
	default:
		return append(dst, byte(v>>22)|0x80, byte(v>>15)|0x80, byte(v>>8)|0x80, byte(v))
	}
}

// readU29 reads a U29 at b[0:]. It returns the value and the number of bytes
// read, or n == 0 if b ends first.
func readU29(b []byte) (v uint32, n int) {
	for i := 0; i < 3; i++ {
		if i >= len(b) {
			return 0, 0
		}
		c := b[i]
		if c&0x80 == 0 {
			return v<<7 | uint32(c), i + 1
		}
		v = v<<7 | uint32(c&0x7F)
	}
	if len(b) < 4 {
		return 0, 0
	}
	return v<<8 | uint32(b[3]), 4
}

// u29Int sign-extends a 29-bit integer (§3.6).
func u29Int(u uint32) int32 { return int32(u<<3) >> 3 }

// AppendU29 appends v as a U29 in its shortest form (§1.3.1): one to four
// bytes. A v above MaxU29 fails with an error wrapping ErrTooLarge, and dst
// is returned unchanged.
func AppendU29(dst []byte, v uint32) ([]byte, error) {
	if v > maxU29 {
		return dst, fmt.Errorf("amf3: U29 %d above %d: %w", v, maxU29, ErrTooLarge)
	}
	return appendU29(dst, v), nil
}

// DecodeU29 reads a U29 from the start of b and returns it with the number
// of bytes it took (1 to 4). Longer forms than needed are accepted, as the
// value decoder accepts them; AppendU29 writes the shortest. An empty b
// returns io.EOF; a b that ends inside the U29 an error wrapping
// ErrTruncated (and io.ErrUnexpectedEOF).
func DecodeU29(b []byte) (v uint32, n int, err error) {
	if len(b) == 0 {
		return 0, 0, io.EOF
	}
	v, n = readU29(b)
	if n == 0 {
		return 0, 0, fmt.Errorf("amf3: U29 cut after %d bytes: %w", len(b), ErrTruncated)
	}
	return v, n, nil
}
