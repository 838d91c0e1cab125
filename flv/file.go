package flv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/ertmp/rtmp/amf0"
)

// Header is the FLV file header (FLV 10.1 §E.2):
//
//	Signature    "FLV"
//	Version      UI8
//	Flags        UB[5] reserved, UB[1] audio, UB[1] reserved, UB[1] video
//	DataOffset   UI32  header size, 9 for version 1
//
// followed by PreviousTagSize0, a UI32 that is always 0.
type Header struct {
	Version uint8
	// Flags is the whole flags byte, reserved bits included.
	Flags uint8
	// Extra holds header bytes beyond the 9 that version 1 defines
	// (DataOffset - 9 of them), kept so a file re-encodes exactly.
	Extra []byte
}

// Header flag bits.
const (
	FlagVideo uint8 = 0x01
	FlagAudio uint8 = 0x04
)

// HasAudio reports the TypeFlagsAudio bit.
func (h Header) HasAudio() bool { return h.Flags&FlagAudio != 0 }

// HasVideo reports the TypeFlagsVideo bit.
func (h Header) HasVideo() bool { return h.Flags&FlagVideo != 0 }

// NewHeader returns a version 1 header with the given stream flags.
func NewHeader(audio, video bool) Header {
	h := Header{Version: 1}
	if audio {
		h.Flags |= FlagAudio
	}
	if video {
		h.Flags |= FlagVideo
	}
	return h
}

// Tag is one FLV tag (FLV 10.1 §E.4.1):
//
//	Reserved          UB[2]
//	Filter            UB[1]  1 = pre-processed (encrypted) body
//	TagType           UB[5]
//	DataSize          UI24
//	Timestamp         UI24   low 24 bits, milliseconds
//	TimestampExtended UI8    high 8 bits
//	StreamID          UI24   always 0
//	Data              DataSize bytes (parse with AudioTag, VideoTag, ParseScript)
//
// followed by PreviousTagSize, a UI32 equal to 11 + DataSize.
//
// When Filter is set, Data is an encrypted tag (Annex F): the tag header in
// clear, then an encryption header and the payload, usually cipher text.
// Parse it with Encryption, not with AudioTag, VideoTag or ParseScript.
type Tag struct {
	Type      TagType
	Filter    bool
	Reserved  uint8 // the two reserved bits, kept
	Timestamp uint32
	StreamID  uint32
	Data      []byte
}

// TagHeaderSize is the size of a tag header; PrevTagSizeLen of a back-pointer.
const (
	TagHeaderSize  = 11
	PrevTagSizeLen = 4
	headerSize     = 9
	maxTagData     = 1<<24 - 1
)

// AppendTagHeader appends the 11-byte header of a tag whose body is dataSize bytes.
func AppendTagHeader(dst []byte, t *Tag, dataSize int) []byte {
	b0 := t.Reserved<<6 | byte(t.Type)&0x1F
	if t.Filter {
		b0 |= 0x20
	}
	return append(dst, b0,
		byte(dataSize>>16), byte(dataSize>>8), byte(dataSize),
		byte(t.Timestamp>>16), byte(t.Timestamp>>8), byte(t.Timestamp), byte(t.Timestamp>>24),
		byte(t.StreamID>>16), byte(t.StreamID>>8), byte(t.StreamID))
}

func parseTagHeader(b []byte) (t Tag, size int) {
	t.Reserved = b[0] >> 6
	t.Filter = b[0]&0x20 != 0
	t.Type = TagType(b[0] & 0x1F)
	size = int(b[1])<<16 | int(b[2])<<8 | int(b[3])
	t.Timestamp = uint32(b[7])<<24 | uint32(b[4])<<16 | uint32(b[5])<<8 | uint32(b[6])
	t.StreamID = uint32(b[8])<<16 | uint32(b[9])<<8 | uint32(b[10])
	return t, size
}

// DefaultMaxTagSize bounds a tag's DataSize when Reader.MaxTagSize is zero:
// the largest size the UI24 field can express.
const DefaultMaxTagSize = maxTagData

