package codecinfo

import "strconv"

// aacRates is the samplingFrequencyIndex table (ISO/IEC 14496-3 Table 1.18);
// 13 and 14 are reserved and 15 escapes to an explicit 24-bit frequency.
var aacRates = [13]int{96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350}

// aacChannels is the channel count of each channelConfiguration (ISO/IEC 14496-3
// Table 1.19 with the additions of later amendments); 0 means a program config
// element says, -1 reserved.
var aacChannels = [16]int{0, 1, 2, 3, 4, 5, 6, 8, -1, -1, -1, 7, 8, 24, 8, -1}

// ParseAACConfig reads an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1, the
// payload of an FLV AAC sequence header or an Enhanced RTMP mp4a SequenceStart):
//
//	audioObjectType(5, 31 escapes to 32+6 bits) samplingFrequencyIndex(4)
//	[samplingFrequency(24) if index 15] channelConfiguration(4)
//	[SBR/PS: extensionSamplingFrequencyIndex(4) [(24)] audioObjectType(5)]
//	GASpecificConfig [program_config_element if channelConfiguration 0]
//	[syncExtensionType(11)=0x2b7 extensionAudioObjectType(5) sbrPresentFlag(1) ...]
//
// SBR and PS are read from explicit signalling, both hierarchical (object type
// 5 or 29) and backward compatible (the 0x2b7 sync extension, for GA object
// types with a channelConfiguration). With SBR the sample rate is the extension
// rate, and PS turns a mono core into 2 channels, as a decoder outputs them.
// Implicit SBR, which only decoding the audio can reveal, is not detected.
// With channelConfiguration 0 the channels of the program config element are
// counted. Trailing bytes are ignored.
func ParseAACConfig(b []byte) (Audio, error) {
	a, err := parseAAC(newBitReader(b))
	return a, wrap("aac: AudioSpecificConfig", err)
}

func aacObjectType(r *bitReader) int {
	t := r.ui(5)
	if t == 31 {
		t = 32 + r.ui(6)
	}
	return t
}

func aacRate(r *bitReader) int {
	i := r.ui(4)
	switch {
	case i == 15:
		return r.ui(24)
	case i < len(aacRates):
		return aacRates[i]
	}
	r.fail(invalid("aac: AudioSpecificConfig: samplingFrequencyIndex %d", i))
	return 0
}

func parseAAC(r *bitReader) (Audio, error) {
	aot := aacObjectType(r)
	rate := aacRate(r)
	config := r.ui(4)
	sbr, ps := false, false
	extRate := 0
	if aot == 5 || aot == 29 {
		sbr, ps = true, aot == 29
		extRate = aacRate(r)
		aot = aacObjectType(r)
		if aot == 22 {
			r.skip(4) // extensionChannelConfiguration
		}
	}
	if r.err != nil {
		return Audio{}, r.err
	}
	if aot == 0 {
		return Audio{}, invalid("aac: AudioSpecificConfig: audioObjectType 0")
	}
	if rate == 0 {
		return Audio{}, invalid("aac: AudioSpecificConfig: sampling frequency 0")
	}
	channels := aacChannels[config]
	if channels < 0 {
		return Audio{}, invalid("aac: AudioSpecificConfig: channelConfiguration %d", config)
	}

	switch aot {
	case 1, 2, 3, 4, 6, 7, 17, 19, 20, 21, 22, 23: // GASpecificConfig, §4.4.1
		r.skip(1)     // frameLengthFlag
		if r.flag() { // dependsOnCoreCoder
			r.skip(14) // coreCoderDelay
		}
		ext := r.flag()
		if config == 0 {
			// The sync extension cannot be found after a PCE without reading all of
			// it, comment field included; stop at the channel count.
			channels = aacPCEChannels(r)
			break
		}
		if aot == 6 || aot == 20 {
			r.skip(3) // layerNr
		}
		if ext {
			if aot == 22 {
				r.skip(5 + 11) // numOfSubFrame, layer_length
			}
			if aot == 17 || aot == 19 || aot == 20 || aot == 23 {
				r.skip(3) // the three resilience flags
			}
			r.skip(1) // extensionFlag3
		}
		if aot >= 17 {
			r.skip(2) // epConfig
		}
		// Backward-compatible SBR/PS signalling, §1.6.5.2. Other trailing bits
		// are not an error: FLV muxers have been seen to pad the config.
		if !sbr && r.err == nil && r.left() >= 16 {
			if r.ui(11) == 0x2b7 && aacObjectType(r) == 5 {
				sbr = r.flag()
				if sbr {
					extRate = aacRate(r)
					if r.err == nil && r.left() >= 12 && r.ui(11) == 0x548 {
						ps = r.flag()
					}
				}
			}
		}
	}
	if r.err != nil {
		return Audio{}, r.err
	}
	a := Audio{Codec: "aac", SampleRate: rate, Channels: channels, Profile: aacProfile(aot)}
	if sbr {
		a.Profile = "HE-AAC"
		if extRate > 0 {
			a.SampleRate = extRate
		}
	}
	if ps {
		a.Profile = "HE-AACv2"
		if channels == 1 {
			a.Channels = 2
		}
	}
	return a, nil
}

// aacPCEChannels counts the channels of a program_config_element (ISO/IEC
// 14496-3 §4.4.1.1): each channel pair element is two channels.
func aacPCEChannels(r *bitReader) int {
	r.skip(4 + 2 + 4) // element_instance_tag, object_type, sampling_frequency_index
	front, side, back := r.ui(4), r.ui(4), r.ui(4)
	lfe := r.ui(2)
	r.skip(3 + 4) // num_assoc_data_elements, num_valid_cc_elements
	if r.flag() { // mono_mixdown_present
		r.skip(4)
	}
	if r.flag() { // stereo_mixdown_present
		r.skip(4)
	}
	if r.flag() { // matrix_mixdown_idx_present
		r.skip(3)
	}
	n := lfe
	for i := 0; i < front+side+back && r.err == nil; i++ {
		if r.flag() { // *_element_is_cpe
			n += 2
		} else {
			n++
		}
		r.skip(4) // *_element_tag_select
	}
	return n
}

// aacProfile names an audioObjectType as ffprobe does for the AAC family
// (ISO/IEC 14496-3 Table 1.17).
func aacProfile(aot int) string {
	switch aot {
	case 1:
		return "Main"
	case 2:
		return "LC"
	case 3:
		return "SSR"
	case 4:
		return "LTP"
	case 5:
		return "HE-AAC"
	case 29:
		return "HE-AACv2"
	case 23:
		return "LD"
	case 39:
		return "ELD"
	case 42:
		return "xHE-AAC"
	}
	return "AOT " + strconv.Itoa(aot)
}
