package flv

import (
	"encoding/binary"
	"fmt"
)

// AudioTag is a parsed audio tag body: the legacy AudioTagHeader (FLV 10.1
// §E.4.2.1) or the Enhanced RTMP ExAudioTagHeader, and what follows it.
//
// Wire layout:
//
//	legacy:    | SoundFormat UB[4] | SoundRate UB[2] | SoundSize UB[1] | SoundType UB[1] |
//	           [AACPacketType UI8] if SoundFormat is AAC
//	enhanced:  | 9 UB[4] | PacketType UB[4] |
//	           [ModEx chain] if PacketType is ModEx, then
//	           MultitrackType UB[4], PacketType UB[4], [FourCC unless
//	           ManyTracksManyCodecs]            if PacketType is Multitrack
//	           FourCC                           otherwise
//
// A zero-length audio message is the "audio silence" message the spec
// documents; it parses to an AudioTag with Silence set, and encodes back to
// zero bytes.
//
// Data holds the rest: the codec payload, or for a multitrack tag the track
// list (walk it with Tracks). Unmarshal aliases its input. Unknown formats,
// FourCCs, packet types and multitrack types are kept, and Append writes back
// the same bytes.
type AudioTag struct {
	// Silence reports the zero-length silence message; all other fields are zero.
	Silence bool

	// SoundFormat is the top nibble; SoundExHeader (9) means enhanced.
	SoundFormat SoundFormat
	// Legacy only: rate, size and channel bits, and the AAC packet type.
	SoundRate     SoundRate
	SoundSize     SoundSize
	SoundType     SoundType
	AACPacketType AACPacketType

	// Enhanced only. PacketType is the packet type after any ModEx chain; for
	// a multitrack tag it is the packet type of its tracks and Multitrack is true.
	PacketType     AudioPacketType
	ModEx          ModEx
	Multitrack     bool
	MultitrackType MultitrackType
	// FourCC is the codec of an enhanced tag, and of every track of a
	// OneTrack or ManyTracks tag. It is zero for ManyTracksManyCodecs.
	FourCC FourCC

	// Data is the payload after the header.
	Data []byte
}

// Enhanced reports an ExAudioTagHeader (SoundFormat 9).
func (t *AudioTag) Enhanced() bool { return !t.Silence && t.SoundFormat == SoundExHeader }

// Unmarshal parses b into t. It does not allocate; t aliases b.
func (t *AudioTag) Unmarshal(b []byte) error {
	*t = AudioTag{}
	if len(b) == 0 {
		t.Silence = true
		return nil
	}
	t.SoundFormat = SoundFormat(b[0] >> 4)
	if t.SoundFormat != SoundExHeader {
		t.SoundRate = SoundRate(b[0] >> 2 & 3)
		t.SoundSize = SoundSize(b[0] >> 1 & 1)
		t.SoundType = SoundType(b[0] & 1)
		i := 1
		if t.SoundFormat == SoundAAC {
			if len(b) < 2 {
				return errTruncated("aac packet type")
			}
			t.AACPacketType = AACPacketType(b[1])
			i = 2
		}
		t.Data = b[i:]
		return nil
	}
	pt := b[0] & 0x0F
	i := 1
	if pt == modExPacketType {
		m, next, n, err := parseModEx(b[i:])
		if err != nil {
			return err
		}
		t.ModEx, pt, i = m, next, i+n
	}
	t.PacketType = AudioPacketType(pt)
	if t.PacketType == AudioMultitrack {
		if i >= len(b) {
			return errTruncated("audio multitrack type")
		}
		t.Multitrack = true
		t.MultitrackType = MultitrackType(b[i] >> 4)
		t.PacketType = AudioPacketType(b[i] & 0x0F)
		i++
		if t.PacketType == AudioMultitrack {
			return ErrNestedMultitrack
		}
		if t.MultitrackType == ManyTracksManyCodecs {
			t.Data = b[i:]
			return nil
		}
	}
	if i+4 > len(b) {
		return errTruncated("audio fourcc")
	}
	t.FourCC = FourCC(binary.BigEndian.Uint32(b[i:]))
	t.Data = b[i+4:]
	return nil
}

