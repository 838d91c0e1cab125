package codecinfo

import (
	"encoding/binary"
	"io"
	"strconv"
)

// ParseVPConfig reads a VPCodecConfigurationRecord (VP Codec ISO Media File
// Format Binding §2.2, the payload of an Enhanced RTMP vp09 SequenceStart) for
// codec "vp9" or "vp8". FFmpeg writes the whole vpcC FullBox body, version and
// flags first, and that is what is expected:
//
//	version(8)=1 flags(24)=0
//	profile(8) level(8) bitDepth(4) chromaSubsampling(3) videoFullRangeFlag(1)
//	colourPrimaries(8) transferCharacteristics(8) matrixCoefficients(8)
//	codecIntializationDataSize(16) codecIntializationData
//
// A bare record without the version and flags is accepted as version 1, and
// version 0 (the draft layout, where byte 2 holds bitDepth(4) colorSpace(4) and
// byte 3 chromaSubsampling(4) transferFunction(3) videoFullRangeFlag(1)) is
// read too. The record carries no frame size; see ParseVP9Keyframe and
// ParseVP8Keyframe.
func ParseVPConfig(b []byte, codec string) (Video, error) {
	switch codec {
	case "vp9", "vp09":
		codec = "vp9"
	case "vp8", "vp08":
		codec = "vp8"
	default:
		return Video{}, unsupported("vp: codec %q", codec)
	}
	version := 1
	if len(b) >= 4 && b[0] <= 1 && b[1] == 0 && b[2] == 0 && b[3] == 0 {
		version = int(b[0])
		b = b[4:]
	}
	// codecIntializationDataSize is at byte 6 (version 1) or 4 (version 0).
	sizeAt := 6
	if version == 0 {
		sizeAt = 4
	}
	if len(b) < sizeAt+2 || len(b) < sizeAt+2+int(binary.BigEndian.Uint16(b[sizeAt:])) {
		return Video{}, wrap(codec+": record", io.ErrUnexpectedEOF)
	}
	profile, level := int(b[0]), int(b[1])
	depth := int(b[2] >> 4)
	sub := int(b[2] >> 1 & 7)
	if version == 0 {
		sub = int(b[3] >> 4)
	}
	var chroma string
	switch sub {
	case 0, 1: // 4:2:0 vertical, 4:2:0 colocated with luma (0,0)
		chroma = "4:2:0"
	case 2:
		chroma = "4:2:2"
	case 3:
		chroma = "4:4:4"
	default:
		return Video{}, invalid("%s: record: chromaSubsampling %d", codec, sub)
	}
	if depth != 8 && depth != 10 && depth != 12 {
		return Video{}, invalid("%s: record: bitDepth %d", codec, depth)
	}
	if profile > 3 {
		return Video{}, invalid("%s: record: profile %d", codec, profile)
	}
	return Video{
		Codec:        codec,
		Profile:      vpProfile(codec, profile),
		Level:        level,
		BitDepth:     depth,
		ChromaFormat: chroma,
	}, nil
}

// vpProfile names a profile as ffprobe does: "Profile 2" for VP9, "2" for VP8.
func vpProfile(codec string, p int) string {
	if codec == "vp9" {
		return [4]string{"Profile 0", "Profile 1", "Profile 2", "Profile 3"}[p&3]
	}
	return strconv.Itoa(p)
}

// ParseVP9Keyframe reads the start of a VP9 frame's uncompressed header (VP9
// Bitstream Specification §6.2) for a key frame: profile, color_config() and
// frame_size(). Other frames return ErrNotKeyframe. In a superframe the first
// frame is read.
func ParseVP9Keyframe(frame []byte) (Video, error) {
	v, err := parseVP9Keyframe(newBitReader(frame))
	return v, wrap("vp9: frame", err)
}

func parseVP9Keyframe(r *bitReader) (Video, error) {
	if m := r.ui(2); r.err == nil && m != 2 {
		return Video{}, invalid("vp9: frame_marker %d", m)
	}
	profile := r.ui(1)
	profile |= r.ui(1) << 1
	if profile == 3 {
		r.skip(1) // reserved_zero
	}
	if r.flag() { // show_existing_frame
		return Video{}, r.errOr(notKeyframe("vp9"))
	}
	if r.flag() { // frame_type: 0 is KEY_FRAME
		return Video{}, r.errOr(notKeyframe("vp9"))
	}
	r.skip(2) // show_frame, error_resilient_mode
	if sync := r.u(24); r.err == nil && sync != 0x498342 {
		return Video{}, invalid("vp9: frame_sync_code %#06x", sync)
	}
	// color_config(), §6.2.2.
	depth := 8
	if profile >= 2 {
		depth = 10
		if r.flag() { // ten_or_twelve_bit
			depth = 12
		}
	}
	chroma := "4:2:0"
	if r.ui(3) != 7 { // color_space != CS_RGB
		r.skip(1) // color_range
		if profile == 1 || profile == 3 {
			sx, sy := r.flag(), r.flag()
			chroma = vp9Chroma(sx, sy)
			r.skip(1) // reserved_zero
		}
	} else {
		chroma = "4:4:4"
		if profile == 1 || profile == 3 {
			r.skip(1) // reserved_zero
		}
	}
	// frame_size(), §6.2.5.
	w := r.ui(16) + 1
	h := r.ui(16) + 1
	if r.err != nil {
		return Video{}, r.err
	}
	return Video{
		Codec:        "vp9",
		Width:        w,
		Height:       h,
		Profile:      vpProfile("vp9", profile),
		BitDepth:     depth,
		ChromaFormat: chroma,
	}, nil
}

// ParseVP8Keyframe reads a VP8 key frame's header (RFC 6386 §9.1): the 3-byte
// frame tag, the start code 9d 01 2a, then 14-bit width and height, each with a
// 2-bit scale, little-endian. Other frames return ErrNotKeyframe. Profile is the
// frame tag's version number, as ffprobe prints it.
func ParseVP8Keyframe(frame []byte) (Video, error) {
	if len(frame) < 3 {
		return Video{}, wrap("vp8: frame tag", io.ErrUnexpectedEOF)
	}
	tag := uint32(frame[0]) | uint32(frame[1])<<8 | uint32(frame[2])<<16
	if tag&1 != 0 { // frame type 1 is an interframe
		return Video{}, notKeyframe("vp8")
	}
	version := int(tag >> 1 & 7)
	if len(frame) < 10 {
		return Video{}, wrap("vp8: key frame header", io.ErrUnexpectedEOF)
	}
	if frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return Video{}, invalid("vp8: start code % x", frame[3:6])
	}
	w := int(binary.LittleEndian.Uint16(frame[6:]) & 0x3fff)
	h := int(binary.LittleEndian.Uint16(frame[8:]) & 0x3fff)
	if w == 0 || h == 0 {
		return Video{}, invalid("vp8: frame size %dx%d", w, h)
	}
	return Video{
		Codec:        "vp8",
		Width:        w,
		Height:       h,
		Profile:      strconv.Itoa(version),
		BitDepth:     8,
		ChromaFormat: "4:2:0",
	}, nil
}

// vp9Chroma names subsampling_x and subsampling_y; VP9 alone allows 4:4:0.
func vp9Chroma(sx, sy bool) string {
	switch {
	case sx && sy:
		return "4:2:0"
	case sx:
		return "4:2:2"
	case sy:
		return "4:4:0"
	}
	return "4:4:4"
}
