package fmp4

import "github.com/ertmp/rtmp/flv"

// VideoSample returns the sample that track tr of a video tag carries (the
// tag's only track, or one of a multitrack tag: see flv.VideoTag.Tracks),
// decoded at ms milliseconds, and false when it carries none: a sequence
// header or end, metadata, a command, an empty frame, or a codec NewTrack
// does not take.
//
// The data is what ISOBMFF stores, aliasing the tag: AVC and HEVC access
// units are length-prefixed NAL units in FLV already; VP9 frames are as
// they are; an AV1 temporal unit loses its leading temporal delimiter OBU,
// which AV1-ISOBMFF §2.4 says samples should not carry. Key frames (and
// the server-generated key frames of frame type 4) are sync samples; the
// composition time is FLV's, zero for CodedFramesX.
func VideoSample(tag *flv.VideoTag, tr flv.Track, ms int64) (Sample, bool) {
	if tag.HasCommand {
		return Sample{}, false
	}
	if tag.Enhanced {
		if tag.PacketType != flv.VideoCodedFrames && tag.PacketType != flv.VideoCodedFramesX {
			return Sample{}, false
		}
	} else if tag.CodecID != flv.CodecAVC || tag.AVCPacketType != flv.AVCNALU {
		return Sample{}, false
	}
	s := Sample{
		Time:            ms,
		CompositionTime: tr.CompositionTime,
		Key:             tag.FrameType == flv.FrameKey || tag.FrameType == flv.FrameGeneratedKey,
		Data:            tr.Data,
	}
	switch tr.FourCC {
	case flv.FourCCAVC, flv.FourCCHEVC, flv.FourCCVP9:
	case flv.FourCCAV1:
		s.Data = stripTemporalDelimiters(s.Data)
	default:
		return Sample{}, false
	}
	if len(s.Data) == 0 {
		return Sample{}, false
	}
	return s, true
}

// AudioSample returns the sample that track tr of an audio tag carries,
// decoded at ms milliseconds, and false when it carries none: a sequence
// header or end, a multichannel configuration, the silence message, an
// empty frame (FFmpeg ends FLAC in FLV with one), or a codec NewTrack does
// not take. The data is the raw frame as FLV carries it
// and ISOBMFF stores it (AAC raw data blocks, Opus packets, FLAC frames,
// AC-3 and E-AC-3 syncframes, MPEG audio frames), aliasing the tag. Every
// audio sample is a sync sample.
func AudioSample(tag *flv.AudioTag, tr flv.Track, ms int64) (Sample, bool) {
	switch {
	case tag.Silence:
		return Sample{}, false
	case tag.Enhanced():
		if tag.PacketType != flv.AudioCodedFrames {
			return Sample{}, false
		}
	case tag.SoundFormat == flv.SoundAAC:
		if tag.AACPacketType != flv.AACRaw {
			return Sample{}, false
		}
	}
	switch tr.FourCC {
	case flv.FourCCAAC, flv.FourCCMP3, flv.FourCCOpus, flv.FourCCFLAC, flv.FourCCAC3, flv.FourCCEAC3:
	default:
		return Sample{}, false
	}
	if len(tr.Data) == 0 {
		return Sample{}, false
	}
	return Sample{Time: ms, Key: true, Data: tr.Data}, true
}

// stripTemporalDelimiters slices off the temporal delimiter OBUs that open
// an AV1 temporal unit (AV1 §5.3: obu_header, then obu_size as leb128 when
// obu_has_size_field is set):
//
//	obu_forbidden_bit(1) obu_type(4) obu_extension_flag(1) obu_has_size_field(1) obu_reserved_1bit(1)
//	[temporal_id(3) spatial_id(2) extension_header_reserved_3bits(3)]
func stripTemporalDelimiters(b []byte) []byte {
	for len(b) > 0 {
		h := b[0]
		if h>>3&0x0f != 2 || h&0x02 == 0 {
			return b
		}
		n := 1
		if h&0x04 != 0 {
			n++
		}
		size, m := leb128(b[min(n, len(b)):])
		if m == 0 || size > uint64(len(b)-n-m) {
			return b
		}
		b = b[n+m+int(size):]
	}
	return b
}

// leb128 reads an unsigned LEB128 value of at most 8 bytes (AV1 §4.10.5)
// and returns it and its length, or a zero length if b ends first.
func leb128(b []byte) (uint64, int) {
	var v uint64
	for i := 0; i < 8 && i < len(b); i++ {
		v |= uint64(b[i]&0x7f) << (7 * i)
		if b[i]&0x80 == 0 {
			return v, i + 1
		}
	}
	return 0, 0
}
