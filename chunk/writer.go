package chunk

import (
	"fmt"
	"io"
	"net"
	"slices"

	"github.com/ertmp/rtmp/internal/pool"
	"github.com/ertmp/rtmp/internal/writev"
)

// DefaultWriteBufferSize is the Writer's buffer size unless NewWriterSize
// says otherwise.
const DefaultWriteBufferSize = 32 << 10

const (
	// refThreshold: prepared messages at least this long are queued by
	// reference (no copy) and written with writev; shorter ones are copied
	// into the buffer, which costs less than an extra iovec or, on writers
	// without writev (TLS), an extra Write.
	refThreshold = 1 << 10
	// maxSegs bounds the queued references; IOV_MAX is 1024 on Linux.
	maxSegs = 512
	// maxFlat is the largest coalescing buffer a Writer keeps between
	// flushes (see Writer.writev).
	maxFlat = 256 << 10
)

// wstream is what the peer believes about one of our chunk streams: the
// header state its Reader holds after our last chunk header (§5.3.1.2).
type wstream struct {
	valid     bool
	timestamp uint32
	delta     uint32 // after a type 0 header, its timestamp (§5.3.1.2.4)
	length    uint32
	typeID    uint8
	streamID  uint32
}

// segment is a queued prepared message written by reference, preceded by
// the buffered bytes up to buf[end].
type segment struct {
	end int
	ref []byte
}

// Writer writes RTMP messages as chunks (§5.3), choosing for each message
// the most compact header the peer can decode, as §5.3.1.2 says an
// implementation SHOULD. Output is buffered until Flush, or until the buffer
// fills.
//
// A Writer is not safe for concurrent use; one goroutine (the connection's
// writer) owns it and all its state. The bytes of queued Prepared messages
// are shared and only read.
type Writer struct {
	w         io.Writer
	size      int
	chunkSize uint32
	nwritten  uint64
	err       error // sticky: the first error from w

	buf  []byte    // chunks waiting for Flush
	segs []segment // prepared messages queued by reference, in order
	vec  net.Buffers
	out  net.Buffers // what WriteTo consumes; a field so it does not escape
	// writev: w writes net.Buffers with one writev (a TCP or Unix socket).
	// Otherwise (TLS) a flush copies its buffers into flat and makes one
	// Write: one TLS write of full records instead of one per buffer.
	writev bool
	flat   []byte

	low  [16]wstream // chunk streams 2-15, the ones RTMP peers use
	high map[uint32]*wstream

	// slack counts the flushes in a row that used at most a quarter of a
	// buffer grown past keepBuffer (see Flush).
	slack int
	// hold carries buf to and from bufPool (see release).
	hold *[]byte
}

// bufPool lends Writers their small buffer between flushes: a player's
// writer writes a message or two per wake and then waits, and thousands of
// them each keeping one would hold as many as there are players.
var bufPool = pool.Slices[byte]{N: keepBuffer}

// grab takes a buffer from the pool for a Writer that has none.
func (w *Writer) grab() { w.buf = bufPool.Get(&w.hold) }

// release gives an empty buffer of keepBuffer bytes back to the pool: the
// Writer holds none between flushes (a larger one, grown for a burst,
// stays under Flush's rule).
func (w *Writer) release() {
	if bufPool.Put(&w.hold, w.buf) {
		w.buf = nil
	}
}

const (
	// keepBuffer, keepSegs: a Writer's buffers up to these sizes (bytes,
	// prepared messages) stay whatever their use (its byte buffer of
	// keepBuffer goes back to bufPool after each flush and comes from there
	// again); larger ones it gives back once shrinkAfter flushes in a row
	// used a quarter of them at most. A player's writer grows its buffers
	// for the burst it gets when it joins (the GOP cache) and then writes a
	// message or two at a time: thousands of players should not each hold
	// their join's buffers.
	keepBuffer  = 1 << 10
	keepSegs    = 16
	shrinkAfter = 8
)

// NewWriter returns a Writer with a buffer of DefaultWriteBufferSize. The
// chunk size starts at DefaultChunkSize.
func NewWriter(w io.Writer) *Writer {
	return NewWriterSize(w, DefaultWriteBufferSize)
}

// NewWriterSize returns a Writer that flushes by itself once size bytes are
// buffered (prepared messages queued by reference do not count).
func NewWriterSize(w io.Writer, size int) *Writer {
	if size <= 0 {
		size = DefaultWriteBufferSize
	}
	_, tcp := w.(*net.TCPConn)
	_, unix := w.(*net.UnixConn)
	return &Writer{w: w, size: size, chunkSize: DefaultChunkSize, writev: tcp || unix}
}

