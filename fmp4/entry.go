package fmp4

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Sizes of the fixed fields that open a sample entry's body, before its
// child boxes.
const (
	// VisualSampleEntry (ISO/IEC 14496-12 §12.1.3.2): SampleEntry's
	// reserved(6×8) data_reference_index(16), then pre_defined(16)
	// reserved(16) pre_defined(3×32) width(16) height(16)
	// horizresolution(32) vertresolution(32) reserved(32) frame_count(16)
	// compressorname(32×8) depth(16) pre_defined(16).
	visualEntryHead = 78
	// AudioSampleEntry (§12.2.3.2): reserved(6×8) data_reference_index(16)
	// reserved(2×32) channelcount(16) samplesize(16) pre_defined(16)
	// reserved(16) samplerate(32, 16.16).
	audioEntryHead = 28
)

// appendVisualEntryHead appends the fixed fields of a VisualSampleEntry.
func appendVisualEntryHead(dst []byte, width, height int) []byte {
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 1) // reserved, data_reference_index 1
	dst = append(dst, make([]byte, 16)...)    // pre_defined, reserved, pre_defined[3]
	dst = binary.BigEndian.AppendUint16(dst, uint16(width))
	dst = binary.BigEndian.AppendUint16(dst, uint16(height))
	dst = binary.BigEndian.AppendUint32(dst, 0x00480000) // 72 dpi
	dst = binary.BigEndian.AppendUint32(dst, 0x00480000)
	dst = append(dst, 0, 0, 0, 0, 0, 1)        // reserved, frame_count 1
	dst = append(dst, make([]byte, 32)...)     // compressorname: empty
	return append(dst, 0x00, 0x18, 0xff, 0xff) // depth 24, pre_defined -1
}

// appendAudioEntryHead appends the fixed fields of an AudioSampleEntry. A
// rate that does not fit the 16.16 field is written as 0; the media
// timescale and the decoder configuration carry it.
func appendAudioEntryHead(dst []byte, channels, rate int) []byte {
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 1) // reserved, data_reference_index 1
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0) // reserved
	dst = binary.BigEndian.AppendUint16(dst, uint16(channels))
	dst = append(dst, 0, 16, 0, 0, 0, 0) // samplesize 16, pre_defined, reserved
	if rate > 0xffff {
		rate = 0
	}
	return binary.BigEndian.AppendUint32(dst, uint32(rate)<<16)
}

// appendEsds appends an ESDBox (ISO/IEC 14496-14 §5.6) holding an
// ES_Descriptor (ISO/IEC 14496-1 §7.2.6.5) for one elementary stream:
//
//	ES_DescrTag(3) len ES_ID(16)=0 flags(8)=0
//	  DecoderConfigDescrTag(4) len objectTypeIndication(8)
//	    streamType(6)=5 (audio) upStream(1)=0 reserved(1)=1
//	    bufferSizeDB(24) maxBitrate(32) avgBitrate(32)
//	    [DecSpecificInfoTag(5) len decoderSpecificInfo]
//	  SLConfigDescrTag(6) len predefined(8)=2 (reserved for MP4 files)
func appendEsds(dst []byte, oti byte, dsi []byte, bitrate uint32) []byte {
	dcd := 13
	if len(dsi) > 0 {
		dcd += descriptorSize(len(dsi))
	}
	es := 3 + descriptorSize(dcd) + descriptorSize(1)
	dst, at := StartFullBox(dst, typeEsds, 0, 0)
	dst = appendDescriptorHeader(dst, 0x03, es)
	dst = append(dst, 0, 0, 0)
	dst = appendDescriptorHeader(dst, 0x04, dcd)
	dst = append(dst, oti, 0x15, 0, 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, bitrate)
	dst = binary.BigEndian.AppendUint32(dst, bitrate)
	if len(dsi) > 0 {
		dst = appendDescriptorHeader(dst, 0x05, len(dsi))
		dst = append(dst, dsi...)
	}
	dst = appendDescriptorHeader(dst, 0x06, 1)
	dst = append(dst, 0x02)
	EndBox(dst, at)
	return dst
}

// descriptorSize is the size of a descriptor with an n-byte body: the tag,
// the expandable sizeOfInstance (7 bits a byte, ISO/IEC 14496-1 §8.3.3),
// and the body.
func descriptorSize(n int) int {
	s := 2
	for v := n >> 7; v > 0; v >>= 7 {
		s++
	}
	return s + n
}

func appendDescriptorHeader(dst []byte, tag byte, n int) []byte {
	dst = append(dst, tag)
	shift := 0
	for v := n >> 7; v > 0; v >>= 7 {
		shift += 7
	}
	for ; shift > 0; shift -= 7 {
		dst = append(dst, byte(n>>shift)|0x80)
	}
	return append(dst, byte(n&0x7f))
}

