package flv

import "strconv"

// FourCC is a four-character code carried big-endian as a UI32, the way
// Enhanced RTMP names codecs ("Simple Data Types": FOURCC, e.g. "av01" ==
// 0x61763031). Unknown FourCCs are legal values: they are kept, never rejected.
type FourCC uint32

// Video FourCCs (Enhanced RTMP v2, enum VideoFourCc).
const (
	FourCCVP8  FourCC = 'v'<<24 | 'p'<<16 | '0'<<8 | '8' // "vp08"
	FourCCVP9  FourCC = 'v'<<24 | 'p'<<16 | '0'<<8 | '9' // "vp09"
	FourCCAV1  FourCC = 'a'<<24 | 'v'<<16 | '0'<<8 | '1' // "av01"
	FourCCAVC  FourCC = 'a'<<24 | 'v'<<16 | 'c'<<8 | '1' // "avc1"
	FourCCHEVC FourCC = 'h'<<24 | 'v'<<16 | 'c'<<8 | '1' // "hvc1"
	FourCCVVC  FourCC = 'v'<<24 | 'v'<<16 | 'c'<<8 | '1' // "vvc1"
)

// Audio FourCCs (Enhanced RTMP v2, enum AudioFourCc).
const (
	FourCCAC3  FourCC = 'a'<<24 | 'c'<<16 | '-'<<8 | '3' // "ac-3"
	FourCCEAC3 FourCC = 'e'<<24 | 'c'<<16 | '-'<<8 | '3' // "ec-3"
	FourCCOpus FourCC = 'O'<<24 | 'p'<<16 | 'u'<<8 | 's' // "Opus"
	FourCCMP3  FourCC = '.'<<24 | 'm'<<16 | 'p'<<8 | '3' // ".mp3"
	FourCCFLAC FourCC = 'f'<<24 | 'L'<<16 | 'a'<<8 | 'C' // "fLaC"
	FourCCAAC  FourCC = 'm'<<24 | 'p'<<16 | '4'<<8 | 'a' // "mp4a"
)

// FourCCWildcard is the "*" entry of fourCcList and the FourCC info maps in
// the Enhanced RTMP connect command: any codec. It is not a wire FourCC.
const FourCCWildcard = "*"

// MakeFourCC returns the FourCC of a four-byte string, and false if s is not
// exactly four bytes long.
func MakeFourCC(s string) (FourCC, bool) {
	if len(s) != 4 {
		return 0, false
	}
	return FourCC(s[0])<<24 | FourCC(s[1])<<16 | FourCC(s[2])<<8 | FourCC(s[3]), true
}

// String returns the four characters, or a hex form when any byte is not
// printable ASCII.
func (f FourCC) String() string {
	b := [4]byte{byte(f >> 24), byte(f >> 16), byte(f >> 8), byte(f)}
	for _, c := range b {
		if c < 0x20 || c > 0x7e {
			return "0x" + strconv.FormatUint(uint64(f), 16)
		}
	}
	return string(b[:])
}

// IsVideo reports whether f is one of the video FourCCs the spec defines.
func (f FourCC) IsVideo() bool {
	switch f {
	case FourCCVP8, FourCCVP9, FourCCAV1, FourCCAVC, FourCCHEVC, FourCCVVC:
		return true
	}
	return false
}

// IsAudio reports whether f is one of the audio FourCCs the spec defines.
func (f FourCC) IsAudio() bool {
	switch f {
	case FourCCAC3, FourCCEAC3, FourCCOpus, FourCCMP3, FourCCFLAC, FourCCAAC:
		return true
	}
	return false
}

// hasCompositionTime reports whether CodedFrames packets of this codec carry
// an SI24 composition time offset (Enhanced RTMP v2, ExVideoTagBody: only
// avc1, hvc1 and vvc1).
func (f FourCC) hasCompositionTime() bool {
	return f == FourCCAVC || f == FourCCHEVC || f == FourCCVVC
}
