package codecinfo

import (
	"errors"
	"io"
	"testing"
)

// bitWriter builds bit strings for hand-made test inputs.
type bitWriter struct {
	b    []byte
	cur  byte
	nbit uint
}

func (w *bitWriter) u(n int, v uint64) *bitWriter {
	for i := n - 1; i >= 0; i-- {
		w.cur = w.cur<<1 | byte(v>>uint(i)&1)
		w.nbit++
		if w.nbit == 8 {
			w.b = append(w.b, w.cur)
			w.cur, w.nbit = 0, 0
		}
	}
	return w
}

func (w *bitWriter) ue(v uint64) *bitWriter {
	x := v + 1
	n := 0
	for t := x; t > 1; t >>= 1 {
		n++
	}
	return w.u(n, 0).u(n+1, x)
}

func (w *bitWriter) se(v int64) *bitWriter {
	if v > 0 {
		return w.ue(uint64(2*v - 1))
	}
	return w.ue(uint64(-2 * v))
}

func (w *bitWriter) flag(f bool) *bitWriter {
	if f {
		return w.u(1, 1)
	}
	return w.u(1, 0)
}

// bytes pads with a stop bit and zeros, like rbsp_trailing_bits.
func (w *bitWriter) bytes() []byte {
	w.u(1, 1)
	for w.nbit != 0 {
		w.u(1, 0)
	}
	return w.b
}

// raw pads with zeros only.
func (w *bitWriter) raw() []byte {
	for w.nbit != 0 {
		w.u(1, 0)
	}
	return w.b
}

func TestExpGolomb(t *testing.T) {
	values := []uint64{0, 1, 2, 3, 7, 8, 254, 255, 65535, 1<<32 - 2}
	w := &bitWriter{}
	for _, v := range values {
		w.ue(v)
	}
	signed := []int64{0, 1, -1, 2, -2, 1000, -1000, 1<<31 - 1, -(1<<31 - 1)}
	for _, v := range signed {
		w.se(v)
	}
	r := newBitReader(w.bytes())
	for _, want := range values {
		if got := r.ue(); got != want {
			t.Errorf("ue: got %d, want %d", got, want)
		}
	}
	for _, want := range signed {
		if got := r.se(); got != want {
			t.Errorf("se: got %d, want %d", got, want)
		}
	}
	if r.err != nil {
		t.Fatal(r.err)
	}
}

func TestExpGolombTooLong(t *testing.T) {
	r := newBitReader([]byte{0, 0, 0, 0, 0x80})
	r.ue()
	if !errors.Is(r.err, ErrInvalid) {
		t.Fatalf("32 leading zeros: err %v, want ErrInvalid", r.err)
	}
}

// TestEmulationPrevention checks that 00 00 03 drops the 03 in rbsp mode only
// (H.264 §7.4.1), including when the next byte is itself 03.
func TestEmulationPrevention(t *testing.T) {
	in := []byte{0x00, 0x00, 0x03, 0x01, 0x00, 0x00, 0x03, 0x03, 0xff}
	r := newRBSPReader(in)
	want := []uint64{0x00, 0x00, 0x01, 0x00, 0x00, 0x03, 0xff}
	for i, w := range want {
		if got := r.u(8); got != w {
			t.Fatalf("byte %d: got %#x, want %#x", i, got, w)
		}
	}
	if r.u(1); !errors.Is(r.err, io.ErrUnexpectedEOF) {
		t.Fatalf("past the end: err %v", r.err)
	}
	r = newBitReader(in)
	for i, w := range in {
		if got := r.u(8); got != uint64(w) {
			t.Fatalf("plain byte %d: got %#x, want %#x", i, got, w)
		}
	}
}

func TestBitReaderSkip(t *testing.T) {
	b := []byte{0xa5, 0x5a, 0xff, 0x00, 0x81, 0x3c}
	for pre := 0; pre < 8; pre++ {
		for k := 0; k+pre <= len(b)*8; k++ {
			r1, r2 := newBitReader(b), newBitReader(b)
			r1.u(pre)
			r2.u(pre)
			r1.skip(k)
			for i := 0; i < k; i++ {
				r2.u(1)
			}
			n := min(8, len(b)*8-pre-k)
			if g1, g2 := r1.u(n), r2.u(n); g1 != g2 || r1.err != nil || r2.err != nil {
				t.Fatalf("pre %d skip %d: got %#x (%v), bit by bit %#x (%v)", pre, k, g1, r1.err, g2, r2.err)
			}
		}
	}
	r := newBitReader(b)
	r.skip(len(b)*8 + 1)
	if !errors.Is(r.err, io.ErrUnexpectedEOF) {
		t.Fatalf("skip past the end: err %v", r.err)
	}
	if got := r.u(8); got != 0 {
		t.Fatalf("read after error: %d", got)
	}
}
