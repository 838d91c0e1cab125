package flv

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
)

// Names of FLV encryption (FLV 10.1 Annex F).
const (
	// FilterEncryption is the FilterName of whole-tag encryption
	// (EncryptionHeader.Version 1): every filtered tag is encrypted.
	FilterEncryption = "Encryption"
	// FilterSE is the FilterName of selective encryption (Version 2): each
	// filtered tag says whether it is encrypted.
	FilterSE = "SE"
	// AdditionalHeader names the script tag whose "Encryption" property is
	// the file's Encryption Header object (§F.2.1), right after onMetaData.
	AdditionalHeader = "|AdditionalHeader"
)

// IVSize is the size of the AES-CBC initialization vector of an encrypted
// tag (§F.3.2).
const IVSize = 16

// ErrFilter: the EncryptionTagHeader or FilterParams of a filtered tag
// break the layout of Annex F.
var ErrFilter = errors.New("flv: encryption filter")

// ErrNotFiltered: Tag.Encryption was called on a tag whose Filter bit is 0.
var ErrNotFiltered = errors.New("flv: tag has no Filter bit")

// FilterParams are the filter parameters of an encrypted tag (§F.3.2):
//
//	EncryptionFilterParams             FilterName "Encryption"
//	  IV           UI8[16]
//	SelectiveEncryptionFilterParams    FilterName "SE"
//	  EncryptedAU  UB[1]    1 = this tag is encrypted
//	  Reserved     UB[7]    shall be 0
//	  IV           UI8[16]  only if EncryptedAU is 1
type FilterParams struct {
	// Encrypted reports cipher text in the body: always for the Encryption
	// filter, the EncryptedAU bit for SE. It must be true to build an
	// Encryption filter.
	Encrypted bool
	// IV is the AES-CBC initialization vector of an encrypted body.
	IV [IVSize]byte
	// Reserved holds SE's seven reserved bits, kept so that a tag encodes
	// back to its bytes.
	Reserved uint8
	// Raw holds the parameters of a filter this package does not know, as
	// they came (Unmarshal aliases its input). It is nil for Encryption and
	// SE, and the fields above are then unused.
	Raw []byte
}

// size returns the Length of the parameters of the named filter.
func (p *FilterParams) size(name string) int {
	switch name {
	case FilterEncryption:
		return IVSize
	case FilterSE:
		if p.Encrypted {
			return 1 + IVSize
		}
		return 1
	}
	return len(p.Raw)
}

// EncryptedTag is the body of a tag whose Filter bit is set (FLV 10.1
// §E.4.1, §F.3). The tag header stays in clear, so that servers and players
// can route the tag; the encryption header, the filter parameters and the
// body follow it:
//
//	Header               AudioTagHeader (§E.4.2.1) or VideoTagHeader
//	                     (§E.4.3.1), in clear; script data has none
//	EncryptionTagHeader  §F.3.1
//	  NumFilters         UI8     shall be 1
//	  FilterName         STRING  "Encryption" or "SE", NUL-terminated
//	  Length             UI24    size of FilterParams
//	FilterParams         Length bytes, §F.3.2
//	Body                 the rest, §F.3.3: cipher text with its RFC 2630
//	                     padding, or plain text when SE says not encrypted
//
// The key that decrypts the body comes from a DRM server by a protocol
// outside the spec (§F.2.5), so this package keeps the body opaque.
//
// Annex F predates Enhanced RTMP, which defines no encryption. For an
// enhanced tag the header in clear is what VideoTag and AudioTag read as
// the header (their HeaderSize): the ExAudioTagHeader or ExVideoTagHeader
// up to the FourCC (or the multitrack type and FourCC, or the video
// command) and, for CodedFrames of avc1, hvc1 and vvc1, the SI24
// composition time, in clear as it is in a legacy AVC VideoTagHeader.
//
// Unmarshal aliases its input: Header, Body and Params.Raw point into it.
// A decoded EncryptedTag encodes back to the same bytes.
type EncryptedTag struct {
	// Header is the tag header in clear. Parse it with AudioTag or VideoTag
	// Unmarshal; a legacy video command frame's UI8 is in the body.
	Header []byte
	// FilterName is FilterEncryption, FilterSE or a name kept as it came.
	FilterName string
	Params     FilterParams
	// Body is the rest of the tag.
	Body []byte
}

// Encrypted reports cipher text in the body: see FilterParams.Encrypted.
// For a filter this package does not know it reports true, the safe
// reading of a Filter bit (§E.4.1: "pre-processing ... of the packet is
// required before it can be rendered").
func (e *EncryptedTag) Encrypted() bool {
	switch e.FilterName {
	case FilterEncryption, FilterSE:
		return e.Params.Encrypted
	}
	return true
}

// clearHeaderSize returns the size of the tag header that precedes the
// EncryptionTagHeader in a filtered tag of type t.
func clearHeaderSize(t TagType, b []byte) (int, error) {
	switch t {
	case TagAudio:
		if len(b) == 0 {
			return 0, errTruncated("audio header")
		}
		switch SoundFormat(b[0] >> 4) {
		case SoundAAC:
			if len(b) < 2 {
				return 0, errTruncated("aac packet type")
			}
			return 2, nil
		case SoundExHeader:
			var a AudioTag
			if err := a.Unmarshal(b); err != nil {
				return 0, err
			}
			return a.HeaderSize(), nil
		}
		return 1, nil
	case TagVideo:
		if len(b) == 0 {
			return 0, errTruncated("video header")
		}
		if b[0]&0x80 == 0 {
			// §E.4.3.1: FrameType, CodecID, then AVCPacketType and
			// CompositionTime for AVC, whatever the frame type.
			if VideoCodecID(b[0]&0x0F) != CodecAVC {
				return 1, nil
			}
			if len(b) < 5 {
				return 0, errTruncated("avc header")
			}
			return 5, nil
		}
		var v VideoTag
		if err := v.Unmarshal(b); err != nil {
			return 0, err
		}
		return v.HeaderSize(), nil
	}
	return 0, nil
}

