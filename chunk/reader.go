package chunk

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// Reader defaults; see ReaderConfig.
const (
	DefaultMaxMessageSize   = MaxMessageLength // everything the 24-bit field can say
	DefaultMaxReadChunkSize = MaxChunkSize     // every size §5.4.1 allows
	DefaultMaxStreams       = 64
	DefaultMaxBuffered      = 32 << 20
	DefaultReadBufferSize   = 32 << 10
)

// initialAlloc is the most a Reader allocates for a message before its bytes
// arrive: a message buffer starts at min(length, initialAlloc) and doubles
// (capped at the length) as chunks fill it, so a peer that declares a large
// length and sends nothing costs at most this much per chunk stream.
const initialAlloc = 64 << 10

// Media payloads (audio and video messages) up to slabMessage bytes (most
// audio frames and P-frames) are
// carved out of a shared slab rather than allocated one by one: a live
// server detaches and keeps every media payload, so reading them costs one
// allocation per slab, not one per message. A slab lives as long as any
// payload in it is referenced; a full-size one whose payloads all came
// back (Recycle) is reused instead. The first slab of a Reader is
// firstSlab bytes and each next one twice the last, up to slabSize: a
// connection that receives little media holds little.
const (
	firstSlab   = 16 << 10
	slabSize    = 64 << 10
	slabMessage = 16 << 10
)

// ReaderConfig holds the Reader's limits. The zero value of each field
// selects its default.
type ReaderConfig struct {
	// MaxMessageSize is the largest message length accepted, checked when a
	// type 0 or 1 header arrives, before anything is allocated.
	// Default DefaultMaxMessageSize (16 MiB - 1, the 24-bit field's maximum).
	MaxMessageSize uint32

	// MaxChunkSize is the ceiling for SetChunkSize. The Reader never
	// allocates by chunk size (chunk data goes straight into the message
	// buffer, which is bounded by the message length), so the default is
	// DefaultMaxReadChunkSize (0x7FFFFFFF): every size the spec allows.
	// Real peers send sizes above 16 MiB (e.g. 128 MiB) and servers that
	// reject them fail to interoperate.
	MaxChunkSize uint32

	// MaxStreams is the number of distinct chunk stream IDs a peer may use
	// over the connection; the next new one fails with ErrTooManyStreams.
	// Default DefaultMaxStreams (64). Common encoders use fewer than ten.
	MaxStreams int

	// MaxBuffered bounds the memory held in message buffers across all chunk
	// streams (capacity, in bytes, including buffers kept for reuse, which
	// are released first when the bound is reached). A message that would
	// push the total over it fails with ErrBufferLimit.
	// Default DefaultMaxBuffered (32 MiB): room for one maximum-size message
	// plus interleaved smaller ones.
	MaxBuffered int

	// Budget, when set, is a memory account shared by many Readers (a
	// server's, see Budget): every byte the Reader holds in message
	// buffers and slabs is charged to it, and released when the Reader
	// lets go of it (Detach hands it to the caller, ReleaseBudget at the
	// end). Buffers of at most SmallAlloc bytes are always granted; a
	// larger growth the budget refuses fails with ErrBudget.
	Budget Budget

	// BufferSize is the size of the bufio.Reader wrapped around the source.
	// If the source already is a *bufio.Reader at least this large, it is
	// used as is. Default DefaultReadBufferSize (32 KiB).
	BufferSize int
}

func (c *ReaderConfig) normalize() {
	if c.MaxMessageSize == 0 || c.MaxMessageSize > MaxMessageLength {
		c.MaxMessageSize = DefaultMaxMessageSize
	}
	if c.MaxChunkSize == 0 || c.MaxChunkSize > MaxChunkSize {
		c.MaxChunkSize = DefaultMaxReadChunkSize
	}
	if c.MaxStreams <= 0 {
		c.MaxStreams = DefaultMaxStreams
	}
	if c.MaxBuffered <= 0 {
		c.MaxBuffered = DefaultMaxBuffered
	}
	if c.BufferSize <= 0 {
		c.BufferSize = DefaultReadBufferSize
	}
}

