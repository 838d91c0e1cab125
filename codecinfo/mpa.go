package codecinfo

import "io"

var (
	// mpaRates is the sample rate by sampling_frequency for MPEG-1 (ISO/IEC
	// 11172-3 §2.4.2.3); MPEG-2 LSF (ISO/IEC 13818-3) halves it and the
	// unofficial MPEG-2.5 quarters it.
	mpaRates = [3]int{44100, 48000, 32000}
	// mpaBitRates is the bit rate in kbit/s by [lsf][layer-1][bitrate_index];
	// index 0 is free format, 15 is forbidden.
	mpaBitRates = [2][3][15]int{
		{ // MPEG-1 (ISO/IEC 11172-3 §2.4.2.3)
			{0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448},
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384},
			{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320},
		},
		{ // MPEG-2 LSF and MPEG-2.5 (ISO/IEC 13818-3 §2.5.2.3)
			{0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
			{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160},
		},
	}
)

// ParseMP3Frame reads an MPEG audio frame header (ISO/IEC 11172-3 §2.4.1.3,
// ISO/IEC 13818-3 §2.4.1.3, and the MPEG-2.5 extension), the start of an FLV
// MP3 tag's data:
//
//	syncword(11)=0x7ff version(2) layer(2) protection_bit(1)
//	bitrate_index(4) sampling_frequency(2) padding_bit(1) private_bit(1)
//	mode(2) mode_extension(2) copyright(1) original(1) emphasis(2)
//
// version is 3 for MPEG-1, 2 for MPEG-2, 0 for MPEG-2.5. Codec is "mp3",
// "mp2" or "mp1" by layer, as ffprobe names them; mode 3 is single channel.
func ParseMP3Frame(b []byte) (Audio, error) {
	if len(b) < 4 {
		return Audio{}, wrap("mpeg audio: frame header", io.ErrUnexpectedEOF)
	}
	if b[0] != 0xff || b[1]&0xe0 != 0xe0 {
		return Audio{}, invalid("mpeg audio: no frame sync in % x", b[:2])
	}
	version := int(b[1] >> 3 & 3)
	layer := 4 - int(b[1]>>1&3) // the field counts down: 3 is Layer I
	bitrateIndex := int(b[2] >> 4)
	freq := int(b[2] >> 2 & 3)
	mode := int(b[3] >> 6)
	switch {
	case version == 1:
		return Audio{}, invalid("mpeg audio: reserved version")
	case layer == 4:
		return Audio{}, invalid("mpeg audio: reserved layer")
	case bitrateIndex == 15:
		return Audio{}, invalid("mpeg audio: bitrate_index 15")
	case freq == 3:
		return Audio{}, invalid("mpeg audio: reserved sampling_frequency")
	}
	lsf, shift := 0, 0
	switch version {
	case 2:
		lsf, shift = 1, 1
	case 0:
		lsf, shift = 1, 2
	}
	channels := 2
	if mode == 3 {
		channels = 1
	}
	return Audio{
		Codec:      [4]string{"", "mp1", "mp2", "mp3"}[layer],
		SampleRate: mpaRates[freq] >> shift,
		Channels:   channels,
		BitRate:    mpaBitRates[lsf][layer-1][bitrateIndex] * 1000,
	}, nil
}
