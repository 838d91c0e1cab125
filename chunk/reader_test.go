package chunk

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"runtime"
	"sync/atomic"
	"testing"
	"testing/iotest"
	"time"
)

// readAll reads messages until an error, copying payloads.
func readAll(r *Reader) ([]Message, error) {
	var out []Message
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return out, err
		}
		m.Payload = bytes.Clone(m.Payload)
		out = append(out, m)
	}
}

func TestReaderTable(t *testing.T) {
	for _, tc := range wireTable() {
		for _, src := range []struct {
			name string
			wrap func(io.Reader) io.Reader
		}{
			{"whole", func(r io.Reader) io.Reader { return r }},
			{"one byte", iotest.OneByteReader},
		} {
			t.Run(tc.name+"/"+src.name, func(t *testing.T) {
				r := NewReader(src.wrap(bytes.NewReader(tc.wire)), nil)
				if err := r.SetChunkSize(tc.chunkSize); err != nil {
					t.Fatal(err)
				}
				got, err := readAll(r)
				if err != io.EOF {
					t.Fatalf("after %d messages: err = %v, want io.EOF", len(got), err)
				}
				equalMessages(t, got, tc.msgs)
				if r.BytesRead() != uint64(len(tc.wire)) {
					t.Errorf("BytesRead = %d, want %d", r.BytesRead(), len(tc.wire))
				}
			})
		}
	}
}

func TestReaderTruncated(t *testing.T) {
	// Every proper prefix of a wire ends in io.ErrUnexpectedEOF, unless it
	// ends exactly at a message boundary (io.EOF).
	for _, tc := range wireTable() {
		t.Run(tc.name, func(t *testing.T) {
			for n := 1; n < len(tc.wire); n++ {
				r := NewReader(bytes.NewReader(tc.wire[:n]), nil)
				r.SetChunkSize(tc.chunkSize)
				_, err := readAll(r)
				if err == io.EOF {
					if r.partial != 0 {
						t.Fatalf("prefix %d: io.EOF with %d partial messages", n, r.partial)
					}
					continue
				}
				if !errors.Is(err, io.ErrUnexpectedEOF) {
					t.Fatalf("prefix %d: err = %v, want io.ErrUnexpectedEOF", n, err)
				}
			}
		})
	}
}

func TestReaderCleanEOF(t *testing.T) {
	r := NewReader(bytes.NewReader(nil), nil)
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("empty source: err = %v, want io.EOF", err)
	}
	// EOF between the chunks of a message is not clean.
	tc := wireTable()[1] // example 2
	r = NewReader(bytes.NewReader(tc.wire[:140]), nil)
	if _, err := r.ReadMessage(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("EOF after first chunk: err = %v, want io.ErrUnexpectedEOF", err)
	}
}

func TestReaderLyingLength(t *testing.T) {
	// A type 0 header declares 16 MiB - 1 bytes, 100 follow.
	wire := cat(h(0x04, 0, 0, 0, 0xFF, 0xFF, 0xFF, 9, 1, 0, 0, 0), pay(100, 0))

	t.Run("within limit", func(t *testing.T) {
		r := NewReader(bytes.NewReader(wire), nil)
		r.SetChunkSize(MaxChunkSize)
		_, err := r.ReadMessage()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("err = %v, want io.ErrUnexpectedEOF", err)
		}
		if r.held > initialAlloc {
			t.Errorf("held %d bytes for 100 received, want at most %d", r.held, initialAlloc)
		}
	})

	t.Run("over limit", func(t *testing.T) {
		r := NewReader(bytes.NewReader(wire), &ReaderConfig{MaxMessageSize: 1 << 20})
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, err := r.ReadMessage()
		runtime.ReadMemStats(&after)
		var tooLarge *MessageTooLargeError
		if !errors.Is(err, ErrMessageTooLarge) || !errors.As(err, &tooLarge) {
			t.Fatalf("err = %v, want ErrMessageTooLarge", err)
		}
		if tooLarge.Length != 0xFFFFFF || tooLarge.Max != 1<<20 {
			t.Errorf("error carries %+v", *tooLarge)
		}
		if d := after.TotalAlloc - before.TotalAlloc; d > 256<<10 {
			t.Errorf("allocated %d bytes before rejecting the length", d)
		}
		if r.held != 0 {
			t.Errorf("held = %d, want 0", r.held)
		}
		// The error is permanent.
		if _, err2 := r.ReadMessage(); err2 != err {
			t.Errorf("second read: %v, want the same error", err2)
		}
	})
}