// SmallAlloc is the largest buffer growth a Reader takes from its Budget
// without asking: slabs and the first initialAlloc bytes of a message. The
// per-connection bound (MaxBuffered) and connection limits bound these; the
// budget decides about larger ones, which only large messages need.
const SmallAlloc = initialAlloc

// Budget is a memory account shared by Readers (and, in a server, by
// whatever else keeps what peers send). Implementations are safe for
// concurrent use; rtmp.MemoryBudget is one.
type Budget interface {
	// Reserve charges n bytes if the account grants them and reports
	// whether it did.
	Reserve(n int) bool
	// Charge charges n bytes unconditionally.
	Charge(n int)
	// Release gives back n bytes charged before.
	Release(n int)
}

// stream is the receive state of one chunk stream. Owned by the Reader's
// goroutine, like everything in Reader.
type stream struct {
	csid uint32

	// The header the peer last described on this chunk stream (§5.3.1.2):
	// later chunks of types 1 to 3 take the missing fields from here.
	valid     bool   // a type 0 (or 1, see readHeader) header has arrived
	timestamp uint32 // absolute timestamp of the current or last message
	delta     uint32 // last delta; after a type 0 header, its timestamp (§5.3.1.2.4)
	length    uint32
	typeID    uint8
	streamID  uint32
	// ext: the last type 0, 1 or 2 header had the extended timestamp, so the
	// type 3 chunks after it carry one too (§5.3.1.3). extVal is its value.
	ext    bool
	extVal uint32

	inProgress bool   // a message has started and is not complete
	slab       bool   // buf is a region of a slab (not counted in held)
	buf        []byte // the message being assembled; len = bytes received
}

// media reports an audio or video message (types 8 and 9): the ones a
// live server keeps, whose buffers come from slabs and are recycled.
func (s *stream) media() bool { return s.typeID == 8 || s.typeID == 9 }

// Reader reads RTMP messages from a chunk stream (§5.3): it parses chunk
// headers, reassembles interleaved chunk streams and enforces the limits of
// its ReaderConfig.
//
// A Reader is not safe for concurrent use; one goroutine (the connection's
// read loop) owns it and calls SetChunkSize and Abort between ReadMessage
// calls when it decodes those control messages. All its state belongs to
// that goroutine, cfg included (only SetMaxMessageSize and SetMaxBuffered
// change it).
type Reader struct {
	src       io.Reader
	br        *bufio.Reader // nil after Idle, until the next ReadMessage
	brSize    int           // the read buffer's size while br is nil
	cfg       ReaderConfig
	chunkSize uint32
	nread     uint64 // bytes consumed, headers included

	slab    []byte // the free rest of the current slab (counted in held whole)
	slabLen int    // the current slab's size
	// Recycling (recycle.go): set by the first Recycle. cur is the current
	// slab's record when followed; recs the followed slabs, oldest first;
	// spare records for the next slabs.
	recycling bool
	cur       *slabRec
	recs      []*slabRec
	spare     []*slabRec
	// bigs follows the detached buffers of larger media messages (their
	// own, not a slab's); boxes are pool pointers kept for giving them
	// back (pool.Slices).
	bigs     []bigRec
	boxes    []*[]byte
	low      [16]*stream // chunk streams 2-15, the ones peers use (others: high)
	high     map[uint32]*stream
	nstreams int
	partial  int // streams with inProgress set
	held     int // sum of cap(stream.buf)
	last     *stream
	err      error // sticky: set when a chunk was cut in the middle

	scratch [16]byte
}

// NewReader returns a Reader that reads chunks from rd with the limits of
// cfg; a nil cfg selects every default. The chunk size starts at
// DefaultChunkSize.
func NewReader(rd io.Reader, cfg *ReaderConfig) *Reader {
	var c ReaderConfig
	if cfg != nil {
		c = *cfg
	}
	c.normalize()
	return &Reader{
		src:       rd,
		br:        bufio.NewReaderSize(rd, c.BufferSize),
		cfg:       c,
		chunkSize: DefaultChunkSize,
	}
}