// appendDOps turns an Opus identification header (RFC 7845 §5.1,
// little-endian) into an OpusSpecificBox (Encapsulation of Opus in ISO Base
// Media File Format §4.3.2, big-endian):
//
//	Version(8)=0 OutputChannelCount(8) PreSkip(16) InputSampleRate(32)
//	OutputGain(16) ChannelMappingFamily(8)
//	[StreamCount(8) CoupledCount(8) ChannelMapping(8 × OutputChannelCount)]
//
// head has been checked by codecinfo.ParseOpusHead.
func appendDOps(dst []byte, head []byte) []byte {
	dst, at := StartBox(dst, typeDOps)
	channels := head[9]
	dst = append(dst, 0, channels)
	dst = binary.BigEndian.AppendUint16(dst, binary.LittleEndian.Uint16(head[10:]))
	dst = binary.BigEndian.AppendUint32(dst, binary.LittleEndian.Uint32(head[12:]))
	dst = binary.BigEndian.AppendUint16(dst, binary.LittleEndian.Uint16(head[16:]))
	family := head[18]
	dst = append(dst, family)
	if family != 0 {
		dst = append(dst, head[19:21+int(channels)]...)
	}
	EndBox(dst, at)
	return dst
}

// appendDefaultDOps writes the OpusSpecificBox of a stream that sent an
// empty sequence start, which Enhanced RTMP v2 defines as mono or stereo
// ("default to mono/stereo mode"): mapping family 0, no pre-skip.
func appendDefaultDOps(dst []byte, channels int) []byte {
	dst, at := StartBox(dst, typeDOps)
	dst = append(dst, 0, byte(channels), 0, 0)
	dst = binary.BigEndian.AppendUint32(dst, 48000)
	dst = append(dst, 0, 0, 0)
	EndBox(dst, at)
	return dst
}

// FLAC metadata block types (RFC 9639 §8.1).
const (
	flacStreamInfo = 0
	flacPadding    = 1
)

// appendDfLa writes a FLACSpecificBox (Encapsulation of FLAC in ISO Base
// Media File Format §3.3.2): a FullBox of version 0 holding FLAC metadata
// blocks, STREAMINFO first, the last one flagged:
//
//	LastMetadataBlockFlag(1) BlockType(7) Length(24) BlockData
//
// config is what the FLV sequence start carries: the STREAMINFO body alone
// (as FFmpeg sends it), a metadata block header and the body, or the "fLaC"
// signature and the metadata blocks (as Enhanced RTMP v2 describes it).
// PADDING blocks are dropped. config has been checked by
// codecinfo.ParseFLACConfig.
func appendDfLa(dst []byte, config []byte) ([]byte, error) {
	dst, at := StartFullBox(dst, typeDfLa, 0, 0)
	var blocks []byte
	switch {
	case len(config) >= 4 && string(config[:4]) == "fLaC":
		blocks = config[4:]
	case len(config) >= 4 && config[0]&0x7f == flacStreamInfo && config[1] == 0 && config[2] == 0 && config[3] == flacStreamInfoLen:
		// A block header, not a STREAMINFO body: that would need a minimum
		// block size of 0 or 32768 above a maximum of 34 (as codecinfo reads it).
		blocks = config
	default:
		dst = append(dst, 0x80, 0, 0, flacStreamInfoLen)
		dst = append(dst, config[:flacStreamInfoLen]...)
		EndBox(dst, at)
		return dst, nil
	}
	last := -1 // offset in dst of the last header written
	for len(blocks) > 0 {
		if len(blocks) < 4 {
			return dst, fmt.Errorf("fmp4: flac metadata block header: %w", io.ErrUnexpectedEOF)
		}
		typ := blocks[0] & 0x7f
		n := int(blocks[1])<<16 | int(blocks[2])<<8 | int(blocks[3])
		if n > len(blocks)-4 {
			return dst, fmt.Errorf("fmp4: flac metadata block of %d bytes, %d left: %w", n, len(blocks)-4, io.ErrUnexpectedEOF)
		}
		if last < 0 && (typ != flacStreamInfo || n != flacStreamInfoLen) {
			return dst, fmt.Errorf("fmp4: flac: first metadata block (type %d, %d bytes) is not STREAMINFO: %w", typ, n, ErrInvalid)
		}
		if typ == 127 {
			return dst, fmt.Errorf("fmp4: flac: metadata block type 127: %w", ErrInvalid)
		}
		if typ != flacPadding {
			last = len(dst)
			dst = append(dst, blocks[:4+n]...)
			dst[last] &= 0x7f
		}
		final := blocks[0]&0x80 != 0
		blocks = blocks[4+n:]
		if final {
			break
		}
	}
	if last < 0 {
		return dst, fmt.Errorf("fmp4: flac: no metadata block: %w", io.ErrUnexpectedEOF)
	}
	dst[last] |= 0x80
	EndBox(dst, at)
	return dst, nil
}

const flacStreamInfoLen = 34