func TestReaderChunkSize(t *testing.T) {
	r := NewReader(bytes.NewReader(nil), nil)
	if err := r.SetChunkSize(0); !errors.Is(err, ErrInvalidChunkSize) {
		t.Errorf("SetChunkSize(0) = %v, want ErrInvalidChunkSize", err)
	}
	if err := r.SetChunkSize(0x80000000); !errors.Is(err, ErrInvalidChunkSize) {
		t.Errorf("SetChunkSize(0x80000000) = %v: top bit masked leaves 0, want ErrInvalidChunkSize", err)
	}
	if r.ChunkSize() != DefaultChunkSize {
		t.Errorf("failed SetChunkSize changed the size to %d", r.ChunkSize())
	}
	// §5.4.1: the top bit "MUST be zero"; it is ignored.
	if err := r.SetChunkSize(0x80000000 | 4096); err != nil || r.ChunkSize() != 4096 {
		t.Errorf("SetChunkSize(top bit | 4096) = %v, size %d", err, r.ChunkSize())
	}
	// The default ceiling is the spec's maximum.
	if err := r.SetChunkSize(0x7FFFFFFF); err != nil || r.ChunkSize() != 0x7FFFFFFF {
		t.Errorf("SetChunkSize(0x7FFFFFFF) = %v, size %d", err, r.ChunkSize())
	}

	// A configured ceiling rejects what lies above it.
	r = NewReader(bytes.NewReader(nil), &ReaderConfig{MaxChunkSize: 16 << 20})
	if err := r.SetChunkSize(0x7FFFFFFF); !errors.Is(err, ErrInvalidChunkSize) {
		t.Errorf("SetChunkSize(0x7FFFFFFF) over a 16 MiB ceiling = %v, want ErrInvalidChunkSize", err)
	}
	if err := r.SetChunkSize(16 << 20); err != nil {
		t.Errorf("SetChunkSize(16 MiB) at a 16 MiB ceiling = %v", err)
	}
}

func TestReaderHugeChunkSize(t *testing.T) {
	// At chunk size 0x7FFFFFFF a message is one chunk, and nothing is
	// allocated by chunk size.
	p := pay(100000, 3)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetChunkSize(MaxChunkSize)
	w.WriteMessage(msg(4, 1, 9, 1, p))
	w.Flush()
	r := NewReader(&buf, nil)
	r.SetChunkSize(MaxChunkSize)
	m, err := r.ReadMessage()
	if err != nil || !bytes.Equal(m.Payload, p) {
		t.Fatalf("err %v, payload equal %v", err, bytes.Equal(m.Payload, p))
	}
	if r.held != len(p) {
		t.Errorf("held %d, want %d", r.held, len(p))
	}
}

func TestReaderSetChunkSizeMidStream(t *testing.T) {
	// A 300-byte message is in progress on chunk stream 4 when chunk stream
	// 2 carries Set Chunk Size 200; the rest of the message comes in one
	// 172-byte chunk.
	v := pay(300, 0)
	wire := cat(
		h(0x04, 0, 0, 0, 0x00, 0x01, 0x2C, 9, 1, 0, 0, 0), v[:128],
		h(0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0), h(0, 0, 0, 200),
		h(0xC4), v[128:],
	)
	r := NewReader(bytes.NewReader(wire), nil)
	m, err := r.ReadMessage()
	if err != nil || m.TypeID != 1 {
		t.Fatalf("first message: %v %+v", err, m.Header)
	}
	if err := r.SetChunkSize(200); err != nil {
		t.Fatal(err)
	}
	m, err = r.ReadMessage()
	if err != nil || !bytes.Equal(m.Payload, v) {
		t.Fatalf("video: err %v", err)
	}
}

