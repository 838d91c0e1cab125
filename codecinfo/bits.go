package codecinfo

import (
	"fmt"
	"io"
)

// bitReader reads big-endian bit fields, most significant bit first, as every
// syntax in this package is written. Errors are sticky: after the input runs out
// every read returns 0 and err stays io.ErrUnexpectedEOF (or the first ErrInvalid),
// so parse code reads straight through and checks err where it matters.
//
// In rbsp mode the reader removes H.264/H.265 emulation prevention bytes on the
// fly (H.264 §7.4.1, H.265 §7.4.2): a 0x03 that follows two zero bytes is not
// part of the RBSP. Doing it while reading avoids copying the NAL unit.
type bitReader struct {
	b     []byte
	i     int   // index of the next byte to load
	cur   byte  // byte being consumed, left-aligned: the next bit is bit 7
	n     uint  // bits left in cur
	zeros int   // zero bytes delivered in a row, rbsp mode
	rbsp  bool  // strip emulation prevention bytes
	err   error // first error
}

func newBitReader(b []byte) *bitReader { return &bitReader{b: b} }

func newRBSPReader(b []byte) *bitReader { return &bitReader{b: b, rbsp: true} }

func (r *bitReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

func (r *bitReader) load() bool {
	if r.err != nil {
		return false
	}
	if r.rbsp && r.zeros >= 2 && r.i < len(r.b) && r.b[r.i] == 0x03 {
		r.i++
		r.zeros = 0
	}
	if r.i >= len(r.b) {
		r.fail(io.ErrUnexpectedEOF)
		return false
	}
	c := r.b[r.i]
	r.i++
	if c == 0 {
		r.zeros++
	} else {
		r.zeros = 0
	}
	r.cur, r.n = c, 8
	return true
}

// u reads an n-bit unsigned field, n <= 64 (the specs' u(n) and f(n)).
func (r *bitReader) u(n int) uint64 {
	var v uint64
	for n > 0 {
		if r.n == 0 && !r.load() {
			return 0
		}
		k := uint(n)
		if k > r.n {
			k = r.n
		}
		v = v<<k | uint64(r.cur>>(8-k))
		r.cur <<= k
		r.n -= k
		n -= int(k)
	}
	return v
}

// ui reads an n-bit field, n <= 32, as an int.
func (r *bitReader) ui(n int) int { return int(r.u(n)) }

func (r *bitReader) flag() bool { return r.u(1) == 1 }

// skip discards n bits.
func (r *bitReader) skip(n int) {
	if !r.rbsp && n > int(r.n)+8 && r.err == nil {
		// Jump over whole bytes; emulation prevention needs the byte loop below.
		n -= int(r.n)
		r.n = 0
		whole := n / 8
		if whole > len(r.b)-r.i {
			r.i = len(r.b)
			r.fail(io.ErrUnexpectedEOF)
			return
		}
		r.i += whole
		n -= whole * 8
	}
	for n > 32 && r.err == nil {
		r.u(32)
		n -= 32
	}
	r.u(n)
}

// ue reads an unsigned Exp-Golomb code, ue(v) (H.264 §9.1). The specs keep
// values within 2^32 - 2, so more than 31 leading zeros is invalid.
func (r *bitReader) ue() uint64 {
	lz := 0
	for r.u(1) == 0 {
		if r.err != nil {
			return 0
		}
		lz++
		if lz > 31 {
			r.fail(fmt.Errorf("exp-Golomb code with more than 31 leading zeros: %w", ErrInvalid))
			return 0
		}
	}
	return 1<<lz - 1 + r.u(lz)
}

// uei reads ue(v) and fails unless the value is at most max.
func (r *bitReader) uei(name string, max int) int {
	v := r.ue()
	if r.err == nil && v > uint64(max) {
		r.fail(fieldError(name, v))
		return 0
	}
	return int(v)
}

// se reads a signed Exp-Golomb code, se(v) (H.264 §9.1.1).
func (r *bitReader) se() int64 {
	k := r.ue()
	if k&1 == 1 {
		return int64(k+1) / 2
	}
	return -int64(k / 2)
}

// left reports how many bits remain, ignoring emulation prevention.
func (r *bitReader) left() int { return (len(r.b)-r.i)*8 + int(r.n) }

// errOr returns the reader's error if it has one, else err.
func (r *bitReader) errOr(err error) error {
	if r.err != nil {
		return r.err
	}
	return err
}
