package codecinfo

import "io"

// ParseOpusHead reads an Opus identification header (RFC 7845 §5.1, the payload
// of an Enhanced RTMP Opus SequenceStart):
//
//	"OpusHead" version(8) output_channel_count(8) pre_skip(16le)
//	input_sample_rate(32le) output_gain(16le) channel_mapping_family(8)
//	[stream_count(8) coupled_count(8) channel_mapping(8 x channels)]
//
// SampleRate is 48000, the rate Opus always decodes at, as ffprobe reports it;
// the input sample rate in the header is informational only (RFC 7845 §5.1).
func ParseOpusHead(b []byte) (Audio, error) {
	if len(b) < 19 {
		return Audio{}, wrap("opus: OpusHead", io.ErrUnexpectedEOF)
	}
	if string(b[:8]) != "OpusHead" {
		return Audio{}, invalid("opus: magic %q", b[:8])
	}
	// "a version number of 15 or less ... MUST be treated as version 1" only
	// applies to the low nibble; a major version other than 0 is incompatible.
	if b[8]&0xf0 != 0 {
		return Audio{}, unsupported("opus: OpusHead version %d", b[8])
	}
	channels := int(b[9])
	if channels == 0 {
		return Audio{}, invalid("opus: OpusHead channel count 0")
	}
	switch family := b[18]; family {
	case 0:
		if channels > 2 {
			return Audio{}, invalid("opus: %d channels with mapping family 0", channels)
		}
	default:
		if len(b) < 21+channels {
			return Audio{}, wrap("opus: OpusHead channel mapping table", io.ErrUnexpectedEOF)
		}
		streams, coupled := int(b[19]), int(b[20])
		if streams == 0 || coupled > streams || streams+coupled > 255 {
			return Audio{}, invalid("opus: stream count %d, coupled count %d", streams, coupled)
		}
	}
	return Audio{Codec: "opus", SampleRate: 48000, Channels: channels}, nil
}