func TestReaderSlowTrickle16MB(t *testing.T) {
	if testing.Short() {
		t.Skip("reads 16 MiB one byte at a time")
	}
	// A maximum-size message fed one byte at a time.
	p := pay(MaxMessageLength, 7)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetChunkSize(65536)
	if err := w.WriteMessage(msg(6, 0, 9, 1, p)); err != nil {
		t.Fatal(err)
	}
	w.Flush()
	wire := buf.Bytes()

	t.Run("within limits", func(t *testing.T) {
		cfg := &ReaderConfig{MaxBuffered: MaxMessageLength}
		r := NewReader(iotest.OneByteReader(bytes.NewReader(wire)), cfg)
		r.SetChunkSize(65536)
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(m.Payload, p) {
			t.Fatal("payload differs")
		}
		if r.held > cfg.MaxBuffered {
			t.Errorf("held %d > limit %d", r.held, cfg.MaxBuffered)
		}
		if _, err := r.ReadMessage(); err != io.EOF {
			t.Errorf("then %v, want io.EOF", err)
		}
	})

	t.Run("over the buffer limit", func(t *testing.T) {
		cfg := &ReaderConfig{MaxBuffered: 1 << 20}
		r := NewReader(iotest.OneByteReader(bytes.NewReader(wire)), cfg)
		r.SetChunkSize(65536)
		_, err := r.ReadMessage()
		if !errors.Is(err, ErrBufferLimit) {
			t.Fatalf("err = %v, want ErrBufferLimit", err)
		}
		if r.held > cfg.MaxBuffered {
			t.Errorf("held %d > limit %d", r.held, cfg.MaxBuffered)
		}
		if r.BytesRead() > 1<<20+16<<10 {
			t.Errorf("read %d bytes before failing", r.BytesRead())
		}
	})

	t.Run("over the message limit", func(t *testing.T) {
		r := NewReader(iotest.OneByteReader(bytes.NewReader(wire)), &ReaderConfig{MaxMessageSize: 1 << 20})
		_, err := r.ReadMessage()
		if !errors.Is(err, ErrMessageTooLarge) {
			t.Fatalf("err = %v, want ErrMessageTooLarge", err)
		}
		if r.BytesRead() != 12 {
			t.Errorf("read %d bytes, want just the 12-byte header", r.BytesRead())
		}
	})
}

func TestReaderTooManyStreams(t *testing.T) {
	// Thousands of chunk stream IDs, one small message each.
	var wire []byte
	for csid := uint32(3); csid < 3003; csid++ {
		wire, _ = Encode(wire, msg(csid, 0, 8, 1, pay(2, 0)), 128)
	}
	r := NewReader(bytes.NewReader(wire), nil)
	got, err := readAll(r)
	if !errors.Is(err, ErrTooManyStreams) {
		t.Fatalf("err = %v, want ErrTooManyStreams", err)
	}
	if len(got) != DefaultMaxStreams || r.nstreams != DefaultMaxStreams || len(r.high) > DefaultMaxStreams {
		t.Errorf("read %d messages, %d streams, %d in map; want %d", len(got), r.nstreams, len(r.high), DefaultMaxStreams)
	}

	r = NewReader(bytes.NewReader(wire), &ReaderConfig{MaxStreams: 5000})
	got, err = readAll(r)
	if err != io.EOF || len(got) != 3000 {
		t.Errorf("with MaxStreams 5000: %d messages, %v", len(got), err)
	}
}

func TestReaderNoPreviousHeader(t *testing.T) {
	for _, tc := range []struct {
		name string
		wire []byte
	}{
		{"type 2 first", cat(h(0x83, 0, 0, 20), pay(32, 0))},
		{"type 3 first", cat(h(0xC3), pay(32, 0))},
		{"type 3 on another chunk stream", cat(h(0x03, 0, 0, 0, 0, 0, 1, 8, 1, 0, 0, 0, 0), h(0xC4), pay(32, 0))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readAll(NewReader(bytes.NewReader(tc.wire), nil))
			if !errors.Is(err, ErrNoPreviousHeader) {
				t.Fatalf("err = %v, want ErrNoPreviousHeader", err)
			}
		})
	}
}

func TestReaderHeaderMidMessage(t *testing.T) {
	v := pay(300, 0)
	for _, second := range [][]byte{
		h(0x04, 0, 0, 0, 0x00, 0x01, 0x2C, 9, 1, 0, 0, 0),
		h(0x44, 0, 0, 0, 0x00, 0x01, 0x2C, 9),
		h(0x84, 0, 0, 0),
	} {
		wire := cat(h(0x04, 0, 0, 0, 0x00, 0x01, 0x2C, 9, 1, 0, 0, 0), v[:128], second, v[128:256])
		_, err := readAll(NewReader(bytes.NewReader(wire), nil))
		if !errors.Is(err, ErrHeaderMidMessage) {
			t.Errorf("type %d mid-message: err = %v, want ErrHeaderMidMessage", second[0]>>6, err)
		}
	}
}

