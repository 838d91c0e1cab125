package flv

// Legacy returns the legacy FLV form of an enhanced single-track avc1 tag,
// for a player that does not take Enhanced RTMP: SequenceStart becomes an
// AVC sequence header, CodedFrames and CodedFramesX NAL units (with the
// composition time, or 0), SequenceEnd an AVC end of sequence. A ModEx
// chain has no legacy form and is dropped. ok is false for anything else
// (other codecs, Metadata, multitrack, commands). Data aliases t's.
func (t *VideoTag) Legacy() (VideoTag, bool) {
	if !t.Enhanced || t.Multitrack || t.HasCommand || t.FourCC != FourCCAVC || t.FrameType == 0 || t.FrameType > FrameCommand {
		return VideoTag{}, false
	}
	out := VideoTag{FrameType: t.FrameType, CodecID: CodecAVC, Data: t.Data}
	switch t.PacketType {
	case VideoSequenceStart:
		out.AVCPacketType = AVCSequenceHeader
	case VideoCodedFrames:
		out.AVCPacketType, out.CompositionTime = AVCNALU, t.CompositionTime
	case VideoCodedFramesX:
		out.AVCPacketType = AVCNALU
	case VideoSequenceEnd:
		out.AVCPacketType = AVCEndOfSequence
	default:
		return VideoTag{}, false
	}
	return out, true
}

// Legacy returns the legacy FLV form of an enhanced single-track mp4a or
// .mp3 tag: AAC sequence header or raw frames (flags 44 kHz, 16-bit,
// stereo, as FLV 10.1 says AAC always declares), or MP3 frames (whose own
// headers give the real rate and channels). ok is false for anything else.
func (t *AudioTag) Legacy() (AudioTag, bool) {
	if !t.Enhanced() || t.Multitrack {
		return AudioTag{}, false
	}
	out := AudioTag{SoundRate: SoundRate44k, SoundSize: 1, SoundType: 1, Data: t.Data}
	switch {
	case t.FourCC == FourCCAAC && t.PacketType == AudioSequenceStart:
		out.SoundFormat, out.AACPacketType = SoundAAC, AACSequenceHeader
	case t.FourCC == FourCCAAC && t.PacketType == AudioCodedFrames:
		out.SoundFormat, out.AACPacketType = SoundAAC, AACRaw
	case t.FourCC == FourCCMP3 && t.PacketType == AudioCodedFrames:
		out.SoundFormat = SoundMP3
	default:
		return AudioTag{}, false
	}
	return out, true
}
