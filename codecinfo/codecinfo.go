package codecinfo

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Errors that callers can branch on with errors.Is. Every error this package
// returns wraps one of them or io.ErrUnexpectedEOF (truncated input), behind a
// "codecinfo: <codec>: <structure>:" prefix.
var (
	// ErrInvalid marks input that is complete but breaks the syntax or the value
	// ranges of its specification (a wrong marker, a reserved value, an impossible size).
	ErrInvalid = errors.New("invalid data")
	// ErrUnsupported marks well-formed input this package does not read, such as a
	// configuration record version it does not know.
	ErrUnsupported = errors.New("unsupported")
	// ErrNotKeyframe is returned by the VP8 and VP9 frame parsers for frames that
	// are not key frames, which carry no frame size.
	ErrNotKeyframe = errors.New("not a key frame")
)

// maxDimension bounds the width and height a parser reports. It is far above any
// level limit of the codecs here (H.264 level 6.2 allows 8192 wide, AV1 65536);
// a larger value means a corrupt header.
const maxDimension = 1 << 16

// Video is what a video codec configuration says about a stream. Fields the input
// does not carry are zero. A Video holds no reference to the parsed input.
type Video struct {
	// Codec is the codec, spelled as ffprobe's codec_name: "h264", "hevc", "vvc",
	// "av1", "vp9" or "vp8".
	Codec string
	// Width and Height are the displayed size in luma samples, after the cropping
	// (H.264 frame cropping, HEVC conformance window) the parameter set signals.
	// For AV1 and VVC they are the maximum frame size of the sequence.
	Width, Height int
	// Profile is the profile name as ffprobe prints it ("High", "Main 10",
	// "Profile 2", ...), the specification's name for the few profiles FFmpeg
	// does not name, or the profile number in decimal when it is unknown.
	Profile string
	// Level is the codec's own level number, as ffprobe prints it: H.264
	// level_idc (31 is level 3.1), HEVC general_level_idc (30 times the level:
	// 93 is 3.1), VVC general_level_idc (16 times the major plus 3 times the minor
	// number: 67 is 4.1), AV1 seq_level_idx (5 is level 3.1), VP8/VP9 the vpcC
	// level (10 times the level: 31 is 3.1). Zero when unknown.
	Level int
	// Tier is "Main" or "High" for HEVC, VVC and AV1, empty for the others.
	Tier string
	// BitDepth is the luma bit depth.
	BitDepth int
	// ChromaFormat is "4:0:0", "4:2:0", "4:2:2" or "4:4:4" (or VP9's "4:4:0"),
	// empty when unknown.
	ChromaFormat string
}

// String formats v for people, like "h264 High@30 642x362 4:2:0 8-bit".
func (v Video) String() string {
	var sb strings.Builder
	sb.WriteString(v.Codec)
	if v.Profile != "" {
		sb.WriteString(" " + v.Profile)
		if v.Level != 0 {
			sb.WriteString("@" + strconv.Itoa(v.Level))
		}
	}
	if v.Tier != "" {
		sb.WriteString(" " + v.Tier + " tier")
	}
	if v.Width != 0 || v.Height != 0 {
		fmt.Fprintf(&sb, " %dx%d", v.Width, v.Height)
	}
	if v.ChromaFormat != "" {
		sb.WriteString(" " + v.ChromaFormat)
	}
	if v.BitDepth != 0 {
		fmt.Fprintf(&sb, " %d-bit", v.BitDepth)
	}
	return sb.String()
}

// Audio is what an audio codec configuration or frame header says about a stream.
// Fields the input does not carry are zero. An Audio holds no reference to the
// parsed input.
type Audio struct {
	// Codec is the codec, spelled as ffprobe's codec_name: "aac", "opus", "flac",
	// "ac3", "eac3", "mp3", "mp2" or "mp1".
	Codec string
	// SampleRate is the output sample rate in Hz: with AAC SBR signalled it is the
	// SBR (doubled) rate, and for Opus it is always 48000, the rate Opus decodes at.
	SampleRate int
	// Channels is the number of output channels, LFE included.
	Channels int
	// Profile is the AAC profile as ffprobe prints it ("LC", "HE-AAC",
	// "HE-AACv2", ...); empty for the other codecs.
	Profile string
	// BitDepth is the sample size of lossless codecs (FLAC); zero otherwise.
	BitDepth int
	// BitRate is the bit rate in bits per second that an AC-3, E-AC-3 or MPEG audio
	// frame header gives; zero otherwise and for free-format MPEG audio.
	BitRate int
}

// String formats a for people, like "aac LC 44100 Hz 2 ch".
func (a Audio) String() string {
	var sb strings.Builder
	sb.WriteString(a.Codec)
	if a.Profile != "" {
		sb.WriteString(" " + a.Profile)
	}
	fmt.Fprintf(&sb, " %d Hz %d ch", a.SampleRate, a.Channels)
	if a.BitDepth != 0 {
		fmt.Fprintf(&sb, " %d-bit", a.BitDepth)
	}
	if a.BitRate != 0 {
		fmt.Fprintf(&sb, " %d b/s", a.BitRate)
	}
	return sb.String()
}

// chromaName names a chroma_format_idc as H.264, HEVC and VVC number it
// (H.264 Table 6-1, H.265 Table 6-1).
func chromaName(idc int) string {
	switch idc {
	case 0:
		return "4:0:0"
	case 1:
		return "4:2:0"
	case 2:
		return "4:2:2"
	case 3:
		return "4:4:4"
	}
	return ""
}

func tierName(high bool) string {
	if high {
		return "High"
	}
	return "Main"
}

// invalid formats an ErrInvalid with the layer and the offending value.
func invalid(format string, args ...any) error {
	return fmt.Errorf("codecinfo: "+format+": %w", append(args, ErrInvalid)...)
}

// unsupported formats an ErrUnsupported the same way.
func unsupported(format string, args ...any) error {
	return fmt.Errorf("codecinfo: "+format+": %w", append(args, ErrUnsupported)...)
}

// wrap prefixes err with "codecinfo: " and the layer unless it has a prefix
// already: errors made by invalid, unsupported and notKeyframe carry their own.
func wrap(layer string, err error) error {
	if err == nil || strings.HasPrefix(err.Error(), "codecinfo: ") {
		return err
	}
	return fmt.Errorf("codecinfo: %s: %w", layer, err)
}

// fieldError reports a syntax element out of range; wrap adds the layer.
func fieldError(name string, v uint64) error {
	return fmt.Errorf("%s %d out of range: %w", name, v, ErrInvalid)
}

func notKeyframe(codec string) error {
	return fmt.Errorf("codecinfo: %s: %w", codec, ErrNotKeyframe)
}