// BytesRead returns the number of bytes the Reader has consumed from the
// source, chunk headers included: the sequence number for Acknowledgement
// (§5.4.3). Bytes read ahead into the buffer are not counted until used.
func (r *Reader) BytesRead() uint64 { return r.nread }

// Buffered returns the number of bytes received from the source and not
// yet consumed: 0 at the end of a batch of inbound messages.
func (r *Reader) Buffered() int {
	n := 0
	if r.br != nil {
		n = r.br.Buffered()
	}
	if p, ok := r.src.(*prefixReader); ok {
		n += len(p.rest) // carried over by SetBufferSize
	}
	return n
}

// ChunkSize returns the current maximum chunk size of the peer.
func (r *Reader) ChunkSize() uint32 { return r.chunkSize }

// SetChunkSize applies a Set Chunk Size message from the peer (§5.4.1) to
// all chunks read after it, including the rest of partial messages. The top
// bit, which "MUST be zero", is ignored. Zero and sizes above
// ReaderConfig.MaxChunkSize fail with ErrInvalidChunkSize and leave the
// chunk size unchanged.
func (r *Reader) SetChunkSize(n uint32) error {
	n &= MaxChunkSize
	if n == 0 || n > r.cfg.MaxChunkSize {
		return fmt.Errorf("chunk: set chunk size %d (max %d): %w", n, r.cfg.MaxChunkSize, ErrInvalidChunkSize)
	}
	r.chunkSize = n
	return nil
}

// SetMaxMessageSize changes ReaderConfig.MaxMessageSize for the messages
// whose first chunk arrives from now on (a message in progress keeps going);
// zero selects the default. A server uses it to take only small messages
// from a peer until it is authorized.
func (r *Reader) SetMaxMessageSize(n uint32) {
	if n == 0 || n > MaxMessageLength {
		n = DefaultMaxMessageSize
	}
	r.cfg.MaxMessageSize = n
}

// SetBufferSize replaces the read buffer with one of n bytes (at least 16),
// keeping what was read ahead: a server starts a connection with a small
// buffer and gives it a large one once it carries a publisher, so that a
// player (which sends little) costs little memory.
func (r *Reader) SetBufferSize(n int) {
	n = max(n, 16)
	if r.br == nil {
		r.brSize = n // made at the next read
		return
	}
	if r.br.Size() == n {
		return
	}
	// r.src is what the buffer reads: the source, or a prefixReader of
	// bytes an earlier change carried over before it.
	src := r.src
	if p, ok := src.(*prefixReader); ok && len(p.rest) == 0 {
		src = p.r
	}
	if k := r.br.Buffered(); k > 0 {
		b, _ := r.br.Peek(k)
		src = &prefixReader{rest: bytes.Clone(b), r: src}
	}
	r.src = src
	r.br = bufio.NewReaderSize(src, n)
}

// BufferSize returns the size of the read buffer.
func (r *Reader) BufferSize() int {
	if r.br == nil {
		return r.brSize
	}
	return r.br.Size()
}

// Idle drops what the Reader keeps for reuse: the message buffers of chunk
// streams with no partial message and, when nothing is buffered, the read
// buffer (the chunk streams' header state stays). A server calls it for a
// connection it will not read for a while, so that thousands of idle
// connections hold no buffers; the next ReadMessage makes a new read buffer
// of the same size. The payload of the last message read is not valid
// after it.
func (r *Reader) Idle() {
	r.last = nil
	r.reclaim()
	if r.br != nil && r.br.Buffered() == 0 {
		r.brSize, r.br = r.br.Size(), nil
	}
}

// prefixReader reads rest, then r.
type prefixReader struct {
	rest []byte
	r    io.Reader
}

func (p *prefixReader) Read(b []byte) (int, error) {
	if len(p.rest) == 0 {
		return p.r.Read(b)
	}
	n := copy(b, p.rest)
	p.rest = p.rest[n:]
	if len(p.rest) == 0 {
		p.rest = nil
	}
	return n, nil
}