// maxHeaderExtra bounds the bytes a DataOffset may skip past the header.
const maxHeaderExtra = 1 << 16

// readStep is how much a Reader's buffer grows at a time while reading a
// tag body, so that a lying DataSize costs only the bytes that really arrive.
const readStep = 1 << 16

// Reader reads an FLV file tag by tag. Set its fields before the first
// call. It is not safe for concurrent use.
//
// It checks what FLV 10.1 §E.2 to §E.4.1 fix: the version (1), each
// PreviousTagSize (11 + the DataSize of the tag before it) and each tag's
// StreamID ("always 0"). A strict Reader, the default, stops at the first
// departure with ErrVersion, ErrPrevTagSize or ErrStreamID; a Lenient one
// goes on, counts the PreviousTagSize mismatches, and reports each
// departure to Warn.
type Reader struct {
	// MaxTagSize is the largest DataSize accepted; 0 means DefaultMaxTagSize.
	// A larger tag fails with ErrTagTooLarge before anything is allocated.
	MaxTagSize int
	// Lenient accepts a version other than 1, PreviousTagSize values that
	// disagree with the tag before them and StreamIDs other than 0, which
	// some writers get wrong; Mismatches counts the PreviousTagSize
	// mismatches.
	Lenient    bool
	Mismatches int
	// Warn, if set, is called in lenient mode with each departure
	// accepted: the error a strict Reader would have returned.
	Warn func(error)

	r       *bufio.Reader
	header  Header
	started bool
	err     error
	hdr     [TagHeaderSize]byte
	pts     [PrevTagSizeLen]byte // a field, so it does not escape per call
	buf     []byte
	offset  int64
}

// NewReader returns a Reader that reads from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Offset returns the number of bytes consumed so far.
func (r *Reader) Offset() int64 { return r.offset }

func (r *Reader) readFull(b []byte) error {
	n, err := io.ReadFull(r.r, b)
	r.offset += int64(n)
	return err
}

// ReadHeader reads the file header and PreviousTagSize0. ReadTag calls it
// when it has not been called yet.
func (r *Reader) ReadHeader() (Header, error) {
	if r.started {
		return r.header, r.err
	}
	r.started = true
	r.err = r.readHeader()
	return r.header, r.err
}

func (r *Reader) readHeader() error {
	b := r.hdr[:headerSize]
	if err := r.readFull(b); err != nil {
		if errors.Is(err, io.EOF) {
			return errTruncated("file header")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return errTruncated("file header")
		}
		return err
	}
	if b[0] != 'F' || b[1] != 'L' || b[2] != 'V' {
		return ErrSignature
	}
	r.header = Header{Version: b[3], Flags: b[4]}
	if b[3] != 1 {
		// §E.2: "Version UI8 File version (for example, 0x01 for FLV
		// version 1)"; version 1 is the only one defined.
		if err := r.tolerate(fmt.Errorf("%w: version %d, want 1", ErrVersion, b[3])); err != nil {
			return err
		}
	}
	off := binary.BigEndian.Uint32(b[5:])
	if off < headerSize || off-headerSize > maxHeaderExtra {
		return fmt.Errorf("flv: header DataOffset %d out of range", off)
	}
	if off > headerSize {
		r.header.Extra = make([]byte, off-headerSize)
		if err := r.readFull(r.header.Extra); err != nil {
			return errTruncated("file header")
		}
	}
	p := r.pts[:]
	if err := r.readFull(p); err != nil {
		return errTruncated("PreviousTagSize0")
	}
	if v := binary.BigEndian.Uint32(p); v != 0 {
		if err := r.tolerate(fmt.Errorf("%w: PreviousTagSize0 is %d, want 0", ErrPrevTagSize, v)); err != nil {
			return err
		}
		r.Mismatches++
	}
	return nil
}

// tolerate returns err from a strict Reader; a lenient one reports it to
// Warn and returns nil.
func (r *Reader) tolerate(err error) error {
	if !r.Lenient {
		return err
	}
	if r.Warn != nil {
		r.Warn(err)
	}
	return nil
}