// ChunkSize returns the current maximum chunk size of the Writer.
func (w *Writer) ChunkSize() uint32 { return w.chunkSize }

// SetChunkSize sets the maximum chunk size for messages written after it.
// The Writer does not tell the peer: the caller first writes the Set Chunk
// Size message (type 1, chunk stream 2, message stream 0, §5.4.1) with
// WriteMessage, which chunks it at the old size, then calls SetChunkSize.
// Chunks already buffered keep the size they were written with.
func (w *Writer) SetChunkSize(n uint32) error {
	if n == 0 || n > MaxChunkSize {
		return fmt.Errorf("chunk: set chunk size %d: %w", n, ErrInvalidChunkSize)
	}
	w.chunkSize = n
	return nil
}

// BytesWritten returns the number of bytes written to the underlying writer.
func (w *Writer) BytesWritten() uint64 { return w.nwritten }

// Buffered returns the number of bytes waiting for Flush.
func (w *Writer) Buffered() int {
	n := len(w.buf)
	for _, s := range w.segs {
		n += len(s.ref)
	}
	return n
}

func (w *Writer) state(csid uint32) *wstream {
	if csid < uint32(len(w.low)) {
		return &w.low[csid]
	}
	s := w.high[csid]
	if s == nil {
		if w.high == nil {
			w.high = make(map[uint32]*wstream)
		}
		s = new(wstream)
		w.high[csid] = s
	}
	return s
}

// WriteMessage writes m as chunks on chunk stream m.CSID. The header format
// follows §5.3.1.2: type 0 on the first message of the chunk stream, when
// the message stream ID changes or when the timestamp goes backwards; type 1
// when the length or type ID changes; type 2 when only the timestamp delta
// changes; type 3 when the delta is the same too. Timestamps move forward
// in serial arithmetic (RFC 1982): a delta below 2^31 is forward, so a
// timestamp that wraps past 2^32 keeps using deltas. Timestamps or deltas of
// 0xFFFFFF or more go in an extended timestamp, which the type 3 chunks of
// the message repeat (§5.3.1.3).
//
// The payload is copied; the Writer does not keep it. Writing chunk headers
// allocates nothing.
func (w *Writer) WriteMessage(m Message) error {
	if w.err != nil {
		return w.err
	}
	if !validCSID(m.CSID) {
		return fmt.Errorf("chunk: csid %d: %w", m.CSID, ErrInvalidCSID)
	}
	if len(m.Payload) > MaxMessageLength {
		return csidError(m.CSID, &MessageTooLargeError{Length: uint32(min(len(m.Payload), 1<<32-1)), Max: MaxMessageLength})
	}
	length := uint32(len(m.Payload))
	s := w.state(m.CSID)
	if w.buf == nil {
		w.grab()
	}

	var format uint8
	t := m.Timestamp
	if s.valid && s.streamID == m.StreamID {
		if d := m.Timestamp - s.timestamp; d < 1<<31 {
			t = d
			switch {
			case length != s.length || m.TypeID != s.typeID:
				format = 1
			case d != s.delta:
				format = 2
			default:
				format = 3
			}
		}
	}
	w.buf = appendChunkHeader(w.buf, format, m.CSID, t, length, m.TypeID, m.StreamID)
	*s = wstream{valid: true, timestamp: m.Timestamp, delta: t, length: length, typeID: m.TypeID, streamID: m.StreamID}

	var scratch [3 + 4]byte
	cont := appendChunkHeader(scratch[:0], 3, m.CSID, t, 0, 0, 0)
	p := m.Payload
	cs := int(min(w.chunkSize, MaxMessageLength))
	lead := false
	for {
		// As many chunks as fit in the buffer, at least one.
		k := max(1, (w.size-len(w.buf))/(cs+len(cont)))
		take := min(len(p), k*cs)
		w.buf = appendChunks(w.buf, cont, p[:take], cs, lead)
		p = p[take:]
		if len(w.buf) >= w.size {
			if err := w.Flush(); err != nil {
				return err
			}
		}
		if len(p) == 0 {
			return nil
		}
		lead = true
	}
}