func TestReaderAbort(t *testing.T) {
	// A 300-byte message on chunk stream 4 is cut after one chunk by an
	// Abort Message (type 2) naming chunk stream 4; then a new message
	// starts on chunk stream 4 with type 0.
	v := pay(300, 0)
	wire := cat(
		h(0x04, 0, 0, 0, 0x00, 0x01, 0x2C, 9, 1, 0, 0, 0), v[:128],
		h(0x02, 0, 0, 0, 0, 0, 4, 2, 0, 0, 0, 0), h(0, 0, 0, 4),
		h(0x04, 0, 0, 40, 0, 0, 5, 9, 1, 0, 0, 0), pay(5, 9),
	)
	r := NewReader(bytes.NewReader(wire), nil)
	m, err := r.ReadMessage()
	if err != nil || m.TypeID != 2 || m.CSID != 2 {
		t.Fatalf("want the Abort message first, got %v %+v", err, m)
	}
	if r.partial != 1 {
		t.Fatalf("partial = %d before Abort", r.partial)
	}
	r.Abort(4)
	r.Abort(4)  // again: no effect
	r.Abort(99) // unknown: no effect
	if r.partial != 0 {
		t.Fatalf("partial = %d after Abort", r.partial)
	}
	got, err := readAll(r)
	if err != io.EOF {
		t.Fatalf("err = %v", err)
	}
	equalMessages(t, got, []Message{msg(4, 40, 9, 1, pay(5, 9))})
}

func TestReaderBufferLimit(t *testing.T) {
	big1, big2 := pay(80<<10, 1), pay(80<<10, 2)
	cfg := &ReaderConfig{MaxBuffered: 100 << 10}

	t.Run("interleaved", func(t *testing.T) {
		// Two 80 KiB messages in progress at once need 160 KiB.
		wire := cat(
			h(0x04, 0, 0, 0, 0x01, 0x40, 0x00, 9, 1, 0, 0, 0), big1[:128],
			h(0x05, 0, 0, 0, 0x01, 0x40, 0x00, 9, 1, 0, 0, 0), big2[:128],
		)
		r := NewReader(bytes.NewReader(wire), cfg)
		_, err := r.ReadMessage()
		if !errors.Is(err, ErrBufferLimit) {
			t.Fatalf("err = %v, want ErrBufferLimit", err)
		}
		if r.held > cfg.MaxBuffered {
			t.Errorf("held %d > %d", r.held, cfg.MaxBuffered)
		}
	})

	t.Run("sequential reuses memory", func(t *testing.T) {
		// One after the other, the idle buffer is released for the next.
		var wire []byte
		for csid := uint32(3); csid < 10; csid++ {
			wire, _ = Encode(wire, msg(csid, 0, 9, 1, big1), 4096)
		}
		r := NewReader(bytes.NewReader(wire), cfg)
		r.SetChunkSize(4096)
		got, err := readAll(r)
		if err != io.EOF || len(got) != 7 {
			t.Fatalf("%d messages, err %v", len(got), err)
		}
		if r.held > cfg.MaxBuffered {
			t.Errorf("held %d > %d", r.held, cfg.MaxBuffered)
		}
	})
}

func TestReaderDetach(t *testing.T) {
	tc := wireTable()[0] // example 1: four audio messages on one chunk stream
	r := NewReader(bytes.NewReader(tc.wire), nil)
	if r.Detach() != nil {
		t.Fatal("Detach before any message returned a payload")
	}
	m, _ := r.ReadMessage()
	p := r.Detach()
	if &p[0] != &m.Payload[0] || r.Detach() != nil {
		t.Fatal("Detach should return the payload once")
	}
	if cap(p) != len(p) {
		t.Fatalf("detached payload has capacity %d beyond its %d bytes", cap(p), len(p))
	}
	m2, _ := r.ReadMessage()
	if &m2.Payload[0] == &p[0] {
		t.Fatal("reader reused a detached buffer")
	}
	if !bytes.Equal(p, tc.msgs[0].Payload) {
		t.Fatal("detached payload was overwritten")
	}
}