// ReadTag reads the next tag and the PreviousTagSize after it. The tag's Data
// is valid until the next call. At the end of the file, where a tag would
// start, it returns io.EOF; a file cut anywhere else gives an error that
// matches io.ErrUnexpectedEOF.
func (r *Reader) ReadTag() (Tag, error) {
	if _, err := r.ReadHeader(); err != nil {
		return Tag{}, err
	}
	n, err := io.ReadFull(r.r, r.hdr[:])
	r.offset += int64(n)
	if err != nil {
		if err == io.EOF {
			return Tag{}, io.EOF
		}
		if err == io.ErrUnexpectedEOF {
			return Tag{}, errTruncated("tag header")
		}
		return Tag{}, err
	}
	t, size := parseTagHeader(r.hdr[:])
	at := r.offset - TagHeaderSize
	if t.StreamID != 0 {
		if err := r.tolerate(fmt.Errorf("%w: %d in the tag at offset %d", ErrStreamID, t.StreamID, at)); err != nil {
			return Tag{}, err
		}
	}
	limit := r.MaxTagSize
	if limit <= 0 || limit > maxTagData {
		limit = DefaultMaxTagSize
	}
	if size > limit {
		return Tag{}, fmt.Errorf("%w: %d bytes at offset %d, limit %d", ErrTagTooLarge, size, at, limit)
	}
	// Grow in steps: a lying DataSize near the limit costs only what arrives.
	r.buf = r.buf[:0]
	for len(r.buf) < size {
		step := min(size-len(r.buf), readStep)
		at := len(r.buf)
		r.buf = slices.Grow(r.buf, step)[:at+step]
		if err := r.readFull(r.buf[at:]); err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF {
				return Tag{}, errTruncated("tag data")
			}
			return Tag{}, err
		}
	}
	t.Data = r.buf[:size]
	p := r.pts[:]
	if err := r.readFull(p); err != nil {
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			return Tag{}, errTruncated("PreviousTagSize")
		}
		return Tag{}, err
	}
	if v := binary.BigEndian.Uint32(p); v != uint32(TagHeaderSize+size) {
		if err := r.tolerate(fmt.Errorf("%w: %d after a tag of %d bytes at offset %d", ErrPrevTagSize, v, TagHeaderSize+size, at)); err != nil {
			return Tag{}, err
		}
		r.Mismatches++
	}
	return t, nil
}

// readAllBlock is the size of the blocks ReadAll copies tag bodies into.
const readAllBlock = 256 << 10

// ReadAll reads the rest of the file into memory and returns its tags, each
// with its own copy of Data (tag bodies share a few large blocks rather
// than one allocation each). It stops at the clean end of the file with a
// nil error; on any other error it returns the tags read before it, as
// io.ReadAll does. Each tag is bounded by MaxTagSize; the whole file is
// not, so use ReadTag for input of unknown size.
func (r *Reader) ReadAll() ([]Tag, error) {
	var (
		tags  []Tag
		block []byte
	)
	for {
		t, err := r.ReadTag()
		if err != nil {
			if err == io.EOF {
				err = nil
			}
			return tags, err
		}
		n := len(t.Data)
		if n > cap(block)-len(block) {
			block = make([]byte, 0, max(n, readAllBlock))
		}
		at := len(block)
		block = append(block, t.Data...)
		t.Data = block[at : at+n : at+n]
		tags = append(tags, t)
	}
}

