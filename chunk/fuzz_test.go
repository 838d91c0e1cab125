package chunk

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// fuzzChunkSizes: the first input byte picks the peer's starting chunk size.
var fuzzChunkSizes = []uint32{128, 1, 2, 3, 4, 7, 64, 4096}

// fuzzConfig keeps limits small so the fuzzer reaches them.
var fuzzConfig = ReaderConfig{
	MaxMessageSize: 1 << 16,
	MaxChunkSize:   1 << 20,
	MaxStreams:     8,
	MaxBuffered:    1 << 18,
	BufferSize:     16,
}

// fuzzRead reads like a connection would: it applies Set Chunk Size (type
// 1) and Abort Message (type 2) as they arrive and stops at the first error.
func fuzzRead(t *testing.T, src io.Reader, chunkSize uint32) ([]Message, error) {
	cfg := fuzzConfig
	r := NewReader(src, &cfg)
	if err := r.SetChunkSize(chunkSize); err != nil {
		t.Fatal(err)
	}
	var out []Message
	for {
		m, err := r.ReadMessage()
		if r.held > cfg.MaxBuffered {
			t.Fatalf("reader holds %d bytes, limit %d", r.held, cfg.MaxBuffered)
		}
		if err != nil {
			if len(m.Payload) != 0 {
				t.Fatal("payload returned with an error")
			}
			return out, err
		}
		if len(m.Payload) > int(cfg.MaxMessageSize) {
			t.Fatalf("message of %d bytes over the limit", len(m.Payload))
		}
		m.Payload = bytes.Clone(m.Payload)
		out = append(out, m)
		if len(m.Payload) == 4 {
			v := binary.BigEndian.Uint32(m.Payload)
			switch m.TypeID {
			case 1:
				if err := r.SetChunkSize(v); err != nil {
					return out, err
				}
			case 2:
				r.Abort(v)
			}
		}
	}
}

func FuzzReader(f *testing.F) {
	for _, tc := range wireTable() {
		sel := byte(0)
		for i, cs := range fuzzChunkSizes {
			if cs == tc.chunkSize {
				sel = byte(i)
			}
		}
		f.Add(append([]byte{sel}, tc.wire...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		cs := fuzzChunkSizes[int(data[0])%len(fuzzChunkSizes)]
		data = data[1:]

		// The whole input at once and one byte at a time read the same.
		got, err := fuzzRead(t, bytes.NewReader(data), cs)
		got1, err1 := fuzzRead(t, iotest.OneByteReader(bytes.NewReader(data)), cs)
		equalMessages(t, got1, got)
		if (err == nil) != (err1 == nil) || err != nil && err.Error() != err1.Error() {
			t.Fatalf("whole: %v; one byte at a time: %v", err, err1)
		}
		if err == io.EOF && len(data) > 0 && len(got) == 0 {
			// EOF at a boundary with nothing read is only possible for
			// empty input.
			t.Fatalf("io.EOF without a message from %d bytes", len(data))
		}

		// decode -> encode -> decode is a fixed point, with WriteMessage
		// alone and with every other message prepared (encode once).
		for _, prepared := range []bool{false, true} {
			var buf bytes.Buffer
			w := NewWriterSize(&buf, 512)
			if err := w.SetChunkSize(cs); err != nil {
				t.Fatal(err)
			}
			for i, m := range got {
				if prepared && i%2 == 0 {
					p, err := NewPrepared(m, w.ChunkSize())
					if err != nil {
						t.Fatal(err)
					}
					if err := w.WritePrepared(p); err != nil {
						t.Fatal(err)
					}
				} else if err := w.WriteMessage(m); err != nil {
					t.Fatalf("re-encoding %+v: %v", m.Header, err)
				}
				if m.TypeID == 1 && len(m.Payload) == 4 {
					n := binary.BigEndian.Uint32(m.Payload) & MaxChunkSize
					if n != 0 && n <= fuzzConfig.MaxChunkSize {
						w.SetChunkSize(n)
					}
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			again, err2 := fuzzRead(t, &buf, cs)
			equalMessages(t, again, got)
			if errors.Is(err, ErrInvalidChunkSize) {
				if !errors.Is(err2, ErrInvalidChunkSize) {
					t.Fatalf("re-read ended with %v, first read with %v", err2, err)
				}
			} else if err2 != io.EOF {
				t.Fatalf("re-read ended with %v", err2)
			}
		}
	})
}