// Other messages keep a buffer of their own, reused when not detached.
func TestReaderReusesBuffer(t *testing.T) {
	var wire []byte
	for i := range 3 {
		wire, _ = Encode(wire, msg(3, uint32(i), 18, 1, bytes.Repeat([]byte{byte(i)}, 300)), 128)
	}
	r := NewReader(bytes.NewReader(wire), nil)
	m1, _ := r.ReadMessage()
	held := r.held
	if held == 0 {
		t.Fatal("no buffer held")
	}
	m2, _ := r.ReadMessage()
	if &m2.Payload[0] != &m1.Payload[0] {
		t.Error("reader did not reuse its buffer")
	}
	r.Detach()
	if r.held != 0 {
		t.Errorf("held %d after Detach", r.held)
	}
}

// Media payloads come from a shared slab: reading and detaching a stream
// of them allocates once per slab, not once per message, and a detached
// payload is never overwritten.
func TestReaderSlab(t *testing.T) {
	var wire []byte
	const n = 200
	for i := range n {
		typ := uint8(9)
		if i%3 == 0 {
			typ = 8
		}
		wire, _ = Encode(wire, msg(uint32(4+typ%2), uint32(i*10), typ, 1, bytes.Repeat([]byte{byte(i)}, 5000+i)), 4096)
	}
	r := NewReader(bytes.NewReader(wire), nil)
	r.SetChunkSize(4096)
	kept := make([][]byte, 0, n)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range n {
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
		kept = append(kept, r.Detach())
	}
	runtime.ReadMemStats(&m1)
	allocs := float64(m1.Mallocs - m0.Mallocs)
	for i, p := range kept[:n] {
		if len(p) != 5000+i || cap(p) != len(p) || p[0] != byte(i) || p[len(p)-1] != byte(i) {
			t.Fatalf("payload %d: %d bytes, cap %d, first %d", i, len(p), cap(p), p[0])
		}
	}
	// About 1 MB of payloads: a few slabs (and the reader's first use).
	if max := float64(n*5100/slabSize + 12); allocs > max {
		t.Fatalf("%.0f allocations for %d media messages, want at most %.0f", allocs, n, max)
	}
	t.Logf("%.0f allocations for %d media messages", allocs, n)
	if r.held > slabSize {
		t.Fatalf("held %d", r.held)
	}
	if r.slabLen != slabSize {
		t.Fatalf("slab %d after 1 MB, want it grown to %d", r.slabLen, slabSize)
	}
}

