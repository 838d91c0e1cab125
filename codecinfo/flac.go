package codecinfo

import (
	"encoding/binary"
	"io"
)

// flacStreamInfoLen is the size of a STREAMINFO metadata block body.
const flacStreamInfoLen = 34

// ParseFLACConfig reads a FLAC STREAMINFO block (RFC 9639 §8.2). It takes the
// block body alone, as FFmpeg sends it in an Enhanced RTMP fLaC SequenceStart,
// or preceded by its 4-byte metadata block header, or by the "fLaC" stream
// marker and the header, as at the start of a FLAC file:
//
//	min_block_size(16) max_block_size(16) min_frame_size(24) max_frame_size(24)
//	sample_rate(20) channels_minus1(3) bits_per_sample_minus1(5)
//	total_samples(36) md5(128)
//
// Metadata blocks after STREAMINFO are ignored.
func ParseFLACConfig(b []byte) (Audio, error) {
	if len(b) >= 4 && string(b[:4]) == "fLaC" {
		b = b[4:]
		if len(b) < 4 {
			return Audio{}, wrap("flac: metadata block header", io.ErrUnexpectedEOF)
		}
		if b[0]&0x7f != 0 {
			return Audio{}, invalid("flac: first metadata block type %d is not STREAMINFO", b[0]&0x7f)
		}
		if n := int(b[1])<<16 | int(b[2])<<8 | int(b[3]); n != flacStreamInfoLen {
			return Audio{}, invalid("flac: STREAMINFO length %d", n)
		}
	}
	// A block header (type 0, length 34) cannot be mistaken for a STREAMINFO
	// body: that would need a minimum block size of 0 or 32768 above a maximum
	// of 34.
	if len(b) >= 4 && b[0]&0x7f == 0 && b[1] == 0 && b[2] == 0 && b[3] == flacStreamInfoLen {
		b = b[4:]
	}
	if len(b) < flacStreamInfoLen {
		return Audio{}, wrap("flac: STREAMINFO", io.ErrUnexpectedEOF)
	}
	minBlock := binary.BigEndian.Uint16(b[0:])
	maxBlock := binary.BigEndian.Uint16(b[2:])
	if minBlock < 16 || maxBlock < minBlock {
		return Audio{}, invalid("flac: STREAMINFO block sizes %d..%d", minBlock, maxBlock)
	}
	x := binary.BigEndian.Uint32(b[10:])
	rate := int(x >> 12)
	channels := int(x>>9&7) + 1
	depth := int(x>>4&0x1f) + 1
	if rate == 0 {
		return Audio{}, invalid("flac: STREAMINFO sample rate 0")
	}
	if depth < 4 {
		return Audio{}, invalid("flac: STREAMINFO bits per sample %d", depth)
	}
	return Audio{Codec: "flac", SampleRate: rate, Channels: channels, BitDepth: depth}, nil
}
