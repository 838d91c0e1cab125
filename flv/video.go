package flv

import (
	"encoding/binary"
	"fmt"
)

// VideoTag is a parsed video tag body: the legacy VideoTagHeader (FLV 10.1
// §E.4.3.1) or the Enhanced RTMP ExVideoTagHeader, and what follows it.
//
// Wire layout of the first byte:
//
//	legacy:    | FrameType UB[4] | CodecID UB[4] |
//	enhanced:  | 1 | FrameType UB[3] | PacketType UB[4] |
//
// then, legacy:   [Command UI8] if FrameType is Command, else
//
//	[AVCPacketType UI8, CompositionTime SI24] if CodecID is AVC
//
// enhanced:       [ModEx chain] if PacketType is ModEx, then
//
//	Command UI8                            if FrameType is Command (and not Metadata)
//	MultitrackType UB[4], PacketType UB[4], [FourCC unless ManyTracksManyCodecs]
//	                                       if PacketType is Multitrack
//	FourCC, [CompositionTime SI24 for CodedFrames of avc1/hvc1/vvc1] otherwise
//
// Data holds the rest: the codec payload, or for a multitrack tag the track
// list (walk it with Tracks). Unmarshal aliases its input: Data and ModEx
// point into it. Unknown codec ids, FourCCs, packet types and multitrack
// types are kept, and Append writes back the same bytes.
//
// A VideoTag is a plain value; it is not safe for concurrent mutation.
type VideoTag struct {
	// Enhanced is the IsExVideoHeader bit.
	Enhanced bool
	// FrameType is UB[4] (legacy) or UB[3] (enhanced).
	FrameType VideoFrameType

	// CodecID is the legacy codec id (legacy only).
	CodecID VideoCodecID
	// AVCPacketType is set for legacy AVC (CodecID 7) tags.
	AVCPacketType AVCPacketType

	// PacketType is the enhanced packet type after any ModEx chain. For a
	// multitrack tag it is the packet type of its tracks and Multitrack is true.
	PacketType VideoPacketType
	// ModEx is the raw ModEx chain (enhanced only), nil if none.
	ModEx ModEx
	// Multitrack reports a Multitrack tag; MultitrackType says which kind.
	Multitrack     bool
	MultitrackType MultitrackType
	// FourCC is the codec of an enhanced tag, and of every track of a
	// OneTrack or ManyTracks tag. It is zero for ManyTracksManyCodecs.
	FourCC FourCC

	// HasCommand reports a command frame; Command is its UI8.
	HasCommand bool
	Command    VideoCommand

	// CompositionTime is the SI24 offset in milliseconds, for legacy AVC and
	// for single-track enhanced CodedFrames of avc1, hvc1 and vvc1.
	CompositionTime int32

	// Data is the payload after the header.
	Data []byte
}

// Unmarshal parses b into t. It does not allocate; t aliases b.
func (t *VideoTag) Unmarshal(b []byte) error {
	*t = VideoTag{}
	if len(b) == 0 {
		return errTruncated("video header")
	}
	b0 := b[0]
	if b0&0x80 == 0 {
		return t.unmarshalLegacy(b)
	}
	t.Enhanced = true
	t.FrameType = VideoFrameType(b0 >> 4 & 0x07)
	pt := b0 & 0x0F
	i := 1
	if pt == modExPacketType {
		m, next, n, err := parseModEx(b[i:])
		if err != nil {
			return err
		}
		t.ModEx, pt, i = m, next, i+n
	}
	t.PacketType = VideoPacketType(pt)
	switch {
	case t.PacketType != VideoMetadata && t.FrameType == FrameCommand:
		// "ExVideoTagBody has no payload if we got here."
		if i >= len(b) {
			return errTruncated("video command")
		}
		t.HasCommand, t.Command = true, VideoCommand(b[i])
		i++
	case t.PacketType == VideoMultitrack:
		if i >= len(b) {
			return errTruncated("video multitrack type")
		}
		t.Multitrack = true
		t.MultitrackType = MultitrackType(b[i] >> 4)
		t.PacketType = VideoPacketType(b[i] & 0x0F)
		i++
		if t.PacketType == VideoMultitrack {
			return ErrNestedMultitrack
		}
		if t.MultitrackType != ManyTracksManyCodecs {
			if i+4 > len(b) {
				return errTruncated("video fourcc")
			}
			t.FourCC = FourCC(binary.BigEndian.Uint32(b[i:]))
			i += 4
		}
	default:
		if i+4 > len(b) {
			return errTruncated("video fourcc")
		}
		t.FourCC = FourCC(binary.BigEndian.Uint32(b[i:]))
		i += 4
		if t.PacketType == VideoCodedFrames && t.FourCC.hasCompositionTime() {
			if i+3 > len(b) {
				return errTruncated("video composition time")
			}
			t.CompositionTime = si24(b[i:])
			i += 3
		}
	}
	t.Data = b[i:]
	return nil
}