// appendChunks appends p as chunk data of at most cs bytes each, separated
// by the continuation header cont, and preceded by cont if lead is set.
func appendChunks(dst, cont, p []byte, cs int, lead bool) []byte {
	n := 0
	if len(p) > 0 {
		n = len(p) + (len(p)-1)/cs*len(cont)
	}
	if lead {
		n += len(cont)
	}
	dst = slices.Grow(dst, n)
	out := dst[len(dst) : len(dst)+n]
	if lead {
		out = out[copy(out, cont):]
	}
	for {
		out = out[copy(out, p[:min(len(p), cs)]):]
		p = p[min(len(p), cs):]
		if len(p) == 0 {
			return dst[:len(dst)+n]
		}
		out = out[copy(out, cont):]
	}
}

// WritePrepared queues the chunks of p. They are the same bytes for every
// Writer: long ones are not copied but kept by reference until the next
// Flush, which writes them with writev (net.Buffers) where the underlying
// writer supports it. It allocates nothing once the Writer's queues have
// grown.
//
// p must have been prepared at the Writer's chunk size, unless its payload
// fits in one chunk at both sizes; otherwise it fails with
// ErrChunkSizeMismatch. Afterwards the Writer's state for p's chunk stream
// is what the peer holds after a type 0 header, so a later WriteMessage on
// that chunk stream compresses its header correctly.
func (w *Writer) WritePrepared(p *Prepared) error {
	if w.err != nil {
		return w.err
	}
	if p.chunkSize != w.chunkSize && (p.length > p.chunkSize || p.length > w.chunkSize) {
		return fmt.Errorf("chunk: csid %d: prepared at %d, writing at %d: %w", p.csid, p.chunkSize, w.chunkSize, ErrChunkSizeMismatch)
	}
	if len(p.wire) < refThreshold {
		if w.buf == nil {
			w.grab()
		}
		w.buf = append(w.buf, p.wire...)
	} else {
		w.segs = append(w.segs, segment{end: len(w.buf), ref: p.wire})
	}
	*w.state(p.csid) = wstream{
		valid:     true,
		timestamp: p.h.Timestamp,
		delta:     p.h.Timestamp,
		length:    p.length,
		typeID:    p.h.TypeID,
		streamID:  p.h.StreamID,
	}
	if len(w.buf) >= w.size || len(w.segs) >= maxSegs {
		return w.Flush()
	}
	return nil
}

// reset empties the buffers after a flush of used buffered bytes, and
// gives back those that stayed mostly unused (keepBuffer).
func (w *Writer) reset(used int) {
	w.buf = w.buf[:0]
	if cap(w.buf) <= keepBuffer && cap(w.segs) <= keepSegs {
		w.slack = 0
		w.release()
		return
	}
	if used > cap(w.buf)/4 && used > keepBuffer/4 {
		w.slack = 0
		return
	}
	if w.slack++; w.slack >= shrinkAfter {
		w.slack = 0
		w.buf, w.segs, w.vec = nil, nil, nil
		return
	}
	w.release()
}

// Flush writes everything buffered to the underlying writer. After an error
// the Writer is unusable: every later call returns that error.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.segs) == 0 {
		if len(w.buf) == 0 {
			return nil
		}
		n, err := w.w.Write(w.buf)
		w.nwritten += uint64(n)
		if err == nil && n < len(w.buf) {
			err = io.ErrShortWrite
		}
		w.reset(len(w.buf))
		if err != nil {
			w.err = fmt.Errorf("chunk: write: %w", err)
		}
		return w.err
	}

	vec := w.vec[:0]
	start := 0
	for _, s := range w.segs {
		if s.end > start {
			vec = append(vec, w.buf[start:s.end])
			start = s.end
		}
		vec = append(vec, s.ref)
	}
	if start < len(w.buf) {
		vec = append(vec, w.buf[start:])
	}
	w.vec = vec
	var n int64
	var err error
	if w.writev {
		n, err = writev.Write(w.w, vec, &w.out)
	} else {
		flat := w.flat[:0]
		for _, b := range vec {
			flat = append(flat, b...)
		}
		var k int
		k, err = w.w.Write(flat)
		n = int64(k)
		if err == nil && k < len(flat) {
			err = io.ErrShortWrite
		}
		if cap(flat) > maxFlat {
			flat = nil // a burst: do not keep it
		}
		w.flat = flat[:0]
	}
	w.nwritten += uint64(n)

	// Drop the references so shared payloads can be freed.
	clear(w.vec)
	clear(w.segs)
	w.segs = w.segs[:0]
	w.reset(len(w.buf))
	if err != nil {
		w.err = fmt.Errorf("chunk: write: %w", err)
	}
	return w.err
}