// HeaderSize returns the number of bytes Append writes before Data.
func (t *AudioTag) HeaderSize() int {
	switch {
	case t.Silence:
		return 0
	case t.SoundFormat == SoundAAC:
		return 2
	case t.SoundFormat != SoundExHeader:
		return 1
	}
	n := 1 + len(t.ModEx)
	if t.Multitrack {
		n++
		if t.MultitrackType == ManyTracksManyCodecs {
			return n
		}
	}
	return n + 4
}

// AppendHeader appends the header (everything before Data) to dst.
func (t *AudioTag) AppendHeader(dst []byte) ([]byte, error) {
	if t.Silence {
		if len(t.Data) > 0 {
			return dst, fmt.Errorf("flv: a silence audio message has no data")
		}
		return dst, nil
	}
	if t.SoundFormat > 0x0F {
		return dst, fmt.Errorf("flv: sound format %d does not fit in 4 bits", t.SoundFormat)
	}
	if t.SoundFormat != SoundExHeader {
		dst = append(dst, byte(t.SoundFormat)<<4|byte(t.SoundRate&3)<<2|byte(t.SoundSize&1)<<1|byte(t.SoundType&1))
		if t.SoundFormat == SoundAAC {
			dst = append(dst, byte(t.AACPacketType))
		}
		return dst, nil
	}
	if t.PacketType > 0x0F || t.MultitrackType > 0x0F {
		return dst, fmt.Errorf("flv: audio packet type %d or multitrack type %d does not fit in 4 bits", t.PacketType, t.MultitrackType)
	}
	pt := byte(t.PacketType)
	if t.Multitrack {
		if t.PacketType == AudioMultitrack {
			return dst, ErrNestedMultitrack
		}
		pt = byte(AudioMultitrack)
	}
	if len(t.ModEx) > 0 {
		dst = append(dst, byte(SoundExHeader)<<4|modExPacketType)
		dst = appendModEx(dst, t.ModEx, pt)
	} else {
		dst = append(dst, byte(SoundExHeader)<<4|pt)
	}
	if t.Multitrack {
		dst = append(dst, byte(t.MultitrackType)<<4|byte(t.PacketType))
		if t.MultitrackType == ManyTracksManyCodecs {
			return dst, nil
		}
	}
	return binary.BigEndian.AppendUint32(dst, uint32(t.FourCC)), nil
}

// Append appends the whole tag body (header and Data) to dst.
func (t *AudioTag) Append(dst []byte) ([]byte, error) {
	dst, err := t.AppendHeader(dst)
	if err != nil {
		return dst, err
	}
	return append(dst, t.Data...), nil
}

// Codec returns the FourCC of the tag's codec: FourCC for an enhanced tag,
// mp4a for legacy AAC, .mp3 for legacy MP3, and zero otherwise (see
// SoundFormat) and for ManyTracksManyCodecs tags (see Tracks).
func (t *AudioTag) Codec() FourCC {
	switch {
	case t.Silence:
		return 0
	case t.SoundFormat == SoundExHeader:
		return t.FourCC
	case t.SoundFormat == SoundAAC:
		return FourCCAAC
	case t.SoundFormat == SoundMP3, t.SoundFormat == SoundMP38k:
		return FourCCMP3
	}
	return 0
}

// IsSequenceHeader reports a decoder configuration packet: a legacy AAC
// sequence header or an enhanced SequenceStart.
func (t *AudioTag) IsSequenceHeader() bool {
	switch {
	case t.Silence:
		return false
	case t.SoundFormat == SoundExHeader:
		return t.PacketType == AudioSequenceStart
	}
	return t.SoundFormat == SoundAAC && t.AACPacketType == AACSequenceHeader
}