// SetMaxBuffered changes ReaderConfig.MaxBuffered from the next buffer the
// Reader grows; zero or negative selects the default. Buffers already held
// stay.
func (r *Reader) SetMaxBuffered(n int) {
	if n <= 0 {
		n = DefaultMaxBuffered
	}
	r.cfg.MaxBuffered = n
}

// Abort applies an Abort Message (§5.4.2): the partial message on chunk
// stream csid is discarded. The chunk stream's header state is kept, since
// the peer's is too. Unknown chunk streams and complete messages are left
// alone.
func (r *Reader) Abort(csid uint32) {
	s := r.lookup(csid)
	if s == nil || !s.inProgress {
		return
	}
	s.inProgress = false
	s.buf = s.buf[:0]
	r.partial--
}

// Detach gives the caller the payload of the message the last ReadMessage
// returned, and the Reader forgets it: it stays valid after later reads and
// the Reader allocates a new buffer for the next message on that chunk
// stream. It returns nil if there is nothing to detach (no message since the
// last ReadMessage, or already detached).
//
// Use it when the payload must outlive the next read (the live server keeps
// media payloads for fan-out); otherwise copy the payload, or do nothing and
// let the Reader reuse its buffer.
func (r *Reader) Detach() []byte {
	s := r.last
	if s == nil {
		return nil
	}
	r.last = nil
	p := s.buf
	if !s.slab {
		r.unhold(cap(p))
		if r.recycling && s.media() {
			r.followBig(p)
		}
	}
	s.buf, s.slab = nil, false
	return p[:len(p):len(p)]
}

// ReadMessage reads chunks until a message is complete and returns it.
//
// The payload aliases a buffer of the Reader: it is valid until the next
// call to ReadMessage, which may overwrite it. Call Detach to keep it, or
// copy it. Once buffers have grown to the stream's message sizes, reading
// allocates nothing.
//
// Peers disagree on the extended timestamp of type 3 chunks (§5.3.1.3).
// When the last type 0, 1 or 2 header of the chunk stream had one, the next
// 4 bytes of a type 3 chunk are taken as its extended timestamp only if they
// equal that header's extended value or the message's absolute timestamp;
// otherwise the peer left the field out and they are chunk data. See
// skipExtended for the reasoning.
//
// It returns io.EOF only when the source ends between chunks with no partial
// message; a source that ends anywhere else gives io.ErrUnexpectedEOF. An
// error from the source at a chunk boundary (such as a read deadline) is
// returned as is and the Reader may be used again; any other error is
// permanent and returned by every later call.
func (r *Reader) ReadMessage() (Message, error) {
	if r.err != nil {
		return Message{}, r.err
	}
	r.last = nil
	if r.br == nil {
		r.br = bufio.NewReaderSize(r.src, r.brSize)
	}
	for {
		b0, err := r.br.ReadByte()
		if err != nil {
			switch {
			case err != io.EOF:
				err = fmt.Errorf("chunk: %w", err)
			case r.partial > 0:
				err = fmt.Errorf("chunk: %d partial messages: %w", r.partial, io.ErrUnexpectedEOF)
			}
			return Message{}, err
		}
		r.nread++
		s, err := r.readHeader(b0)
		if err != nil {
			return Message{}, r.fail(err)
		}
		done, err := r.readData(s)
		if err != nil {
			return Message{}, r.fail(csidError(s.csid, err))
		}
		if done {
			r.last = s
			return Message{
				CSID:    s.csid,
				Header:  Header{Timestamp: s.timestamp, TypeID: s.typeID, StreamID: s.streamID},
				Payload: s.buf,
			}, nil
		}
	}
}

func (r *Reader) fail(err error) error {
	r.err = err
	return err
}

