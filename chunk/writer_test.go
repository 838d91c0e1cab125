package chunk

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

func TestWriterTable(t *testing.T) {
	for _, tc := range wireTable() {
		if !tc.canonical {
			continue
		}
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriter(&buf)
			if err := w.SetChunkSize(tc.chunkSize); err != nil {
				t.Fatal(err)
			}
			for _, m := range tc.msgs {
				if err := w.WriteMessage(m); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), tc.wire) {
				t.Fatalf("wire differs\n got % x\nwant % x", buf.Bytes(), tc.wire)
			}
			if w.BytesWritten() != uint64(len(tc.wire)) {
				t.Errorf("BytesWritten = %d, want %d", w.BytesWritten(), len(tc.wire))
			}
		})
	}
}

// TestWriterRoundTrip writes every table's messages, canonical or not, and
// reads them back.
func TestWriterRoundTrip(t *testing.T) {
	for _, tc := range wireTable() {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			w := NewWriterSize(&buf, 64) // small: flushes in the middle of messages
			w.SetChunkSize(tc.chunkSize)
			for _, m := range tc.msgs {
				if err := w.WriteMessage(m); err != nil {
					t.Fatal(err)
				}
			}
			w.Flush()
			r := NewReader(&buf, nil)
			r.SetChunkSize(tc.chunkSize)
			got, err := readAll(r)
			if err != io.EOF {
				t.Fatal(err)
			}
			equalMessages(t, got, tc.msgs)
		})
	}
}

// formats returns the header type of each chunk that starts a message in
// wire, which must hold single-chunk messages on one chunk stream below 64.
func firstByteFormats(t *testing.T, w *Writer, buf *bytes.Buffer, ms []Message) []uint8 {
	t.Helper()
	var out []uint8
	for _, m := range ms {
		buf.Reset()
		if err := w.WriteMessage(m); err != nil {
			t.Fatal(err)
		}
		w.Flush()
		out = append(out, buf.Bytes()[0]>>6)
	}
	return out
}

func TestWriterHeaderFormats(t *testing.T) {
	p4, p5 := pay(4, 0), pay(5, 0)
	var buf bytes.Buffer
	w := NewWriter(&buf)
	got := firstByteFormats(t, w, &buf, []Message{
		msg(3, 100, 8, 1, p4), // first use: 0
		msg(3, 110, 8, 1, p4), // delta 10 differs from 100: 2
		msg(3, 120, 8, 1, p4), // same delta: 3
		msg(3, 120, 8, 1, p4), // delta 0: 2
		msg(3, 130, 8, 1, p5), // length changes: 1
		msg(3, 140, 9, 1, p5), // type changes: 1
		msg(3, 150, 9, 2, p5), // stream ID changes: 0
		msg(3, 149, 9, 2, p5), // timestamp goes back: 0
		msg(3, 159, 9, 2, p5), // delta 10 vs the type 0's 149: 2
		msg(4, 159, 9, 2, p5), // another chunk stream: 0
	})
	want := []uint8{0, 2, 3, 2, 1, 1, 0, 0, 2, 0}
	if !bytes.Equal(got, want) {
		t.Fatalf("formats %v, want %v", got, want)
	}
}

func TestWriterChunkSize(t *testing.T) {
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.SetChunkSize(0); !errors.Is(err, ErrInvalidChunkSize) {
		t.Errorf("SetChunkSize(0) = %v", err)
	}
	if err := w.SetChunkSize(0x80000000); !errors.Is(err, ErrInvalidChunkSize) {
		t.Errorf("SetChunkSize(0x80000000) = %v", err)
	}
	if w.ChunkSize() != DefaultChunkSize {
		t.Fatalf("chunk size %d", w.ChunkSize())
	}

	// The documented order: Set Chunk Size goes out at the old size, then
	// the Writer switches; a Reader that applies it when read agrees.
	big := pay(1000, 5)
	w.WriteMessage(msg(2, 0, 1, 0, h(0, 0, 0x04, 0x00)))
	w.SetChunkSize(1024)
	w.WriteMessage(msg(6, 0, 9, 1, big))
	w.Flush()
	if buf.Len() != 12+4+12+1000 {
		t.Fatalf("wrote %d bytes, want the video in one chunk", buf.Len())
	}
	r := NewReader(&buf, nil)
	m, _ := r.ReadMessage()
	if err := r.SetChunkSize(1024); err != nil || m.TypeID != 1 {
		t.Fatal(err)
	}
	m, err := r.ReadMessage()
	if err != nil || !bytes.Equal(m.Payload, big) {
		t.Fatal(err)
	}
}

