package chunk

import (
	"fmt"
	"io"
	"testing"
)

const benchPayload = 10 << 10 // a 10 KB video message

// benchStream returns 30 video messages, 33 ms apart, as a Writer chunks
// them (type 0, then type 2 and type 3 headers).
func benchStream(b *testing.B, chunkSize uint32) []byte {
	var out sliceWriter
	w := NewWriter(&out)
	w.SetChunkSize(chunkSize)
	for i := range 30 {
		if err := w.WriteMessage(msg(6, uint32(i)*33, 9, 1, pay(benchPayload, byte(i)))); err != nil {
			b.Fatal(err)
		}
	}
	w.Flush()
	return out
}

type sliceWriter []byte

func (s *sliceWriter) Write(p []byte) (int, error) {
	*s = append(*s, p...)
	return len(p), nil
}

func BenchmarkReader(b *testing.B) {
	for _, cs := range []uint32{4096, 128} {
		b.Run(fmt.Sprintf("video10KB/chunk%d", cs), func(b *testing.B) {
			r := NewReader(&loopReader{data: benchStream(b, cs)}, nil)
			r.SetChunkSize(cs)
			b.ReportAllocs()
			b.SetBytes(benchPayload)
			for b.Loop() {
				if _, err := r.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWriter(b *testing.B) {
	for _, cs := range []uint32{4096, 128} {
		b.Run(fmt.Sprintf("video10KB/chunk%d", cs), func(b *testing.B) {
			w := NewWriter(io.Discard)
			w.SetChunkSize(cs)
			p := pay(benchPayload, 0)
			ts := uint32(0)
			b.ReportAllocs()
			b.SetBytes(benchPayload)
			for b.Loop() {
				ts += 33
				if err := w.WriteMessage(msg(6, ts, 9, 1, p)); err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWritePrepared is the live server's fan-out: a 10 KB video
// message chunked once at 4096 and queued on subscriber Writers.
func BenchmarkWritePrepared(b *testing.B) {
	const subs = 1000
	newWriters := func() []*Writer {
		ws := make([]*Writer, subs)
		for i := range ws {
			ws[i] = NewWriter(io.Discard)
			ws[i].SetChunkSize(4096)
		}
		return ws
	}

	// One op: one subscriber gets the message (0 allocs per writer).
	b.Run("per-writer", func(b *testing.B) {
		ws := newWriters()
		p, _ := NewPrepared(msg(6, 1000, 9, 1, pay(benchPayload, 0)), 4096)
		b.ReportAllocs()
		b.SetBytes(benchPayload)
		i := 0
		for b.Loop() {
			w := ws[i%subs]
			i++
			if err := w.WritePrepared(p); err != nil {
				b.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	})

	// One op: encode once, then all 1000 subscribers get it.
	b.Run("fanout1000", func(b *testing.B) {
		ws := newWriters()
		payload := pay(benchPayload, 0)
		ts := uint32(0)
		b.ReportAllocs()
		b.SetBytes(benchPayload * subs)
		for b.Loop() {
			ts += 33
			p, err := NewPrepared(msg(6, ts, 9, 1, payload), 4096)
			if err != nil {
				b.Fatal(err)
			}
			for _, w := range ws {
				if err := w.WritePrepared(p); err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})

	// For comparison: WriteMessage chunks the message again per subscriber.
	b.Run("fanout1000-no-prepare", func(b *testing.B) {
		ws := newWriters()
		payload := pay(benchPayload, 0)
		ts := uint32(0)
		b.ReportAllocs()
		b.SetBytes(benchPayload * subs)
		for b.Loop() {
			ts += 33
			for _, w := range ws {
				if err := w.WriteMessage(msg(6, ts, 9, 1, payload)); err != nil {
					b.Fatal(err)
				}
				if err := w.Flush(); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}

func BenchmarkEncode(b *testing.B) {
	p := pay(benchPayload, 0)
	dst := make([]byte, 0, EncodedLen(6, 0, benchPayload, 128))
	b.ReportAllocs()
	b.SetBytes(benchPayload)
	for b.Loop() {
		dst, _ = Encode(dst[:0], msg(6, 1000, 9, 1, p), 128)
	}
}