// Unmarshal parses the body b of a tag of type t whose Filter bit is set.
// Truncated input gives an error matching io.ErrUnexpectedEOF; a layout
// Annex F does not allow (NumFilters other than 1, an empty FilterName,
// FilterParams whose Length does not fit their filter) one matching
// ErrFilter. It allocates
// only for a filter name other than Encryption and SE.
func (e *EncryptedTag) Unmarshal(t TagType, b []byte) error {
	*e = EncryptedTag{}
	n, err := clearHeaderSize(t, b)
	if err != nil {
		return err
	}
	e.Header, b = b[:n], b[n:]
	if len(b) == 0 {
		return errTruncated("NumFilters")
	}
	if b[0] != 1 {
		return fmt.Errorf("%w: NumFilters is %d, shall be 1 (§F.3.1)", ErrFilter, b[0])
	}
	nul := bytes.IndexByte(b[1:], 0)
	if nul < 0 {
		return errTruncated("FilterName")
	}
	name := b[1 : 1+nul]
	if len(name) == 0 {
		return fmt.Errorf("%w: empty FilterName (§F.3.1)", ErrFilter)
	}
	switch string(name) {
	case FilterEncryption:
		e.FilterName = FilterEncryption
	case FilterSE:
		e.FilterName = FilterSE
	default:
		e.FilterName = string(name)
	}
	b = b[2+nul:]
	if len(b) < 3 {
		return errTruncated("FilterParams Length")
	}
	size := int(b[0])<<16 | int(b[1])<<8 | int(b[2])
	b = b[3:]
	if size > len(b) {
		return errTruncated("FilterParams")
	}
	params := b[:size]
	e.Body = b[size:]
	p := &e.Params
	switch e.FilterName {
	case FilterEncryption:
		p.Encrypted = true
	case FilterSE:
		if size > 0 {
			p.Encrypted = params[0]&0x80 != 0
			p.Reserved = params[0] & 0x7F
		}
	default:
		p.Raw = params
		return nil
	}
	if want := p.size(e.FilterName); size != want {
		return fmt.Errorf("%w: %s FilterParams of %d bytes, want %d (§F.3.2)", ErrFilter, e.FilterName, size, want)
	}
	if p.Encrypted {
		copy(p.IV[:], params[size-IVSize:])
	}
	return nil
}

// Size returns the number of bytes Append writes.
func (e *EncryptedTag) Size() int {
	return len(e.Header) + 1 + len(e.FilterName) + 1 + 3 + e.Params.size(e.FilterName) + len(e.Body)
}

// Append appends the tag body: Header, EncryptionTagHeader, FilterParams
// and Body. It fails, leaving dst unchanged, for an empty FilterName or one
// with a NUL, an Encryption filter that is not Encrypted, reserved bits
// above 7 bits, Raw parameters with a known filter, and parameters larger
// than the UI24 Length.
func (e *EncryptedTag) Append(dst []byte) ([]byte, error) {
	p := &e.Params
	switch {
	case e.FilterName == "" || strings.IndexByte(e.FilterName, 0) >= 0:
		return dst, fmt.Errorf("%w: FilterName %q is empty or holds a NUL", ErrFilter, e.FilterName)
	case e.FilterName == FilterEncryption && !p.Encrypted:
		return dst, fmt.Errorf("%w: the Encryption filter has no unencrypted form; use SE", ErrFilter)
	case p.Reserved > 0x7F:
		return dst, fmt.Errorf("%w: SE reserved bits %#x do not fit 7 bits", ErrFilter, p.Reserved)
	case p.Raw != nil && (e.FilterName == FilterEncryption || e.FilterName == FilterSE):
		return dst, fmt.Errorf("%w: raw parameters for the %s filter", ErrFilter, e.FilterName)
	case len(p.Raw) > maxTagData:
		return dst, fmt.Errorf("%w: %d bytes of FilterParams do not fit UI24", ErrFilter, len(p.Raw))
	}
	size := p.size(e.FilterName)
	dst = append(dst, e.Header...)
	dst = append(dst, 1)
	dst = append(dst, e.FilterName...)
	dst = append(dst, 0, byte(size>>16), byte(size>>8), byte(size))
	switch e.FilterName {
	case FilterEncryption:
		dst = append(dst, p.IV[:]...)
	case FilterSE:
		if p.Encrypted {
			dst = append(dst, 0x80|p.Reserved)
			dst = append(dst, p.IV[:]...)
		} else {
			dst = append(dst, p.Reserved)
		}
	default:
		dst = append(dst, p.Raw...)
	}
	return append(dst, e.Body...), nil
}

// Encryption parses the body of a tag whose Filter bit is set (see
// EncryptedTag); for any other tag it returns ErrNotFiltered. The result
// aliases t.Data.
//
// A filtered tag's Data is not a plain AudioTag, VideoTag or ScriptData
// body: after the header come the encryption header and the (usually
// encrypted) payload. Check Filter before handing Data to those parsers.
func (t Tag) Encryption() (EncryptedTag, error) {
	if !t.Filter {
		return EncryptedTag{}, ErrNotFiltered
	}
	var e EncryptedTag
	err := e.Unmarshal(t.Type, t.Data)
	return e, err
}
