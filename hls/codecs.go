package hls

import (
	"encoding/binary"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"github.com/ertmp/rtmp/flv"
)

// codecString returns the RFC 6381 codecs parameter of a track from its
// FourCC and decoder configuration record (what the sequence header
// carries), as the HLS CODECS attribute wants it (RFC 8216bis §4.4.6.2):
//
//	avc1  avc1.PPCCLL: profile_idc, constraint flags, level_idc of the avcC (RFC 6381 §3.3)
//	hvc1  hvc1.[A-C]P.C.{L,H}L.B...: ISO/IEC 14496-15 Annex E.3, from the hvcC
//	av01  av01.P.LLT.DD: AV1-ISOBMFF "Codecs Parameter String", from the av1C
//	vp09  vp09.PP.LL.DD: VP-ISOBMFF "Codecs Parameter String", from the vpcC
//	mp4a  mp4a.40.AOT: the AudioSpecificConfig's object type (RFC 6381 §3.3)
//	.mp3  mp4a.40.34 (MPEG-1/2 Layer III as hls.js and browsers name it)
//	Opus, fLaC, ac-3, ec-3: the sample entry names (Opus-ISOBMFF, FLAC-ISOBMFF, ETSI TS 102 366)
//
// A record too short for its fields gives the bare sample entry name, which
// players take as "some profile of this codec".
func codecString(f flv.FourCC, config []byte) string {
	switch f {
	case flv.FourCCAVC:
		if len(config) >= 4 {
			return fmt.Sprintf("avc1.%02x%02x%02x", config[1], config[2], config[3])
		}
		return "avc1"
	case flv.FourCCHEVC:
		return hevcString(config)
	case flv.FourCCAV1:
		return av1String(config)
	case flv.FourCCVP9:
		return vp9String(config)
	case flv.FourCCAAC:
		if aot := aacObjectType(config); aot > 0 {
			return "mp4a.40." + strconv.Itoa(aot)
		}
		return "mp4a.40.2"
	case flv.FourCCMP3:
		return "mp4a.40.34"
	case flv.FourCCOpus:
		return "opus"
	case flv.FourCCFLAC:
		return "fLaC"
	case flv.FourCCAC3:
		return "ac-3"
	case flv.FourCCEAC3:
		return "ec-3"
	}
	return f.String()
}

// hevcString reads the HEVCDecoderConfigurationRecord (ISO/IEC 14496-15
// §8.3.3.1):
//
//	configurationVersion(8)
//	general_profile_space(2) general_tier_flag(1) general_profile_idc(5)
//	general_profile_compatibility_flags(32)
//	general_constraint_indicator_flags(48)
//	general_level_idc(8)
//
// and writes Annex E.3's string: the profile space as a letter (none for
// 0), the profile, the compatibility flags in reverse bit order in hex, the
// tier (L or H) and level, then the constraint bytes up to the last non-zero
// one.
func hevcString(c []byte) string {
	if len(c) < 13 {
		return "hvc1"
	}
	var sb strings.Builder
	sb.WriteString("hvc1.")
	if space := c[1] >> 6; space > 0 {
		sb.WriteByte('A' + space - 1)
	}
	sb.WriteString(strconv.Itoa(int(c[1] & 0x1f)))
	sb.WriteString("." + strconv.FormatUint(uint64(bits.Reverse32(binary.BigEndian.Uint32(c[2:]))), 16))
	tier := "L"
	if c[1]&0x20 != 0 {
		tier = "H"
	}
	sb.WriteString("." + tier + strconv.Itoa(int(c[12])))
	cons := c[6:12]
	n := len(cons)
	for n > 0 && cons[n-1] == 0 {
		n--
	}
	for _, b := range cons[:n] {
		sb.WriteString("." + strconv.FormatUint(uint64(b), 16))
	}
	return sb.String()
}

// av1String reads the AV1CodecConfigurationRecord (AV1-ISOBMFF §2.3.3):
//
//	marker(1) version(7)
//	seq_profile(3) seq_level_idx_0(5)
//	seq_tier_0(1) high_bitdepth(1) twelve_bit(1) monochrome(1) ...
func av1String(c []byte) string {
	if len(c) < 3 {
		return "av01"
	}
	profile, level := c[1]>>5, c[1]&0x1f
	tier := "M"
	if c[2]&0x80 != 0 {
		tier = "H"
	}
	depth := 8
	if c[2]&0x40 != 0 {
		depth = 10
		if c[2]&0x20 != 0 {
			depth = 12
		}
	}
	return fmt.Sprintf("av01.%d.%02d%s.%02d", profile, level, tier, depth)
}

// vp9String reads the VPCodecConfigurationRecord (VP-ISOBMFF §2.2): profile(8)
// level(8) bitDepth(4) ..., after the FullBox version and flags when the
// record carries them (FFmpeg sends the whole vpcC body).
func vp9String(c []byte) string {
	if len(c) >= 4 && c[0] <= 1 && c[1] == 0 && c[2] == 0 && c[3] == 0 {
		c = c[4:]
	}
	if len(c) < 3 {
		return "vp09"
	}
	return fmt.Sprintf("vp09.%02d.%02d.%02d", c[0], c[1], c[2]>>4)
}

// aacObjectType reads audioObjectType from an AudioSpecificConfig (ISO/IEC
// 14496-3 §1.6.2.1): 5 bits, 31 escaping to 32 plus 6 more bits; 0 if the
// config is too short.
func aacObjectType(c []byte) int {
	if len(c) < 1 {
		return 0
	}
	aot := int(c[0] >> 3)
	if aot == 31 {
		if len(c) < 2 {
			return 0
		}
		aot = 32 + (int(c[0]&7)<<3 | int(c[1]>>5))
	}
	return aot
}