// readFull reads exactly len(b) bytes; EOF inside a chunk is unexpected.
func (r *Reader) readFull(b []byte) error {
	n, err := io.ReadFull(r.br, b)
	r.nread += uint64(n)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// readHeader parses the rest of the basic header after its first byte b0,
// the message header and the extended timestamp, and updates the chunk
// stream's state. It returns errors already wrapped.
func (r *Reader) readHeader(b0 uint8) (*stream, error) {
	format := b0 >> 6
	csid := uint32(b0 & 0x3F)
	switch csid {
	case 0: // 2-byte form: ID 64-319
		if err := r.readFull(r.scratch[:1]); err != nil {
			return nil, fmt.Errorf("chunk: basic header: %w", err)
		}
		csid = 64 + uint32(r.scratch[0])
	case 1: // 3-byte form: ID 64-65599, low byte first
		if err := r.readFull(r.scratch[:2]); err != nil {
			return nil, fmt.Errorf("chunk: basic header: %w", err)
		}
		csid = 64 + uint32(r.scratch[0]) + uint32(r.scratch[1])<<8
	}

	s := r.lookup(csid)
	if s == nil {
		// Type 0 "MUST be used at the start of a chunk stream" (§5.3.1.2.1).
		// Type 1 is let through because it carries everything but the
		// message stream ID, and librtmp starts chunk stream 2 with a type-1
		// User Control message (SRS issue 98); the stream ID is taken as 0.
		if format >= 2 {
			return nil, csidError(csid, fmt.Errorf("type %d header: %w", format, ErrNoPreviousHeader))
		}
		var err error
		if s, err = r.newStream(csid); err != nil {
			return nil, csidError(csid, err)
		}
	}
	if format < 3 && s.inProgress {
		return nil, csidError(csid, fmt.Errorf("type %d header: %w", format, ErrHeaderMidMessage))
	}

	switch format {
	case 0:
		b := r.scratch[:11]
		if err := r.readFull(b); err != nil {
			return nil, csidError(csid, err)
		}
		ts := be24(b[0:])
		s.length = be24(b[3:])
		s.typeID = b[6]
		s.streamID = binary.LittleEndian.Uint32(b[7:])
		s.ext = ts == extendedTimestamp
		if s.ext {
			if err := r.readFull(r.scratch[:4]); err != nil {
				return nil, csidError(csid, err)
			}
			ts = binary.BigEndian.Uint32(r.scratch[:4])
		}
		s.timestamp, s.delta, s.extVal = ts, ts, ts
		s.valid = true
	case 1, 2:
		n := 7
		if format == 2 {
			n = 3
		}
		b := r.scratch[:n]
		if err := r.readFull(b); err != nil {
			return nil, csidError(csid, err)
		}
		delta := be24(b)
		if format == 1 {
			s.length = be24(b[3:])
			s.typeID = b[6]
		}
		s.ext = delta == extendedTimestamp
		if s.ext {
			if err := r.readFull(r.scratch[:4]); err != nil {
				return nil, csidError(csid, err)
			}
			delta = binary.BigEndian.Uint32(r.scratch[:4])
		}
		if !s.valid { // type 1 on a new chunk stream, see above
			s.valid = true
			s.timestamp = 0
			s.streamID = 0
		}
		s.timestamp += delta
		s.delta, s.extVal = delta, delta
	case 3:
		if s.inProgress {
			if s.ext {
				if err := r.skipExtended(s.extVal, s.timestamp); err != nil {
					return nil, csidError(csid, err)
				}
			}
			return s, nil
		}
		// A new message with the previous header and delta (§5.3.1.2.4).
		if s.ext {
			if err := r.skipExtended(s.extVal, s.timestamp+s.delta); err != nil {
				return nil, csidError(csid, err)
			}
		}
		s.timestamp += s.delta
	}

	// A new message starts here.
	if s.length > r.cfg.MaxMessageSize {
		return nil, csidError(csid, &MessageTooLargeError{Length: s.length, Max: r.cfg.MaxMessageSize})
	}
	s.inProgress = true
	r.partial++
	// A media message comes from the slab when the last one of its chunk
	// stream was detached (or it is the first): the caller keeps payloads.
	// A caller that does not detach keeps reusing one buffer instead.
	if s.buf == nil && s.media() && s.length > 0 && s.length <= slabMessage {
		if err := r.carve(s); err != nil {
			return nil, csidError(csid, err)
		}
		return s, nil
	}
	if s.slab {
		s.buf, s.slab = nil, false // a slab region is its message's alone
	}
	if s.buf == nil && r.recycling && s.media() {
		r.reuseBig(s) // a larger media message: a buffer given back may fit
	}
	s.buf = s.buf[:0]
	return s, nil
}

// carve gives a media message of s its buffer from the slab, sized to its
// length (at most slabMessage: a peer that declares that much and sends
// nothing wastes that much of a slab).
func (r *Reader) carve(s *stream) error {
	if s.buf != nil {
		r.unhold(cap(s.buf)) // a buffer of its own, kept for reuse: not needed
		s.buf = nil
	}
	n := int(s.length)
	if len(r.slab) < n {
		size := min(max(2*r.slabLen, firstSlab), slabSize)
		size = max(size, n)
		r.unhold(r.slabLen) // what is left of it goes with its payloads
		r.closeSlab()
		r.slab, r.slabLen = nil, 0
		if r.held+size > r.cfg.MaxBuffered {
			r.reclaim()
			if r.held+size > r.cfg.MaxBuffered {
				return fmt.Errorf("%w: need %d more bytes, %d of %d held", ErrBufferLimit, size, r.held, r.cfg.MaxBuffered)
			}
		}
		if err := r.hold(size); err != nil {
			return err
		}
		r.slab, r.slabLen = r.newSlab(size), size
	}
	if r.cur != nil {
		r.cur.offs = append(r.cur.offs, uint32(r.slabLen-len(r.slab)))
	}
	s.buf = r.slab[:0:n]
	s.slab = true
	r.slab = r.slab[n:]
	return nil
}

// skipExtended handles the extended timestamp of a type 3 chunk whose chunk
// stream last had a type 0, 1 or 2 header with an extended timestamp.
//
// §5.3.1.3 says the field "is present in Type 3 chunks" then, and FFmpeg,
// nginx-rtmp, Flash/FMS and OBS (since 2024) send it, but older librtmp
// builds and others leave it out, and some send the absolute timestamp
// where the delta belongs. Reading it unconditionally (FFmpeg, nginx-rtmp)
// desynchronizes the stream with the first kind of peer; never reading it
// (old librtmp) with the second. So, as SRS does, peek at the next 4 bytes
// and consume them only if they equal a value a sender would put there: the
// value of the last header's extended timestamp (want1; the spec's rule and
// FFmpeg's writer) or the absolute timestamp of this chunk's message
// (want2). Otherwise they are payload.
//
// The timestamp of the message is never taken from this field: the header
// that started the message fixed it, and for a type 3 chunk that starts a
// message, the spec fixes the delta as the previous one. The rule misreads
// only a peer that omits the field and whose chunk data begins with exactly
// one of those two values.
//
// When fewer than 4 bytes of chunk data follow and the peer omits the field,
// the peek waits for bytes of the next chunk; at EOF it gives up and lets
// the data read report the truncation, if any.
func (r *Reader) skipExtended(want1, want2 uint32) error {
	b, err := r.br.Peek(4)
	if len(b) == 4 {
		if v := binary.BigEndian.Uint32(b); v == want1 || v == want2 {
			r.br.Discard(4)
			r.nread += 4
		}
		return nil
	}
	if err == io.EOF {
		return nil
	}
	return err
}

// readData reads the data of one chunk into the message of s and reports
// whether the message is complete.
func (r *Reader) readData(s *stream) (bool, error) {
	n := s.length - uint32(len(s.buf))
	if n > r.chunkSize {
		n = r.chunkSize
	}
	for n > 0 {
		if len(s.buf) == cap(s.buf) {
			if err := r.grow(s); err != nil {
				return false, err
			}
		}
		k := min(n, uint32(cap(s.buf)-len(s.buf)))
		off := len(s.buf)
		s.buf = s.buf[:off+int(k)]
		if err := r.readFull(s.buf[off:]); err != nil {
			return false, err
		}
		n -= k
	}
	if uint32(len(s.buf)) < s.length {
		return false, nil
	}
	s.inProgress = false
	r.partial--
	return true, nil
}

// grow enlarges the buffer of s, which is full and short of s.length:
// min(length, initialAlloc) first, then the whole length once that much
// arrived. So a peer that declares a large length and sends little costs
// initialAlloc, not the length.
func (r *Reader) grow(s *stream) error {
	c := initialAlloc
	if cap(s.buf) >= initialAlloc {
		// The peer sent the first initialAlloc bytes: it is sending this
		// message, so the rest is allocated at once, not by doubling (a
		// 500 KB key frame: two allocations and one 64 KiB copy, not four
		// and 450 KB). The length is bounded by MaxMessageSize and the
		// total by MaxBuffered.
		c = int(s.length)
	}
	c = min(c, int(s.length))
	if c == int(s.length) && r.recycling && s.media() {
		c = bigCap(c) // room for the next, slightly larger ones (recycle.go)
	}
	more := c - cap(s.buf)
	if r.held+more > r.cfg.MaxBuffered {
		r.reclaim()
		if r.held+more > r.cfg.MaxBuffered {
			return fmt.Errorf("%w: need %d more bytes, %d of %d held", ErrBufferLimit, more, r.held, r.cfg.MaxBuffered)
		}
	}
	if err := r.hold(more); err != nil {
		return fmt.Errorf("message of %d bytes: %w", s.length, err)
	}
	nb := make([]byte, len(s.buf), c)
	copy(nb, s.buf)
	s.buf = nb
	return nil
}

// hold counts n more bytes held, charged to the budget: at most SmallAlloc
// at once is granted without asking, more only if the budget grants it.
func (r *Reader) hold(n int) error {
	if b := r.cfg.Budget; b != nil && n > 0 {
		if n <= SmallAlloc {
			b.Charge(n)
		} else if !b.Reserve(n) {
			return fmt.Errorf("%w: %d more bytes refused", ErrBudget, n)
		}
	}
	r.held += n
	return nil
}

// unhold counts n bytes no longer held, released to the budget.
func (r *Reader) unhold(n int) {
	r.held -= n
	if b := r.cfg.Budget; b != nil && n > 0 {
		b.Release(n)
	}
}

// ReleaseBudget gives back to ReaderConfig.Budget everything the Reader
// holds, and drops its buffers: the owner calls it when done with the
// Reader (its connection closed). The Reader must not be used after.
func (r *Reader) ReleaseBudget() {
	for _, s := range r.low {
		if s != nil {
			s.buf, s.slab = nil, false
		}
	}
	for _, s := range r.high {
		s.buf, s.slab = nil, false
	}
	r.slab, r.slabLen = nil, 0
	r.cur, r.recs, r.spare = nil, nil, nil
	r.bigs, r.boxes = nil, nil
	r.unhold(r.held)
	if r.err == nil {
		r.err = fmt.Errorf("chunk: reader released: %w", ErrBudget)
	}
}

// reclaim drops the buffers kept for reuse by chunk streams that have no
// partial message.
func (r *Reader) reclaim() {
	drop := func(s *stream) {
		if s != nil && !s.inProgress && s.buf != nil {
			if !s.slab {
				r.unhold(cap(s.buf))
			}
			s.buf, s.slab = nil, false
		}
	}
	for _, s := range r.low {
		drop(s)
	}
	for _, s := range r.high {
		drop(s)
	}
}

func (r *Reader) lookup(csid uint32) *stream {
	if csid < uint32(len(r.low)) {
		return r.low[csid]
	}
	return r.high[csid]
}

func (r *Reader) newStream(csid uint32) (*stream, error) {
	if r.nstreams >= r.cfg.MaxStreams {
		return nil, fmt.Errorf("%w (limit %d)", ErrTooManyStreams, r.cfg.MaxStreams)
	}
	s := &stream{csid: csid}
	if csid < uint32(len(r.low)) {
		r.low[csid] = s
	} else {
		if r.high == nil {
			r.high = make(map[uint32]*stream)
		}
		r.high[csid] = s
	}
	r.nstreams++
	return s, nil
}

func be24(b []byte) uint32 {
	_ = b[2]
	return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2])
}