func (t *VideoTag) unmarshalLegacy(b []byte) error {
	t.FrameType = VideoFrameType(b[0] >> 4)
	t.CodecID = VideoCodecID(b[0] & 0x0F)
	i := 1
	switch {
	case t.FrameType == FrameCommand:
		if len(b) < 2 {
			return errTruncated("video command")
		}
		t.HasCommand, t.Command = true, VideoCommand(b[1])
		i = 2
	case t.CodecID == CodecAVC:
		if len(b) < 5 {
			return errTruncated("avc header")
		}
		t.AVCPacketType = AVCPacketType(b[1])
		t.CompositionTime = si24(b[2:])
		i = 5
	}
	t.Data = b[i:]
	return nil
}

// HeaderSize returns the number of bytes Append writes before Data.
func (t *VideoTag) HeaderSize() int {
	if !t.Enhanced {
		switch {
		case t.FrameType == FrameCommand:
			return 2
		case t.CodecID == CodecAVC:
			return 5
		}
		return 1
	}
	n := 1 + len(t.ModEx)
	switch {
	case t.PacketType != VideoMetadata && t.FrameType == FrameCommand && !t.Multitrack:
		n++
	case t.Multitrack:
		n++
		if t.MultitrackType != ManyTracksManyCodecs {
			n += 4
		}
	default:
		n += 4
		if t.PacketType == VideoCodedFrames && t.FourCC.hasCompositionTime() {
			n += 3
		}
	}
	return n
}