func TestWriterInvalid(t *testing.T) {
	w := NewWriter(io.Discard)
	for _, csid := range []uint32{0, 1, 65600} {
		if err := w.WriteMessage(msg(csid, 0, 8, 1, nil)); !errors.Is(err, ErrInvalidCSID) {
			t.Errorf("csid %d: %v", csid, err)
		}
	}
	var tooLarge *MessageTooLargeError
	err := w.WriteMessage(msg(3, 0, 9, 1, make([]byte, MaxMessageLength+1)))
	if !errors.As(err, &tooLarge) || tooLarge.Length != MaxMessageLength+1 {
		t.Errorf("oversized payload: %v", err)
	}
	if w.Buffered() != 0 {
		t.Errorf("rejected messages left %d bytes buffered", w.Buffered())
	}
}

type failWriter struct{ n int }

func (f *failWriter) Write(p []byte) (int, error) {
	f.n++
	return 0, errors.New("broken pipe")
}

func TestWriterStickyError(t *testing.T) {
	f := &failWriter{}
	w := NewWriter(f)
	w.WriteMessage(msg(3, 0, 8, 1, pay(10, 0)))
	err := w.Flush()
	if err == nil {
		t.Fatal("Flush succeeded on a broken writer")
	}
	if err2 := w.WriteMessage(msg(3, 0, 8, 1, pay(10, 0))); err2 != err {
		t.Errorf("WriteMessage after failure = %v", err2)
	}
	if err2 := w.Flush(); err2 != err || f.n != 1 {
		t.Errorf("Flush after failure = %v, %d writes", err2, f.n)
	}
}

func TestWriterAllocs(t *testing.T) {
	for _, cs := range []uint32{128, 4096} {
		w := NewWriter(io.Discard)
		w.SetChunkSize(cs)
		p := pay(10000, 0)
		ts := uint32(0x00FFFF00) // crosses into extended timestamps
		write := func() {
			ts += 40
			if err := w.WriteMessage(msg(6, ts, 9, 1, p)); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
		write()
		if allocs := testing.AllocsPerRun(500, write); allocs != 0 {
			t.Errorf("chunk size %d: %v allocs per message, want 0", cs, allocs)
		}
	}
}

func TestEncodeSpecExample2(t *testing.T) {
	// Encode writes type 0 then type 3, which is exactly §5.3.2.2.
	for _, tc := range wireTable() {
		if tc.name != "spec 5.3.2.2 example 2" && tc.name != "5.3.1.3 extended timestamp on type 0 and its continuation" {
			continue
		}
		got, err := Encode([]byte{0xAA}, tc.msgs[0], tc.chunkSize)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[1:], tc.wire) || got[0] != 0xAA {
			t.Errorf("%s: Encode differs\n got % x\nwant % x", tc.name, got[1:], tc.wire)
		}
		if n := EncodedLen(tc.msgs[0].CSID, tc.msgs[0].Timestamp, len(tc.msgs[0].Payload), tc.chunkSize); n != len(tc.wire) {
			t.Errorf("%s: EncodedLen = %d, want %d", tc.name, n, len(tc.wire))
		}
	}
}

func TestEncodedLen(t *testing.T) {
	for _, csid := range []uint32{2, 63, 64, 319, 320, 65599} {
		for _, ts := range []uint32{0, 0xFFFFFE, 0xFFFFFF, 0xFFFFFFFF} {
			for _, n := range []int{0, 1, 127, 128, 129, 256, 1000} {
				for _, cs := range []uint32{1, 128, 4096} {
					b, err := Encode(nil, msg(csid, ts, 9, 1, make([]byte, n)), cs)
					if err != nil {
						t.Fatal(err)
					}
					if l := EncodedLen(csid, ts, n, cs); l != len(b) {
						t.Fatalf("csid %d ts %#x len %d cs %d: EncodedLen %d, Encode %d", csid, ts, n, cs, l, len(b))
					}
				}
			}
		}
	}
	if _, err := Encode(nil, msg(3, 0, 9, 1, nil), 0); !errors.Is(err, ErrInvalidChunkSize) {
		t.Errorf("Encode at chunk size 0: %v", err)
	}
	if _, err := NewPrepared(msg(1, 0, 9, 1, nil), 128); !errors.Is(err, ErrInvalidCSID) {
		t.Errorf("NewPrepared on csid 1: %v", err)
	}
}