func TestReaderErrorAtBoundaryIsNotSticky(t *testing.T) {
	tc := wireTable()[0]
	src := &flakyReader{data: tc.wire, failAt: 44} // fails at the second chunk
	r := NewReader(src, &ReaderConfig{BufferSize: 16})
	if _, err := r.ReadMessage(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadMessage(); !errors.Is(err, errFlaky) {
		t.Fatalf("err = %v, want errFlaky", err)
	}
	got, err := readAll(r)
	if err != io.EOF {
		t.Fatalf("after retry: %v", err)
	}
	equalMessages(t, got, tc.msgs[1:])
}

var errFlaky = errors.New("deadline")

// flakyReader fails once when the read offset reaches failAt, and returns
// at most 4 bytes per read.
type flakyReader struct {
	data   []byte
	off    int
	failAt int
	failed bool
}

func (f *flakyReader) Read(p []byte) (int, error) {
	if f.off == f.failAt && !f.failed {
		f.failed = true
		return 0, errFlaky
	}
	if f.off == len(f.data) {
		return 0, io.EOF
	}
	end := min(len(f.data), f.off+4, f.off+len(p))
	if f.off < f.failAt && end > f.failAt {
		end = f.failAt
	}
	n := copy(p, f.data[f.off:end])
	f.off += n
	return n, nil
}

// loopReader repeats data forever.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

func TestReaderAllocs(t *testing.T) {
	// A 10 KB video message at chunk size 4096 and at 128, with extended
	// timestamps (so type 3 chunks go through the peek), read over and over.
	for _, cs := range []uint32{128, 4096} {
		for _, ts := range []uint32{1000, 0x01000000} {
			wire, _ := Encode(nil, msg(6, ts, 9, 1, pay(10000, 0)), cs)
			r := NewReader(&loopReader{data: wire}, nil)
			r.SetChunkSize(cs)
			r.ReadMessage() // warm up
			allocs := testing.AllocsPerRun(200, func() {
				if _, err := r.ReadMessage(); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("chunk size %d ts %#x: %v allocs per message, want 0", cs, ts, allocs)
			}
		}
	}
}

func TestReaderAcceptsBufioReader(t *testing.T) {
	tc := wireTable()[1]
	br := bufio.NewReaderSize(bytes.NewReader(tc.wire), 64<<10)
	r := NewReader(br, &ReaderConfig{BufferSize: 4096})
	if r.br != br {
		t.Fatal("a large enough *bufio.Reader should be used as is")
	}
}

// The limits can be raised between messages: a server takes small messages
// until the peer is authorized, then the usual ones.
func TestReaderSetLimits(t *testing.T) {
	small, big := pay(100, 1), pay(80<<10, 2)
	var wire []byte
	wire, _ = Encode(wire, msg(3, 0, 20, 0, small), 128)
	wire, _ = Encode(wire, msg(4, 0, 9, 1, big), 128)
	wire, _ = Encode(wire, msg(4, 0, 9, 1, big), 128)
	r := NewReader(bytes.NewReader(wire), nil)
	r.SetMaxMessageSize(1 << 10)
	r.SetMaxBuffered(4 << 10)
	if m, err := r.ReadMessage(); err != nil || len(m.Payload) != len(small) {
		t.Fatalf("small message: %d bytes, %v", len(m.Payload), err)
	}
	r.SetMaxMessageSize(0)
	r.SetMaxBuffered(0)
	if m, err := r.ReadMessage(); err != nil || len(m.Payload) != len(big) {
		t.Fatalf("after raising the limits: %d bytes, %v", len(m.Payload), err)
	}

	r = NewReader(bytes.NewReader(wire), nil)
	r.SetMaxMessageSize(1 << 10)
	r.ReadMessage()
	if _, err := r.ReadMessage(); !errors.Is(err, ErrMessageTooLarge) {
		t.Fatalf("over the lowered size: %v, want ErrMessageTooLarge", err)
	}
	r = NewReader(bytes.NewReader(wire), nil)
	r.SetMaxBuffered(4 << 10)
	r.ReadMessage()
	if _, err := r.ReadMessage(); !errors.Is(err, ErrBufferLimit) {
		t.Fatalf("over the lowered buffer limit: %v, want ErrBufferLimit", err)
	}
}

// A large message is allocated at its length once its first 64 KiB
// arrived: two allocations for a 500 KB key frame, not a doubling series.
func TestReaderLargeMessageAllocations(t *testing.T) {
	wire, _ := Encode(nil, msg(6, 0, 9, 1, bytes.Repeat([]byte{7}, 500_000)), 4096)
	r := NewReader(bytes.NewReader(wire), nil)
	r.SetChunkSize(4096)
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	m, err := r.ReadMessage()
	runtime.ReadMemStats(&m1)
	if err != nil || len(m.Payload) != 500_000 {
		t.Fatalf("%d bytes, %v", len(m.Payload), err)
	}
	if n := m1.Mallocs - m0.Mallocs; n > 4 {
		t.Fatalf("%d allocations for one 500 KB message", n)
	}
	if got := m1.TotalAlloc - m0.TotalAlloc; got > uint64(600_000+r.cfg.BufferSize) {
		t.Fatalf("%d bytes allocated for one 500 KB message", got)
	}
}

// A reader whose caller never detaches reuses one buffer for its media
// messages (no slab), as before slabs.
func TestReaderNoDetachReuses(t *testing.T) {
	var wire []byte
	for i := range 50 {
		wire, _ = Encode(wire, msg(6, uint32(i*40), 9, 1, bytes.Repeat([]byte{byte(i)}, 4000)), 4096)
	}
	r := NewReader(bytes.NewReader(wire), nil)
	r.SetChunkSize(4096)
	r.ReadMessage()
	r.ReadMessage() // the second message switches to a buffer of its own
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 48 {
		if _, err := r.ReadMessage(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&m1)
	if n := m1.Mallocs - m0.Mallocs; n > 2 {
		t.Fatalf("%d allocations for 48 messages not detached", n)
	}
}

// SetBufferSize changes the read buffer between messages and keeps what
// was read ahead: every message after the change is read whole.
func TestReaderSetBufferSizeKeepsReadAhead(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	var want [][]byte
	for i := range 6 {
		p := bytes.Repeat([]byte{byte(i + 1)}, 100+i*3000)
		want = append(want, p)
		if err := w.WriteMessage(Message{CSID: 4, Header: Header{TypeID: 9, StreamID: 1}, Payload: p}); err != nil {
			t.Fatal(err)
		}
	}
	w.Flush()
	r := NewReader(&buf, &ReaderConfig{BufferSize: 4096})
	for i, size := range []int{4096, 1 << 15, 1 << 15, 16, 512, 64 << 10} {
		m, err := r.ReadMessage()
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
		if !bytes.Equal(m.Payload, want[i]) {
			t.Fatalf("message %d: %d bytes, want %d", i, len(m.Payload), len(want[i]))
		}
		r.SetBufferSize(size)
		if r.BufferSize() != size {
			t.Fatalf("buffer %d, want %d", r.BufferSize(), size)
		}
	}
	if _, err := r.ReadMessage(); err != io.EOF {
		t.Fatalf("after the last message: %v, want io.EOF", err)
	}
}

// Idle drops the read buffer and the kept message buffers while nothing is
// buffered, and the Reader reads on as before: chunk streams keep their
// header state (compressed headers after the idle time), a message
// partly received when Idle is called is completed, and held bytes go
// back to the budget.
func TestReaderIdleDropsBuffers(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	// A reader that waits for bytes that never come fails, not hangs.
	stop := time.AfterFunc(10*time.Second, func() { pr.CloseWithError(errors.New("test: no message within 10 s")) })
	defer stop.Stop()
	b := new(idleBudget)
	r := NewReader(pr, &ReaderConfig{BufferSize: 512, Budget: b})
	w := NewWriter(pw)
	cmd := bytes.Repeat([]byte{7}, 300)
	go func() {
		w.WriteMessage(Message{CSID: 3, Header: Header{TypeID: 20}, Payload: cmd})
		w.Flush()
	}()
	if m, err := r.ReadMessage(); err != nil || !bytes.Equal(m.Payload, cmd) {
		t.Fatalf("first message: %v", err)
	}
	if r.held == 0 || b.n.Load() == 0 {
		t.Fatalf("held %d, budget %d before Idle: the test needs a kept buffer", r.held, b.n.Load())
	}
	r.Idle()
	if r.br != nil || r.held != 0 || b.n.Load() != 0 {
		t.Fatalf("after Idle: read buffer %v, held %d, budget %d; want none", r.br != nil, r.held, b.n.Load())
	}
	if r.Buffered() != 0 || r.BufferSize() != 512 {
		t.Fatalf("after Idle: buffered %d, size %d", r.Buffered(), r.BufferSize())
	}
	// Csid 4: a 300-byte message whose first chunk comes before a whole
	// message on csid 3 with a type 3 header (the header state of csid 3
	// must have stayed); Idle between the two; then the rest of csid 4.
	a := bytes.Repeat([]byte{9}, 300)
	first := append([]byte{0x04, 0, 0, 0, 0, 0x01, 0x2c, 20, 0, 0, 0, 0}, a[:128]...)
	go func() { // one writer: the chunks in this order
		pw.Write(append(first, append([]byte{0xc3}, cmd[:128]...)...))
		pw.Write(append([]byte{0xc3}, cmd[128:256]...))
		pw.Write(append([]byte{0xc3}, cmd[256:]...))
	}()
	m, err := r.ReadMessage()
	if err != nil || m.CSID != 3 || !bytes.Equal(m.Payload, cmd) {
		t.Fatalf("csid 3 after Idle: %v %+v", err, m.Header)
	}
	r.Idle()
	if r.BufferSize() != 512 {
		t.Fatalf("read buffer %d after the second Idle, want 512", r.BufferSize())
	}
	go func() {
		pw.Write(append([]byte{0xc4}, a[128:256]...))
		pw.Write(append([]byte{0xc4}, a[256:]...))
	}()
	if m, err = r.ReadMessage(); err != nil || m.CSID != 4 || !bytes.Equal(m.Payload, a) {
		t.Fatalf("csid 4 across Idle: %v %+v (%d bytes)", err, m.Header, len(m.Payload))
	}
}

// idleBudget counts what is charged.
type idleBudget struct{ n atomic.Int64 }

func (b *idleBudget) Reserve(n int) bool { b.n.Add(int64(n)); return true }
func (b *idleBudget) Charge(n int)       { b.n.Add(int64(n)) }
func (b *idleBudget) Release(n int)      { b.n.Add(-int64(n)) }