// AppendHeader appends the header (everything before Data) to dst.
func (t *VideoTag) AppendHeader(dst []byte) ([]byte, error) {
	if !t.Enhanced {
		if t.FrameType > 0x0F || t.CodecID > 0x0F {
			return dst, fmt.Errorf("flv: legacy video frame type %d or codec id %d does not fit in 4 bits", t.FrameType, t.CodecID)
		}
		dst = append(dst, byte(t.FrameType)<<4|byte(t.CodecID))
		switch {
		case t.FrameType == FrameCommand:
			dst = append(dst, byte(t.Command))
		case t.CodecID == CodecAVC:
			if !fitsSI24(t.CompositionTime) {
				return dst, fmt.Errorf("flv: composition time %d does not fit in SI24", t.CompositionTime)
			}
			dst = append(dst, byte(t.AVCPacketType))
			dst = appendSI24(dst, t.CompositionTime)
		}
		return dst, nil
	}
	if t.FrameType > 0x07 || t.PacketType > 0x0F || t.MultitrackType > 0x0F {
		return dst, fmt.Errorf("flv: enhanced video frame type %d, packet type %d or multitrack type %d out of range", t.FrameType, t.PacketType, t.MultitrackType)
	}
	pt := byte(t.PacketType)
	if t.Multitrack {
		if t.PacketType == VideoMultitrack {
			return dst, ErrNestedMultitrack
		}
		if t.FrameType == FrameCommand {
			// It would read back as a command frame.
			return dst, fmt.Errorf("flv: a multitrack video tag cannot have frame type command")
		}
		pt = byte(VideoMultitrack)
	}
	if len(t.ModEx) > 0 {
		dst = append(dst, 0x80|byte(t.FrameType)<<4|modExPacketType)
		dst = appendModEx(dst, t.ModEx, pt)
	} else {
		dst = append(dst, 0x80|byte(t.FrameType)<<4|pt)
	}
	switch {
	case t.PacketType != VideoMetadata && t.FrameType == FrameCommand && !t.Multitrack:
		dst = append(dst, byte(t.Command))
	case t.Multitrack:
		dst = append(dst, byte(t.MultitrackType)<<4|byte(t.PacketType))
		if t.MultitrackType != ManyTracksManyCodecs {
			dst = binary.BigEndian.AppendUint32(dst, uint32(t.FourCC))
		}
	default:
		dst = binary.BigEndian.AppendUint32(dst, uint32(t.FourCC))
		if t.PacketType == VideoCodedFrames && t.FourCC.hasCompositionTime() {
			if !fitsSI24(t.CompositionTime) {
				return dst, fmt.Errorf("flv: composition time %d does not fit in SI24", t.CompositionTime)
			}
			dst = appendSI24(dst, t.CompositionTime)
		}
	}
	return dst, nil
}

// Append appends the whole tag body (header and Data) to dst.
func (t *VideoTag) Append(dst []byte) ([]byte, error) {
	dst, err := t.AppendHeader(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, t.Data...), nil
}

// Codec returns the FourCC of the tag's codec: FourCC for an enhanced tag,
// avc1 for legacy AVC, and zero for other legacy codecs (see CodecID) and
// for ManyTracksManyCodecs tags (see Tracks).
func (t *VideoTag) Codec() FourCC {
	if t.Enhanced {
		return t.FourCC
	}
	if t.CodecID == CodecAVC {
		return FourCCAVC
	}
	return 0
}

// IsKeyFrame reports a key frame that carries coded picture data (not a
// sequence header, sequence end, metadata or command).
func (t *VideoTag) IsKeyFrame() bool {
	if t.FrameType != FrameKey || t.HasCommand {
		return false
	}
	if t.Enhanced {
		return t.PacketType == VideoCodedFrames || t.PacketType == VideoCodedFramesX
	}
	return t.CodecID != CodecAVC || t.AVCPacketType == AVCNALU
}

// IsSequenceHeader reports a decoder configuration packet: a legacy AVC
// sequence header, or an enhanced SequenceStart or MPEG2TSSequenceStart.
func (t *VideoTag) IsSequenceHeader() bool {
	if t.HasCommand {
		return false
	}
	if t.Enhanced {
		return t.PacketType == VideoSequenceStart || t.PacketType == VideoMPEG2TSSequenceStart
	}
	return t.CodecID == CodecAVC && t.AVCPacketType == AVCSequenceHeader
}

// IsSequenceEnd reports a legacy AVC end of sequence or an enhanced SequenceEnd.
func (t *VideoTag) IsSequenceEnd() bool {
	if t.HasCommand {
		return false
	}
	if t.Enhanced {
		return t.PacketType == VideoSequenceEnd
	}
	return t.CodecID == CodecAVC && t.AVCPacketType == AVCEndOfSequence
}

func si24(b []byte) int32 {
	v := int32(b[0])<<16 | int32(b[1])<<8 | int32(b[2])
	return v << 8 >> 8 // sign-extend from 24 bits
}

func appendSI24(dst []byte, v int32) []byte {
	return append(dst, byte(v>>16), byte(v>>8), byte(v))
}

func fitsSI24(v int32) bool { return v >= -1<<23 && v < 1<<23 }