func TestWritePreparedState(t *testing.T) {
	// After a prepared message, WriteMessage on the same chunk stream
	// compresses against what the peer saw: a type 0 at 1000, so the next
	// message at 1020 is type 2 (delta 20), then type 3.
	var buf bytes.Buffer
	w := NewWriter(&buf)
	a := pay(32, 1)
	p, err := NewPrepared(msg(4, 1000, 8, 1, a), 128)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteMessage(msg(4, 0, 8, 1, a)) // earlier state, overridden by p
	w.WritePrepared(p)
	n := buf.Len() + w.Buffered()
	w.WriteMessage(msg(4, 1020, 8, 1, a))
	w.WriteMessage(msg(4, 1040, 8, 1, a))
	w.Flush()
	wire := buf.Bytes()
	if wire[n]>>6 != 2 || wire[n+4+32]>>6 != 3 {
		t.Fatalf("headers after prepared: %#x %#x", wire[n], wire[n+4+32])
	}
	r := NewReader(&buf, nil)
	got, err := readAll(r)
	if err != io.EOF {
		t.Fatal(err)
	}
	equalMessages(t, got, []Message{msg(4, 0, 8, 1, a), msg(4, 1000, 8, 1, a), msg(4, 1020, 8, 1, a), msg(4, 1040, 8, 1, a)})
}

func TestWritePreparedInterleaved(t *testing.T) {
	// Prepared messages (large: by reference; small: copied) mixed with
	// WriteMessage on several chunk streams come out in order.
	var want []Message
	var buf bytes.Buffer
	w := NewWriter(&buf)
	w.SetChunkSize(4096)
	for i := range 50 {
		ts := uint32(i * 40)
		v := msg(6, ts, 9, 1, pay(5000+i*100, byte(i)))
		a := msg(4, ts, 8, 1, pay(200, byte(i)))
		c := msg(3, ts, 20, 0, pay(30, byte(i)))
		pv, _ := NewPrepared(v, 4096)
		pa, _ := NewPrepared(a, 4096)
		if err := w.WritePrepared(pv); err != nil {
			t.Fatal(err)
		}
		w.WriteMessage(c)
		w.WritePrepared(pa)
		want = append(want, v, c, a)
		if i%7 == 0 {
			w.Flush()
		}
	}
	w.Flush()
	r := NewReader(&buf, nil)
	r.SetChunkSize(4096)
	got, err := readAll(r)
	if err != io.EOF {
		t.Fatal(err)
	}
	equalMessages(t, got, want)
	if w.BytesWritten() != r.BytesRead() {
		t.Errorf("wrote %d, read %d", w.BytesWritten(), r.BytesRead())
	}
}

func TestWritePreparedChunkSize(t *testing.T) {
	small, _ := NewPrepared(msg(4, 0, 8, 1, pay(200, 0)), 4096)
	big, _ := NewPrepared(msg(6, 0, 9, 1, pay(5000, 0)), 4096)
	tiny, _ := NewPrepared(msg(4, 0, 8, 1, pay(100, 0)), 4096)
	w := NewWriter(io.Discard) // chunk size 128
	if err := w.WritePrepared(tiny); err != nil {
		t.Errorf("100 bytes prepared at 4096 on a 128 writer: one chunk either way, got %v", err)
	}
	if err := w.WritePrepared(small); !errors.Is(err, ErrChunkSizeMismatch) {
		t.Errorf("200 bytes prepared at 4096 on a 128 writer: %v", err)
	}
	w.SetChunkSize(1024)
	if err := w.WritePrepared(small); err != nil {
		t.Errorf("one chunk at both sizes: %v", err)
	}
	if err := w.WritePrepared(big); !errors.Is(err, ErrChunkSizeMismatch) {
		t.Errorf("5000 bytes prepared at 4096 on a 1024 writer: %v", err)
	}
	w.SetChunkSize(4096)
	if err := w.WritePrepared(big); err != nil {
		t.Error(err)
	}
}

// countWriter counts bytes, like a connection that never blocks.
type countWriter struct{ n int64 }

