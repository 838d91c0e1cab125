package flv

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
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
type Reader struct {
	// MaxTagSize is the largest DataSize accepted; 0 means DefaultMaxTagSize.
	// A larger tag fails with ErrTagTooLarge before anything is allocated.
	MaxTagSize int
	// Lenient accepts PreviousTagSize values that disagree with the tag
	// before them (some writers get them wrong); Mismatches counts them.
	// When false, a mismatch fails with ErrPrevTagSize.
	Lenient    bool
	Mismatches int

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
		if !r.Lenient {
			return fmt.Errorf("%w: PreviousTagSize0 is %d, want 0", ErrPrevTagSize, v)
		}
		r.Mismatches++
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
	limit := r.MaxTagSize
	if limit <= 0 || limit > maxTagData {
		limit = DefaultMaxTagSize
	}
	if size > limit {
		return Tag{}, fmt.Errorf("%w: %d bytes at offset %d, limit %d", ErrTagTooLarge, size, r.offset-TagHeaderSize, limit)
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
		if !r.Lenient {
			return Tag{}, fmt.Errorf("%w: %d after a tag of %d bytes at offset %d", ErrPrevTagSize, v, TagHeaderSize+size, r.offset-int64(TagHeaderSize+size+PrevTagSizeLen))
		}
		r.Mismatches++
	}
	return t, nil
}

// Writer writes an FLV file. It buffers; call Flush when done. It is not
// safe for concurrent use.
type Writer struct {
	w       *bufio.Writer
	scratch [TagHeaderSize + PrevTagSizeLen]byte
	err     error
}

// NewWriter writes the header and PreviousTagSize0 to w and returns a Writer
// for the tags.
func NewWriter(w io.Writer, h Header) (*Writer, error) {
	if len(h.Extra) > maxHeaderExtra {
		return nil, fmt.Errorf("flv: header extra of %d bytes, limit %d", len(h.Extra), maxHeaderExtra)
	}
	fw := &Writer{w: bufio.NewWriterSize(w, 64<<10)}
	var b [headerSize]byte
	b[0], b[1], b[2], b[3], b[4] = 'F', 'L', 'V', h.Version, h.Flags
	binary.BigEndian.PutUint32(b[5:], uint32(headerSize+len(h.Extra)))
	fw.w.Write(b[:])
	fw.w.Write(h.Extra)
	_, err := fw.w.Write([]byte{0, 0, 0, 0})
	fw.err = err
	return fw, err
}

// WriteTag writes a tag and its PreviousTagSize.
func (w *Writer) WriteTag(t Tag) error {
	if w.err != nil {
		return w.err
	}
	if len(t.Data) > maxTagData {
		return fmt.Errorf("%w: %d bytes do not fit DataSize (UI24)", ErrTagTooLarge, len(t.Data))
	}
	if t.Type > 0x1F || t.Reserved > 3 || t.StreamID > 0xFFFFFF {
		return fmt.Errorf("flv: tag type %d, reserved bits %d or stream id %d out of range", t.Type, t.Reserved, t.StreamID)
	}
	h := AppendTagHeader(w.scratch[:0], &t, len(t.Data))
	w.w.Write(h)
	w.w.Write(t.Data)
	binary.BigEndian.PutUint32(w.scratch[:PrevTagSizeLen], uint32(TagHeaderSize+len(t.Data)))
	_, w.err = w.w.Write(w.scratch[:PrevTagSizeLen])
	return w.err
}

// Flush writes buffered data to the underlying writer.
func (w *Writer) Flush() error {
	if w.err != nil {
		return w.err
	}
	w.err = w.w.Flush()
	return w.err
}