// Writer writes an FLV file. It buffers: call Close (or Flush) when done.
// It is not safe for concurrent use.
//
// It writes whole tags: the buffer goes to the destination in one Write
// and only ever ends at a tag boundary, so a file cut by a crash ends
// there too and reads to its last tag. A Write that fails part way (a
// full disk) is undone when the destination can truncate (an *os.File):
// the file is cut back to its last whole tag, and the error sticks.
//
// It counts the tags and bytes it writes and measures the duration of the
// audio and video. Metadata written with WriteMetadata carries "duration"
// and "filesize"; when the destination is seekable (an io.WriteSeeker such
// as an *os.File on a regular file), Close seeks back and writes their
// final values, as FFmpeg's FLV muxer does, and adds the header's audio
// and video flags for the tags written; after a write error it writes the
// values of what the file holds. On a destination that cannot seek (a
// pipe, a socket, a bytes.Buffer) the values written at the start stay,
// and everything else is the same. A seekable destination is taken to be
// written by the Writer alone from its position at NewWriter on.
type Writer struct {
	dst     io.Writer
	buf     []byte // whole tags not yet written
	size    int    // buf is written once it holds this much
	scratch [TagHeaderSize + PrevTagSizeLen]byte
	err     error

	tags    int64
	bytes   int64 // bytes handed to the Writer, header included
	flushed int64 // bytes written to dst: whole tags

	// seekable: dst is an io.WriteSeeker that was at start at NewWriter.
	seekable bool
	start    int64

	// Media time: the first audio or video timestamp, and the largest end
	// (timestamp plus the last step of its type) seen; flushedEnd is end
	// as of the last Write to dst.
	hasMedia   bool
	first      uint32
	end        int64
	flushedEnd int64
	lastTS     [2]uint32 // audio, video
	lastStep   [2]uint32
	seen       [2]bool

	// flags is the header's flags byte, headerFlags what was written.
	flags, headerFlags uint8

	// The offsets (from the start of the file) of the 8-byte numbers of
	// "duration" and "filesize" in the first WriteMetadata, 0 if none.
	durationAt, fileSizeAt int64
	closed                 bool
}

// DefaultWriterSize is the buffer of NewWriter.
const DefaultWriterSize = 64 << 10

// maxBufKeep is the buffer capacity a Writer keeps after a Write; a
// larger one (a huge tag went through) is let go.
const maxBufKeep = 1 << 20

// NewWriter buffers the header and PreviousTagSize0 for w and returns a
// Writer for the tags, with a buffer of DefaultWriterSize.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	return NewWriterSize(w, h, DefaultWriterSize)
}

// NewWriterSize is NewWriter with a buffer of size bytes: the tags go to
// w once they are at least that many (a tag larger than size goes alone).
func NewWriterSize(w io.Writer, h Header, size int) (*Writer, error) {
	if len(h.Extra) > maxHeaderExtra {
		return nil, fmt.Errorf("flv: header extra of %d bytes, limit %d", len(h.Extra), maxHeaderExtra)
	}
	size = max(size, 1<<10)
	fw := &Writer{dst: w, size: size, buf: make([]byte, 0, min(size, maxBufKeep)+TagHeaderSize+PrevTagSizeLen),
		flags: h.Flags, headerFlags: h.Flags}
	if s, ok := w.(io.Seeker); ok {
		if at, err := s.Seek(0, io.SeekCurrent); err == nil {
			fw.seekable, fw.start = true, at
		}
	}
	fw.buf = append(fw.buf, 'F', 'L', 'V', h.Version, h.Flags)
	fw.buf = binary.BigEndian.AppendUint32(fw.buf, uint32(headerSize+len(h.Extra)))
	fw.buf = append(fw.buf, h.Extra...)
	fw.buf = append(fw.buf, 0, 0, 0, 0)
	fw.bytes = int64(len(fw.buf))
	return fw, nil
}

// WriteTag writes a tag and its PreviousTagSize.
func (w *Writer) WriteTag(t Tag) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errWriterClosed
	}
	if len(t.Data) > maxTagData {
		return fmt.Errorf("%w: %d bytes do not fit DataSize (UI24)", ErrTagTooLarge, len(t.Data))
	}
	if t.Type > 0x1F || t.Reserved > 3 || t.StreamID > 0xFFFFFF {
		return fmt.Errorf("flv: tag type %d, reserved bits %d or stream id %d out of range", t.Type, t.Reserved, t.StreamID)
	}
	w.buf = AppendTagHeader(w.buf, &t, len(t.Data))
	w.buf = append(w.buf, t.Data...)
	w.buf = binary.BigEndian.AppendUint32(w.buf, uint32(TagHeaderSize+len(t.Data)))
	w.tags++
	w.bytes += int64(TagHeaderSize + len(t.Data) + PrevTagSizeLen)
	switch t.Type {
	case TagAudio:
		w.flags |= FlagAudio
	case TagVideo:
		w.flags |= FlagVideo
	}
	w.measure(t.Type, t.Timestamp)
	if len(w.buf) >= w.size {
		return w.Flush()
	}
	return nil
}