func (c *countWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

func TestWritePreparedAllocs(t *testing.T) {
	// One message, encoded once, to 1000 writers: nothing is allocated per
	// writer.
	const subs = 1000
	ws := make([]*Writer, subs)
	cw := &countWriter{}
	for i := range ws {
		ws[i] = NewWriter(cw)
		ws[i].SetChunkSize(4096)
	}
	ts := uint32(0)
	fanout := func() {
		ts += 33
		p, err := NewPrepared(msg(6, ts, 9, 1, pay(10000, 0)), 4096)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range ws {
			if err := w.WritePrepared(p); err != nil {
				t.Fatal(err)
			}
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	fanout()
	// NewPrepared allocates the *Prepared and its bytes: 2 per message.
	if allocs := testing.AllocsPerRun(20, fanout); allocs > 2 {
		t.Errorf("%v allocs per message to %d writers, want 2 (NewPrepared) and 0 per writer", allocs, subs)
	}
	if want := int64(subs) * int64(EncodedLen(6, 0, 10000, 4096)) * 22; cw.n != want {
		t.Errorf("wrote %d bytes, want %d", cw.n, want)
	}
}

func TestWritePreparedTCP(t *testing.T) {
	// Over TCP, queued references go out with writev; the peer reads the
	// same messages.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	type result struct {
		msgs []Message
		err  error
	}
	done := make(chan result, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		r := NewReader(c, nil)
		r.SetChunkSize(4096)
		ms, err := readAll(r)
		done <- result{ms, err}
	}()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	w := NewWriter(c)
	w.SetChunkSize(4096)
	var want []Message
	for i := range 100 {
		m := msg(6, uint32(i)*40, 9, 1, pay(3000+i*97, byte(i)))
		p, _ := NewPrepared(m, 4096)
		w.WritePrepared(p)
		a := msg(4, uint32(i)*40, 8, 1, pay(100, byte(i)))
		w.WriteMessage(a)
		want = append(want, m, a)
		if i%10 == 9 {
			if err := w.Flush(); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Close()
	res := <-done
	if res.err != io.EOF {
		t.Fatalf("reader: %v", res.err)
	}
	equalMessages(t, res.msgs, want)
}

// countingWriter counts Write calls.
type countingWriter struct {
	bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.writes++
	return c.Buffer.Write(p)
}

// Without writev (a TLS connection), a flush of several messages, some
// queued by reference, is one Write of the same bytes.
func TestWriterCoalescesWithoutWritev(t *testing.T) {
	var cw countingWriter
	w := NewWriter(&cw)
	var ref bytes.Buffer
	rw := NewWriter(&ref)
	rw.writev = true // the net.Buffers path, as on a TCP socket
	for i := range 6 {
		payload := bytes.Repeat([]byte{byte(i)}, 300+i*700) // some copied, some by reference
		m := Message{CSID: 6, Header: Header{Timestamp: uint32(i * 40), TypeID: 9, StreamID: 1}, Payload: payload}
		p, err := NewPrepared(m, DefaultChunkSize)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.WritePrepared(p); err != nil {
			t.Fatal(err)
		}
		if err := rw.WritePrepared(p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	rw.Flush()
	if cw.writes != 1 {
		t.Fatalf("%d writes for one flush", cw.writes)
	}
	if !bytes.Equal(cw.Bytes(), ref.Bytes()) || w.BytesWritten() != uint64(ref.Len()) {
		t.Fatal("coalesced bytes differ")
	}
}

// A writer that grew its buffers for a burst of small prepared messages (a
// player's join) gives them back once its flushes stay small, and then
// writes small batches without allocating; one whose flushes fill its
// buffer keeps it.
func TestWriterGivesBackBurstBuffers(t *testing.T) {
	w := NewWriter(&countWriter{})
	w.SetChunkSize(4096)
	small := func(n int) {
		t.Helper()
		for i := range n {
			p, err := NewPrepared(msg(4, uint32(i), 8, 1, pay(300, byte(i))), 4096)
			if err != nil {
				t.Fatal(err)
			}
			if err := w.WritePrepared(p); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	small(80) // 24 KB of small messages, copied into the buffer
	if cap(w.buf) <= keepBuffer {
		t.Fatalf("buffer %d after the burst, want it grown past %d", cap(w.buf), keepBuffer)
	}
	for range shrinkAfter {
		small(1)
	}
	if cap(w.buf) > keepBuffer {
		t.Fatalf("buffer %d after %d small flushes, want at most %d", cap(w.buf), shrinkAfter, keepBuffer)
	}
	small(2)
	// Between flushes a Writer holds no buffer: it went back to the pool,
	// and the next small write of any Writer takes one from there.
	if w.buf != nil || w.hold != nil {
		t.Fatalf("buffer of %d bytes held after a flush, want none", cap(w.buf))
	}
	other := NewWriter(&countWriter{})
	other.SetChunkSize(4096)
	q, _ := NewPrepared(msg(4, 1, 8, 1, pay(300, 2)), 4096)
	if allocs := testing.AllocsPerRun(100, func() { other.WritePrepared(q); other.Flush(); w.WritePrepared(q); w.Flush() }); allocs != 0 {
		t.Fatalf("%v allocations per flush of two Writers sharing the pool, want 0", allocs)
	}
	p, _ := NewPrepared(msg(4, 1, 8, 1, pay(300, 1)), 4096)
	if allocs := testing.AllocsPerRun(100, func() { w.WritePrepared(p); w.WritePrepared(p); w.Flush() }); allocs != 0 {
		t.Fatalf("%v allocations per small batch after the give-back, want 0", allocs)
	}

	// Full flushes (a publisher's writer): the buffer stays.
	f := NewWriter(&countWriter{})
	big := msg(6, 0, 9, 1, pay(DefaultWriteBufferSize, 7))
	for range 2 * shrinkAfter {
		if err := f.WriteMessage(big); err != nil {
			t.Fatal(err)
		}
		f.Flush()
	}
	if cap(f.buf) < DefaultWriteBufferSize {
		t.Fatalf("a busy writer's buffer shrank to %d", cap(f.buf))
	}
}
