package amf0

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzDecode checks, for any input: no panic; a decoded value encodes; the
// encoding is never longer than what was decoded; decoding and encoding it
// again gives the same bytes (a fixed point); and, unless the input holds
// one of the two forms that Append does not reproduce (a boolean byte other
// than 0 and 1, or AMF 3 after an avmplus marker, see Decoder.lossy), the
// encoding is exactly the input: AMF 0 keeps every other choice an encoder
// makes (long strings, ECMA counts, time zones, references, property order
// and duplicates, NaN payloads). The same holds for DecodeAll and AppendAll.
func FuzzDecode(f *testing.F) {
	for _, g := range goldens() {
		if len(g.wire) < 4096 {
			f.Add(g.wire)
		}
	}
	f.Add(connectWire)
	f.Add(setDataFrameWire)
	f.Add(w("01 02"))
	f.Add(w("03", key("a"), "03", key("up"), "07 0000", key("me"), "07 0001 0000 09 0000 09"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := newDecoder()
		v, n, err := d.Decode(b)
		if err != nil {
			if errors.Is(err, io.EOF) != (len(b) == 0) {
				t.Fatalf("io.EOF for %d bytes: %v", len(b), err)
			}
		} else {
			if n < 1 || n > len(b) {
				t.Fatalf("n = %d for %d bytes", n, len(b))
			}
			e1, err := newEncoder().Append(nil, v)
			if err != nil {
				t.Fatalf("decoded value does not encode: %v", err)
			}
			if !d.lossy && !bytes.Equal(e1, b[:n]) {
				t.Fatalf("canonical input not reproduced:\n in % x\nout % x", b[:n], e1)
			}
			if len(e1) > n {
				t.Fatalf("re-encoding grew from %d to %d bytes", n, len(e1))
			}
			checkFixedPoint(t, [][]byte{e1})
		}

		vs, err := d.DecodeAll(b)
		if err != nil {
			return
		}
		e1, err := func() ([]byte, error) {
			e := newEncoder()
			var out []byte
			for _, v := range vs {
				var err error
				if out, err = e.Append(out, v); err != nil {
					return nil, err
				}
			}
			return out, nil
		}()
		if err != nil {
			t.Fatalf("decoded values do not encode: %v", err)
		}
		if !d.lossy && !bytes.Equal(e1, b) {
			t.Fatalf("canonical message not reproduced:\n in % x\nout % x", b, e1)
		}
		if len(e1) > len(b) {
			t.Fatalf("re-encoding grew from %d to %d bytes", len(b), len(e1))
		}
	})
}

// checkFixedPoint decodes each encoded message and encodes it again.
func checkFixedPoint(t *testing.T, msgs [][]byte) {
	t.Helper()
	for _, e1 := range msgs {
		v2, n2, err := newDecoder().Decode(e1)
		if err != nil || n2 != len(e1) {
			t.Fatalf("decode of re-encoding % x: n=%d err=%v", e1, n2, err)
		}
		e2, err := newEncoder().Append(nil, v2)
		if err != nil {
			t.Fatalf("encode of re-decoded value: %v", err)
		}
		if !bytes.Equal(e1, e2) {
			t.Fatalf("not a fixed point:\n% x\n% x", e1, e2)
		}
	}
}