// measure extends the media time by an audio or video tag: its end is its
// timestamp plus the step since the previous tag of its type, the best
// guess at its own duration.
func (w *Writer) measure(typ TagType, ts uint32) {
	var i int
	switch typ {
	case TagAudio:
		i = 0
	case TagVideo:
		i = 1
	default:
		return
	}
	if !w.hasMedia {
		w.hasMedia, w.first = true, ts
	}
	if w.seen[i] && ts > w.lastTS[i] {
		w.lastStep[i] = ts - w.lastTS[i]
	}
	if !w.seen[i] || ts > w.lastTS[i] {
		w.lastTS[i] = ts
	}
	w.seen[i] = true
	w.end = max(w.end, int64(w.lastTS[i])+int64(w.lastStep[i]))
}

// Tags returns the number of tags written.
func (w *Writer) Tags() int64 { return w.tags }

// Bytes returns the size of what has been written: the header and every
// tag with its PreviousTagSize, buffered bytes included.
func (w *Writer) Bytes() int64 { return w.bytes }

// Flushed returns the bytes that reached the destination: whole tags, all
// the file holds after a write error.
func (w *Writer) Flushed() int64 { return w.flushed }

// Duration returns the time the audio and video written so far span: from
// the first audio or video timestamp to the end of the last one, where a
// tag's length is taken to be the step since the previous tag of its type
// (the last video frame of 25 fps ends 40 ms after its timestamp).
func (w *Writer) Duration() time.Duration {
	if !w.hasMedia {
		return 0
	}
	return time.Duration(w.end-int64(w.first)) * time.Millisecond
}

// WriteMetadata writes an onMetaData script tag at timestamp ts with m's
// properties, and "duration" and "filesize" always among them: m's values,
// or 0, as placeholders that Close overwrites on a seekable destination.
// Only the first WriteMetadata is patched. Write it before the media, where
// players look for onMetaData (FLV 10.1 §E.5); a Writer that never gets
// one writes no metadata of its own. A nil m writes only the two.
func (w *Writer) WriteMetadata(ts uint32, m *Metadata) error {
	if w.err != nil {
		return w.err
	}
	if m == nil {
		m = &Metadata{}
	}
	props := m.Properties()
	hasDuration, hasSize := false, false
	for _, p := range props {
		hasDuration = hasDuration || p.Key == "duration"
		hasSize = hasSize || p.Key == "filesize"
	}
	if !hasDuration {
		props = append([]amf0.Property{{Key: "duration", Value: m.Duration}}, props...)
	}
	if !hasSize {
		props = append(props, amf0.Property{Key: "filesize", Value: m.FileSize})
	}
	body, durationAt, sizeAt, err := appendMetadataBody(nil, props)
	if err != nil {
		return err
	}
	at := w.bytes + TagHeaderSize // where the body starts
	if err := w.WriteTag(Tag{Type: TagScript, Timestamp: ts, Data: body}); err != nil {
		return err
	}
	if w.durationAt == 0 {
		w.durationAt, w.fileSizeAt = at+int64(durationAt), at+int64(sizeAt)
	}
	return nil
}

