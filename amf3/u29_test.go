package amf3

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// u29Golden is §1.3.1's table of U29 forms, at each boundary. It drives
// decode, encode and the FuzzU29 seeds.
var u29Golden = []struct {
	name string
	wire []byte
	v    uint32
}{
	{"§1.3.1 0x00 (1 byte)", w("00"), 0},
	{"§1.3.1 0x7F (largest 1 byte)", w("7F"), 0x7F},
	{"§1.3.1 0x80 (smallest 2 bytes)", w("81 00"), 0x80},
	{"§1.3.1 0x3FFF (largest 2 bytes)", w("FF 7F"), 0x3FFF},
	{"§1.3.1 0x4000 (smallest 3 bytes)", w("81 80 00"), 0x4000},
	{"§1.3.1 0x1FFFFF (largest 3 bytes)", w("FF FF 7F"), 0x1FFFFF},
	{"§1.3.1 0x200000 (smallest 4 bytes)", w("80 C0 80 00"), 0x200000},
	{"§1.3.1 0x1FFFFFFF (MaxU29)", w("FF FF FF FF"), MaxU29},
	{"§1.3.1 4th byte carries 8 bits", w("80 80 80 FF"), 0xFF},
}

func TestU29Golden(t *testing.T) {
	for _, g := range u29Golden {
		t.Run(g.name, func(t *testing.T) {
			// Trailing bytes are left alone.
			v, n, err := DecodeU29(append(bytes.Clone(g.wire), 0xAA))
			if err != nil || v != g.v || n != len(g.wire) {
				t.Fatalf("DecodeU29 = %#x, %d, %v; want %#x, %d", v, n, err, g.v, len(g.wire))
			}
			enc, err := AppendU29([]byte{0xEE}, g.v)
			if err != nil {
				t.Fatal(err)
			}
			want := append([]byte{0xEE}, g.wire...)
			if g.name == "§1.3.1 4th byte carries 8 bits" {
				want = w("EE 81 7F") // the shortest form of 0xFF
			}
			if !bytes.Equal(enc, want) {
				t.Fatalf("AppendU29 = % x, want % x", enc, want)
			}
		})
	}
}

func TestU29Errors(t *testing.T) {
	if _, _, err := DecodeU29(nil); err != io.EOF {
		t.Errorf("empty: err = %v, want io.EOF", err)
	}
	for _, cut := range [][]byte{w("80"), w("FF FF"), w("80 80 80")} {
		if _, n, err := DecodeU29(cut); !errors.Is(err, ErrTruncated) || !errors.Is(err, io.ErrUnexpectedEOF) || n != 0 {
			t.Errorf("% x: n = %d, err = %v, want ErrTruncated", cut, n, err)
		}
	}
	dst := []byte{1, 2}
	out, err := AppendU29(dst, MaxU29+1)
	if !errors.Is(err, ErrTooLarge) || !bytes.Equal(out, dst) {
		t.Errorf("MaxU29+1: % x, %v; want dst unchanged and ErrTooLarge", out, err)
	}
}

// FuzzU29: no panic; a decoded U29 encodes, in at most as many bytes, to a
// form that decodes to the same value.
func FuzzU29(f *testing.F) {
	for _, g := range u29Golden {
		f.Add(g.wire)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := DecodeU29(b)
		if err != nil {
			return
		}
		if v > MaxU29 || n < 1 || n > 4 || n > len(b) {
			t.Fatalf("v = %#x, n = %d for % x", v, n, b)
		}
		enc, err := AppendU29(nil, v)
		if err != nil || len(enc) > n {
			t.Fatalf("AppendU29(%#x) = % x, %v", v, enc, err)
		}
		if v2, n2, err := DecodeU29(enc); err != nil || v2 != v || n2 != len(enc) {
			t.Fatalf("re-decode: %#x, %d, %v", v2, n2, err)
		}
	})
}
