package codecinfo

import "github.com/ertmp/rtmp/flv"

// ParseVideoConfig reads the decoder configuration record that a video
// sequence header of codec f carries: the body of a legacy AVC sequence
// header or of an Enhanced RTMP SequenceStart, after the tag header (see
// flv.VideoTag, flv.Track). It handles avc1, hvc1, vvc1, av01, vp09 and
// vp08; any other codec gives an error wrapping ErrUnsupported.
func ParseVideoConfig(f flv.FourCC, b []byte) (Video, error) {
	switch f {
	case flv.FourCCAVC:
		return ParseAVCConfig(b)
	case flv.FourCCHEVC:
		return ParseHEVCConfig(b)
	case flv.FourCCVVC:
		return ParseVVCConfig(b)
	case flv.FourCCAV1:
		return ParseAV1Config(b)
	case flv.FourCCVP9:
		return ParseVPConfig(b, "vp9")
	case flv.FourCCVP8:
		return ParseVPConfig(b, "vp8")
	}
	return Video{}, unsupported("%v: no video configuration record", f)
}

// ParseVideoKeyframe reads the frame header of a key frame of codec f, for
// the codecs whose configuration record has no picture size: vp09 and vp08.
// Any other codec gives an error wrapping ErrUnsupported; a frame that is
// not a key frame, ErrNotKeyframe.
func ParseVideoKeyframe(f flv.FourCC, b []byte) (Video, error) {
	switch f {
	case flv.FourCCVP9:
		return ParseVP9Keyframe(b)
	case flv.FourCCVP8:
		return ParseVP8Keyframe(b)
	}
	return Video{}, unsupported("%v: no key frame header read", f)
}

// ParseAudioConfig reads the decoder configuration that an audio sequence
// header of codec f carries: mp4a (AudioSpecificConfig, also the body of a
// legacy AAC sequence header), Opus (OpusHead) or fLaC (STREAMINFO). Any
// other codec gives an error wrapping ErrUnsupported: ac-3, ec-3 and .mp3
// have no configuration record (see ParseAudioFrame).
func ParseAudioConfig(f flv.FourCC, b []byte) (Audio, error) {
	switch f {
	case flv.FourCCAAC:
		return ParseAACConfig(b)
	case flv.FourCCOpus:
		return ParseOpusHead(b)
	case flv.FourCCFLAC:
		return ParseFLACConfig(b)
	}
	return Audio{}, unsupported("%v: no audio configuration record", f)
}

// ParseAudioFrame reads the header of a coded audio frame of codec f, for
// the codecs that describe the stream there rather than in a configuration
// record: ac-3, ec-3 and .mp3 (legacy MP3 too). Any other codec gives an
// error wrapping ErrUnsupported.
func ParseAudioFrame(f flv.FourCC, b []byte) (Audio, error) {
	switch f {
	case flv.FourCCAC3:
		return ParseAC3Frame(b)
	case flv.FourCCEAC3:
		return ParseEAC3Frame(b)
	case flv.FourCCMP3:
		return ParseMP3Frame(b)
	}
	return Audio{}, unsupported("%v: no frame header read", f)
}