// appendMetadataBody appends "onMetaData" and an ECMA array of props, and
// returns where the 8-byte values of the numbers "duration" and "filesize"
// are in it. A duration or filesize that is not a number becomes one.
func appendMetadataBody(dst []byte, props []amf0.Property) (b []byte, durationAt, sizeAt int, err error) {
	b = append(dst, byte(amf0.MarkerString), 0, byte(len(OnMetaData)))
	b = append(b, OnMetaData...)
	b = append(b, byte(amf0.MarkerECMAArray))
	b = binary.BigEndian.AppendUint32(b, uint32(len(props)))
	for _, p := range props {
		if len(p.Key) > 0xFFFF {
			return dst, 0, 0, fmt.Errorf("flv: metadata key of %d bytes", len(p.Key))
		}
		b = binary.BigEndian.AppendUint16(b, uint16(len(p.Key)))
		b = append(b, p.Key...)
		if p.Key == "duration" || p.Key == "filesize" {
			f, _ := asNumber(p.Value)
			b = append(b, byte(amf0.MarkerNumber))
			if p.Key == "duration" {
				durationAt = len(b) - len(dst)
			} else {
				sizeAt = len(b) - len(dst)
			}
			b = binary.BigEndian.AppendUint64(b, math.Float64bits(f))
			continue
		}
		if b, err = amf0.Append(b, p.Value); err != nil {
			return dst, 0, 0, fmt.Errorf("flv: metadata %q: %w", p.Key, err)
		}
	}
	return append(b, 0, 0, byte(amf0.MarkerObjectEnd)), durationAt, sizeAt, nil
}

var errWriterClosed = errors.New("flv: write after Close")

// truncater is a destination that can be cut back (*os.File).
type truncater interface {
	Truncate(size int64) error
}

// Flush writes the buffered tags to the destination with one Write. A
// Write that fails part way is undone where the destination can seek and
// truncate; the error sticks.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	if len(w.buf) == 0 {
		return nil
	}
	n, err := w.dst.Write(w.buf)
	if err == nil && n < len(w.buf) {
		err = io.ErrShortWrite
	}
	if err != nil {
		w.err = err
		if tr, ok := w.dst.(truncater); ok && n > 0 && w.seekable {
			if tr.Truncate(w.start+w.flushed) == nil {
				w.dst.(io.Seeker).Seek(w.start+w.flushed, io.SeekStart)
			}
		}
		w.buf = w.buf[:0]
		return err
	}
	w.flushed += int64(n)
	w.flushedEnd = w.end
	if cap(w.buf) > maxBufKeep {
		w.buf = make([]byte, 0, min(w.size, maxBufKeep)+TagHeaderSize+PrevTagSizeLen)
	} else {
		w.buf = w.buf[:0]
	}
	return nil
}

// Close flushes, and on a seekable destination writes the final duration
// (in seconds) and file size (in bytes) into the metadata of
// WriteMetadata and the audio and video flags of the tags written into
// the header, then seeks back to the end of the file. After a write error
// it writes those of what the file holds, and returns the error. A
// destination that cannot seek is not an error: the placeholders stay.
// Close does not close the destination; it is safe to call twice.
func (w *Writer) Close() error {
	if w.closed {
		return w.err
	}
	w.Flush()
	w.closed = true
	w.buf = nil
	if !w.seekable {
		return w.err
	}
	ws := w.dst.(io.WriteSeeker)
	end := w.start + w.flushed
	patch := func(at int64, b []byte) {
		if at+int64(len(b)) > end {
			return // cut off by a write error
		}
		if _, err := ws.Seek(w.start+at, io.SeekStart); err != nil {
			w.setErr(fmt.Errorf("flv: seek to patch: %w", err))
			return
		}
		if _, err := ws.Write(b); err != nil {
			w.setErr(fmt.Errorf("flv: patch: %w", err))
		}
	}
	var b [8]byte
	if w.durationAt > 0 {
		if w.hasMedia {
			binary.BigEndian.PutUint64(b[:], math.Float64bits(float64(w.flushedEnd-int64(w.first))/1000))
			patch(w.durationAt, b[:])
		}
		binary.BigEndian.PutUint64(b[:], math.Float64bits(float64(w.flushed)))
		patch(w.fileSizeAt, b[:])
	}
	if w.flags != w.headerFlags {
		patch(4, []byte{w.flags})
	}
	if _, err := ws.Seek(end, io.SeekStart); err != nil {
		w.setErr(fmt.Errorf("flv: seek back to the end: %w", err))
	}
	return w.err
}

// setErr keeps the first error.
func (w *Writer) setErr(err error) {
	if w.err == nil {
		w.err = err
	}
}
