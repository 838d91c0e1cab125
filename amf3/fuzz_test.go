package amf3

import (
	"errors"
	"io"
	"testing"
)

// FuzzDecode checks, for any input: no panic; a decoded value encodes; the
// encoding is never longer than what was decoded (references are kept, so
// nothing is expanded); and decoding and encoding it again gives the same
// bytes (a fixed point). Goldens from conforming encoders must come back
// byte for byte; TestRoundTripGolden checks that.
func FuzzDecode(f *testing.F) {
	for _, g := range goldens() {
		f.Add(g.wire)
	}
	for _, g := range encodeOnly {
		if b, err := Append(nil, g.value); err == nil {
			f.Add(b)
		}
	}
	f.Add(w("09 05 01 0A 13 03 50 03 78 04 01 0A 13 00 02 04 02"))
	f.Add(w("04 80 80 80 01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, n, err := newDecoder().Decode(b)
		if err != nil {
			if errors.Is(err, io.EOF) != (len(b) == 0) {
				t.Fatalf("io.EOF for %d bytes: %v", len(b), err)
			}
			return
		}
		if n < 1 || n > len(b) {
			t.Fatalf("n = %d for %d bytes", n, len(b))
		}
		e1, err := newEncoder().Append(nil, v)
		if err != nil {
			t.Fatalf("decoded value does not encode: %v", err)
		}
		if len(e1) > n {
			t.Fatalf("re-encoding grew from %d to %d bytes:\n% x\n% x", n, len(e1), b[:n], e1)
		}
		checkFixedPoint(t, e1)
	})
}
